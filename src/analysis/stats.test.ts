import { describe, expect, it } from 'vitest';
import { distribution, percentile } from './stats.ts';

describe('distribution', () => {
  it("computes quartiles as numpy's default percentile (linear interpolation)", () => {
    // numpy.percentile([2, 3, 5, 6], [25, 50, 75]) == [2.75, 4.0, 5.25]
    const d = distribution([6, 2, 5, 3]);
    expect(d).toMatchObject({ n: 4, min: 2, q1: 2.75, median: 4, q3: 5.25, max: 6, mean: 4 });
    // numpy.percentile([3, 5, 6], [25, 50, 75]) == [4.0, 5.0, 5.5]
    expect(distribution([3, 5, 6])).toMatchObject({ q1: 4, median: 5, q3: 5.5 });
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBeCloseTo(9.1);
  });

  it('counts integer values, ascending', () => {
    expect(distribution([3, 1, 3, 2, 3, 1]).histogram).toEqual([
      { value: 1, count: 2 },
      { value: 2, count: 1 },
      { value: 3, count: 3 },
    ]);
  });

  it('gives zeros and no bars for no values, and one value for one', () => {
    expect(distribution([])).toEqual({
      n: 0,
      min: 0,
      q1: 0,
      median: 0,
      q3: 0,
      max: 0,
      mean: 0,
      histogram: [],
    });
    expect(distribution([4])).toEqual({
      n: 1,
      min: 4,
      q1: 4,
      median: 4,
      q3: 4,
      max: 4,
      mean: 4,
      histogram: [{ value: 4, count: 1 }],
    });
  });

  it('does not sort its input in place', () => {
    const values = [3, 1, 2];
    distribution(values);
    expect(values).toEqual([3, 1, 2]);
  });
});
