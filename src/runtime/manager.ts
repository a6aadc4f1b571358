// The manager runs the operator's parts together: shared informers, the controllers, leader election,
// the health and metrics endpoints, and a graceful shutdown. Only the leader reconciles; the others
// keep their caches warm so a failover starts at once.
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../kube/client.ts';
import type { Resource } from '../kube/resources.ts';
import type { Controller } from './controller.ts';
import { EventRecorder } from './events.ts';
import { type Endpoints, serveEndpoints } from './health.ts';
import { Informer, InformerGroup } from './informer.ts';
import { LeaderElector } from './leader.ts';
import type { Logger } from './logger.ts';
import { Metrics } from './metrics.ts';

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** Namespaces to watch; all when empty. */
  namespaces: string[];
  leaderElection?: {
    namespace: string;
    name: string;
    identity?: string;
    leaseDurationMs?: number;
    renewDeadlineMs?: number;
    retryPeriodMs?: number;
  };
  healthPort?: number;
  metricsPort?: number;
  metrics?: Metrics;
  /** Backoff of informers after watch errors. */
  informerBackoffMs?: { base: number; max: number };
  /** Called when leadership is lost, after reconciling stopped (the CLI exits; in a pod, /healthz fails). */
  onLostLeadership?: () => void;
}

export class Manager {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly events: EventRecorder;
  readonly identity: string;
  private readonly options: ManagerOptions;
  private readonly groups = new Map<string, InformerGroup>();
  private readonly controllers: Controller[] = [];
  private elector: LeaderElector | undefined;
  private endpoints: Endpoints | undefined;
  private running = false;
  private started = false;
  private stopping = false;
  private lostLeadership = false;

  constructor(options: ManagerOptions) {
    this.options = options;
    this.kubeConfig = options.kubeConfig;
    this.logger = options.logger;
    this.metrics = options.metrics ?? new Metrics();
    this.identity = options.leaderElection?.identity ?? `${hostname()}-${process.pid}`;
    this.events = new EventRecorder(options.kubeConfig, {
      component: 'fractale-operator',
      host: this.identity,
      logger: options.logger,
    });
  }

  /** A shared cache of a resource over the watched namespaces (one per resource and selector). */
  informer<T extends KubeObject = KubeObject>(resource: Resource, labelSelector?: string): InformerGroup<T> {
    const id = `${resource.group}/${resource.plural}?${labelSelector ?? ''}`;
    let group = this.groups.get(id);
    if (!group) {
      const namespaces =
        resource.namespaced && this.options.namespaces.length > 0 ? this.options.namespaces : [undefined];
      group = new InformerGroup(
        namespaces.map(
          (namespace) =>
            new Informer(this.kubeConfig, {
              resource,
              ...(namespace ? { namespace } : {}),
              ...(labelSelector ? { labelSelector } : {}),
              ...(this.options.informerBackoffMs ? { backoffMs: this.options.informerBackoffMs } : {}),
              onError: (error, retryInMs) =>
                this.logger.warn(
                  { err: error, resource: resource.plural, namespace, retryInMs },
                  'Watch failed; retrying',
                ),
            }),
        ),
      );
      this.groups.set(id, group);
      if (this.started) void group.start();
    }
    return group as unknown as InformerGroup<T>;
  }

  add(controller: Controller): void {
    this.controllers.push(controller);
    if (this.running) void controller.start();
  }

  get isLeader(): boolean {
    return this.elector ? this.elector.isLeader : this.running;
  }

  get ready(): boolean {
    return this.started && [...this.groups.values()].every((g) => g.hasSynced);
  }

  /** Starts informers and endpoints, then the controllers once this replica leads. */
  async start(): Promise<void> {
    // Endpoints first: a port in use stops start-up before anything watches or writes.
    if (this.options.healthPort !== undefined || this.options.metricsPort !== undefined) {
      this.endpoints = await serveEndpoints({
        healthPort: this.options.healthPort ?? 0,
        metricsPort: this.options.metricsPort ?? 0,
        metrics: this.metrics,
        probes: {
          healthy: () => !this.stopping && !this.lostLeadership,
          ready: () => this.ready && !this.stopping && !this.lostLeadership,
        },
      });
    }
    this.started = true;
    await Promise.all([...this.groups.values()].map((g) => g.start()));
    const election = this.options.leaderElection;
    if (!election) {
      await this.startControllers();
      return;
    }
    this.elector = new LeaderElector(this.kubeConfig, {
      ...election,
      identity: this.identity,
      logger: this.logger,
      onStartedLeading: () => {
        this.metrics.isLeader.set(1);
        void this.startControllers();
      },
      onStoppedLeading: () => {
        this.metrics.isLeader.set(0);
        if (this.stopping) return;
        // As controller-runtime does: a replica that lost its lease may hold stale state, so it stops
        // reconciling for good and reports itself unhealthy; Kubernetes restarts it as a fresh standby.
        this.lostLeadership = true;
        this.logger.error('Lost the leader lease; reconciling stopped, restart this replica');
        void this.stopControllers();
        void this.elector?.stop();
        this.options.onLostLeadership?.();
      },
    });
    this.elector.start();
  }

  get endpointPorts(): { health: number; metrics: number } | undefined {
    return this.endpoints
      ? { health: this.endpoints.healthPort, metrics: this.endpoints.metricsPort }
      : undefined;
  }

  /** Graceful stop: no new work, running reconciles finish (bounded), the lease is released. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const finished = await this.stopControllers(timeoutMs);
    if (!finished)
      this.logger.warn('Abandoned reconciles still running at shutdown; they resume on the next leader');
    await this.elector?.stop();
    for (const group of this.groups.values()) group.stop();
    await this.endpoints?.close();
    this.logger.info('Stopped');
  }

  private async startControllers(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await Promise.all(this.controllers.map((c) => c.start()));
    this.logger.info({ controllers: this.controllers.map((c) => c.name) }, 'Started controllers');
  }

  private async stopControllers(timeoutMs?: number): Promise<boolean> {
    if (!this.running) return true;
    this.running = false;
    const results = await Promise.all(this.controllers.map((c) => c.stop(timeoutMs)));
    return results.every(Boolean);
  }
}
