// The manager's answer: which step to redo and the instruction for it, read from untrusted JSON.
import type { ManagerStep } from '../../prompts/manager.ts';
import { parseJson, quoted } from '../parse.ts';

export interface RecoveryChoice {
  /** The step to go back to. */
  step: string;
  agent: string;
  /** The instruction its agent gets ("You MUST ..."). */
  instruction: string;
}

export type RecoveryResult = { ok: true; choice: RecoveryChoice } | { ok: false; error: string };

const str = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

/**
 * Reads the manager's JSON {"agent_name", "task_description"}. `agent_name` may name a step (what the
 * prompt asks for) or, as in the seed, an agent used by exactly one of the listed steps. The error
 * goes back to the model in the next manager prompt.
 */
export function parseRecovery(answer: string, steps: readonly ManagerStep[]): RecoveryResult {
  const parsed = parseJson(answer);
  if (!parsed.ok) return { ok: false, error: parsed.error };
  const value = parsed.value;
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, error: 'The answer must be one JSON object with agent_name and task_description.' };
  }
  const object = value as Record<string, unknown>;
  const name = str(object['agent_name']) ?? str(object['agentName']) ?? str(object['step']);
  const instruction = str(object['task_description']) ?? str(object['taskDescription']);
  if (!name || !instruction) {
    return { ok: false, error: 'The JSON object must have a non-empty agent_name and task_description.' };
  }
  const names = steps.map((s) => s.name).join(', ');
  const byName = steps.find((s) => s.name === name);
  if (byName) return { ok: true, choice: { step: byName.name, agent: byName.agent, instruction } };
  const byAgent = steps.filter((s) => s.agent === name);
  if (byAgent.length === 1)
    return { ok: true, choice: { step: byAgent[0]!.name, agent: byAgent[0]!.agent, instruction } };
  if (byAgent.length > 1) {
    return {
      ok: false,
      error: `agent_name ${quoted(name)} is used by several steps (${byAgent.map((s) => s.name).join(', ')}); name one step.`,
    };
  }
  return {
    ok: false,
    error: `agent_name ${quoted(name)} is not a step of this plan; choose one of: ${names}.`,
  };
}
