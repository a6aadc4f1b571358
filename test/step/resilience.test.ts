// What must survive: an operator restart in any phase, the cache shared between steps, and a person
// answering a step's question.
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentStep } from '../../src/api/agentstep.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import type { BehaviorsInput } from '../../src/sim/index.ts';
import { jobManifestAnswer, TEST_IMAGE } from '../helpers/answers.ts';
import { agentStep, startTestOperator, type TestOperator, waitForPhase } from '../helpers/operator.ts';

type Step = AgentStep & { metadata: { name: string } };
const IMAGE = TEST_IMAGE;
const BEHAVIORS: BehaviorsInput = {
  pullable: ['ghcr.io/.*', 'cgr.dev/.*'],
  builds: [
    { match: 'ca-certificates', outcome: 'Succeeded', runSeconds: 20, log: '[100%] Built target lmp' },
    {
      outcome: 'Failed',
      runSeconds: 10,
      log: "fatal: unable to access 'https://github.com/lammps/lammps.git/': server certificate verification failed",
    },
  ],
  pods: [
    {
      command: 'lmp -in in.reaxff.hns',
      outcome: 'Succeeded',
      runSeconds: 10,
      log: 'Total wall time: 0:00:02\n',
    },
    {
      command: 'lmp -in missing',
      outcome: 'Failed',
      exitCode: 1,
      runSeconds: 10,
      log: 'ERROR: Cannot open input script missing: No such file or directory\n',
    },
  ],
};

const job = (command: string) => jobManifestAnswer(command);
const CRASH_THEN_FIX = `responses:
  - agent: kubernetes-job
    text: |${job('lmp -in missing')}
  - agent: debug
    match: "Cannot open input script"
    text: Use the input file in.reaxff.hns.
  - agent: kubernetes-job
    match: "in.reaxff.hns"
    text: |${job('lmp -in in.reaxff.hns')}
`;
const BUILD_SCRIPT = (dockerfile: string) => `
  - agent: build
    text: |
      \`\`\`dockerfile
      ${dockerfile}
      \`\`\``;

let operator: TestOperator | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await operator?.stop();
  operator = undefined;
});

