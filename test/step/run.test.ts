// The kubernetes-job and minicluster agents end to end against the simulated cluster.

import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentStep } from '../../src/api/agentstep.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import type { BehaviorsInput } from '../../src/sim/index.ts';
import { jobManifestAnswer, TEST_IMAGE } from '../helpers/answers.ts';
import { eventually } from '../helpers/kubeconfig.ts';
import { agentStep, startTestOperator, type TestOperator, waitForPhase } from '../helpers/operator.ts';

type Step = AgentStep & { metadata: { name: string } };
const IMAGE = TEST_IMAGE;

const job = jobManifestAnswer;

const BEHAVIORS: BehaviorsInput = {
  pullable: ['ghcr.io/.*', 'docker.io/library/.*'],
  builds: [{ outcome: 'Succeeded', log: 'built' }],
  pods: [
    {
      command: 'lmp -in in.reaxff.hns',
      outcome: 'Succeeded',
      exitCode: 0,
      runSeconds: 2,
      log: 'LAMMPS (2 Aug 2023)\nTotal wall time: 0:00:02\n',
    },
    {
      command: 'lmp -in missing',
      outcome: 'Failed',
      exitCode: 1,
      runSeconds: 1,
      log: 'ERROR: Cannot open input script missing: No such file or directory\n',
    },
    { command: 'sleep', outcome: 'Hang' },
    { outcome: 'Succeeded', runSeconds: 1, log: '' },
  ],
};

let operator: TestOperator | undefined;
afterEach(async () => {
  await operator?.stop();
  operator = undefined;
});

async function runStep(
  script: string,
  context: Record<string, unknown>,
  options: { sim?: object; name?: string; timeoutMs?: number } = {},
) {
  operator = await startTestOperator({
    script: `responses:${script}`,
    sim: { behaviors: BEHAVIORS, ...options.sim },
  });
  const name = options.name ?? 'run-lammps';
  await operator.client.create(
    RESOURCES.agentSteps,
    agentStep(name, 'kubernetes-job', { container: IMAGE, ...context }) as never,
  );
  return waitForPhase<Step>(
    operator.client,
    'AgentStep',
    'default',
    name,
    ['Succeeded', 'Failed', 'AwaitingHuman'],
    options.timeoutMs,
  );
}

