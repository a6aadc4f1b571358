// The operator, in-process, against the simulated cluster, with a scripted model: how the agents'
// suites run end to end without a cluster or a model.
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, type KubeObject } from '../../src/kube/client.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { ScriptedModel } from '../../src/llm/scripted.ts';
import type { LanguageModel } from '../../src/llm/types.ts';
import { createOperator } from '../../src/operator/index.ts';
import { loadConfig } from '../../src/runtime/config.ts';
import { createLogger, silentLogger } from '../../src/runtime/logger.ts';
import type { Manager } from '../../src/runtime/manager.ts';
import type { SimOptions } from '../../src/sim/index.ts';
import { startTestCluster, type TestCluster } from './cluster.ts';
import { eventually } from './kubeconfig.ts';

export const TEST_REGISTRY = 'registry.fractale.test:5000';

export interface TestOperator {
  /** The simulated cluster (sim lane) or the real control plane with the simulated world (real lane). */
  sim: TestCluster;
  kubeConfig: KubeConfig;
  client: KubeClient;
  manager: Manager;
  model: LanguageModel;
  /** Stops the operator (as a crash would: no lease to release) and starts a fresh one. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestOperatorOptions {
  script?: string;
  model?: LanguageModel;
  /** Use the model the configuration names (provider, key Secret, base URL) instead of a fixed one. */
  configuredModel?: boolean;
  sim?: SimOptions;
  config?: Record<string, unknown>;
  /** Runs against the simulated cluster before the operator starts. */
  prepare?: (sim: TestCluster) => void | Promise<void>;
  /** The operator reaches the API server at this URL instead (a proxy in front of the sim's; sim lane). */
  serverUrl?: (simUrl: string) => string | Promise<string>;
}

export async function startTestOperator(options: TestOperatorOptions): Promise<TestOperator> {
  const sim = await startTestCluster({ speed: 0.005, ...options.sim });
  await options.prepare?.(sim);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(sim.kubeconfigPath);
  if (options.serverUrl) {
    const server = await options.serverUrl(kubeConfig.getCurrentCluster()!.server);
    kubeConfig.clusters = kubeConfig.clusters.map((c) => ({ ...c, server }));
  }
  const model = options.model ?? ScriptedModel.fromYaml(options.script ?? 'responses: []\n');
  const config = loadConfig(
    { registry: TEST_REGISTRY, leaderElect: false, resyncSeconds: 0, ...options.config },
    {},
  );
  const make = () =>
    createOperator({
      kubeConfig,
      config,
      // FRACTALE_TEST_LOG=<level> shows the operator's log while debugging a suite.
      logger: process.env['FRACTALE_TEST_LOG']
        ? createLogger({ level: process.env['FRACTALE_TEST_LOG'], pretty: false })
        : silentLogger(),
      ...(options.configuredModel ? {} : { model }),
    });
  let manager = make();
  await manager.start();
  const operator: TestOperator = {
    sim,
    kubeConfig,
    client: new KubeClient(kubeConfig),
    manager,
    model,
    async restart() {
      await manager.stop(1000);
      manager = make();
      operator.manager = manager;
      await manager.start();
    },
    async stop() {
      await manager.stop(1000);
      await sim.stop();
    },
  };
  return operator;
}

type Phased = KubeObject & { status?: { phase?: string } };

/** Waits for an AgentStep, AgentPlan or AgentExperiment to reach one of the phases; returns it. */
export async function waitForPhase<T extends Phased>(
  client: KubeClient,
  kind: 'AgentStep' | 'AgentPlan' | 'AgentExperiment',
  namespace: string,
  name: string,
  phases: readonly string[],
  timeoutMs = 20_000,
): Promise<T> {
  const resource = {
    AgentStep: RESOURCES.agentSteps,
    AgentPlan: RESOURCES.agentPlans,
    AgentExperiment: RESOURCES.agentExperiments,
  }[kind];
  let last: T | undefined;
  try {
    return await eventually(
      async () => {
        last = await client.find<T>(resource, namespace, name);
        return (last && phases.includes(last.status?.phase ?? '') ? last : undefined) as T;
      },
      timeoutMs,
      25,
    );
  } catch {
    throw new Error(
      `${kind} ${name} did not reach ${phases.join('/')}; last status: ${JSON.stringify(last?.status, null, 1)}`,
    );
  }
}

export function agentStep(
  name: string,
  agent: string,
  context: Record<string, unknown>,
  spec: Record<string, unknown> = {},
) {
  return {
    apiVersion: 'fractale.dev/v1alpha1',
    kind: 'AgentStep',
    metadata: { name, namespace: 'default' },
    spec: { agent, context, ...spec },
  };
}