/** Restarts the operator once in each phase the step passes through; returns the phases hit. */
function restartInEveryPhase(op: TestOperator, name: string): { hit: Set<string>; done: Promise<void> } {
  const hit = new Set<string>();
  const done = (async () => {
    for (;;) {
      const step = await op.client.find<Step>(RESOURCES.agentSteps, 'default', name);
      const phase = step?.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') return;
      const key = `${phase}#${step?.status?.attempt}`;
      if (phase && !hit.has(key)) {
        hit.add(key);
        await op.restart();
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return { hit, done };
}

describe('operator restarts', () => {
  it('a run step restarted in every phase finishes with exactly one Job per attempt', async () => {
    operator = await startTestOperator({
      script: CRASH_THEN_FIX,
      sim: { behaviors: BEHAVIORS, speed: 0.05 },
    });
    let jobsCreated = 0;
    const unwatch = operator.sim.watch(RESOURCES.jobs, (event) => {
      if (event === 'add') jobsCreated++;
    });
    cleanups.push(unwatch);
    await operator.client.create(
      RESOURCES.agentSteps,
      agentStep('run', 'kubernetes-job', { container: IMAGE }) as never,
    );
    const restarts = restartInEveryPhase(operator, 'run');
    const step = await waitForPhase<Step>(
      operator.client,
      'AgentStep',
      'default',
      'run',
      ['Succeeded', 'Failed'],
      60_000,
    );
    await restarts.done;
    expect(step.status?.phase, JSON.stringify(step.status)).toBe('Succeeded');
    expect(step.status?.attempt).toBe(2);
    // Restarted in Generating, Deploying or Running, and Diagnosing at least.
    expect(restarts.hit.size).toBeGreaterThanOrEqual(4);
    expect(jobsCreated).toBe(2);
    const jobs = await operator.client.list(RESOURCES.jobs, 'default');
    expect(jobs.items.map((j) => j.metadata.name).sort()).toEqual(['run-1', 'run-2']);
  });

  it('a build restarted in every phase builds once per attempt', async () => {
    const broken = 'FROM ubuntu:22.04\n      RUN git clone https://github.com/lammps/lammps.git';
    const fixed =
      'FROM ubuntu:22.04\n      RUN apt-get install -y ca-certificates git && git clone https://github.com/lammps/lammps.git';
    const script = `responses:${BUILD_SCRIPT(broken)}
  - agent: debug
    text: Install ca-certificates before cloning.
  - agent: build
    match: "Install ca-certificates before cloning"${BUILD_SCRIPT(fixed).replace('\n  - agent: build', '')}
`;
    operator = await startTestOperator({ script, sim: { behaviors: BEHAVIORS, speed: 0.05 } });
    let jobsCreated = 0;
    const unwatch = operator.sim.watch(RESOURCES.jobs, (event) => {
      if (event === 'add') jobsCreated++;
    });
    cleanups.push(unwatch);
    await operator.client.create(
      RESOURCES.agentSteps,
      agentStep('img', 'build', { application: 'lammps' }) as never,
    );
    const restarts = restartInEveryPhase(operator, 'img');
    const step = await waitForPhase<Step>(
      operator.client,
      'AgentStep',
      'default',
      'img',
      ['Succeeded', 'Failed'],
      60_000,
    );
    await restarts.done;
    expect(step.status?.phase, JSON.stringify(step.status)).toBe('Succeeded');
    expect(restarts.hit.size).toBeGreaterThanOrEqual(4);
    expect(jobsCreated).toBe(2);
    expect(operator.sim.registry.has(step.status!.outputs!['container']!)).toBe(true);
  });
});

describe('cache', () => {
  it('a later step with the same inputs loads the result and does no work', async () => {
    const fixed = 'FROM ubuntu:22.04\n      RUN apt-get install -y ca-certificates git';
    operator = await startTestOperator({
      script: `responses:${BUILD_SCRIPT(fixed)}\n`,
      sim: { behaviors: BEHAVIORS },
    });
    const context = {
      application: 'lammps',
      environment: 'google cloud CPU',
      details: 'Clone the latest LAMMPS.',
    };
    await operator.client.create(
      RESOURCES.agentSteps,
      agentStep('first', 'build', context, { useCache: true }) as never,
    );
    const first = await waitForPhase<Step>(operator.client, 'AgentStep', 'default', 'first', [
      'Succeeded',
      'Failed',
    ]);
    expect(first.status?.cache).toBe('Saved');
    // Same inputs in another spelling (the seed's snake_case and a different attempt limit).
    await operator.client.create(
      RESOURCES.agentSteps,
      agentStep('second', 'build', { ...context, max_attempts: 3 }, { useCache: true }) as never,
    );
    const second = await waitForPhase<Step>(operator.client, 'AgentStep', 'default', 'second', [
      'Succeeded',
      'Failed',
    ]);
    expect(second.status).toMatchObject({ phase: 'Succeeded', cache: 'Hit', reason: 'CacheHit' });
    expect(second.status?.outputs).toEqual(first.status?.outputs);
    expect(second.status?.usage?.modelCalls ?? 0).toBe(0);
    const jobs = await operator.client.list(RESOURCES.jobs, 'default');
    expect(jobs.items.map((j) => j.metadata.name)).toEqual(['first-1']);
  });
});

describe('human in the loop', () => {
  it('waits in AwaitingHuman with the question and resumes after the answer annotation', async () => {
    const script = `responses:
  - agent: kubernetes-job
    text: |${job('lmp -in missing')}
  - agent: debug
    text: |
      The input script does not exist in the image.
      RETURN TO HUMAN: Which input file should the run use?
  - agent: kubernetes-job
    match: "A person answered"
    text: |${job('lmp -in in.reaxff.hns')}
`;
    operator = await startTestOperator({ script, sim: { behaviors: BEHAVIORS } });
    await operator.client.create(
      RESOURCES.agentSteps,
      agentStep('ask', 'kubernetes-job', { container: IMAGE, allow_return_to_human: true }) as never,
    );
    const waiting = await waitForPhase<Step>(operator.client, 'AgentStep', 'default', 'ask', [
      'AwaitingHuman',
      'Succeeded',
      'Failed',
    ]);
    expect(waiting.status?.phase).toBe('AwaitingHuman');
    expect(waiting.status?.question).toBe('Which input file should the run use?');
    await operator.client.patch(RESOURCES.agentSteps, 'default', 'ask', {
      metadata: { annotations: { 'fractale.dev/answer': 'Use in.reaxff.hns in the working directory.' } },
    });
    const done = await waitForPhase<Step>(operator.client, 'AgentStep', 'default', 'ask', [
      'Succeeded',
      'Failed',
    ]);
    expect(done.status?.phase).toBe('Succeeded');
    expect(done.status?.attempt).toBe(2);
    expect(done.status?.advice).toContain('in.reaxff.hns');
  });
});
