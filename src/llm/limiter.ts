// A limit on the model calls of one provider, shared by every model of that provider the operator
// uses: at most `concurrency` calls in flight, and optionally a tokens-per-minute budget, so that
// hundreds of plans asking at once queue here instead of tripping the provider's rate limit. Calls
// wait in one FIFO queue; a queued call can be aborted; `wrap` makes a limited model that is a
// LanguageModel itself, so callers do not change.
//
// The budget is a sliding window of 60 s over the tokens of the calls started in it. A call's tokens
// are not known before it returns, so it is counted at start by an estimate (its text at about four
// characters a token, plus an allowance for the answer) and corrected with the usage the provider
// reports when it returns. A call larger than the whole budget runs once the window is empty rather
// than waiting for ever.
import type { GenerateRequest, Generation, LanguageModel, ModelWait } from './types.ts';

/** Model calls of one provider in flight at once, unless --model-concurrency says otherwise. */
export const DEFAULT_MODEL_CONCURRENCY = 16;
/** The span of the tokens-per-minute budget. */
export const TOKEN_WINDOW_MS = 60_000;
/** Tokens counted for a call's answer before it is known. */
export const DEFAULT_ANSWER_ALLOWANCE = 1_000;

/** Where the limiter reports its queue (the operator's metrics). */
export interface LimiterObserver {
  /** The calls of `provider` waiting and in flight, after every change. */
  modelQueueChanged(provider: string, queued: number, inFlight: number): void;
  /** How long a call waited before it was sent (0 when it did not wait). */
  modelQueueWaited(provider: string, seconds: number): void;
}

export interface ModelLimiterOptions {
  provider: string;
  /** The most calls in flight at once; default DEFAULT_MODEL_CONCURRENCY. */
  concurrency?: number;
  /** The most tokens the calls started in any 60 s may use; 0 or unset: no budget. */
  tokensPerMinute?: number;
  /** Tokens counted for an answer until its usage is known; default DEFAULT_ANSWER_ALLOWANCE. */
  answerAllowance?: number;
  observer?: LimiterObserver;
  /** Milliseconds on a monotonic clock; default performance.now (tests pass a fake clock). */
  now?: () => number;
  /** Runs `run` after `ms`; returns a cancel function. Default: an unref'd setTimeout. */
  schedule?: (run: () => void, ms: number) => () => void;
}

/** One call through `run`. */
export interface LimitedCall<T> {
  /** The tokens the call is expected to use; counted against the budget when it starts. */
  tokens: number;
  /** Aborting while the call is queued removes it and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called once if the call has to wait, with its place in the queue. */
  onQueued?: (wait: ModelWait) => void;
  /** Called when the call is let through. */
  onStarted?: () => void;
  /** The tokens the call really used, read from its result; replaces the estimate in the window. */
  used?: (result: T) => number | undefined;
}

interface Waiter {
  tokens: number;
  start: () => void;
}

interface Spent {
  at: number;
  tokens: number;
}

const defaultSchedule = (run: () => void, ms: number) => {
  const timer = setTimeout(run, ms);
  timer.unref?.();
  return () => clearTimeout(timer);
};

export class ModelLimiter {
  readonly provider: string;
  readonly concurrency: number;
  readonly tokensPerMinute: number;
  private readonly answerAllowance: number;
  private readonly observer: LimiterObserver | undefined;
  private readonly now: () => number;
  private readonly schedule: (run: () => void, ms: number) => () => void;
  private readonly queue: Waiter[] = [];
  /** The tokens of the calls started in the window, oldest first. */
  private readonly window: Spent[] = [];
  private running = 0;
  private cancelWake: (() => void) | undefined;

  constructor(options: ModelLimiterOptions) {
    const concurrency = options.concurrency ?? DEFAULT_MODEL_CONCURRENCY;
    const tokensPerMinute = options.tokensPerMinute ?? 0;
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError(`model concurrency must be a whole number ≥ 1, not ${concurrency}`);
    if (!Number.isInteger(tokensPerMinute) || tokensPerMinute < 0)
      throw new RangeError(`tokens per minute must be a whole number ≥ 0, not ${tokensPerMinute}`);
    this.provider = options.provider;
    this.concurrency = concurrency;
    this.tokensPerMinute = tokensPerMinute;
    this.answerAllowance = options.answerAllowance ?? DEFAULT_ANSWER_ALLOWANCE;
    this.observer = options.observer;
    this.now = options.now ?? (() => performance.now());
    this.schedule = options.schedule ?? defaultSchedule;
  }

  /** Calls waiting for their turn. */
  get queued(): number {
    return this.queue.length;
  }

  /** Calls sent and not yet returned. */
  get inFlight(): number {
    return this.running;
  }

  /** The tokens counted against the budget now: those of the calls started in the last 60 s (0 without a budget). */
  windowTokens(): number {
    this.prune();
    return this.window.reduce((sum, spent) => sum + spent.tokens, 0);
  }

  /** What a request is expected to use: its text at about 4 characters a token, plus the answer's allowance. */
  estimate(request: GenerateRequest): number {
    let chars = request.prompt.length + (request.system?.length ?? 0);
    for (const turn of request.history ?? []) chars += turn.text.length;
    return Math.ceil(chars / 4) + this.answerAllowance;
  }