describe('kubernetes-job agent', () => {
  it('succeeds with the run log as its result', async () => {
    const step = await runStep(
      `\n  - agent: kubernetes-job\n    text: |${job('lmp -in in.reaxff.hns')}\n`,
      {},
    );
    expect(step.status?.phase).toBe('Succeeded');
    expect(step.status?.result).toContain('Total wall time');
    expect(step.status?.attempt).toBe(1);
  });

  it('ends an attempt at the first image pull error, without waiting for a timeout', async () => {
    const step = await runStep(`\n  - agent: kubernetes-job\n    text: |${job('lmp -in in.reaxff.hns')}\n`, {
      container: 'quay.io/nobody/lammps:missing',
      max_attempts: 1,
      max_runtime: 3600,
    });
    expect(step.status?.phase).toBe('Failed');
    // Not Timeout: the attempt ended at the pull error, not at its hour of runtime (checked by the
    // reason rather than by the wall clock, which a loaded machine stretches).
    expect(step.status?.history?.[0]?.reason).toBe('ImagePullFailed');
    expect(step.status?.message).toMatch(/ErrImagePull|ImagePullBackOff/);
    // The attempt's Job is kept for inspection but stopped, so nothing is left running.
    const kept = await operator!.client.get<{ metadata: object; spec: { suspend?: boolean } }>(
      RESOURCES.jobs,
      'default',
      'run-lammps-1',
    );
    expect(kept.spec.suspend).toBe(true);
    const { eventually } = await import('../helpers/kubeconfig.ts');
    await eventually(async () => (await operator!.client.list(RESOURCES.pods, 'default')).items.length === 0);
  });

  it('fixes a crash with exit code 1 from the debug advice', async () => {
    const step = await runStep(
      `
  - agent: kubernetes-job
    text: |${job('lmp -in missing')}
  - agent: debug
    match: "Cannot open input script"
    text: The input file name is wrong; run lmp -in in.reaxff.hns in the working directory.
  - agent: kubernetes-job
    match: "run lmp -in in.reaxff.hns"
    text: |${job('lmp -in in.reaxff.hns')}
`,
      {},
    );
    expect(step.status?.phase).toBe('Succeeded');
    expect(step.status?.attempt).toBe(2);
    expect(step.status?.history?.[0]).toMatchObject({ outcome: 'Failed', reason: 'RunFailed' });
    expect(step.status?.history?.[0]?.message).toContain('Cannot open input script');
  });

  it.each([
    ['hostPath', '            volumes: [{ name: data, hostPath: { path: /etc } }]', /hostPath/],
    ['privileged', '', /privileged/i],
  ])(
    'refuses a manifest asking for %s before it reaches the API server',
    async (what, volumes, explanation) => {
      const bad =
        what === 'privileged'
          ? job('lmp -in in.reaxff.hns').replace(
              'command:',
              'securityContext: { privileged: true }\n                command:',
            )
          : job('lmp -in in.reaxff.hns', volumes);
      const step = await runStep(
        `
  - agent: kubernetes-job
    text: |${bad}
  - agent: kubernetes-job
    text: |${job('lmp -in in.reaxff.hns')}
`,
        {},
      );
      expect(step.status?.phase).toBe('Succeeded');
      expect(step.status?.history?.[0]).toMatchObject({ attempt: 1, reason: 'PolicyRefused' });
      expect(step.status?.history?.[0]?.message).toMatch(explanation);
      // Attempt 1 never became a Job.
      const jobs = await operator!.client.list(RESOURCES.jobs, 'default');
      expect(jobs.items.map((j) => j.metadata.name)).toEqual(['run-lammps-2']);
    },
  );

  it('feeds YAML that does not parse back to the model', async () => {
    const step = await runStep(
      `
  - agent: kubernetes-job
    text: |
      \`\`\`yaml
      apiVersion: batch/v1
      kind: Job
      spec: [this is: not: valid
      \`\`\`
  - agent: kubernetes-job
    match: "YAML"
    text: |${job('lmp -in in.reaxff.hns')}
`,
      {},
    );
    expect(step.status?.phase).toBe('Succeeded');
    expect(step.status?.history?.[0]).toMatchObject({ attempt: 1, outcome: 'Failed' });
    expect(step.status?.history?.[0]?.message).toMatch(/YAML/i);
  });

  it('reports a run past maxRuntime as a timeout', async () => {
    // On the real lane the real Job controller counts the 20 seconds in real time.
    const step = await runStep(
      `\n  - agent: kubernetes-job\n    text: |${job('sleep 100000')}\n`,
      { max_runtime: 20, max_attempts: 1 },
      { timeoutMs: 90_000 },
    );
    expect(step.status?.phase).toBe('Failed');
    expect(step.status?.history?.[0]?.reason).toBe('Timeout');
    expect(step.status?.message).toMatch(/time limit/);
  }, 120_000);
});

const MINICLUSTER = `
      \`\`\`yaml
      apiVersion: flux-framework.org/v1alpha2
      kind: MiniCluster
      metadata:
        name: lammps
      spec:
        size: 2
        logging:
          strict: true
        containers:
          - image: ${IMAGE}
            workingDir: /opt/lammps/examples/reaxff/HNS
            command: lmp -in in.reaxff.hns
      \`\`\``;

