// Validation of whole AgentPlan and AgentStep objects: the schema, then what a CRD schema cannot say
// (per-agent contexts, and which inputs earlier steps provide).
import type { z } from 'zod';
import { type AgentPlan, agentPlan } from './agentplan.ts';
import { type AgentStep, agentStep } from './agentstep.ts';
import { AGENT_OUTPUTS, formatIssues, parseContext } from './context.ts';
import { agentPlanCrd, agentStepCrd } from './crd.ts';

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: string[] };

type OpenApiSchema = {
  properties?: Record<string, OpenApiSchema>;
  items?: OpenApiSchema;
  additionalProperties?: unknown;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
};

/** The edit distance of two names, to suggest the field a misspelt one meant. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/**
 * Fields the CRD schema does not know, worded as kubectl's strict field validation reports them
 * (`unknown field "spec.gaol"`), with the nearest known name when one is close. Zod strips such
 * fields silently; the API server refuses them, so `fractale validate` must too. Objects whose
 * schema lists no properties (metadata, context) are left to the server and the agents.
 */
export function unknownFields(raw: unknown, schema: OpenApiSchema, path = ''): string[] {
  if (Array.isArray(raw))
    return schema.items ? raw.flatMap((item, i) => unknownFields(item, schema.items!, `${path}[${i}]`)) : [];
  if (raw === null || typeof raw !== 'object' || !schema.properties) return [];
  if (schema['x-kubernetes-preserve-unknown-fields'] || schema.additionalProperties) return [];
  const known = Object.keys(schema.properties);
  const errors: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const field = path ? `${path}.${key}` : key;
    const child = schema.properties[key];
    if (child) {
      errors.push(...unknownFields(value, child, field));
      continue;
    }
    const nearest = known
      .map((name) => ({ name, d: distance(key.toLowerCase(), name.toLowerCase()) }))
      .sort((a, b) => a.d - b.d)[0];
    const hint =
      nearest && nearest.d <= Math.max(2, Math.floor(key.length / 3))
        ? ` (did you mean ${nearest.name}?)`
        : '';
    errors.push(`unknown field "${field}"${hint}`);
  }
  return errors;
}

function parseWith<T>(schema: z.ZodType<T>, raw: unknown, openApi: () => OpenApiSchema): Validated<T> {
  const result = schema.safeParse(raw);
  const unknown = unknownFields(raw, openApi());
  if (!result.success) return { ok: false, errors: [...unknown, ...formatIssues(result.error.issues)] };
  if (unknown.length > 0) return { ok: false, errors: unknown };
  return { ok: true, value: result.data };
}

/** The CRDs' schemas, built once from the same zod schemas. */
const planSchema = once(() => agentPlanCrd().spec.versions[0]!.schema.openAPIV3Schema as OpenApiSchema);
const stepSchema = once(() => agentStepCrd().spec.versions[0]!.schema.openAPIV3Schema as OpenApiSchema);

function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

/** Validates an AgentPlan: schema, unique step names, and each step's context for its agent. */
export function validateAgentPlan(raw: unknown): Validated<AgentPlan> {
  const parsed = parseWith(agentPlan, raw, planSchema);
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
  const parsed = parseWith(agentStep, raw, stepSchema);
  if (!parsed.ok) return parsed;
  const context = parseContext(parsed.value.spec.agent, parsed.value.spec.context, { path: 'spec.context' });
  return context.ok ? parsed : { ok: false, errors: context.errors };
}
