/** The fixed time grid of video_pacing and how each series is put on it (README.md, "Curves"). Pure functions. */

/** Centres (k + ½)·step of the bins [k·step, (k+1)·step) that cover [0, duration). */
export function gridCentres(durationSec: number, stepSec: number): Float64Array {
  const count = Math.max(1, Math.ceil(durationSec / stepSec - 1e-9));
  return Float64Array.from({ length: count }, (_, k) => (k + 0.5) * stepSec);
}

/**
 * Boundaries per minute in a window of `windowSec` centred on each grid point, the window clipped to the video
 * (and the rate taken over the part inside it, so the ends are not diluted).
 */
export function cutRate(cutTimes: readonly number[], grid: Float64Array, windowSec: number, durationSec: number): Float32Array {
  return Float32Array.from(grid, (t) => {
    const from = Math.max(0, t - windowSec / 2);
    const to = Math.min(durationSec, t + windowSec / 2);
    const inside = cutTimes.filter((c) => c >= from && c < to).length;
    return to > from ? (inside * 60) / (to - from) : Number.NaN;
  });
}

/** Values whose time falls in each grid bin, reduced by `reduce`; NaN and present False for an empty bin. */
export function binned(
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  grid: Float64Array,
  stepSec: number,
  reduce: (inside: number[]) => number,
): { values: Float32Array; present: boolean[] } {
  const buckets = Array.from({ length: grid.length }, () => [] as number[]);
  for (let i = 0; i < times.length; i++) {
    const k = Math.floor(times[i]! / stepSec);
    if (k >= 0 && k < grid.length && !Number.isNaN(values[i]!)) buckets[k]!.push(values[i]!);
  }
  return { values: Float32Array.from(buckets, (b) => (b.length ? reduce(b) : Number.NaN)), present: buckets.map((b) => b.length > 0) };
}

export const mean = (values: number[]): number => values.reduce((sum, v) => sum + v, 0) / values.length;

/** Loudness of several windows together: the mean of their energies, in LUFS (−inf when all are silent). */
export const energyMeanLufs = (lufs: number[]): number => 10 * Math.log10(mean(lufs.map((l) => 10 ** (l / 10))));
