// A step's phase only moves forward within an attempt: a run that was Running is never shown as
// Deploying ("Waiting for the run's pod to start") again, even when its pod finishes before the Job
// controller marks the Job complete.
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentStep } from '../../src/api/agentstep.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { jobManifestAnswer, TEST_IMAGE } from '../helpers/answers.ts';
import { agentStep, startTestOperator, type TestOperator, waitForPhase } from '../helpers/operator.ts';

type Step = AgentStep & { metadata: { name: string } };

let operator: TestOperator | undefined;
// Generous bounds: six runs at a fifth of real time, on a machine that may be busy.
afterEach(async () => {
  await operator?.stop();
  operator = undefined;
}, 180_000);

/** The order of the phases of one attempt of a run. */
const ORDER = ['Pending', 'Generating', 'Deploying', 'Running', 'Diagnosing', 'Succeeded', 'Failed'];

describe('step phases', () => {
  it('never move backwards within an attempt of a run', async () => {
    const names = Array.from({ length: 6 }, (_, i) => `run-${i}`);
    operator = await startTestOperator({
      script: `reuse: true\nresponses:\n  - agent: kubernetes-job\n    text: |${jobManifestAnswer('lmp -in in.reaxff.hns')}\n`,
      // Slow enough that each run is seen Running for a moment.
      sim: {
        speed: 0.2,
        behaviors: {
          pullable: ['ghcr.io/.*'],
          pods: [{ command: 'lmp', outcome: 'Succeeded', runSeconds: 5, log: 'Total wall time: 0:00:01\n' }],
        },
      },
    });
    const seen = new Map<string, { attempt: number; phase: string; message: string }[]>();
    const stopWatching = operator.sim.watch(RESOURCES.agentSteps, (_event, object) => {
      const step = object as unknown as Step;
      const phase = step.status?.phase;
      if (!phase) return;
      const history = seen.get(step.metadata.name) ?? [];
      const entry = { attempt: step.status?.attempt ?? 0, phase, message: step.status?.message ?? '' };
      if (history.at(-1)?.phase !== phase || history.at(-1)?.attempt !== entry.attempt) history.push(entry);
      seen.set(step.metadata.name, history);
    });
    try {
      for (const name of names)
        await operator.client.create(
          RESOURCES.agentSteps,
          agentStep(name, 'kubernetes-job', { container: TEST_IMAGE }) as never,
        );
      for (const name of names) {
        const step = await waitForPhase<Step>(
          operator.client,
          'AgentStep',
          'default',
          name,
          ['Succeeded', 'Failed'],
          180_000,
        );
        expect(step.status?.phase).toBe('Succeeded');
      }
    } finally {
      stopWatching();
    }
    for (const name of names) {
      const history = seen.get(name) ?? [];
      expect(history.map((h) => h.phase)).toContain('Running');
      for (let i = 1; i < history.length; i++) {
        const [before, after] = [history[i - 1]!, history[i]!];
        if (before.attempt !== after.attempt) continue;
        expect(
          ORDER.indexOf(after.phase),
          `${name}: ${before.phase} → ${after.phase} (${after.message})`,
        ).toBeGreaterThanOrEqual(ORDER.indexOf(before.phase));
      }
    }
  }, 600_000);
});
