import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_CONCURRENCY } from '../llm/limiter.ts';
import { ConfigError, DEFAULT_KANIKO_IMAGE, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('has sane defaults', () => {
    const config = loadConfig({}, {});
    expect(config).toMatchObject({
      namespaces: [],
      concurrency: 16,
      provider: 'gemini',
      kanikoImage: DEFAULT_KANIKO_IMAGE,
      defaultMaxAttempts: 10,
      defaultMaxRuntime: 600,
      logBudget: 4000,
      metricsPort: 8080,
      healthPort: 8081,
      leaderElect: true,
      runServiceAccount: 'default',
      maxCpuRequest: '64',
      maxMemoryRequest: '256Gi',
      runAsNonRoot: false,
      modelConcurrency: DEFAULT_MODEL_CONCURRENCY,
      modelTokensPerMinute: 0,
    });
  });

  it('reads the model limits from flags and the environment', () => {
    expect(
      loadConfig({}, { FRACTALE_MODEL_CONCURRENCY: '3', FRACTALE_MODEL_TOKENS_PER_MINUTE: '250000' }),
    ).toMatchObject({ modelConcurrency: 3, modelTokensPerMinute: 250_000 });
    expect(
      loadConfig({ modelConcurrency: '1', modelTokensPerMinute: '0' }, { FRACTALE_MODEL_CONCURRENCY: '3' }),
    ).toMatchObject({ modelConcurrency: 1, modelTokensPerMinute: 0 });
  });

  it('reads the resource caps as Kubernetes quantities', () => {
    const config = loadConfig({ maxCpuRequest: 8 }, { FRACTALE_MAX_MEMORY_REQUEST: '1.5Ti' });
    expect([config.maxCpuRequest, config.maxMemoryRequest]).toEqual(['8', '1.5Ti']);
  });

  it('reads the environment, and flags win over it', () => {
    const env = {
      FRACTALE_NAMESPACES: 'a, b',
      FRACTALE_CONCURRENCY: '8',
      FRACTALE_INSECURE_REGISTRY: 'true',
      POD_NAMESPACE: 'ops',
    };
    const config = loadConfig({ concurrency: '2' }, env);
    expect(config.namespaces).toEqual(['a', 'b']);
    expect(config.concurrency).toBe(2);
    expect(config.insecureRegistry).toBe(true);
    expect(config.leaseNamespace).toBe('ops');
  });

  it.each([
    [{ FRACTALE_CONCURRENCY: 'lots' }, /--concurrency \(FRACTALE_CONCURRENCY\)/],
    [{ FRACTALE_PROVIDER: 'claude' }, /--provider \(FRACTALE_PROVIDER\)/],
    [{ FRACTALE_METRICS_PORT: '70000' }, /--metrics-port \(FRACTALE_METRICS_PORT\)/],
    [
      { FRACTALE_API_KEY_SECRET: 'Bad Name' },
      /--api-key-secret \(FRACTALE_API_KEY_SECRET\): must be a Secret name/,
    ],
    [
      { FRACTALE_PROVIDER: 'scripted' },
      /--script \(FRACTALE_SCRIPT\): the scripted provider needs a script file/,
    ],
    [{ FRACTALE_LEADER_ELECT: 'maybe' }, /--leader-elect \(FRACTALE_LEADER_ELECT\)/],
    [{ FRACTALE_LOG_BUDGET: '50' }, /--log-budget \(FRACTALE_LOG_BUDGET\): .*200/],
    [
      { FRACTALE_MAX_CPU_REQUEST: 'lots' },
      /--max-cpu-request \(FRACTALE_MAX_CPU_REQUEST\): must be a positive Kubernetes quantity/,
    ],
    [{ FRACTALE_MAX_MEMORY_REQUEST: '0' }, /--max-memory-request \(FRACTALE_MAX_MEMORY_REQUEST\)/],
    [{ FRACTALE_RUN_AS_NON_ROOT: 'sometimes' }, /--run-as-non-root \(FRACTALE_RUN_AS_NON_ROOT\)/],
    ...['0', '1001', '2.5', 'lots'].map((value): [Record<string, string>, RegExp] => [
      { FRACTALE_MODEL_CONCURRENCY: value },
      new RegExp(
        `--model-concurrency \\(FRACTALE_MODEL_CONCURRENCY\\): must be a whole number from 1 to 1000 .*e\\.g\\. ${DEFAULT_MODEL_CONCURRENCY}`,
      ),
    ]),
    ...['-1', '1.5', 'unlimited'].map((value): [Record<string, string>, RegExp] => [
      { FRACTALE_MODEL_TOKENS_PER_MINUTE: value },
      /--model-tokens-per-minute \(FRACTALE_MODEL_TOKENS_PER_MINUTE\): must be a whole number from 0 .*0: no budget/,
    ]),
  ])('refuses %o naming the flag and the variable', (env, message) => {
    expect(() => loadConfig({}, env)).toThrow(ConfigError);
    expect(() => loadConfig({}, env)).toThrow(message);
  });
});
