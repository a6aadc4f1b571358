// The optimize agent's bookkeeping, pure: the figure of a trial (the median of its repetitions, with
// their range as the noise), whether it beats the best by more than that noise, and when to stop
// (the trial budget, the wall time, a plateau of trials that did not help).
import type { OptimizationStatus, OptimizationTrial } from '../../api/agentstep.ts';
import type { Direction } from './figure.ts';

export interface Limits {
  maxTrials: number;
  plateau: number;
  /** Seconds since the step started after which no trial starts; undefined: no limit. */
  maxWallTime?: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The range of the repetitions: a trial's noise. */
export const spread = (values: readonly number[]) =>
  values.length ? Math.max(...values) - Math.min(...values) : 0;

/** How much better `a` is than `b`, positive when better, whichever the direction. */
export const gain = (a: number, b: number, direction: Direction) => (direction === 'higher' ? a - b : b - a);

/** Above 1 when the best beats the baseline (timesteps/s up, or seconds down). */
export function ratio(best: number, baseline: number, direction: Direction): number | undefined {
  if (direction === 'higher') return baseline > 0 ? round(best / baseline) : undefined;
  return best > 0 ? round(baseline / best) : undefined;
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;

/** The trial that is the best so far. */
export function bestTrial(state: OptimizationStatus): OptimizationTrial | undefined {
  return state.trials.findLast((t) => t.outcome === 'kept' || t.outcome === 'baseline');
}

/**
 * Keep or revert: a change is kept only when its median beats the best's by more than the larger of
 * the two trials' spreads, so that noise alone never moves the best.
 */
export function judge(
  best: OptimizationTrial,
  figures: readonly number[],
  direction: Direction,
): { kept: boolean; median: number; spread: number; margin: number; noise: number } {
  const m = median(figures);
  const s = spread(figures);
  const noise = Math.max(s, best.spread ?? 0);
  const margin = gain(m, best.median ?? m, direction);
  return { kept: margin > noise, median: m, spread: s, margin, noise };
}

/** Trials in a row, at the end, that did not become the best (reverted or failed). */
export function trialsWithoutGain(state: OptimizationStatus): number {
  let count = 0;
  for (let i = state.trials.length - 1; i >= 0; i--) {
    const outcome = state.trials[i]!.outcome;
    if (outcome === 'kept' || outcome === 'baseline') break;
    count++;
  }
  return count;
}

/** Why to stop before another trial, or undefined to go on. */
export function stopReason(
  state: OptimizationStatus,
  limits: Limits,
  elapsedSeconds: number,
): { reason: string; message: string } | undefined {
  const trials = state.trials.filter((t) => t.outcome !== 'baseline').length;
  if (trials >= limits.maxTrials)
    return { reason: 'BudgetSpent', message: `all ${limits.maxTrials} trial(s) of the budget are spent` };
  const flat = trialsWithoutGain(state);
  if (flat >= limits.plateau)
    return {
      reason: 'PlateauReached',
      message: `${flat} trial(s) in a row did not beat the best (plateau ${limits.plateau})`,
    };
  if (limits.maxWallTime !== undefined && elapsedSeconds >= limits.maxWallTime)
    return { reason: 'WallTimeSpent', message: `the wall time of ${limits.maxWallTime} s is spent` };
  return undefined;
}

/** A number as a person reads it in a table: four significant digits. */
export const figureText = (x: number | undefined) =>
  x === undefined
    ? '-'
    : Math.abs(x) >= 1e6 || (Math.abs(x) < 1e-3 && x !== 0)
      ? x.toExponential(3)
      : String(Number(x.toPrecision(4)));
