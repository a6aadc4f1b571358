// The limit on concurrent model calls (--model-concurrency), seen from the steps: a step whose call
// waits for its turn says so in its message, once, and every step still finishes.
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentStep } from '../../src/api/agentstep.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { ScriptedModel } from '../../src/llm/scripted.ts';
import type { GenerateRequest, LanguageModel } from '../../src/llm/types.ts';
import { jobManifestAnswer, TEST_IMAGE } from '../helpers/answers.ts';
import { eventually } from '../helpers/kubeconfig.ts';
import { agentStep, startTestOperator, type TestOperator, waitForPhase } from '../helpers/operator.ts';

type Step = AgentStep & { metadata: { name: string } };

let operator: TestOperator | undefined;
afterEach(async () => {
  await operator?.stop();
  operator = undefined;
}, 120_000);

/** A promise the test resolves. */
function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/**
 * The scripted model, holding the calls `holds` picks (by the call's number, from 1, and prompt)
 * until the test opens the gate it returns.
 */
function gatedModel(script: string, holds: (call: number, prompt: string) => Promise<void> | undefined) {
  const scripted = ScriptedModel.fromYaml(script);
  const prompts: string[] = [];
  let open = 0;
  let mostOpen = 0;
  const model: LanguageModel = {
    provider: scripted.provider,
    model: scripted.model,
    async generate(request: GenerateRequest) {
      prompts.push(request.prompt);
      open++;
      mostOpen = Math.max(mostOpen, open);
      try {
        await holds(prompts.length, request.prompt);
        return await scripted.generate(request);
      } finally {
        open--;
      }
    },
  };
  return { model, calls: () => prompts.length, mostOpen: () => mostOpen };
}

const BEHAVIORS = {
  pullable: ['ghcr.io/.*'],
  pods: [
    {
      command: 'lmp -in in.reaxff.hns',
      outcome: 'Succeeded' as const,
      runSeconds: 1,
      log: 'Total wall time: 0:00:01\n',
    },
    {
      command: 'lmp -in missing',
      outcome: 'Failed' as const,
      exitCode: 1,
      runSeconds: 1,
      log: 'ERROR: Cannot open input script missing: No such file or directory\n',
    },
  ],
};

/** Records every message each step shows, in order, without repeats. */
function watchMessages(operator: TestOperator) {
  const messages = new Map<string, string[]>();
  const stop = operator.sim.watch(RESOURCES.agentSteps, (_event, object) => {
    const step = object as unknown as Step;
    const message = step.status?.message;
    if (!message) return;
    const seen = messages.get(step.metadata.name) ?? [];
    if (seen.at(-1) !== message) seen.push(message);
    messages.set(step.metadata.name, seen);
  });
  return { of: (name: string) => messages.get(name) ?? [], stop };
}

async function messageOf(operator: TestOperator, name: string): Promise<string | undefined> {
  return (await operator.client.find<Step>(RESOURCES.agentSteps, 'default', name))?.status?.message;
}

