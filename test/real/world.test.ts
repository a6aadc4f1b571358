// The operator end to end on a real control plane: kube-apiserver, etcd and the real Job controller
// and garbage collector, with the simulated world (scheduler, kubelet, Kaniko, registry) attached as
// a client. What a user sees: `kubectl get agentsteps -w` shows a build that fails once and then
// succeeds, and `kubectl logs` of a run's pod, through kube-apiserver's proxy, prints its log.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentStep } from '../../src/api/agentstep.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { ScriptedModel } from '../../src/llm/scripted.ts';
import { createOperator } from '../../src/operator/index.ts';
import { loadConfig } from '../../src/runtime/config.ts';
import { silentLogger } from '../../src/runtime/logger.ts';
import type { Manager } from '../../src/runtime/manager.ts';
import { jobManifestAnswer, TEST_IMAGE } from '../helpers/answers.ts';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/kubeconfig.ts';
import { KUBECTL } from '../helpers/kubectl.ts';
import { agentStep, TEST_REGISTRY, waitForPhase } from '../helpers/operator.ts';
import { realKubeconfig } from './cluster.ts';

const run = promisify(execFile);
const _root = join(import.meta.dirname, '../..');
const NS = 'default';
const LAMMPS_LOG =
  'LAMMPS (2 Aug 2023)\nLoop time of 1.9 on 1 procs for 100 steps with 304 atoms\nTotal wall time: 0:00:02\n';

const SCRIPT = `responses:
  - agent: build
    text: |
      \`\`\`dockerfile
      FROM ubuntu:22.04
      RUN git clone https://github.com/lammps/lammps.git
      \`\`\`
  - agent: debug
    match: "server certificate verification failed"
    text: Install ca-certificates first.
  - agent: build
    match: "Install ca-certificates first"
    text: |
      \`\`\`dockerfile
      FROM ubuntu:22.04
      RUN apt-get install -y ca-certificates git && git clone https://github.com/lammps/lammps.git
      \`\`\`
  - agent: kubernetes-job
    text: |${jobManifestAnswer('lmp -in in.reaxff.hns')}
`;

let world: TestCluster;
let manager: Manager;
let kubeConfig: KubeConfig;
let client: KubeClient;
const cacheDir = mkdtempSync(join(tmpdir(), 'kubectl-cache-'));

beforeAll(async () => {
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(realKubeconfig());
  client = new KubeClient(kubeConfig);
  // As every real-lane suite: an emptied namespace, the CRDs installed, the world attached.
  world = await startTestCluster({
    speed: 0.02,
    behaviors: {
      pullable: ['ghcr.io/.*', 'docker.io/library/.*', 'cgr.dev/.*'],
      builds: [
        { match: 'ca-certificates', outcome: 'Succeeded', runSeconds: 10, log: '[100%] Built target lmp\n' },
        {
          outcome: 'Failed',
          step: 'git clone',
          runSeconds: 5,
          log: "Cloning into 'lammps'...\nfatal: unable to access 'https://github.com/lammps/lammps.git/': server certificate verification failed. CAfile: none CRLfile: none\n",
        },
      ],
      pods: [
        {
          command: 'lmp -in in.reaxff.hns',
          outcome: 'Succeeded',
          exitCode: 0,
          runSeconds: 2,
          log: LAMMPS_LOG,
        },
      ],
    },
  });
  const config = loadConfig(
    { registry: TEST_REGISTRY, leaderElect: false, resyncSeconds: 0, metricsPort: 0, healthPort: 0 },
    {},
  );
  manager = createOperator({
    kubeConfig,
    config,
    logger: silentLogger(),
    model: ScriptedModel.fromYaml(SCRIPT),
  });
  await manager.start();
}, 120_000);

afterAll(async () => {
  await manager?.stop(1000);
  await world?.stop();
});

describe('the operator on a real kube-apiserver, with the simulated world attached', () => {
  it('kubectl get agentsteps -w shows a build that fails once and then succeeds', async () => {
    const watcher = spawn(KUBECTL, [
      '--kubeconfig',
      realKubeconfig(),
      '--cache-dir',
      cacheDir,
      'get',
      'agentsteps',
      '-w',
    ]);
    let output = '';
    watcher.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    watcher.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    try {
      // A step kubectl prints at once tells that its watch is open (it fails: a cost step needs an instruction).
      await client.create(RESOURCES.agentSteps, agentStep('sentinel', 'cost', {}) as never);
      await eventually(() => output.includes('sentinel'), 20_000, 50);
      await client.create(
        RESOURCES.agentSteps,
        agentStep('lammps', 'build', { application: 'lammps' }) as never,
      );
      const step = await waitForPhase<AgentStep & { metadata: { name: string } }>(
        client,
        'AgentStep',
        NS,
        'lammps',
        ['Succeeded', 'Failed'],
        120_000,
      );
      expect(step.status?.phase, JSON.stringify(step.status, null, 1)).toBe('Succeeded');
      expect(step.status?.attempt).toBe(2);
      expect(step.status?.history?.[0]?.message).toContain('server certificate verification failed');
      expect(world.registry.has(step.status!.outputs!['container']!)).toBe(true);
      await eventually(() => /lammps\s+build\s+Succeeded\s+2/.test(output), 20_000);
    } finally {
      watcher.kill();
    }
    const phases = [
      ...new Set(
        output
          .split('\n')
          .filter((line) => line.startsWith('lammps '))
          .map((line) => line.split(/\s+/).slice(2, 4).join(' ')),
      ),
    ];
    expect(phases).toEqual(
      expect.arrayContaining(['Building 1', 'Diagnosing 1', 'Building 2', 'Succeeded 2']),
    );
    expect(phases.indexOf('Diagnosing 1')).toBeLessThan(phases.indexOf('Succeeded 2'));
    // The real Job controller ran one Kaniko Job per attempt.
    const jobs = await client.list(RESOURCES.jobs, NS);
    expect(jobs.items.map((j) => j.metadata.name).sort()).toEqual(
      expect.arrayContaining(['lammps-1', 'lammps-2']),
    );
  }, 180_000);

  it('kubectl logs of the run pod prints its log through the kube-apiserver proxy', async () => {
    await client.create(
      RESOURCES.agentSteps,
      agentStep('run-lammps', 'kubernetes-job', { container: TEST_IMAGE }) as never,
    );
    const step = await waitForPhase<AgentStep & { metadata: { name: string } }>(
      client,
      'AgentStep',
      NS,
      'run-lammps',
      ['Succeeded', 'Failed'],
      120_000,
    );
    const attempt = await client.find<{ metadata: object; data?: Record<string, string> }>(
      RESOURCES.configMaps,
      NS,
      'run-lammps-1',
    );
    expect(step.status?.phase, attempt?.data?.['diagnostics']).toBe('Succeeded');
    expect(step.status?.result).toContain('Total wall time');
    const { stdout } = await run(KUBECTL, [
      '--kubeconfig',
      realKubeconfig(),
      '--cache-dir',
      cacheDir,
      'logs',
      'job/run-lammps-1',
    ]);
    expect(stdout).toBe(LAMMPS_LOG);
  }, 180_000);
});
