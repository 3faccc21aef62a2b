/**
 * Flow fields and their per-pair summaries, shared by both engines. A field is a grid of equal-area cells over the
 * analysis frame, each with a displacement (dx, dy) in analysis-frame pixels from the earlier frame to the later.
 */

export interface FlowField {
  cols: number;
  rows: number;
  dx: Float32Array;
  dy: Float32Array;
}

/** Direction bins of the histogram: 0 = right, 1 = down-right, 2 = down, … 7 = up-right (image y points down). */
export const DIRECTION_BINS = 8;

export interface FlowSummary {
  /** Magnitudes in frame diagonals per second. */
  meanMagnitude: number;
  medianMagnitude: number;
  p90Magnitude: number;
  maxMagnitude: number;
  /** Mean displacement (x, y) in frame diagonals per second: a pan shows here, local motion mostly cancels. */
  meanFlow: [number, number];
  /** Mean of squared magnitudes (diagonals per second, squared). */
  motionEnergy: number;
  /** Share of cells moving more than the threshold. */
  movingFraction: number;
  /** False when no cell moves: direction statistics are NaN. */
  directionPresent: boolean;
  /** |mean vector| / mean magnitude over the moving cells: 1 when they all move one way (a pan), near 0 when scattered. */
  coherence: number;
  /** Magnitude-weighted share of the moving cells' motion per direction bin; sums to 1. */
  histogram: number[];
}

function quantile(sorted: Float32Array, q: number): number {
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/**
 * Summarizes a field for a pair `dtSec` apart on a frame of diagonal `diagonalPx`; cells moving by at most
 * `movingThresholdPx` (analysis pixels between the two frames) count as still.
 */
export function summarizeFlow(field: FlowField, diagonalPx: number, dtSec: number, movingThresholdPx: number): FlowSummary {
  const n = field.dx.length;
  const scale = 1 / (diagonalPx * dtSec);
  const magnitudes = new Float32Array(n);
  let sumX = 0;
  let sumY = 0;
  let energy = 0;
  let moving = 0;
  let movingX = 0;
  let movingY = 0;
  let movingMagnitude = 0;
  const histogram = new Array<number>(DIRECTION_BINS).fill(0);
  for (let i = 0; i < n; i++) {
    const dx = field.dx[i]!;
    const dy = field.dy[i]!;
    const px = Math.hypot(dx, dy);
    magnitudes[i] = px * scale;
    sumX += dx;
    sumY += dy;
    energy += (px * scale) ** 2;
    if (px > movingThresholdPx) {
      moving++;
      movingX += dx;
      movingY += dy;
      movingMagnitude += px;
      const turn = Math.atan2(dy, dx) / ((2 * Math.PI) / DIRECTION_BINS);
      const bin = ((Math.round(turn) % DIRECTION_BINS) + DIRECTION_BINS) % DIRECTION_BINS;
      histogram[bin]! += px;
    }
  }
  const sorted = Float32Array.from(magnitudes).sort();
  const directionPresent = moving > 0;
  return {
    meanMagnitude: magnitudes.reduce((a, b) => a + b, 0) / n,
    medianMagnitude: quantile(sorted, 0.5),
    p90Magnitude: quantile(sorted, 0.9),
    maxMagnitude: sorted[n - 1]!,
    meanFlow: [(sumX / n) * scale, (sumY / n) * scale],
    motionEnergy: energy / n,
    movingFraction: moving / n,
    directionPresent,
    coherence: directionPresent ? Math.hypot(movingX, movingY) / movingMagnitude : Number.NaN,
    histogram: directionPresent ? histogram.map((v) => v / movingMagnitude) : histogram.map(() => Number.NaN),
  };
}

/**
 * Consecutive analysis frames among a component's sample: entries k, k+1 of `indices` (union domain) whose
 * analysis-timeline indices (`sourceIndex`, the frames_dir's union_frame_indices_source) differ by one.
 */
export function framePairs(indices: readonly number[], sourceIndex: readonly number[]): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  for (let k = 0; k + 1 < indices.length; k++) {
    if (sourceIndex[indices[k + 1]!] === sourceIndex[indices[k]!]! + 1) pairs.push([indices[k]!, indices[k + 1]!]);
  }
  return pairs;
}
