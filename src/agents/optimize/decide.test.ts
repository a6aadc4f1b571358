import { describe, expect, it } from 'vitest';
import type { OptimizationStatus, OptimizationTrial } from '../../api/agentstep.ts';
import { bestTrial, gain, judge, median, ratio, spread, stopReason, trialsWithoutGain } from './decide.ts';

const trial = (over: Partial<OptimizationTrial>): OptimizationTrial => ({
  trial: 0,
  attempt: 1,
  figures: [],
  outcome: 'baseline',
  ...over,
});

const state = (outcomes: OptimizationTrial['outcome'][]): OptimizationStatus => ({
  figure: 'timesteps/s',
  direction: 'higher',
  trials: outcomes.map((outcome, i) =>
    trial({ trial: i, attempt: i + 1, outcome, median: 10 + i, spread: 1 }),
  ),
});

describe('the figures of a trial', () => {
  it('are the median of the repetitions, with their range as the noise', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(spread([10.2, 9.8, 10.1])).toBeCloseTo(0.4, 12);
    expect(spread([])).toBe(0);
    expect(gain(12, 10, 'higher')).toBe(2);
    expect(gain(8, 10, 'lower')).toBe(2);
    expect(ratio(20, 10, 'higher')).toBe(2);
    expect(ratio(5, 10, 'lower')).toBe(2);
    expect(ratio(5, 0, 'higher')).toBeUndefined();
  });
});

describe('keep or revert', () => {
  const best = trial({ median: 100, spread: 4 });

  it('keeps a change whose median beats the best by more than the larger spread', () => {
    expect(judge(best, [110, 108, 111], 'higher')).toMatchObject({
      kept: true,
      median: 110,
      spread: 3,
      margin: 10,
      noise: 4,
    });
  });

  it('reverts a gain within the noise, even when every repetition is higher', () => {
    // +3 over the best, but the best itself varied by 4.
    expect(judge(best, [103, 102, 104], 'higher')).toMatchObject({ kept: false, margin: 3, noise: 4 });
    // A noisy trial: +6, but its own repetitions span 10.
    expect(judge(best, [96, 106, 110], 'higher')).toMatchObject({ kept: false, median: 106, noise: 14 });
  });

  it('reverts a worse change, and reads "lower is better" the other way round', () => {
    expect(judge(best, [80, 82, 81], 'higher').kept).toBe(false);
    expect(judge(trial({ median: 10, spread: 0.2 }), [8, 8.1, 7.9], 'lower')).toMatchObject({
      kept: true,
      margin: 2,
    });
  });
});

describe('when to stop', () => {
  const limits = { maxTrials: 4, plateau: 2 };

  it('goes on while there is budget and no plateau', () => {
    expect(stopReason(state(['baseline', 'kept', 'reverted']), limits, 0)).toBeUndefined();
  });

  it('stops when the trials of the budget are spent (the baseline is not one)', () => {
    expect(stopReason(state(['baseline', 'kept', 'kept', 'reverted', 'kept']), limits, 0)).toEqual({
      reason: 'BudgetSpent',
      message: 'all 4 trial(s) of the budget are spent',
    });
  });

  it('stops on a plateau of trials that did not become the best, failed ones included', () => {
    const s = state(['baseline', 'kept', 'reverted', 'failed']);
    expect(trialsWithoutGain(s)).toBe(2);
    expect(stopReason(s, limits, 0)?.reason).toBe('PlateauReached');
    expect(bestTrial(s)?.trial).toBe(1);
  });

  it('stops when the wall time is spent', () => {
    expect(stopReason(state(['baseline']), { ...limits, maxWallTime: 600 }, 601)?.reason).toBe(
      'WallTimeSpent',
    );
    expect(stopReason(state(['baseline']), { ...limits, maxWallTime: 600 }, 10)).toBeUndefined();
  });
});
