// Per-agent context schemas. The CRD keeps `context` free-form; the operator holds it to these schemas,
// after turning the seed's snake_case keys (max_attempts, no_pull, ...) into camelCase.
import { z } from 'zod';
import { figureSpecSchema } from '../agents/optimize/figure.ts';
import { parseQuantity } from '../kube/quantity.ts';
import { maxAttempts } from './common.ts';
import type { AgentName } from './names.ts';

/** The seed's default environment, used when a context names none. */
export const DEFAULT_ENVIRONMENT = 'generic cloud environment';

const snakeToCamel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * Returns the context with snake_case keys spelled in camelCase. When both spellings are present and
 * disagree, the camelCase one wins and the disagreement is reported, so a plan never means two things.
 */
export function normalizeContextKeys(context: Record<string, unknown>): {
  context: Record<string, unknown>;
  conflicts: string[];
} {
  const out: Record<string, unknown> = {};
  const conflicts: string[] = [];
  for (const [key, value] of Object.entries(context)) {
    if (!key.includes('_')) out[key] = value;
  }
  for (const [key, value] of Object.entries(context)) {
    if (!key.includes('_')) continue;
    const camel = snakeToCamel(key);
    if (camel in out && JSON.stringify(out[camel]) !== JSON.stringify(value)) {
      conflicts.push(`${key} and ${camel} disagree; keep one of them`);
      continue;
    }
    out[camel] = value;
  }
  return { context: out, conflicts };
}

const DURATION = /^(\d+)(s|m|h)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;

const MAX_RUNTIME_SECONDS = 7 * 24 * 3600;
const RUNTIME_MESSAGE =
  'must be seconds (1 to 604800) or a duration such as "90s", "30m" or "2h", at most 7 days';

/**
 * A runtime limit: seconds as a number, or a duration such as "90s", "30m", "2h"; at most a week
 * either way. One message for every wrong value (a union's own says only "Invalid input").
 */
export const runtimeSeconds = z
  .union([z.number(), z.string()], { error: RUNTIME_MESSAGE })
  .transform((value, ctx) => {
    const match = typeof value === 'string' ? DURATION.exec(value) : undefined;
    const seconds =
      typeof value === 'number'
        ? value
        : match
          ? Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS]
          : Number.NaN;
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_RUNTIME_SECONDS) {
      ctx.addIssue({ code: 'custom', message: RUNTIME_MESSAGE });
      return z.NEVER;
    }
    return seconds;
  });

/** A Kubernetes quantity, as a resource request takes it (4, "500m", "16Gi"). */
const quantity = (example: string) =>
  z.union([z.number(), z.string()]).refine((value) => (parseQuantity(value) ?? -1) >= 0, {
    message: `must be a Kubernetes quantity such as ${example}`,
  });

const text = (what: string) => z.string().describe(what);

const common = {
  environment: text(
    'the environment to build or run for, e.g. "google cloud CPU instance in Kubernetes"',
  ).optional(),
  details: text('what the agent must know: data, commands, versions').optional(),
  maxAttempts: maxAttempts('maxAttempts').optional(),
  logBudget: z
    .int({ message: 'logBudget must be a whole number of tokens' })
    .min(200, { message: 'logBudget must be at least 200 tokens (room for a root cause and its context)' })
    .max(100_000, { message: 'logBudget must be at most 100000 tokens' })
    .describe("the most tokens of a failure's log the model reads; default: the operator's --log-budget")
    .optional(),
};

export const buildContext = z.looseObject({
  ...common,
  application: z
    .string({ message: 'application is required: name the software to build, e.g. "lammps"' })
    .min(1, {
      message: 'application is required: name the software to build, e.g. "lammps"',
    }),
  container: text('the image name to build (registry and tag are added by the operator)').optional(),
  registry: text("the registry to push to; default: the operator's --registry").optional(),
  push: z.boolean().optional(),
  insecureRegistry: z.boolean().optional(),
  pushSecret: text('a docker-config Secret with push credentials').optional(),
  platforms: z
    .array(
      z.string().regex(/^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/, { message: 'must look like linux/amd64' }),
    )
    .optional(),
});

const resources = z.looseObject({
  cpu: quantity('4 or "500m"').optional(),
  memory: quantity('"16Gi"').optional(),
  gpu: z.int().min(0).optional(),
  nodes: z.int().min(1).optional(),
});

const runContext = {
  ...common,
  container: z
    .string({ message: 'container is required: the image to run, e.g. "ghcr.io/me/lammps:1"' })
    .min(1),
  dockerfile: z.string().optional(),
  noPull: z.boolean().optional(),
  testing: z
    .union([z.string(), z.boolean()], {
      error: 'must be true, false, or a sentence saying how to check the run worked',
    })
    .optional(),
  maxRuntime: runtimeSeconds.optional(),
  resources: resources.optional(),
  allowReturnToHuman: z.boolean().optional(),
  allowReturnToManager: z.boolean().optional(),
};

