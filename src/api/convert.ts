// Converts a plan in the seed's format (name, description, goal, plan: [{agent, context}]) into an
// AgentPlan, so fractale plans written for the original tool keep working.
import { parse } from 'yaml';
import { z } from 'zod';
import type { AgentPlan } from './agentplan.ts';
import { formatIssues } from './context.ts';
import { AGENT_NAMES, API_VERSION } from './names.ts';
import { type Validated, validateAgentPlan } from './validate.ts';

const seedPlan = z.object({
  name: z
    .string({ message: 'name is required: give the plan a title, e.g. "Build and Deploy LAMMPS"' })
    .min(1),
  description: z.string().optional(),
  goal: z.string().optional(),
  plan: z
    .array(
      z.object({
        agent: z.string({ message: `agent is required: one of ${AGENT_NAMES.join(', ')}` }),
        name: z.string().optional(),
        description: z.string().optional(),
        context: z.unknown().optional(),
      }),
      { message: 'plan is required: a list of steps, each with an agent and a context' },
    )
    .min(1, { message: 'plan must list at least one step' }),
});

/** Turns a title such as "Build and Deploy LAMMPS" into a DNS name such as "build-and-deploy-lammps". */
export function dnsName(title: string, max = 40): string {
  const name = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');
  return name || 'plan';
}

/** True when a parsed YAML document looks like the seed's plan format rather than an AgentPlan. */
export function isSeedPlan(doc: unknown): boolean {
  return typeof doc === 'object' && doc !== null && 'plan' in doc && !('apiVersion' in doc);
}

export interface ConvertOptions {
  /** metadata.name of the AgentPlan; default: derived from the seed plan's name. */
  name?: string;
  namespace?: string;
  useCache?: boolean;
  incremental?: boolean;
}

/** Converts a seed plan (YAML text or parsed) into a validated AgentPlan. */
export function convertSeedPlan(input: string | unknown, options: ConvertOptions = {}): Validated<AgentPlan> {
  let doc: unknown = input;
  if (typeof input === 'string') {
    try {
      doc = parse(input);
    } catch (error) {
      return { ok: false, errors: [`(file): not valid YAML: ${(error as Error).message.split('\n')[0]}`] };
    }
  }
  const parsed = seedPlan.safeParse(doc);
  if (!parsed.success) return { ok: false, errors: formatIssues(parsed.error.issues) };
  const seed = parsed.data;
  const used = new Set<string>();
  const steps = seed.plan.map((step) => {
    // The seed names steps by agent (it refuses repeats); keep that, with a suffix if a plan repeats one.
    let name = dnsName(step.name ?? step.agent, 63);
    for (let i = 2; used.has(name); i++) name = `${dnsName(step.name ?? step.agent, 60)}-${i}`;
    used.add(name);
    return {
      name,
      agent: step.agent,
      ...(step.description ? { description: step.description } : {}),
      ...(step.context !== undefined ? { context: step.context } : {}),
    };
  });
  const plan = {
    apiVersion: API_VERSION,
    kind: 'AgentPlan',
    metadata: {
      name: options.name ?? dnsName(seed.name),
      ...(options.namespace ? { namespace: options.namespace } : {}),
    },
    spec: {
      ...(seed.description ? { description: seed.description } : {}),
      ...(seed.goal ? { goal: seed.goal } : {}),
      steps,
      ...(options.useCache ? { useCache: true } : {}),
      ...(options.incremental ? { results: { incremental: true } } : {}),
    },
  };
  // Seed step fields are renamed here, so an error in them reads as the seed's own field.
  const validated = validateAgentPlan(plan);
  if (!validated.ok) {
    return { ok: false, errors: validated.errors.map((e) => e.replace(/^spec\.steps\[(\d+)\]/, 'plan[$1]')) };
  }
  return validated;
}
