import { describe, expect, it } from 'vitest';
import { parseDuration } from './gemini.ts';
import { backoffDelay, classifyStatus, DEFAULT_RETRY_POLICY, parseRetryAfter } from './retry.ts';

describe('parseRetryAfter', () => {
  it.each([
    { header: '7', want: 7_000 },
    { header: '1.5', want: 1_500 },
    { header: 'Thu, 26 Nov 2026 04:00:30 GMT', want: 30_000 },
    { header: 'Thu, 26 Nov 2026 03:59:00 GMT', want: 0 },
    { header: 'soon', want: undefined },
    { header: null, want: undefined },
  ])('reads $header as $want ms', ({ header, want }) => {
    expect(parseRetryAfter(header, Date.parse('2026-11-26T04:00:00Z'))).toBe(want);
  });
});

describe('parseDuration (google.rpc.RetryInfo.retryDelay)', () => {
  it.each([
    { value: '30s', want: 30_000 },
    { value: '0.25s', want: 250 },
    { value: '30', want: undefined },
    { value: undefined, want: undefined },
  ])('reads $value as $want ms', ({ value, want }) => {
    expect(parseDuration(value)).toBe(want);
  });
});

describe('backoffDelay', () => {
  const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1_000, maxDelayMs: 8_000 };
  it('doubles per retry up to the cap, between half and all of the step', () => {
    for (const retry of [1, 2, 3, 4, 5, 6]) {
      const step = Math.min(8_000, 1_000 * 2 ** (retry - 1));
      expect(backoffDelay(retry, policy, () => 0)).toBe(step / 2);
      expect(backoffDelay(retry, policy, () => 0.999_999)).toBeLessThanOrEqual(step);
      expect(backoffDelay(retry, policy, () => 0.999_999)).toBeGreaterThan(step * 0.99);
    }
  });
  it('waits at least what the server asked', () => {
    expect(backoffDelay(1, policy, () => 0.5, 20_000)).toBe(20_000);
    expect(backoffDelay(4, policy, () => 0, 10)).toBe(4_000);
  });
});

describe('classifyStatus', () => {
  it.each([
    { status: 429, kind: 'rate-limited', retryable: true },
    { status: 500, kind: 'server', retryable: true },
    { status: 502, kind: 'server', retryable: true },
    { status: 503, kind: 'server', retryable: true },
    { status: 504, kind: 'server', retryable: true },
    { status: 501, kind: 'server', retryable: false },
    { status: 408, kind: 'timeout', retryable: true },
    { status: 401, kind: 'auth', retryable: false },
    { status: 403, kind: 'auth', retryable: false },
    { status: 400, kind: 'bad-request', retryable: false },
    { status: 404, kind: 'bad-request', retryable: false },
  ])('$status is $kind (retryable: $retryable)', ({ status, kind, retryable }) => {
    expect(classifyStatus(status)).toEqual({ kind, retryable });
  });
});