describe('minicluster agent', () => {
  it('succeeds through the indexed Job, with the lead broker log as the result', async () => {
    operator = await startTestOperator({
      script: `responses:\n  - agent: minicluster\n    text: |${MINICLUSTER}\n`,
      sim: { behaviors: BEHAVIORS },
    });
    await operator.client.create(
      RESOURCES.agentSteps,
      agentStep('mc', 'minicluster', { container: IMAGE }) as never,
    );
    const step = await waitForPhase<Step>(operator.client, 'AgentStep', 'default', 'mc', [
      'Succeeded',
      'Failed',
    ]);
    expect(step.status?.phase, JSON.stringify(step.status)).toBe('Succeeded');
    expect(step.status?.result).toContain('Total wall time');
    // The MiniCluster is deleted once the attempt's end is written (the next pass), not before.
    const client = operator.client;
    await eventually(async () => !(await client.find(RESOURCES.miniClusters, 'default', 'mc-1')), 20_000);
  });

  it('fails at once, saying how to install the Flux Operator, when the CRD is absent', async () => {
    operator = await startTestOperator({
      script: `responses:\n  - agent: minicluster\n    text: |${MINICLUSTER}\n`,
      sim: { behaviors: BEHAVIORS },
      // A cluster without the Flux Operator.
      prepare: async (sim) => {
        const kc = new KubeConfig();
        kc.loadFromFile(sim.kubeconfigPath);
        const client = new KubeClient(kc);
        await client.delete(RESOURCES.crds, undefined, 'miniclusters.flux-framework.org');
        await eventually(
          async () => !(await client.find(RESOURCES.crds, undefined, 'miniclusters.flux-framework.org')),
          30_000,
        );
      },
    });
    await operator.client.create(
      RESOURCES.agentSteps,
      agentStep('mc', 'minicluster', { container: IMAGE }) as never,
    );
    const step = await waitForPhase<Step>(operator.client, 'AgentStep', 'default', 'mc', [
      'Succeeded',
      'Failed',
    ]);
    expect(step.status?.phase).toBe('Failed');
    expect(step.status?.reason).toBe('MiniClusterUnavailable');
    expect(step.status?.message).toMatch(/Flux Operator/);
    expect(step.status?.history ?? []).toEqual([]);
    expect(step.status?.usage?.modelCalls ?? 0).toBe(0);
  });
});

describe('cleanup', () => {
  const crashThenFix = `
  - agent: kubernetes-job
    text: |${job('lmp -in missing')}
  - agent: debug
    text: Run lmp -in in.reaxff.hns instead.
  - agent: kubernetes-job
    match: "Run lmp -in in.reaxff.hns instead"
    text: |${job('lmp -in in.reaxff.hns')}
`;

  it('deletes the Jobs of failed attempts beyond spec.retain.failedAttempts', async () => {
    operator = await startTestOperator({
      script: `responses:${crashThenFix}`,
      sim: { behaviors: BEHAVIORS },
    });
    await operator.client.create(
      RESOURCES.agentSteps,
      agentStep('tidy', 'kubernetes-job', { container: IMAGE }, { retain: { failedAttempts: 0 } }) as never,
    );
    const step = await waitForPhase<Step>(operator.client, 'AgentStep', 'default', 'tidy', [
      'Succeeded',
      'Failed',
    ]);
    expect(step.status?.phase).toBe('Succeeded');
    const { eventually } = await import('../helpers/kubeconfig.ts');
    await eventually(async () => {
      const jobs = await operator!.client.list(RESOURCES.jobs, 'default');
      return jobs.items.map((j) => j.metadata.name).join() === 'tidy-2';
    });
    // The attempt's record stays: its artifact and diagnostics are in its ConfigMap.
    const record = await operator.client.get<{ metadata: object; data?: Record<string, string> }>(
      RESOURCES.configMaps,
      'default',
      'tidy-1',
    );
    expect(record.data?.['diagnostics']).toContain('Cannot open input script');
  });

  it('deleting a step deletes its Jobs, pods and ConfigMaps', async () => {
    operator = await startTestOperator({
      script: `responses:${crashThenFix}`,
      sim: { behaviors: BEHAVIORS },
    });
    await operator.client.create(
      RESOURCES.agentSteps,
      agentStep('bye', 'kubernetes-job', { container: IMAGE }) as never,
    );
    await waitForPhase<Step>(operator.client, 'AgentStep', 'default', 'bye', ['Succeeded', 'Failed']);
    await operator.client.delete(RESOURCES.agentSteps, 'default', 'bye');
    const { eventually } = await import('../helpers/kubeconfig.ts');
    await eventually(async () => {
      const [jobs, pods, configMaps] = await Promise.all([
        operator!.client.list(RESOURCES.jobs, 'default'),
        operator!.client.list(RESOURCES.pods, 'default'),
        operator!.client.list(RESOURCES.configMaps, 'default', { labelSelector: 'fractale.dev/step=bye' }),
      ]);
      return jobs.items.length + pods.items.length + configMaps.items.length === 0;
    }, 10_000);
  });
});
