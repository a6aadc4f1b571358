// Leader election with a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: the
// leader renews the Lease every retry period; others take it over once it has not been renewed for
// its duration, judged by when *they* last saw it change (so clocks need not agree); a leader that
// cannot renew before its deadline stops leading; a graceful stop releases the Lease at once.
import type { KubeConfig } from '@kubernetes/client-node';
import { isAlreadyExists, isConflict, isNotFound, KubeClient, type KubeObject } from '../kube/client.ts';
import { RESOURCES } from '../kube/resources.ts';
import type { Logger } from './logger.ts';

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}
type Lease = KubeObject & { spec?: LeaseSpec };

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  logger: Logger;
  now?: () => number;
}

/** A Kubernetes MicroTime: RFC 3339 with microseconds. */
export const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  private readonly client: KubeClient;
  private readonly options: Required<Omit<LeaderElectionOptions, 'now'>> & { now: () => number };
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private lastRenew = 0;
  /** The acquire or renew request under way, which stop() lets finish before it releases. */
  private inflight: Promise<boolean> | undefined;
  /** The last Lease record seen and when it was seen, to judge expiry by our own clock. */
  private observed: { record: string; at: number } | undefined;

  constructor(config: KubeConfig, options: LeaderElectionOptions) {
    this.client = new KubeClient(config);
    this.options = {
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      now: Date.now,
      ...options,
    };
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  /** Stops competing; a leader releases the Lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    // A renewal in flight would otherwise land after the release (or make it conflict) and hold
    // the Lease for a whole duration more.
    await this.inflight?.catch(() => false);
    if (!this.leading) return;
    this.setLeading(false);
    for (let attempt = 1; ; attempt++) {
      try {
        const lease = await this.client.get<Lease>(
          RESOURCES.leases,
          this.options.namespace,
          this.options.name,
        );
        if (lease.spec?.holderIdentity !== this.options.identity) return;
        const now = this.options.now();
        lease.spec = {
          ...lease.spec,
          holderIdentity: null,
          leaseDurationSeconds: 1,
          renewTime: microTime(now),
        };
        await this.client.replace(RESOURCES.leases, lease);
        this.options.logger.info({ lease: this.options.name }, 'Released the leader lease');
        return;
      } catch (error) {
        if (isConflict(error) && attempt < 3) continue;
        this.options.logger.warn({ err: error }, 'Could not release the leader lease');
        return;
      }
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const { retryPeriodMs, renewDeadlineMs } = this.options;
    let ok = false;
    try {
      this.inflight = this.tryAcquireOrRenew();
      ok = await this.inflight;
    } catch (error) {
      this.options.logger.warn({ err: error }, 'Leader election request failed');
    }
    if (this.stopped) return;
    const now = this.options.now();
    if (ok) {
      this.lastRenew = now;
      if (!this.leading) this.setLeading(true);
    } else if (this.leading && now - this.lastRenew > renewDeadlineMs) {
      this.options.logger.error('Lost the leader lease: could not renew it in time');
      this.setLeading(false);
    }
    this.timer = setTimeout(() => void this.tick(), retryPeriodMs);
    this.timer.unref();
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    if (leading) {
      this.options.logger.info(
        { lease: this.options.name, identity: this.options.identity },
        'Became the leader',
      );
      this.options.onStartedLeading();
    } else this.options.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationMs } = this.options;
    const now = this.options.now();
    const ours: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.max(1, Math.round(leaseDurationMs / 1000)),
      renewTime: microTime(now),
    };
    const lease = await this.client.find<Lease>(RESOURCES.leases, namespace, name);
    if (!lease) {
      try {
        await this.client.create<Lease>(RESOURCES.leases, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: { ...ours, acquireTime: microTime(now), leaseTransitions: 0 },
        });
        return true;
      } catch (error) {
        if (isAlreadyExists(error)) return false;
        throw error;
      }
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify(spec);
    if (this.observed?.record !== record) this.observed = { record, at: now };
    const holder = spec.holderIdentity;
    const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
    if (holder && holder !== identity && now < this.observed.at + durationMs) return false;
    const changedHands = holder !== identity;
    lease.spec = {
      ...spec,
      ...ours,
      acquireTime: changedHands ? microTime(now) : (spec.acquireTime ?? microTime(now)),
      leaseTransitions: (spec.leaseTransitions ?? 0) + (changedHands && holder ? 1 : 0),
    };
    try {
      const updated = await this.client.replace<Lease>(RESOURCES.leases, lease);
      this.observed = { record: JSON.stringify(updated.spec ?? {}), at: now };
      return true;
    } catch (error) {
      if (isConflict(error) || isNotFound(error)) return false;
      throw error;
    }
  }
}
