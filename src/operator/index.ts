// The operator: the runtime's manager with the AgentStep and AgentPlan controllers, the agents, the
// models and the cache, configured from flags and environment. `fractale operator` runs it against
// the current kubeconfig; the container image runs the same entry point in the cluster.
import type { KubeConfig } from '@kubernetes/client-node';
import { buildDriver } from '../agents/build/driver.ts';
import { costDriver } from '../agents/cost/driver.ts';
import { fluxBatchDriver } from '../agents/flux-batch/driver.ts';
import { kubernetesJobDriver } from '../agents/kubernetes-job/driver.ts';
import { miniclusterDriver } from '../agents/minicluster/driver.ts';
import { optimizeDriver } from '../agents/optimize/driver.ts';
import type { AgentName } from '../api/names.ts';
import { ContextCache } from '../cache/cache.ts';
import { experimentController } from '../experiment/controller.ts';
import { KubeClient } from '../kube/client.ts';
import { ConversationStore } from '../llm/history.ts';
import type { LanguageModel } from '../llm/types.ts';
import { planController } from '../plan/controller.ts';
import type { OperatorConfig } from '../runtime/config.ts';
import type { Logger } from '../runtime/logger.ts';
import { Manager } from '../runtime/manager.ts';
import { Metrics } from '../runtime/metrics.ts';
import { stepController } from '../step/controller.ts';
import type { AgentDriver } from '../step/driver.ts';
import { ClusterFactsReader } from './cluster.ts';
import { ModelResolver } from './models.ts';

export const DRIVERS: Record<AgentName, AgentDriver> = {
  build: buildDriver,
  'kubernetes-job': kubernetesJobDriver,
  minicluster: miniclusterDriver,
  cost: costDriver,
  'flux-batch': fluxBatchDriver,
  optimize: optimizeDriver,
};

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  config: OperatorConfig;
  logger: Logger;
  /** One model for every call (tests and the demo); otherwise resolved per step from config and spec.model. */
  model?: LanguageModel;
  /** Serve /healthz, /readyz and /metrics (the configured ports; 0 picks free ones). */
  serveEndpoints?: boolean;
  /** Leader-election timings, for tests. */
  leaseTimings?: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  identity?: string;
  /** Called when this replica loses the leader lease (it has stopped reconciling for good). */
  onLostLeadership?: () => void;
  now?: () => Date;
}

export function createOperator(options: OperatorOptions): Manager {
  const { config, kubeConfig, logger } = options;
  const client = new KubeClient(kubeConfig);
  const manager = new Manager({
    kubeConfig,
    logger,
    namespaces: config.namespaces,
    ...(config.leaderElect
      ? {
          leaderElection: {
            namespace: config.leaseNamespace,
            name: config.leaseName,
            ...(options.identity ? { identity: options.identity } : {}),
            ...(options.leaseTimings ?? {
              leaseDurationMs: config.leaseDuration * 1000,
              renewDeadlineMs: config.renewDeadline * 1000,
              retryPeriodMs: config.retryPeriod * 1000,
            }),
          },
        }
      : {}),
    ...(options.serveEndpoints
      ? {
          healthPort: config.healthPort,
          metricsPort: config.metricsPort,
          metrics: new Metrics({ process: true }),
        }
      : {}),
    ...(options.onLostLeadership ? { onLostLeadership: options.onLostLeadership } : {}),
  });
  const models = new ModelResolver({
    config,
    client,
    observer: manager.metrics,
    ...(options.model ? { fixed: options.model } : {}),
  });
  const facts = new ClusterFactsReader(client);
  const resyncMs = config.resyncSeconds * 1000;
  stepController(manager, {
    client,
    model: (step) => models.forSpec(step.metadata.namespace!, step.spec.model),
    drivers: DRIVERS,
    settings: {
      ...(config.registry ? { registry: config.registry } : {}),
      insecureRegistry: config.insecureRegistry,
      ...(config.pushSecret ? { pushSecret: config.pushSecret } : {}),
      kanikoImage: config.kanikoImage,
      runServiceAccount: config.runServiceAccount,
      defaultMaxRuntime: config.defaultMaxRuntime,
      defaultMaxAttempts: config.defaultMaxAttempts,
      ...(config.fluxValidatorImage ? { fluxValidatorImage: config.fluxValidatorImage } : {}),
      logBudgetTokens: config.logBudget,
      maxCpuRequest: config.maxCpuRequest,
      maxMemoryRequest: config.maxMemoryRequest,
      runAsNonRoot: config.runAsNonRoot,
    },
    cache: new ContextCache(client),
    conversations: new ConversationStore(kubeConfig),
    clusterFacts: (agent) => facts.facts(agent),
    miniClusterInstalled: () => facts.miniClusterInstalled(),
    concurrency: config.concurrency,
    ...(resyncMs ? { resyncMs } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  planController(manager, {
    client,
    model: (plan) => models.forSpec(plan.metadata.namespace!, plan.spec.model),
    concurrency: config.concurrency,
    ...(resyncMs ? { resyncMs } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  experimentController(manager, {
    client,
    concurrency: config.concurrency,
    ...(resyncMs ? { resyncMs } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  return manager;
}