describe('the model concurrency limit', () => {
  it('tells a step its call waits for the model, and both steps finish', async () => {
    const first = gate();
    const gated = gatedModel(
      `reuse: true\nresponses:\n  - agent: kubernetes-job\n    text: |${jobManifestAnswer('lmp -in in.reaxff.hns')}\n`,
      (call) => (call === 1 ? first.opened : undefined),
    );
    operator = await startTestOperator({
      model: gated.model,
      config: { modelConcurrency: 1 },
      sim: { behaviors: BEHAVIORS },
    });
    const messages = watchMessages(operator);
    try {
      await operator.client.create(
        RESOURCES.agentSteps,
        agentStep('first', 'kubernetes-job', { container: TEST_IMAGE }) as never,
      );
      // The first step's call holds the only slot.
      await eventually(() => gated.calls() === 1, 20_000);
      await operator.client.create(
        RESOURCES.agentSteps,
        agentStep('second', 'kubernetes-job', { container: TEST_IMAGE }) as never,
      );
      const waiting = 'Waiting for the model: next in line (at most 1 at a time)';
      await eventually(async () => (await messageOf(operator!, 'second')) === waiting, 20_000);
      expect(await queueMetrics(operator)).toMatchObject({ queued: 1, inFlight: 1 });
      // The second call was not sent while the first held the slot.
      expect(gated.calls()).toBe(1);
      first.open();
      for (const name of ['first', 'second']) {
        const step = await waitForPhase<Step>(operator.client, 'AgentStep', 'default', name, [
          'Succeeded',
          'Failed',
        ]);
        expect(step.status?.phase, JSON.stringify(step.status)).toBe('Succeeded');
        expect(step.status?.message).not.toContain('Waiting for the model');
      }
      // The watch has seen the last writes by the time it sees the final phase's message.
      await eventually(() => messages.of('second').at(-1)?.startsWith('Succeeded') === true, 10_000);
      // Written once while it waited; never for the call that did not wait.
      expect(messages.of('second').filter((m) => m.startsWith('Waiting for the model'))).toEqual([waiting]);
      expect(messages.of('first').some((m) => m.startsWith('Waiting for the model'))).toBe(false);
      expect(gated.mostOpen()).toBe(1);
      expect(await queueMetrics(operator)).toEqual({ queued: 0, inFlight: 0, waits: 2 });
    } finally {
      messages.stop();
    }
  }, 120_000);

  it("shows a debug call's wait before the attempt's failure, and keeps the failure for the history", async () => {
    // One slot. The crash step's first answer is held until the blocker's call is queued behind it;
    // the blocker's call then takes the slot and is held, so the crash step's debug call must wait.
    const crashAnswer = gate();
    const blocker = gate();
    const gated = gatedModel(
      `responses:
  - agent: kubernetes-job
    match: BLOCKER
    text: |${jobManifestAnswer('lmp -in in.reaxff.hns')}
  - agent: kubernetes-job
    text: |${jobManifestAnswer('lmp -in missing')}
  - agent: debug
    text: The input file name is wrong; run lmp -in in.reaxff.hns in the working directory.
  - agent: kubernetes-job
    match: "run lmp -in in.reaxff.hns"
    text: |${jobManifestAnswer('lmp -in in.reaxff.hns')}
`,
      (call, prompt) =>
        call === 1 ? crashAnswer.opened : prompt.includes('BLOCKER') ? blocker.opened : undefined,
    );
    operator = await startTestOperator({
      model: gated.model,
      config: { modelConcurrency: 1 },
      sim: { behaviors: BEHAVIORS },
    });
    const messages = watchMessages(operator);
    try {
      await operator.client.create(
        RESOURCES.agentSteps,
        agentStep('crash', 'kubernetes-job', { container: TEST_IMAGE }) as never,
      );
      await eventually(() => gated.calls() === 1, 20_000);
      await operator.client.create(
        RESOURCES.agentSteps,
        agentStep('blocker', 'kubernetes-job', { container: TEST_IMAGE, details: 'BLOCKER' }) as never,
      );
      await eventually(
        async () => (await messageOf(operator!, 'blocker'))?.startsWith('Waiting for the model') === true,
        20_000,
      );
      crashAnswer.open();
      // The blocker's call takes the slot; the crash step's run fails and its debug call queues.
      await eventually(() => gated.calls() === 2, 20_000);
      const waiting = 'Waiting for the model: next in line (at most 1 at a time) · Attempt 1 failed: ';
      await eventually(
        async () => (await messageOf(operator!, 'crash'))?.startsWith(waiting) === true,
        30_000,
      );
      const diagnosing = await operator.client.find<Step>(RESOURCES.agentSteps, 'default', 'crash');
      expect(diagnosing?.status?.phase).toBe('Diagnosing');
      blocker.open();
      const done: Record<string, Step> = {};
      for (const name of ['crash', 'blocker']) {
        done[name] = await waitForPhase<Step>(operator.client, 'AgentStep', 'default', name, [
          'Succeeded',
          'Failed',
        ]);
        expect(done[name].status?.phase, JSON.stringify(done[name].status)).toBe('Succeeded');
      }
      expect(done['crash']!.status?.attempt).toBe(2);
      // The history keeps the failure, not the wait shown before it.
      expect(done['crash']!.status?.history?.[0]?.message).toContain('Cannot open input script');
      expect(done['crash']!.status?.history?.[0]?.message).not.toContain('Waiting for the model');
      expect(messages.of('crash').filter((m) => m.startsWith('Waiting for the model'))).toHaveLength(1);
    } finally {
      messages.stop();
    }
  }, 120_000);
});

/** The limiter's metrics for the scripted provider, read from the operator's registry. */
async function queueMetrics(operator: TestOperator) {
  const text = await operator.manager.metrics.registry.metrics();
  const value = (name: string) => {
    const match = new RegExp(`^${name}\\{provider="scripted"\\} (\\d+)$`, 'm').exec(text);
    return match ? Number(match[1]) : undefined;
  };
  return {
    queued: value('fractale_model_calls_queued'),
    inFlight: value('fractale_model_calls_in_flight'),
    waits: value('fractale_model_queue_wait_seconds_count'),
  };
}
