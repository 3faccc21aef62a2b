/**
 * Split-conformal calibration of the point model's residuals (y − ŷ on the held-out calibration rows): the
 * offset for level τ is the residual order statistic with the finite-sample correction, k = ⌊(n+1)τ⌋ below the
 * median and k = ⌈(n+1)τ⌉ above it, so P(y ≤ ŷ + offset_τ) ≥ τ above the median (≤ τ below), and the interval
 * between levels τ_lo and τ_hi covers at least τ_hi − τ_lo of exchangeable new rows. Order statistics of growing
 * k never decrease, so the quantiles are monotone by construction.
 */
import { TrendflowError } from '../../contracts/errors.js';

/** The fewest residuals that give every level in `quantiles` an order statistic inside the sample. */
export function minCalibrationRows(quantiles: readonly number[]): number {
  const outer = Math.min(...quantiles.map((q) => Math.min(q, 1 - q)));
  return Math.ceil(1 / outer) - 1;
}

/** A group with fewer calibration rows than this uses its head's pooled offsets (a tail estimate from a few dozen rows swings too much). */
export const MIN_GROUP_ROWS = 100;

export function conformalOffsets(residuals: readonly number[], quantiles: readonly number[]): number[] {
  const n = residuals.length;
  if (n < minCalibrationRows(quantiles)) {
    throw new TrendflowError('training_data_invalid', `${n} calibration rows cannot calibrate the quantiles ${quantiles.join(', ')} (at least ${minCalibrationRows(quantiles)})`);
  }
  const sorted = Float64Array.from(residuals).sort();
  return quantiles.map((q) => {
    if (q === 0.5) return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
    // the epsilon keeps (n+1)·q that is an integer in exact arithmetic (100 · 0.1) from rounding one rank off
    const k = q < 0.5 ? Math.floor((n + 1) * q + 1e-9) : Math.ceil((n + 1) * q - 1e-9);
    return sorted[k - 1]!;
  });
}
