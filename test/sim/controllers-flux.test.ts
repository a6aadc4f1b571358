import { readFileSync } from 'node:fs';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IPod } from 'kubernetes-models/v1/Pod';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  type BehaviorsInput,
  installCrdFiles,
  miniClusterCrdPath,
  startSimControllers,
  waitFor,
} from '../../src/sim/index.ts';
import { LogStore } from '../../src/sim/logs.ts';
import { type KubeObject, Store } from '../../src/sim/store.ts';

const miniClusters = 'flux-framework.org/v1alpha2/miniclusters';
let stop: (() => void) | undefined;
afterEach(() => stop?.());

function cluster(options: { crd?: boolean; behaviors?: BehaviorsInput } = {}) {
  const store = new Store();
  const logs = new LogStore();
  if (options.crd ?? true) installCrdFiles(store, [miniClusterCrdPath()]);
  const sim = startSimControllers({ store, logs, speed: 0.001, behaviors: options.behaviors });
  stop = sim.stop;
  return { store, logs };
}

/** The Flux Operator's own LAMMPS example. */
function lammpsExample(): KubeObject {
  const example = parse(
    readFileSync('/work/shared/reference/flux-operator-minicluster-lammps-example.yaml', 'utf8'),
  ) as KubeObject;
  example.metadata.namespace = 'default';
  return example;
}

const conditionTrue = (type: string) => (object: KubeObject | undefined) =>
  (
    (object?.['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []
  ).some((entry) => entry.type === type && entry.status === 'True');

describe('the simulated Flux Operator', () => {
  it('runs a MiniCluster as an Indexed Job whose lead broker runs the application', async () => {
    const { store, logs } = cluster();
    const miniCluster = store.create(miniClusters, lammpsExample());
    const job = asJob(
      await waitFor(store, 'batch/v1/jobs', 'default', 'flux-sample', (object) => object !== undefined),
    );
    expect(job?.spec).toMatchObject({ completionMode: 'Indexed', completions: 4, parallelism: 4 });
    expect(job?.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'flux-framework.org/v1alpha2',
        kind: 'MiniCluster',
        name: 'flux-sample',
        uid: miniCluster.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(job?.spec?.template.metadata?.labels).toMatchObject({
      selector: 'lammps',
      'hpa-selector': 'flux-sample',
    });

    const done = await waitFor(store, miniClusters, 'default', 'flux-sample', conditionTrue('Complete'));
    expect(done?.['status']).toMatchObject({
      size: 4,
      maximumSize: 4,
      selector: 'hpa-selector=flux-sample',
      jobid: '',
    });

    const pods = store.list('v1/pods', 'default', { labelSelector: 'job-name=flux-sample' })
      .items as unknown as IPod[];
    expect(pods).toHaveLength(4);
    const lead = pods.find(
      (pod) => pod.metadata?.labels?.['batch.kubernetes.io/job-completion-index'] === '0',
    );
    const worker = pods.find(
      (pod) => pod.metadata?.labels?.['batch.kubernetes.io/job-completion-index'] === '1',
    );
    expect(lead?.spec?.initContainers?.[0]?.image).toBe(
      'ghcr.io/converged-computing/flux-view-ubuntu:tag-noble',
    );
    const leadLog = logs.read('default', lead?.metadata?.name ?? '', 'flux-sample');
    expect(leadLog).toContain(
      'flux submit -N 4 -n 2 --quiet --watch lmp -v x 2 -v y 2 -v z 2 -in in.reaxc.hns -nocite',
    );
    expect(leadLog).toContain('LAMMPS (2 Aug 2023');
    const workerLog = logs.read('default', worker?.metadata?.name ?? '', 'flux-sample');
    expect(workerLog).toMatch(/^broker\.info\[1\]/);
    expect(workerLog).not.toContain('LAMMPS');
  });

  it('reports the Job failure on the MiniCluster when the application keeps failing', async () => {
    const { store, logs } = cluster({
      behaviors: {
        pullable: ['ghcr.io/.*'],
        pods: [
          {
            image: 'lammps',
            command: 'lmp',
            outcome: 'Failed',
            exitCode: 1,
            log: 'ERROR: Cannot open input script in.reaxc.hns: No such file or directory (src/lammps.cpp:535)',
          },
        ],
      },
    });
    let leadLog = '';
    store.watch('v1/pods', (event) => {
      const pod = event.object as unknown as IPod;
      if (pod.status?.containerStatuses?.[0]?.lastState?.terminated) {
        leadLog = logs.read('default', pod.metadata?.name ?? '', 'flux-sample');
      }
    });
    const example = lammpsExample();
    Object.assign(example['spec'] as object, { size: 1, backoffLimit: 1 });
    store.create(miniClusters, example);
    const failed = await waitFor(store, miniClusters, 'default', 'flux-sample', conditionTrue('Failed'));
    const conditions =
      (failed?.['status'] as { conditions: Record<string, unknown>[] } | undefined)?.conditions ?? [];
    expect(conditions.map((entry) => entry['type'])).toEqual(['FailureTarget', 'Failed']);
    expect(conditions[1]).toMatchObject({
      status: 'True',
      reason: 'BackoffLimitExceeded',
      message: 'Job has reached the specified backoff limit',
      observedGeneration: 1,
    });
    // Under the operator's restartPolicy OnFailure the lead broker was restarted before the job gave up.
    expect(leadLog).toContain('ERROR: Cannot open input script in.reaxc.hns');
    expect(
      store
        .list('v1/events', 'default')
        .items.some((entry) =>
          String(entry['message']).startsWith('Back-off restarting failed container flux-sample'),
        ),
    ).toBe(true);
  });

  it('takes its Job, pods, Service and ConfigMap with it when deleted', async () => {
    const { store } = cluster();
    const example = lammpsExample();
    (example['spec'] as { size: number }).size = 2;
    store.create(miniClusters, example);
    await waitFor(store, 'batch/v1/jobs', 'default', 'flux-sample', (object) => object !== undefined);
    store.delete(miniClusters, 'default', 'flux-sample');
    await waitFor(store, 'batch/v1/jobs', 'default', 'flux-sample', (object) => object === undefined);
    await waitFor(store, 'v1/services', 'default', 'flux-sample', (object) => object === undefined);
    await waitFor(
      store,
      'v1/configmaps',
      'default',
      'flux-sample-entrypoint',
      (object) => object === undefined,
    );
    await store.settled();
    expect(store.list('v1/pods', 'default', { labelSelector: 'job-name=flux-sample' }).items).toEqual([]);
  });

  it('does nothing with MiniClusters until the CRD exists', async () => {
    const { store } = cluster({ crd: false });
    expect(store.resolve('miniclusters', 'flux-framework.org')).toBeUndefined();
    installCrdFiles(store, [miniClusterCrdPath()]);
    store.create(miniClusters, lammpsExample());
    await waitFor(store, miniClusters, 'default', 'flux-sample', conditionTrue('Complete'));
  });
});

function asJob(object: KubeObject | undefined) {
  return object as unknown as IJob | undefined;
}
