// The operator's configuration, from flags and environment (flags win), validated at start-up so a
// mistake is reported once, clearly, instead of surfacing later as a failed reconcile.
import { z } from 'zod';
import { KANIKO_IMAGE } from '../agents/build/manifests.ts';
import { formatIssues } from '../api/context.ts';
import { DEFAULT_LOG_BUDGET_TOKENS, MIN_LOG_BUDGET_TOKENS } from '../kube/logfilter.ts';
import { DEFAULT_MAX_CPU_REQUEST, DEFAULT_MAX_MEMORY_REQUEST } from '../kube/policy.ts';
import { parseQuantity } from '../kube/quantity.ts';
import { DEFAULT_MODEL_CONCURRENCY } from '../llm/limiter.ts';

/** The Kaniko image builds run by default (see KANIKO_IMAGE for why this fork). */
export const DEFAULT_KANIKO_IMAGE = KANIKO_IMAGE;

const bool = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1'),
]);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const port = int(0, 65535);
/** A whole number in [min, max], with one message that says what it means and what to give. */
const count = (min: number, max: number, fix: string) => {
  const message = `must be a whole number from ${min} to ${max} ${fix}`;
  return z.coerce
    .number({ error: message })
    .int({ error: message })
    .min(min, { error: message })
    .max(max, { error: message });
};
const quantity = (example: string) =>
  z.coerce.string().refine((v) => (parseQuantity(v) ?? 0) > 0, {
    message: `must be a positive Kubernetes quantity, e.g. ${example}`,
  });

export const operatorConfig = z.object({
  namespaces: z
    .union([z.array(z.string()), z.string()])
    .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean))
    .default([])
    .describe('namespaces to watch; all when empty'),
  // From the scale benchmark (docs/performance.md): 16 finished 500 plans soonest, with the lowest p99.
  concurrency: int(1, 1000).default(16),
  provider: z.enum(['gemini', 'openai', 'scripted']).default('gemini'),
  model: z.string().min(1).optional(),
  script: z.string().min(1).optional(),
  apiKeySecret: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[-._a-zA-Z0-9]+)?$/, {
      message: 'must be a Secret name, optionally with a key: "gemini" or "gemini:api-key"',
    })
    .optional(),
  baseUrl: z.string().url().optional(),
  kanikoImage: z.string().min(1).default(DEFAULT_KANIKO_IMAGE),
  registry: z.string().min(1).optional(),
  insecureRegistry: bool.default(false),
  pushSecret: z.string().min(1).optional(),
  runServiceAccount: z.string().min(1).default('default'),
  fluxValidatorImage: z.string().min(1).optional(),
  defaultMaxAttempts: int(1, 100).default(10),
  defaultMaxRuntime: int(1, 7 * 24 * 3600).default(600),
  logBudget: int(MIN_LOG_BUDGET_TOKENS, 100_000).default(DEFAULT_LOG_BUDGET_TOKENS),
  maxCpuRequest: quantity('"64" or "500m"')
    .default(DEFAULT_MAX_CPU_REQUEST)
    .describe("the most CPU a generated run's pod may request or be limited to"),
  maxMemoryRequest: quantity('"256Gi"')
    .default(DEFAULT_MAX_MEMORY_REQUEST)
    .describe("the most memory a generated run's pod may request or be limited to"),
  runAsNonRoot: bool
    .default(false)
    .describe('refuse generated runs that ask for root, and make their pods run as non-root'),
  metricsPort: port.default(8080),
  healthPort: port.default(8081),
  leaderElect: bool.default(true),
  leaseNamespace: z.string().min(1).default('default'),
  leaseName: z.string().min(1).default('fractale-operator'),
  leaseDuration: int(2, 3600)
    .default(15)
    .describe('seconds a leader lease lasts without renewal before another replica may take it'),
  renewDeadline: int(1, 3600)
    .default(10)
    .describe('seconds the leader keeps trying to renew before it gives leadership up'),
  retryPeriod: int(1, 600).default(2).describe('seconds between lease renewals and acquisition tries'),
  modelTimeout: int(1, 3600).default(300).describe('seconds one model request may take'),
  modelConcurrency: count(
    1,
    1000,
    `(model calls of one provider in flight at once), e.g. ${DEFAULT_MODEL_CONCURRENCY}`,
  )
    .default(DEFAULT_MODEL_CONCURRENCY)
    .describe('the most model calls of one provider in flight at once; the others wait in turn'),
  modelTokensPerMinute: count(
    0,
    1_000_000_000,
    "(tokens a minute, at most the provider's quota; 0: no budget), e.g. 1000000",
  )
    .default(0)
    .describe('the most tokens the model calls of one provider started in any minute may use; 0: no budget'),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  resyncSeconds: int(0, 86400).default(300),
});
export type OperatorConfig = z.infer<typeof operatorConfig>;

