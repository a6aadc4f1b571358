// Bounded retries with exponential backoff and jitter, shared by the HTTP providers.

import { setTimeout as delay } from 'node:timers/promises';
import { ModelError } from './types.ts';

/** What the providers take from outside so tests can control time and chance. */
export interface ModelDeps {
  /** Waits `ms`; rejects when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A number in [0, 1), for jitter. */
  random?: () => number;
  /** Milliseconds on any monotonic-enough clock, for latency. */
  now?: () => number;
}

export interface RetryPolicy {
  /** Retries after the first request; a call sends at most maxRetries + 1 requests. */
  maxRetries: number;
  /** Backoff before the first retry; doubles for each later one. */
  baseDelayMs: number;
  /** Ceiling of the backoff. */
  maxDelayMs: number;
  /**
   * Longest server-requested wait (Retry-After) we sit through; a longer one ends the call with a
   * retryable rate-limited error carrying retryAfterMs, so the caller can requeue instead of blocking.
   */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 120_000,
};

export const DEFAULT_TIMEOUT_MS = 300_000;

export async function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw error;
  }
}

export function resolveDeps(deps: ModelDeps = {}): Required<ModelDeps> {
  return {
    sleep: deps.sleep ?? abortableSleep,
    random: deps.random ?? Math.random,
    now: deps.now ?? (() => performance.now()),
  };
}

/**
 * The wait before retry number `retry` (1-based): "equal jitter", half the exponential backoff plus a
 * random part of the other half, so concurrent callers spread out but never retry at once. A server's
 * Retry-After is a floor.
 */
export function backoffDelay(
  retry: number,
  policy: RetryPolicy,
  random: () => number,
  retryAfterMs?: number,
): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  const jittered = Math.round(exponential / 2 + random() * (exponential / 2));
  return retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered);
}

/**
 * Runs `send` until it succeeds, fails with a non-retryable ModelError, or the retries run out.
 * Errors other than ModelError propagate at once (they are bugs or cancellations, not server trouble).
 */
export async function withRetries<T>(
  send: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  deps: Required<ModelDeps>,
  signal?: AbortSignal,
): Promise<{ value: T; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return { value: await send(attempt), attempts: attempt };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (!(error instanceof ModelError)) throw error;
      if (!error.retryable || attempt > policy.maxRetries) throw error.withAttempts(attempt);
      if (error.retryAfterMs !== undefined && error.retryAfterMs > policy.maxRetryAfterMs) {
        throw error.withAttempts(attempt);
      }
      await deps.sleep(backoffDelay(attempt, policy, deps.random, error.retryAfterMs), signal);
    }
  }
}

/** Parses an HTTP Retry-After value: delay-seconds or an HTTP date. */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** A signal that aborts after `timeoutMs` or when the caller's signal aborts, telling the two apart. */
export function timeoutSignal(
  timeoutMs: number,
  caller?: AbortSignal,
): { signal: AbortSignal; timedOut(): boolean } {
  // AbortSignal.timeout does not keep the process alive, unlike a plain timer left behind after the call.
  const timer = AbortSignal.timeout(timeoutMs);
  const signal = caller ? AbortSignal.any([timer, caller]) : timer;
  return { signal, timedOut: () => timer.aborted && !caller?.aborted };
}

/** The kind of an HTTP failure status, and whether retrying can help. */
export function classifyStatus(status: number): { kind: ModelError['kind']; retryable: boolean } {
  if (status === 429) return { kind: 'rate-limited', retryable: true };
  if (status === 408) return { kind: 'timeout', retryable: true };
  if (status === 401 || status === 403) return { kind: 'auth', retryable: false };
  if (status === 500 || status === 502 || status === 503 || status === 504)
    return { kind: 'server', retryable: true };
  if (status >= 500) return { kind: 'server', retryable: false };
  return { kind: 'bad-request', retryable: false };
}
