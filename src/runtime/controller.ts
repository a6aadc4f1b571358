// A controller: a primary informer, informers of the objects it owns, a work queue of primary keys,
// and a reconcile function. Events on owned objects enqueue their owner; a periodic resync enqueues
// every primary key, so a missed event is repaired within one period.
import type { KubeObject } from '../kube/client.ts';
import { type Cache, objectKey } from './informer.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { type Reconcile, WorkQueue } from './queue.ts';

export interface OwnedInformer {
  informer: Cache;
  /** The owner's key for an owned object, or undefined when it has none of ours. */
  ownerKey: (object: KubeObject) => string | undefined;
}

export interface ControllerOptions {
  name: string;
  primary: Cache;
  owned?: OwnedInformer[];
  reconcile: Reconcile;
  concurrency: number;
  resyncMs?: number;
  backoffMs?: { base: number; max: number };
  logger: Logger;
  metrics?: Metrics;
}

/** The owner key from a controller owner reference of the given kind. */
export function ownerKeyByReference(kind: string) {
  return (object: KubeObject): string | undefined => {
    const ref = object.metadata.ownerReferences?.find((r) => r.kind === kind && r.controller !== false);
    return ref ? `${object.metadata.namespace}/${ref.name}` : undefined;
  };
}

/** The owner key from a label naming the owner (pods of a Job carry the Job template's labels). */
export function ownerKeyByLabel(label: string) {
  return (object: KubeObject): string | undefined => {
    const name = object.metadata.labels?.[label];
    return name ? `${object.metadata.namespace}/${name}` : undefined;
  };
}

/** The longest wait before a failed reconcile is tried again. */
export const MAX_RECONCILE_BACKOFF_MS = 30_000;

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly options: ControllerOptions;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(options: ControllerOptions) {
    this.options = options;
    this.name = options.name;
    const { metrics, logger, name } = options;
    this.queue = new WorkQueue(options.reconcile, {
      concurrency: options.concurrency,
      baseBackoffMs: options.backoffMs?.base ?? 100,
      // 30 s, not client-go's 1000 s: under a flaky API server a key failing a few times in a row would
      // otherwise sit idle for minutes; a slow retry costs one request, a stalled plan costs a person.
      maxBackoffMs: options.backoffMs?.max ?? MAX_RECONCILE_BACKOFF_MS,
      onError: (key, error, retryInMs) => {
        metrics?.reconcileErrors.inc({ controller: name });
        logger.warn({ controller: name, key, retryInMs, err: error }, 'Reconcile failed; will retry');
      },
      onReconciled: (_key, seconds) => {
        metrics?.reconcileDuration.observe({ controller: name }, seconds);
        this.updateGauges();
      },
    });
    options.primary.on((event, object) => {
      // A deleted primary still gets one reconcile, so anything it held (in-flight work) is released.
      this.enqueue(objectKey(object), event);
    });
    for (const owned of options.owned ?? []) {
      owned.informer.on((_event, object) => {
        const key = owned.ownerKey(object);
        if (key) this.enqueue(key, 'owned');
      });
    }
  }

  enqueue(key: string, _why?: string): void {
    this.queue.add(key);
    this.updateGauges();
  }

  /** Starts processing after the informers have synced, so reconcilers read a complete cache. */
  async start(): Promise<void> {
    await Promise.all([
      this.options.primary.waitForSync(),
      ...(this.options.owned ?? []).map((o) => o.informer.waitForSync()),
    ]);
    this.queue.start();
    const resync = this.options.resyncMs;
    if (resync) {
      this.resyncTimer = setInterval(() => {
        for (const object of this.options.primary.list()) this.enqueue(objectKey(object), 'resync');
      }, resync);
      this.resyncTimer.unref();
    }
  }

  async stop(timeoutMs?: number): Promise<boolean> {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    return this.queue.shutdown(timeoutMs);
  }

  private updateGauges(): void {
    this.options.metrics?.queueDepth.set({ controller: this.name }, this.queue.depth);
    this.options.metrics?.reconcilesInFlight.set({ controller: this.name }, this.queue.inFlight);
  }
}