export const kubernetesJobContext = z.looseObject(runContext);
export const miniclusterContext = z.looseObject(runContext);

const instruction = z
  .string({ message: 'instruction is required: say what the agent must produce' })
  .min(1, { message: 'instruction is required: say what the agent must produce' });

export const costContext = z.looseObject({ ...common, instruction });
export const fluxBatchContext = z.looseObject({ ...common, instruction });

/**
 * The optimize agent: from a run that works (`manifest`, handed on by the run step), trials of one
 * change each, measured by a figure of merit read from the log, kept only when they beat the best by
 * more than the noise.
 */
export const optimizeContext = z.looseObject({
  ...runContext,
  manifest: z
    .string({
      message: "manifest is required: the Job manifest to start from (a plan's run step hands it on)",
    })
    .min(1, { message: 'manifest is required: the Job manifest to start from' }),
  figureOfMerit: figureSpecSchema,
  repetitions: z
    .int({ message: 'repetitions must be a whole number' })
    .min(1, { message: 'repetitions must be at least 1' })
    .max(10, { message: 'repetitions must be at most 10' })
    .default(3)
    .describe('runs per trial; the figure is their median and the noise their spread'),
  maxTrials: z
    .int({ message: 'maxTrials must be a whole number' })
    .min(1, { message: 'maxTrials must be at least 1' })
    .max(50, { message: 'maxTrials must be at most 50' })
    .default(6)
    .describe('changes the model may try after the baseline'),
  plateau: z
    .int({ message: 'plateau must be a whole number' })
    .min(1, { message: 'plateau must be at least 1' })
    .max(50, { message: 'plateau must be at most 50' })
    .default(3)
    .describe('stop after this many trials in a row that did not improve'),
  maxWallTime: runtimeSeconds.optional(),
  tunables: z
    .enum(['manifest'], {
      message:
        'tunables must be "manifest": trials change the run\'s Job manifest (rebuilding the image per trial is not supported)',
    })
    .default('manifest'),
});

export const CONTEXT_SCHEMAS = {
  build: buildContext,
  'kubernetes-job': kubernetesJobContext,
  minicluster: miniclusterContext,
  cost: costContext,
  'flux-batch': fluxBatchContext,
  optimize: optimizeContext,
} as const satisfies Record<AgentName, z.ZodType>;

export type BuildContext = z.infer<typeof buildContext>;
export type RunContext = z.infer<typeof kubernetesJobContext>;
export type CostContext = z.infer<typeof costContext>;
export type FluxBatchContext = z.infer<typeof fluxBatchContext>;
export type OptimizeContext = z.infer<typeof optimizeContext>;
export type AgentContext = {
  build: BuildContext;
  'kubernetes-job': RunContext;
  minicluster: RunContext;
  cost: CostContext;
  'flux-batch': FluxBatchContext;
  optimize: OptimizeContext;
};

/** What each agent hands on to later steps of a plan, so their contexts need not repeat it. */
export const AGENT_OUTPUTS: Record<AgentName, readonly string[]> = {
  build: ['container', 'dockerfile'],
  'kubernetes-job': ['manifest'],
  minicluster: [],
  cost: [],
  'flux-batch': [],
  optimize: ['manifest'],
};

export type ContextResult<A extends AgentName> =
  | { ok: true; context: AgentContext[A] }
  | { ok: false; errors: string[] };

/**
 * Validates a context for an agent. `provided` lists keys an earlier plan step will supply
 * (e.g. `container` from a build), which are then not required here.
 */
export function parseContext<A extends AgentName>(
  agent: A,
  raw: unknown,
  options: { path?: string; provided?: readonly string[] } = {},
): ContextResult<A> {
  const path = options.path ?? 'context';
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return {
      ok: false,
      errors: [
        `${path}: must be an object of key: value pairs, not ${Array.isArray(raw) ? 'a list' : typeof raw}`,
      ],
    };
  }
  const { context, conflicts } = normalizeContextKeys(raw as Record<string, unknown>);
  const errors = conflicts.map((c) => `${path}: ${c}`);
  const base: z.ZodObject = CONTEXT_SCHEMAS[agent];
  let schema: z.ZodType = base;
  const provided = (options.provided ?? []).filter((k) => k in base.shape && !(k in context));
  if (provided.length > 0) {
    schema = base.partial(Object.fromEntries(provided.map((k) => [k, true])) as never);
  }
  const result = schema.safeParse(context);
  if (!result.success) errors.push(...formatIssues(result.error.issues, path));
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, context: result.data as AgentContext[A] };
}

/** Formats zod issues as `field.path: message`, the way the API server names fields. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string[] {
  return issues.map((issue) => {
    let field = prefix;
    for (const part of issue.path) {
      field += typeof part === 'number' ? `[${part}]` : field ? `.${String(part)}` : String(part);
    }
    return `${field || '(root)'}: ${issue.message}`;
  });
}
