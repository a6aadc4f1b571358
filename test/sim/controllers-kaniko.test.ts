import type { IPod } from 'kubernetes-models/v1/Pod';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimControllers, waitFor } from '../../src/sim/index.ts';
import { LogStore } from '../../src/sim/logs.ts';
import { type KubeObject, Store } from '../../src/sim/store.ts';

let stop: (() => void) | undefined;
afterEach(() => stop?.());

/** The shipped behaviours file: a build fails to clone LAMMPS without CA certificates. */
function cluster() {
  const store = new Store();
  const logs = new LogStore();
  const sim = startSimControllers({ store, logs, speed: 0.001 });
  stop = sim.stop;
  return { store, logs, registry: sim.registry };
}

const withoutCertificates = `FROM ubuntu:22.04
RUN apt-get update && apt-get install -y git cmake g++ libopenmpi-dev
RUN git clone --depth 1 https://github.com/lammps/lammps.git /opt/lammps
WORKDIR /opt/lammps/build
RUN cmake ../cmake -DPKG_REAXFF=yes && make -j 4 && make install
`;
const withCertificates = withoutCertificates.replace('git cmake', 'ca-certificates git cmake');

function dockerfileConfigMap(name: string, dockerfile: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'default' },
    data: { Dockerfile: dockerfile },
  };
}

function buildJob(
  name: string,
  configMap: string,
  args: string[],
  container: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          volumes: [{ name: 'context', configMap: { name: configMap } }],
          containers: [
            {
              name: 'kaniko',
              image: 'gcr.io/kaniko-project/executor:v1.23.2',
              args,
              volumeMounts: [{ name: 'context', mountPath: '/workspace' }],
              ...container,
            },
          ],
        },
      },
    },
  };
}

function runPod(name: string, image: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      containers: [{ name: 'lammps', image, command: ['lmp', '-in', 'in.reaxc.hns', '-nocite'] }],
    },
  };
}

