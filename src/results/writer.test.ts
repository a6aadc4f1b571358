import { describe, expect, it } from 'vitest';
import type { ResultsDocument } from './document.ts';
import { changedLines, resultsFileName } from './document.ts';
import { COMPRESS_ABOVE_BYTES, decodeResults, encodeResults, MAX_STORED_BYTES } from './writer.ts';

const doc = (logBytes: number, attempts = 3): ResultsDocument => ({
  plan: 'p',
  namespace: 'default',
  status: 'Succeeded',
  created: '2026-01-01T00:00:00.000Z',
  manager: { times: {}, attempts: 0, recovery: {}, recoveries: [] },
  steps: [
    {
      agent: 'build',
      step: 'build',
      name: 'p-build',
      status: 'Succeeded',
      total_seconds: 1,
      result: 'FROM ubuntu',
      attempts,
      metadata: {
        times: {},
        failures: [],
        counts: { retries: 0, return_to_manager: 0, return_to_human: 0 },
        ask_gemini: [],
        usage: {},
        assets: {
          attempts: Array.from({ length: attempts }, (_, i) => ({
            attempt: i + 1,
            // Random-looking text compresses badly, as real build logs with hashes and paths partly do.
            log: Array.from({ length: logBytes / 16 }, (_, j) =>
              ((j * 2654435761 + i) >>> 0).toString(16).padStart(16, '0'),
            ).join(''),
          })),
        },
      },
    },
  ],
});

describe('results encoding', () => {
  it('stores a small document as plain JSON', () => {
    const encoded = encodeResults(doc(100));
    expect(Object.keys(encoded.data ?? {})).toEqual(['results.json']);
    expect(decodeResults(encoded)).toEqual(doc(100));
  });

  it('compresses a large one', () => {
    const encoded = encodeResults(doc(COMPRESS_ABOVE_BYTES / 2));
    expect(Object.keys(encoded.binaryData ?? {})).toEqual(['results.json.gz']);
    expect(decodeResults(encoded)).toEqual(doc(COMPRESS_ABOVE_BYTES / 2));
  });

  it('trims the oldest artifacts until it fits under the ConfigMap limit, and says so', () => {
    const big = doc(900_000, 4);
    const encoded = encodeResults(big);
    const stored = encoded.binaryData?.['results.json.gz'] ?? '';
    expect(stored.length).toBeLessThanOrEqual(MAX_STORED_BYTES);
    const decoded = decodeResults(encoded);
    expect(decoded.truncated).toBe(true);
    const logs = decoded.steps[0]!.metadata.assets.attempts!.map((a) => Boolean(a.log));
    expect(logs[0]).toBe(false);
    expect(logs.at(-1)).toBe(true);
  });
});

describe('results helpers', () => {
  it('names files as the seed does', () => {
    expect(resultsFileName(new Date('2026-11-26T04:05:06Z'))).toBe('results-2026-11-26_04-05-06.json');
  });

  it('counts changed lines between artifacts', () => {
    expect(changedLines('FROM a\nRUN x\n', 'FROM a\nRUN y\nRUN z\n')).toBe(3);
    expect(changedLines('same\n', 'same\n')).toBe(0);
  });
});
