import { describe, expect, it } from 'vitest';
import { conformalOffsets, minCalibrationRows } from './calibration.js';
import { binFeatures, fitBoosted, predictBoosted, predictTree, seededRandom, type GbtParams } from './gbt.js';
import { coverage, meanAbsoluteError, rootMeanSquaredError, spearman } from './metrics.js';

const PARAMS: GbtParams = { trees: 30, learningRate: 0.3, maxDepth: 3, bins: 16, minRowsPerLeaf: 5, lambda: 1, subsample: 1 };

/** rows × 2 features: x0 carries a step, x1 is NaN on every third row, which alone adds 5 to y. */
function stepData(rows: number): { x: Float32Array; y: Float64Array } {
  const random = seededRandom(9);
  const x = new Float32Array(rows * 2);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    x[r * 2] = random() * 10;
    x[r * 2 + 1] = r % 3 === 0 ? Number.NaN : random();
    y[r] = (x[r * 2]! > 5 ? 2 : 0) + (r % 3 === 0 ? 5 : 0);
  }
  return { x, y };
}

describe('gradient-boosted trees', () => {
  it('learns a step and routes NaN by its learned default direction', () => {
    const { x, y } = stepData(600);
    const all = Int32Array.from({ length: 600 }, (_, i) => i);
    const binned = binFeatures(x, 2, all, PARAMS.bins);
    const model = fitBoosted(binned, all, y, PARAMS, 1);
    expect(model.base).toBeCloseTo(y.reduce((s, v) => s + v, 0) / 600, 10);
    const at = (x0: number, x1: number) => predictBoosted(model, Float32Array.of(x0, x1), 0);
    expect(at(2, 0.5)).toBeCloseTo(0, 1);
    expect(at(8, 0.5)).toBeCloseTo(2, 1);
    expect(at(2, Number.NaN)).toBeCloseTo(5, 1);
    expect(at(8, Number.NaN)).toBeCloseTo(7, 1);
    // a tree's inner nodes split on real thresholds of the data
    const tree = model.trees[0]!;
    expect(tree.feature.some((f) => f >= 0)).toBe(true);
    expect(tree.nan_left.length).toBe(tree.feature.length);
  });

  it('bins on values seen in the data, so raw-value prediction agrees with the binned training', () => {
    const { x, y } = stepData(300);
    const all = Int32Array.from({ length: 300 }, (_, i) => i);
    const binned = binFeatures(x, 2, all, 8);
    for (const edges of binned.edges) expect(edges.every((e) => Array.from(x).includes(e))).toBe(true);
    expect(binned.edges[0]!.length).toBe(7);
    // a constant feature has no edges and never splits
    const constant = binFeatures(new Float32Array(20).fill(1), 1, Int32Array.from({ length: 20 }, (_, i) => i), 8);
    expect(constant.edges[0]!.length).toBe(0);
    const model = fitBoosted(binned, all, y, { ...PARAMS, trees: 5 }, 1);
    const mae = Array.from(y).reduce((s, v, r) => s + Math.abs(v - predictBoosted(model, x, r * 2)), 0) / 300;
    expect(mae).toBeLessThan(1);
    expect(predictTree(model.trees[0]!, x, 0)).toBeTypeOf('number');
  });
});

describe('split-conformal offsets', () => {
  it('takes the corrected order statistics and never decreases', () => {
    const residuals = Array.from({ length: 99 }, (_, i) => 99 - i); // 1..99, unsorted
    // n = 99: k = ⌊100·0.1⌋ = 10 below the median, ⌈100·0.9⌉ = 90 above
    expect(conformalOffsets(residuals, [0.025, 0.1, 0.5, 0.9, 0.975])).toEqual([2, 10, 50, 90, 98]);
    expect(minCalibrationRows([0.025, 0.5, 0.975])).toBe(39);
    expect(() => conformalOffsets(residuals.slice(0, 38), [0.025, 0.975])).toThrow(/at least 39/);
  });
});

describe('report metrics', () => {
  it('MAE, RMSE, coverage and Spearman with ties', () => {
    expect(meanAbsoluteError([1, 2], [2, 4])).toBe(1.5);
    expect(rootMeanSquaredError([0, 0], [3, 4])).toBeCloseTo(Math.sqrt(12.5), 12);
    expect(coverage([0, 0, 0], [1, 1, 1], [0.5, 1, 2])).toBeCloseTo(2 / 3, 12);
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBe(1);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBe(-1);
    // ranks (1.5, 1.5, 3, 4) vs (1, 2, 3, 4): Pearson of the ranks = 0.9486833
    expect(spearman([5, 5, 6, 7], [1, 2, 3, 4])).toBeCloseTo(0.9486833, 6);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNull();
    expect(meanAbsoluteError([], [])).toBeNull();
  });
});
