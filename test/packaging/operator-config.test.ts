// The environment the chart gives the operator must be one the operator accepts, with the same
// defaults as the operator's own: read through the operator's real configuration loader.
import { describe, expect, it } from 'vitest';
import { ENV, loadConfig, type OperatorConfig } from '../../src/runtime/config.ts';
import { gkeValues, kindValues, operatorEnv, render } from './manifests.ts';

const NS = 'fractale-system';

/** The container's environment as the kubelet would resolve it (downward API fields filled in). */
function resolvedEnv(env: Record<string, string>): Record<string, string> {
  const fields: Record<string, string> = {
    'metadata.namespace': NS,
    'metadata.name': 'fractale-5d8f9c7b4-x2x9z',
  };
  return Object.fromEntries(
    Object.entries(env).map(([name, value]) => [
      name,
      value.startsWith('from:') ? (fields[value.slice(5)] ?? value) : value,
    ]),
  );
}

// Read by the model providers rather than by the operator's configuration.
const PROVIDER_VARIABLES = ['GEMINI_BASE_URL', 'OPENAI_BASE_URL', 'GEMINI_API_KEY', 'OPENAI_API_KEY'];
const DOWNWARD_API = ['POD_NAME', 'POD_NAMESPACE'];

describe('the operator reads the environment the chart sets', () => {
  it.each([
    ['default values', {}],
    ['values-kind.yaml', { values: [kindValues] }],
    ['values-gke.yaml', { values: [gkeValues] }],
    [
      'every optional value set',
      {
        set: [
          'watchNamespaces={a,b}',
          'model.provider=openai',
          'model.baseUrl=http://llm.example/v1',
          'build.registry=registry.example/team',
          'build.pushSecret=push',
        ],
      },
    ],
    ['the scripted model', { set: ['model.provider=scripted', 'model.script=/script/answers.yaml'] }],
  ])('with %s', (_name, options) => {
    const env = resolvedEnv(operatorEnv(render(options)));
    const known = new Set<string>([...Object.values(ENV), ...PROVIDER_VARIABLES, ...DOWNWARD_API]);
    expect(Object.keys(env).filter((name) => !known.has(name))).toEqual([]);
    const config = loadConfig({}, env);
    expect(config.leaseNamespace).toBe(NS);
    expect(config.leaseName).toBe('fractale-operator');
  });

  it('passes each value to the setting of the same meaning', () => {
    const env = resolvedEnv(
      operatorEnv(
        render({
          values: [kindValues],
          set: [
            'watchNamespaces={team-a,team-b}',
            'concurrency=3',
            'run.serviceAccount=runner',
            'run.maxCpuRequest=16',
            'run.maxMemoryRequest=64Gi',
            'run.runAsNonRoot=true',
            'model.concurrency=2',
            'model.tokensPerMinute=90000',
          ],
        }),
      ),
    );
    expect(loadConfig({}, env)).toMatchObject({
      namespaces: ['team-a', 'team-b'],
      concurrency: 3,
      registry: 'kind-registry:5000',
      insecureRegistry: true,
      runServiceAccount: 'runner',
      maxCpuRequest: '16',
      maxMemoryRequest: '64Gi',
      runAsNonRoot: true,
      modelConcurrency: 2,
      modelTokensPerMinute: 90_000,
      apiKeySecret: 'fractale-api-key:api-key',
      leaderElect: true,
    } satisfies Partial<OperatorConfig>);
  });

  it("keeps the operator's own defaults when the chart's values are left alone", () => {
    const fromChart = loadConfig({}, resolvedEnv(operatorEnv(render())));
    const builtIn = loadConfig({}, {});
    const same: (keyof OperatorConfig)[] = [
      'namespaces',
      'concurrency',
      'provider',
      'modelConcurrency',
      'modelTokensPerMinute',
      'kanikoImage',
      'insecureRegistry',
      'runServiceAccount',
      'defaultMaxAttempts',
      'defaultMaxRuntime',
      'logBudget',
      'maxCpuRequest',
      'maxMemoryRequest',
      'runAsNonRoot',
      'metricsPort',
      'healthPort',
      'leaderElect',
      'leaseName',
      'logLevel',
    ];
    for (const key of same) expect(fromChart[key], key).toEqual(builtIn[key]);
  });
});
