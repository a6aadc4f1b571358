import { describe, expect, it } from 'vitest';
import { bytes, cpuMillis, parseQuantity } from './quantity.ts';

describe('quantities', () => {
  it.each([
    ['500m', 500],
    ['2', 2000],
    ['1.5', 1500],
    ['0.1', 100],
    ['100u', 1],
    [4, 4000],
  ])('cpu %s is %d millicores', (quantity, millis) => {
    expect(cpuMillis(quantity)).toBe(millis);
  });

  it.each([
    ['16Gi', 16 * 2 ** 30],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['512Mi', 512 * 2 ** 20],
    ['1G', 1e9],
    ['1e3', 1000],
    ['128974848', 128974848],
    ['129M', 129e6],
  ])('memory %s is %d bytes', (quantity, value) => {
    expect(bytes(quantity)).toBe(value);
  });

  it('rejects text that is not a quantity', () => {
    expect(() => parseQuantity('12 GB')).toThrow(/quantities must match/);
    expect(() => parseQuantity('Gi')).toThrow();
  });
});
