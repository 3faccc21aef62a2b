/** Small NaN-aware statistics shared by the modules (NumPy's nanmean / nanpercentile semantics). */

/** Mean of the finite values; NaN when there are none. */
export function nanMean(values: ArrayLike<number>): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) {
      sum += v;
      n++;
    }
  }
  return n ? sum / n : Number.NaN;
}

/** Population standard deviation of the finite values; NaN when there are none. */
export function nanStd(values: ArrayLike<number>): number {
  const mean = nanMean(values);
  if (Number.isNaN(mean)) return Number.NaN;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) {
      sum += (v - mean) ** 2;
      n++;
    }
  }
  return Math.sqrt(sum / n);
}

/** Percentile q (0–100) of the finite values with linear interpolation (NumPy's default); NaN when there are none. */
export function nanPercentile(values: ArrayLike<number>, q: number): number {
  const sorted = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const position = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(position);
  const hi = Math.ceil(position);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (position - lo);
}
