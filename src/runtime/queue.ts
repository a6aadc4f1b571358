// A work queue of keys (namespace/name), after client-go's: a key waiting is queued once however
// often it is added; a key being processed is never processed twice at once (added again meanwhile,
// it runs once more afterwards); up to `concurrency` keys run in parallel; failures requeue with a
// per-key exponential backoff; a reconcile may ask to run again after a delay.

export interface ReconcileResult {
  /** Run the key again after this many milliseconds (a timeout to check, a poll for a slow thing). */
  requeueAfterMs?: number;
}

// biome-ignore lint/suspicious/noConfusingVoidType: a reconcile that never requeues may return nothing.
export type Reconcile = (key: string) => Promise<ReconcileResult | undefined | void>;

export interface QueueOptions {
  concurrency: number;
  /** First retry delay after a failure; doubles per consecutive failure of the same key. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  onError?: (key: string, error: unknown, retryInMs: number) => void;
  /** Called after every reconcile with its duration and outcome, for metrics. */
  onReconciled?: (key: string, seconds: number, failed: boolean) => void;
}

export class WorkQueue {
  private readonly reconcile: Reconcile;
  private readonly options: Required<Omit<QueueOptions, 'onError' | 'onReconciled'>> &
    Pick<QueueOptions, 'onError' | 'onReconciled'>;
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  /** Keys added while being processed: they go back in the queue when their reconcile ends. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly idleWaiters: (() => void)[] = [];
  private shuttingDown = false;
  private paused = true;

  constructor(reconcile: Reconcile, options: QueueOptions) {
    this.reconcile = reconcile;
    this.options = { baseBackoffMs: 5, maxBackoffMs: 5 * 60_000, ...options };
  }

  /** Keys waiting to run (not counting those running or delayed). */
  get depth(): number {
    return this.queue.length;
  }

  get inFlight(): number {
    return this.processing.size;
  }

  /** Starts processing; keys added before start wait until then. */
  start(): void {
    this.paused = false;
    this.pump();
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Adds the key after a delay; an earlier pending delay for the key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Adds the key after its backoff, which grows with each consecutive failure. */
  addRateLimited(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    const delay = Math.min(this.options.baseBackoffMs * 2 ** failures, this.options.maxBackoffMs);
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears the key's failure count (after a success). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Stops taking work, cancels delayed keys, and waits for running reconciles to finish. */
  async shutdown(timeoutMs = 30_000): Promise<boolean> {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
    this.dirty.clear();
    if (this.processing.size === 0) return true;
    return Promise.race([
      new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true))),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref()),
    ]);
  }

  /** Resolves when nothing is queued or running (delayed keys do not count). */
  whenIdle(): Promise<void> {
    if (this.queue.length === 0 && this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (!this.paused && this.processing.size < this.options.concurrency && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      void this.run(key);
    }
    if (this.queue.length === 0 && this.processing.size === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private async run(key: string): Promise<void> {
    const started = performance.now();
    let failed = false;
    try {
      const result = await this.reconcile(key);
      this.forget(key);
      if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (error) {
      failed = true;
      const delay = this.shuttingDown ? 0 : this.addRateLimited(key);
      this.options.onError?.(key, error, delay);
    } finally {
      this.options.onReconciled?.(key, (performance.now() - started) / 1000, failed);
      this.processing.delete(key);
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
    }
  }
}