  /** The model with its calls going through this limiter. */
  wrap(model: LanguageModel): LanguageModel {
    const limiter = this;
    return {
      provider: model.provider,
      model: model.model,
      generate(request: GenerateRequest): Promise<Generation> {
        // The hooks are this limiter's to call; a model behind it sees the request without them.
        const { onQueued, onStarted, ...inner } = request;
        return limiter.run(() => model.generate(inner), {
          tokens: limiter.estimate(request),
          ...(request.signal ? { signal: request.signal } : {}),
          ...(onQueued ? { onQueued } : {}),
          ...(onStarted ? { onStarted } : {}),
          used: (generation) => generation.usage.totalTokens,
        });
      },
    };
  }

  /** Runs `call` once a slot is free and the budget allows it, after every call queued before it. */
  run<T>(call: () => Promise<T>, options: LimitedCall<T>): Promise<T> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const queuedAt = this.now();
      const waiter: Waiter = {
        tokens: options.tokens,
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          this.running++;
          const spent: Spent = { at: this.now(), tokens: options.tokens };
          // Only a budget needs the window (without one, nothing would ever prune it).
          if (this.tokensPerMinute > 0) {
            this.prune();
            this.window.push(spent);
          }
          this.changed();
          this.observer?.modelQueueWaited(this.provider, Math.max(0, spent.at - queuedAt) / 1000);
          notify(() => options.onStarted?.());
          let promise: Promise<T>;
          try {
            promise = call();
          } catch (error) {
            promise = Promise.reject(error);
          }
          promise.then(
            (result) => {
              const used = options.used?.(result);
              if (used !== undefined && Number.isFinite(used) && used >= 0) spent.tokens = used;
              this.finished();
              resolve(result);
            },
            (error: unknown) => {
              // A failed call keeps its estimate: its requests may have used tokens all the same.
              this.finished();
              reject(error);
            },
          );
        },
      };
      const onAbort = () => {
        const index = this.queue.indexOf(waiter);
        if (index < 0) return;
        this.queue.splice(index, 1);
        this.changed();
        reject(signal?.reason);
        // The call removed may have been the one holding the others back.
        this.pump();
      };
      if (this.queue.length === 0 && this.admits(options.tokens)) {
        waiter.start();
        return;
      }
      const ahead = this.queue.length;
      this.queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.changed();
      notify(() =>
        options.onQueued?.({
          provider: this.provider,
          ahead,
          concurrency: this.concurrency,
          tokensPerMinute: this.tokensPerMinute,
        }),
      );
      this.pump();
    });
  }

  private finished(): void {
    this.running--;
    this.changed();
    this.pump();
  }

  /** Whether a call of `tokens` may start now. */
  private admits(tokens: number): boolean {
    if (this.running >= this.concurrency) return false;
    if (this.tokensPerMinute === 0) return true;
    const used = this.windowTokens();
    return used === 0 || used + tokens <= this.tokensPerMinute;
  }

  /** Starts queued calls, in order, while they are admitted; then waits for the window if it holds them back. */
  private pump(): void {
    while (this.queue.length > 0 && this.admits(this.queue[0]!.tokens)) this.queue.shift()!.start();
    this.cancelWake?.();
    this.cancelWake = undefined;
    const head = this.queue[0];
    // Held back by a full slot: a call's end pumps again. Held back by the budget: wake when enough
    // of the window has expired for the head to fit (or the window is empty).
    if (!head || this.running >= this.concurrency || this.tokensPerMinute === 0) return;
    let remaining = this.windowTokens();
    for (const spent of this.window) {
      remaining -= spent.tokens;
      if (remaining <= 0 || remaining + head.tokens <= this.tokensPerMinute) {
        const wait = Math.max(1, Math.ceil(spent.at + TOKEN_WINDOW_MS - this.now()));
        this.cancelWake = this.schedule(() => {
          this.cancelWake = undefined;
          this.pump();
        }, wait);
        return;
      }
    }
  }

  /** Drops the calls started more than a window ago. */
  private prune(): void {
    const since = this.now() - TOKEN_WINDOW_MS;
    let expired = 0;
    while (expired < this.window.length && this.window[expired]!.at <= since) expired++;
    if (expired) this.window.splice(0, expired);
  }

  private changed(): void {
    this.observer?.modelQueueChanged(this.provider, this.queue.length, this.running);
  }
}

/** A listener's mistake must not break the queue, whose state it cannot see. */
function notify(listener: () => void): void {
  try {
    listener();
  } catch {
    // The caller's hook failed; the call goes on.
  }
}

/** A status message for a call waiting for its turn. */
export function describeWait(wait: ModelWait): string {
  const place = wait.ahead === 0 ? 'next in line' : `${wait.ahead} call${wait.ahead === 1 ? '' : 's'} ahead`;
  const limits = [`at most ${wait.concurrency} at a time`];
  if (wait.tokensPerMinute > 0) limits.push(`${wait.tokensPerMinute} tokens a minute`);
  return `Waiting for the model: ${place} (${limits.join(', ')})`;
}
