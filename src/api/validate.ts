// Validation of whole AgentPlan and AgentStep objects: the schema, then what a CRD schema cannot say
// (per-agent contexts, and which inputs earlier steps provide).
import type { z } from 'zod';
import { type AgentPlan, agentPlan } from './agentplan.ts';
import { type AgentStep, agentStep } from './agentstep.ts';
import { AGENT_OUTPUTS, formatIssues, parseContext } from './context.ts';

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: string[] };

function parseWith<T>(schema: z.ZodType<T>, raw: unknown): Validated<T> {
  const result = schema.safeParse(raw);
  if (!result.success) return { ok: false, errors: formatIssues(result.error.issues) };
  return { ok: true, value: result.data };
}

/** Validates an AgentPlan: schema, unique step names, and each step's context for its agent. */
export function validateAgentPlan(raw: unknown): Validated<AgentPlan> {
  const parsed = parseWith(agentPlan, raw);
  if (!parsed.ok) return parsed;
  const errors: string[] = [];
  const seen = new Map<string, number>();
  const provided = new Set<string>();
  parsed.value.spec.steps.forEach((step, index) => {
    const path = `spec.steps[${index}]`;
    const first = seen.get(step.name);
    if (first !== undefined) {
      errors.push(
        `${path}.name: Duplicate value: "${step.name}" (also spec.steps[${first}]); step names must be unique within a plan`,
      );
    } else seen.set(step.name, index);
    const context = parseContext(step.agent, step.context, {
      path: `${path}.context`,
      provided: [...provided],
    });
    if (!context.ok) errors.push(...context.errors);
    for (const key of AGENT_OUTPUTS[step.agent]) provided.add(key);
  });
  return errors.length > 0 ? { ok: false, errors } : parsed;
}

/** Validates an AgentStep: schema, and the context for its agent unless a plan will fill it in. */
export function validateAgentStep(raw: unknown): Validated<AgentStep> {
  const parsed = parseWith(agentStep, raw);
  if (!parsed.ok) return parsed;
  const context = parseContext(parsed.value.spec.agent, parsed.value.spec.context, { path: 'spec.context' });
  return context.ok ? parsed : { ok: false, errors: context.errors };
}
