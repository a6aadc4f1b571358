// The experiment's results ConfigMaps on an API server (the sim's or a real kube-apiserver): runs
// too large for one ConfigMap spill into the next, storing a run twice changes nothing, another
// process that knows nothing of them finds and extends them, and every run reads back whole.
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/analysis/types.ts';
import { aggregateName, ExperimentResults, readExperimentRuns } from '../../src/experiment/aggregate.ts';
import { KubeClient, type KubeObject } from '../../src/kube/client.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { MAX_STORED_BYTES } from '../../src/results/writer.ts';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';

let cluster: TestCluster;
let client: KubeClient;
let owner: KubeObject;

beforeAll(async () => {
  cluster = await startTestCluster({});
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(cluster.kubeconfigPath);
  client = new KubeClient(kubeConfig);
  // A ConfigMap stands in as the owner: the garbage collector is not under test here.
  owner = await client.create<KubeObject>(RESOURCES.configMaps, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'big-owner', namespace: 'default' },
  });
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

/** A run whose document gzips to about `kb` KB: random text does not compress. */
function run(plan: string, kb: number): RunRecord {
  return {
    plan,
    experiment: 'big',
    cell: 'lammps',
    application: 'lammps',
    repetition: Number(plan.split('-r')[1]),
    results: {
      plan,
      namespace: 'default',
      status: 'Succeeded',
      steps: [],
      manager: { times: {}, attempts: 0, recovery: {}, recoveries: [] },
      created: '2026-12-04T00:00:00Z',
      message: randomBytes(kb * 768).toString('base64'),
    },
  };
}

describe("an experiment's results ConfigMaps", () => {
  it('fill one ConfigMap to the limit, then the next, and read back every run whole', async () => {
    const ref = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: owner.metadata.name!,
      uid: owner.metadata.uid!,
      controller: true,
      blockOwnerDeletion: false,
    };
    const results = new ExperimentResults(client);
    const runs = [1, 2, 3, 4, 5].map((r) => run(`big-lammps-r${r}`, 300));
    for (const r of runs.slice(0, 3)) await results.store('default', 'big', ref, r);
    // Storing a run again (a pass repeated after a failed status write) changes nothing.
    await results.store('default', 'big', ref, runs[0]!);
    // Another process (a new leader) lists what is there and carries on.
    const next = new ExperimentResults(client);
    for (const r of runs.slice(3)) await next.store('default', 'big', ref, r);

    const stored = await next.stored('default', 'big');
    expect([...stored.plans.keys()].sort()).toEqual(runs.map((r) => r.plan));
    expect([...stored.plans.values()]).toEqual(Array(5).fill('Succeeded'));
    // About 307 KB stored per run (300 KB of base64 text, gzip, base64): three runs fill one ConfigMap.
    expect(stored.refs).toEqual([aggregateName('big', 1), aggregateName('big', 2)]);
    for (const name of stored.refs) {
      const cm = await client.get<KubeObject & { binaryData?: Record<string, string> }>(
        RESOURCES.configMaps,
        'default',
        name,
      );
      const size = Object.entries(cm.binaryData ?? {}).reduce((n, [k, v]) => n + k.length + v.length, 0);
      expect(size).toBeLessThanOrEqual(MAX_STORED_BYTES);
    }
    const back = await readExperimentRuns(client, 'default', 'big');
    expect(back.map((r) => r.plan).sort()).toEqual(runs.map((r) => r.plan));
    expect(back.find((r) => r.plan === 'big-lammps-r4')?.results.message).toBe(runs[3]!.results.message);
  }, 120_000);
});
