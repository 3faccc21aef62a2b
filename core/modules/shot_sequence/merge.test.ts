import { describe, expect, it } from 'vitest';
import { mergeShortest } from './merge.js';

describe('mergeShortest', () => {
  it('merges the shortest token into its shorter neighbour, the earliest and the previous of equals', () => {
    // [5,1,2,1,5] → the 1 at 1 joins the 2 (shorter than 5) → [5,3,1,5] → the 1 at 3 joins the 3 → [5,4,5]
    expect(mergeShortest([5, 1, 2, 1, 5], 3)).toEqual([
      { first: 0, last: 0 },
      { first: 1, last: 3 },
      { first: 4, last: 4 },
    ]);
    // equal neighbours: the previous one takes it; at the ends the only neighbour does
    expect(mergeShortest([2, 1, 2], 2)).toEqual([
      { first: 0, last: 1 },
      { first: 2, last: 2 },
    ]);
    expect(mergeShortest([1, 3, 3], 2)).toEqual([
      { first: 0, last: 1 },
      { first: 2, last: 2 },
    ]);
  });

  it('leaves a sequence that already fits alone', () => {
    expect(mergeShortest([1, 2, 3], 256)).toEqual([0, 1, 2].map((i) => ({ first: i, last: i })));
  });

  it('400 shots become exactly 256 contiguous runs in order, and the longest shots stay whole', () => {
    let x = 12345;
    const durations = Array.from({ length: 400 }, () => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return 0.2 + (x % 1000) / 100;
    });
    const runs = mergeShortest(durations, 256);
    expect(runs).toHaveLength(256);
    expect(runs[0]!.first).toBe(0);
    expect(runs[255]!.last).toBe(399);
    runs.forEach((r, k) => k > 0 && expect(r.first).toBe(runs[k - 1]!.last + 1));
    const longest = durations.indexOf(Math.max(...durations));
    expect(runs.find((r) => r.first <= longest && r.last >= longest)).toEqual({ first: longest, last: longest });
  });

  it('refuses a token budget that is not a positive integer', () => {
    expect(() => mergeShortest([1], 0)).toThrow(RangeError);
  });
});