const jobCondition = (type: string) => (object: KubeObject | undefined) =>
  (
    (object?.['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []
  ).some((entry) => entry.type === type && entry.status === 'True');
const asPod = (object: KubeObject | undefined) => object as unknown as IPod | undefined;

function buildPod(store: Store, job: string): IPod {
  const [pod] = store.list('v1/pods', 'default', { labelSelector: `job-name=${job}` }).items;
  return pod as unknown as IPod;
}

const args = (tag: string) => [
  '--dockerfile=Dockerfile',
  '--context=dir:///workspace',
  `--destination=registry.local/lammps:${tag}`,
  '--cache=true',
];

describe('simulated Kaniko builds', () => {
  it('fail to clone without CA certificates, leaving the image unpullable until a fixed build pushes it', async () => {
    const { store, logs, registry } = cluster();
    store.create('v1/configmaps', dockerfileConfigMap('build-1', withoutCertificates));
    store.create('batch/v1/jobs', buildJob('build-1', 'build-1', args('1')));
    await waitFor(store, 'batch/v1/jobs', 'default', 'build-1', jobCondition('Failed'));
    const pod = buildPod(store, 'build-1');
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 1,
      reason: 'Error',
    });
    const log = logs.read('default', pod.metadata?.name ?? '', 'kaniko');
    expect(log).toMatch(/^INFO\[0000\] Retrieving image manifest ubuntu:22.04\n/);
    expect(log).toContain(
      "fatal: unable to access 'https://github.com/lammps/lammps.git/': server certificate verification failed",
    );
    expect(log).toContain('error building image: error building stage: failed to execute command');
    expect(log).not.toContain('Pushing image');
    expect(registry.has('registry.local/lammps:1')).toBe(false);

    store.create('v1/pods', runPod('run-1', 'registry.local/lammps:1'));
    await waitFor(
      store,
      'v1/pods',
      'default',
      'run-1',
      (object) =>
        asPod(object)?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff',
    );

    // A fixed Dockerfile pushes the same tag; the waiting pod's next pull finds it.
    store.create('v1/configmaps', dockerfileConfigMap('build-1b', withCertificates));
    store.create('batch/v1/jobs', buildJob('build-1b', 'build-1b', args('1')));
    await waitFor(store, 'batch/v1/jobs', 'default', 'build-1b', jobCondition('Complete'));
    expect(registry.has('registry.local/lammps:1')).toBe(true);
    await waitFor(
      store,
      'v1/pods',
      'default',
      'run-1',
      (object) => asPod(object)?.status?.phase === 'Succeeded',
    );
    expect(logs.read('default', 'run-1', 'lammps')).toContain('Total wall time');
  });

  it('succeed with CA certificates, push the destination, and the image then runs', async () => {
    const { store, logs, registry } = cluster();
    store.create('v1/configmaps', dockerfileConfigMap('build-2', withCertificates));
    store.create('batch/v1/jobs', buildJob('build-2', 'build-2', args('2')));
    await waitFor(store, 'batch/v1/jobs', 'default', 'build-2', jobCondition('Complete'));
    const pod = buildPod(store, 'build-2');
    const log = logs.read('default', pod.metadata?.name ?? '', 'kaniko');
    expect(log).toContain(
      'Running: [/bin/sh -c cmake ../cmake -DPKG_REAXFF=yes && make -j 4 && make install]',
    );
    expect(log).toContain('[100%] Built target lmp');
    expect(log).toMatch(/Checking for cached layer registry\.local\/lammps\/cache:/);
    expect(log).toMatch(/INFO\[\d{4}\] Pushing image to registry\.local\/lammps:2\n/);
    expect(log).toMatch(/INFO\[\d{4}\] Pushed registry\.local\/lammps@sha256:[0-9a-f]{64}\n$/);
    expect(registry.has('registry.local/lammps:2')).toBe(true);

    store.create('v1/pods', runPod('run-2', 'registry.local/lammps:2'));
    const run = asPod(
      await waitFor(
        store,
        'v1/pods',
        'default',
        'run-2',
        (object) => asPod(object)?.status?.phase === 'Succeeded',
      ),
    );
    expect(run?.status?.containerStatuses?.[0]?.imageID).toBe(
      `registry.local/lammps@${registry.get('registry.local/lammps:2')?.digest}`,
    );
    expect(logs.read('default', 'run-2', 'lammps')).toMatch(/^LAMMPS \(2 Aug 2023/);
  });

  it('push nothing with --no-push', async () => {
    const { store, logs, registry } = cluster();
    store.create('v1/configmaps', dockerfileConfigMap('build-3', withCertificates));
    store.create('batch/v1/jobs', buildJob('build-3', 'build-3', [...args('3'), '--no-push']));
    await waitFor(store, 'batch/v1/jobs', 'default', 'build-3', jobCondition('Complete'));
    const log = logs.read('default', buildPod(store, 'build-3').metadata?.name ?? '', 'kaniko');
    expect(log).toContain('Skipping push to container registry due to --no-push flag');
    expect(registry.has('registry.local/lammps:3')).toBe(false);
  });

  it('fail when the Dockerfile is not where --dockerfile points', async () => {
    const { store, logs } = cluster();
    store.create('v1/configmaps', dockerfileConfigMap('build-4', withCertificates));
    store.create(
      'batch/v1/jobs',
      buildJob('build-4', 'build-4', ['--dockerfile=/kaniko/Dockerfile', '--destination=registry.local/x:4']),
    );
    await waitFor(store, 'batch/v1/jobs', 'default', 'build-4', jobCondition('Failed'));
    expect(logs.read('default', buildPod(store, 'build-4').metadata?.name ?? '', 'kaniko')).toBe(
      'Error: error resolving dockerfile path: please provide a valid path to a Dockerfile within the build context with --dockerfile\n',
    );
  });

  it('wait in ContainerCreating while the Dockerfile ConfigMap is missing', async () => {
    const { store } = cluster();
    store.create('batch/v1/jobs', buildJob('build-5', 'build-5', args('5')));
    const failedMount = await new Promise<KubeObject>((resolve) => {
      const unwatch = store.watch('v1/events', (event) => {
        if (event.object['reason'] !== 'FailedMount') return;
        queueMicrotask(unwatch);
        resolve(event.object);
      });
    });
    const pod = buildPod(store, 'build-5');
    expect(pod.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ContainerCreating');
    expect(failedMount['message']).toBe(
      'MountVolume.SetUp failed for volume "context" : configmap "build-5" not found',
    );
    store.create('v1/configmaps', dockerfileConfigMap('build-5', withCertificates));
    await waitFor(store, 'batch/v1/jobs', 'default', 'build-5', jobCondition('Complete'));
  });

  it('write the digest to the termination log, or the end of the log when they fail', async () => {
    const { store, logs, registry } = cluster();
    const reporting = { terminationMessagePolicy: 'FallbackToLogsOnError' };
    const digestArgs = (tag: string) => [...args(tag), '--digest-file=/dev/termination-log'];
    store.create('v1/configmaps', dockerfileConfigMap('good', withCertificates));
    store.create('v1/configmaps', dockerfileConfigMap('bad', withoutCertificates));
    store.create('batch/v1/jobs', buildJob('good', 'good', digestArgs('6'), reporting));
    store.create('batch/v1/jobs', buildJob('bad', 'bad', digestArgs('7'), reporting));
    await waitFor(store, 'batch/v1/jobs', 'default', 'good', jobCondition('Complete'));
    await waitFor(store, 'batch/v1/jobs', 'default', 'bad', jobCondition('Failed'));

    const good = buildPod(store, 'good');
    const digest = registry.get('registry.local/lammps:6')?.digest;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(good.status?.containerStatuses?.[0]?.state?.terminated?.message).toBe(digest);
    expect(logs.read('default', good.metadata?.name ?? '', 'kaniko')).toContain(
      `Pushed registry.local/lammps@${digest}`,
    );

    const bad = buildPod(store, 'bad');
    const message = bad.status?.containerStatuses?.[0]?.state?.terminated?.message ?? '';
    expect(message).toMatch(/server certificate verification failed/);
    expect(message).toMatch(
      /error building image: error building stage: failed to execute command: .*exit status 1$/,
    );
    expect(message.length).toBeLessThanOrEqual(2048);
  });
});