/** Environment variables for each setting; the chart sets these. */
export const ENV: Record<keyof OperatorConfig, string> = {
  namespaces: 'FRACTALE_NAMESPACES',
  concurrency: 'FRACTALE_CONCURRENCY',
  provider: 'FRACTALE_PROVIDER',
  model: 'FRACTALE_MODEL',
  script: 'FRACTALE_SCRIPT',
  apiKeySecret: 'FRACTALE_API_KEY_SECRET',
  baseUrl: 'FRACTALE_MODEL_BASE_URL',
  kanikoImage: 'FRACTALE_KANIKO_IMAGE',
  registry: 'FRACTALE_REGISTRY',
  insecureRegistry: 'FRACTALE_INSECURE_REGISTRY',
  pushSecret: 'FRACTALE_PUSH_SECRET',
  runServiceAccount: 'FRACTALE_RUN_SERVICE_ACCOUNT',
  fluxValidatorImage: 'FRACTALE_FLUX_VALIDATOR_IMAGE',
  defaultMaxAttempts: 'FRACTALE_DEFAULT_MAX_ATTEMPTS',
  defaultMaxRuntime: 'FRACTALE_DEFAULT_MAX_RUNTIME',
  logBudget: 'FRACTALE_LOG_BUDGET',
  maxCpuRequest: 'FRACTALE_MAX_CPU_REQUEST',
  maxMemoryRequest: 'FRACTALE_MAX_MEMORY_REQUEST',
  runAsNonRoot: 'FRACTALE_RUN_AS_NON_ROOT',
  metricsPort: 'FRACTALE_METRICS_PORT',
  healthPort: 'FRACTALE_HEALTH_PORT',
  leaderElect: 'FRACTALE_LEADER_ELECT',
  leaseNamespace: 'FRACTALE_LEASE_NAMESPACE',
  leaseName: 'FRACTALE_LEASE_NAME',
  leaseDuration: 'FRACTALE_LEASE_DURATION',
  renewDeadline: 'FRACTALE_RENEW_DEADLINE',
  retryPeriod: 'FRACTALE_RETRY_PERIOD',
  modelTimeout: 'FRACTALE_MODEL_TIMEOUT',
  modelConcurrency: 'FRACTALE_MODEL_CONCURRENCY',
  modelTokensPerMinute: 'FRACTALE_MODEL_TOKENS_PER_MINUTE',
  logLevel: 'FRACTALE_LOG_LEVEL',
  resyncSeconds: 'FRACTALE_RESYNC_SECONDS',
};

/** The flag for a setting: camelCase → --kebab-case. */
export const flagOf = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Builds the configuration from flags (already parsed, camelCase keys) over the environment.
 * Errors name both the flag and the variable.
 */
export function loadConfig(
  flags: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = process.env,
): OperatorConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, variable] of Object.entries(ENV)) {
    const value = flags[key] ?? env[variable];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  if (raw['leaseNamespace'] === undefined && env['POD_NAMESPACE'])
    raw['leaseNamespace'] = env['POD_NAMESPACE'];
  const result = operatorConfig.safeParse(raw);
  if (!result.success) {
    const lines = formatIssues(result.error.issues).map((line) => {
      const key = line.split(':')[0]!;
      const variable = ENV[key as keyof OperatorConfig];
      return variable ? `${flagOf(key)} (${variable}): ${line.slice(key.length + 2)}` : line;
    });
    throw new ConfigError(`invalid configuration:\n${lines.map((l) => `  * ${l}`).join('\n')}`);
  }
  const config = result.data;
  // client-go's rule: a leader must be able to renew (several tries) before its lease runs out.
  if (!(config.leaseDuration > config.renewDeadline && config.renewDeadline > config.retryPeriod)) {
    throw new ConfigError(
      `invalid configuration:\n  * ${flagOf('leaseDuration')} (${config.leaseDuration}) must be longer than ${flagOf('renewDeadline')} (${config.renewDeadline}), which must be longer than ${flagOf('retryPeriod')} (${config.retryPeriod})`,
    );
  }
  if (config.provider === 'scripted' && !config.script) {
    throw new ConfigError(
      `invalid configuration:\n  * ${flagOf('script')} (${ENV.script}): the scripted provider needs a script file`,
    );
  }
  return config;
}
