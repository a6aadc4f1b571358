// The manager's answer to a failed step: which step to go back to and what it must do differently.
// The answer is untrusted: it is parsed and validated, and a bad answer goes back with the error.
import { z } from 'zod';
import { parseJson } from '../agents/parse.ts';

export const managerAnswer = z.object({
  agent_name: z.string({ message: 'agent_name is required: the name of a step from the list' }).min(1),
  task_description: z
    .string({ message: 'task_description is required: one instruction for the chosen step' })
    .min(1, { message: 'task_description must not be empty' }),
});

export type RecoveryChoice =
  | { ok: true; stepIndex: number; taskDescription: string }
  | { ok: false; error: string };

/**
 * Reads the manager's answer. `agent_name` may name a step (or, as in the seed, the agent of a step
 * when only one step uses it); it must be the failed step or one before it.
 */
export function readRecovery(
  answer: string,
  steps: readonly { name: string; agent: string }[],
  failedIndex: number,
): RecoveryChoice {
  const json = parseJson(answer);
  if (!json.ok) return { ok: false, error: json.error };
  const parsed = managerAnswer.safeParse(json.value);
  if (!parsed.success) {
    return {
      ok: false,
      error: parsed.error.issues.map((i) => `${i.path.join('.') || 'answer'}: ${i.message}`).join('; '),
    };
  }
  const { agent_name: name, task_description: taskDescription } = parsed.data;
  const candidates = steps.slice(0, failedIndex + 1);
  let index = candidates.findIndex((s) => s.name === name);
  if (index < 0) {
    const byAgent = candidates.flatMap((s, i) => (s.agent === name ? [i] : []));
    if (byAgent.length === 1) index = byAgent[0]!;
  }
  if (index < 0) {
    return {
      ok: false,
      error: `agent_name "${name}" is not one of the steps up to the failed one: ${candidates.map((s) => s.name).join(', ')}`,
    };
  }
  return { ok: true, stepIndex: index, taskDescription };
}
