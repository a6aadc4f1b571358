// Small statistics over plain numbers, with no dependency: quartiles as numpy's default
// `percentile` (linear interpolation) computes them, so a reader checking a figure in Python gets the same.
import type { Distribution } from './types.ts';

/** The p-th percentile (0..100) of values sorted ascending, by linear interpolation between ranks. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (rank - lo);
}

export function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : sum(values) / values.length;
}

/** part / whole, 0 when there is no whole (a cell with no runs has no rate to speak of). */
export function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}

/**
 * Quartiles, extremes, mean and a histogram. The histogram counts values rounded to integers (the
 * figures it is drawn for, attempts, are counts), ascending. No values: every figure 0, no bars.
 */
export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { n: 0, min: 0, q1: 0, median: 0, q3: 0, max: 0, mean: 0, histogram: [] };
  const bins = new Map<number, number>();
  for (const v of sorted) {
    const bin = Math.round(v);
    bins.set(bin, (bins.get(bin) ?? 0) + 1);
  }
  return {
    n,
    min: sorted[0]!,
    q1: percentile(sorted, 25),
    median: percentile(sorted, 50),
    q3: percentile(sorted, 75),
    max: sorted[n - 1]!,
    mean: mean(sorted),
    histogram: [...bins.entries()].sort((a, b) => a[0] - b[0]).map(([value, count]) => ({ value, count })),
  };
}

/** Distinct values in the order first seen. */
export function distinct<T>(values: Iterable<T>): T[] {
  return [...new Set(values)];
}

/** Counts by key, in the order keys are first seen. */
export function countBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/** Plain string order (code points), the same on every machine, unlike localeCompare. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
