// AgentExperiments through whichever API server the lane runs (the sim's or a real kube-apiserver),
// with the real kubectl: the demo's experiment is accepted and listed with its printer columns, and
// a bad one is refused with the same words on both servers.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../cli/io.ts';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { kubectl } from '../helpers/kubectl.ts';

const root = join(import.meta.dirname, '../..');
let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startTestCluster({});
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('AgentExperiments on the API server', () => {
  it('accepts the demo experiment and lists it with its columns', async () => {
    const applied = await kubectl(cluster.kubeconfigPath, [
      'apply',
      '-n',
      'default',
      '-f',
      join(root, 'demo/experiment.yaml'),
    ]);
    expect(applied.stderr).toBe('');
    expect(applied.stdout.trim()).toBe('agentexperiment.fractale.dev/demo created');
    const listed = await kubectl(cluster.kubeconfigPath, ['get', 'agentexperiments', '-n', 'default']);
    expect(listed.stdout.split('\n')[0]).toMatch(/^NAME\s+PHASE\s+PLANS\s+DONE\s+FAILED\s+AGE$/);
    const explained = await kubectl(cluster.kubeconfigPath, [
      'explain',
      'agentexperiment.spec.matrix.repetitions',
    ]);
    expect(explained.stdout).toContain('repetitions: how many plans run each cell (1..100, default 3).');
    await kubectl(cluster.kubeconfigPath, ['delete', 'agentexperiment', 'demo', '-n', 'default', '--wait']);
  });

  it('refuses no repetitions and two applications of one name, naming both fields', async () => {
    const file = join(tempDir(), 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'fractale.dev/v1alpha1',
        kind: 'AgentExperiment',
        metadata: { name: 'bad', namespace: 'default' },
        spec: {
          plan: { steps: [{ name: 'build', agent: 'build' }] },
          matrix: { applications: [{ name: 'lammps' }, { name: 'lammps' }], repetitions: 0 },
        },
      }),
    );
    const refused = await kubectl(cluster.kubeconfigPath, ['apply', '-f', file]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr.trim().split('\n')).toEqual([
      'The AgentExperiment "bad" is invalid: ',
      '* spec.matrix.repetitions: Invalid value: 0: spec.matrix.repetitions in body should be greater than or equal to 1',
      '* spec.matrix.applications: Invalid value: "object": application names must be unique',
    ]);
  });
});
