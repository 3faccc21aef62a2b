/** Evaluation measures of the training report, on log1p values. Each returns null for an empty sample. */

export function meanAbsoluteError(predicted: readonly number[], actual: readonly number[]): number | null {
  if (actual.length === 0) return null;
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += Math.abs(predicted[i]! - actual[i]!);
  return sum / actual.length;
}

export function rootMeanSquaredError(predicted: readonly number[], actual: readonly number[]): number | null {
  if (actual.length === 0) return null;
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += (predicted[i]! - actual[i]!) ** 2;
  return Math.sqrt(sum / actual.length);
}

/** Ranks from 1, ties sharing their mean rank (what Spearman's coefficient needs). */
function ranks(values: readonly number[]): Float64Array {
  const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const out = new Float64Array(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && values[order[end + 1]!] === values[order[start]!]) end++;
    for (let i = start; i <= end; i++) out[order[i]!] = (start + end) / 2 + 1;
    start = end + 1;
  }
  return out;
}

/** Spearman's rank correlation (Pearson's on tie-averaged ranks); null when either side is constant or n < 2. */
export function spearman(a: readonly number[], b: readonly number[]): number | null {
  const n = a.length;
  if (n < 2) return null;
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (n + 1) / 2;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    cov += (ra[i]! - mean) * (rb[i]! - mean);
    va += (ra[i]! - mean) ** 2;
    vb += (rb[i]! - mean) ** 2;
  }
  return va === 0 || vb === 0 ? null : cov / Math.sqrt(va * vb);
}

/** Share of rows with lower ≤ actual ≤ upper. */
export function coverage(lower: readonly number[], upper: readonly number[], actual: readonly number[]): number | null {
  if (actual.length === 0) return null;
  let inside = 0;
  for (let i = 0; i < actual.length; i++) if (lower[i]! <= actual[i]! && actual[i]! <= upper[i]!) inside++;
  return inside / actual.length;
}
