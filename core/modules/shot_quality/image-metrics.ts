/**
 * Per-frame image statistics of shot_quality (README.md, "Image metrics"). One pass over an RGB frame computes all
 * of them; written here because each is a short textbook formula and libvips' statistics (sharp.stats) have
 * neither the clipped shares, the colourfulness nor the noise estimate.
 */

export const IMAGE_METRIC_NAMES = [
  'sharpness_laplacian_var',
  'luma_mean',
  'shadows_clipped_share',
  'highlights_clipped_share',
  'contrast_rms',
  'colourfulness',
  'noise_sigma',
] as const;

/** Luma (0–255) at or below / at or above these counts as clipped. */
export const SHADOW_CLIP_LUMA = 5;
export const HIGHLIGHT_CLIP_LUMA = 250;

/**
 * The statistics in IMAGE_METRIC_NAMES order, on BT.601 luma Y = 0.299 R + 0.587 G + 0.114 B (0–255):
 * variance of the 4-neighbour Laplacian of Y (Pech-Pacheco et al. 2000); mean Y / 255; shares of pixels with
 * Y ≤ 5 and Y ≥ 250; standard deviation of Y / 255 (RMS contrast); Hasler & Süsstrunk (2003) colourfulness
 * σ_rgyb + 0.3 μ_rgyb on 0–255 RGB; Immerkær (1996) noise σ = √(π/2) / (6 (W−2)(H−2)) Σ |Y ∗ N| with
 * N = [1 −2 1; −2 4 −2; 1 −2 1]. Frames narrower or shorter than 3 pixels have no interior: those two are NaN.
 */
export function imageMetrics(rgb: Uint8Array, width: number, height: number): number[] {
  const n = width * height;
  const luma = new Float32Array(n);
  let sum = 0;
  let squares = 0;
  let shadows = 0;
  let highlights = 0;
  let rg = 0;
  let rgSquares = 0;
  let yb = 0;
  let ybSquares = 0;
  for (let p = 0, o = 0; p < n; p++, o += 3) {
    const r = rgb[o]!;
    const g = rgb[o + 1]!;
    const b = rgb[o + 2]!;
    const y = 0.299 * r + 0.587 * g + 0.114 * b;
    luma[p] = y;
    sum += y;
    squares += y * y;
    if (y <= SHADOW_CLIP_LUMA) shadows++;
    if (y >= HIGHLIGHT_CLIP_LUMA) highlights++;
    const a = r - g;
    const c = 0.5 * (r + g) - b;
    rg += a;
    rgSquares += a * a;
    yb += c;
    ybSquares += c * c;
  }
  const mean = sum / n;
  const std = Math.sqrt(Math.max(0, squares / n - mean * mean));
  const rgMean = rg / n;
  const ybMean = yb / n;
  const rgStd = Math.sqrt(Math.max(0, rgSquares / n - rgMean * rgMean));
  const ybStd = Math.sqrt(Math.max(0, ybSquares / n - ybMean * ybMean));
  const colourfulness = Math.hypot(rgStd, ybStd) + 0.3 * Math.hypot(rgMean, ybMean);

  let laplacianSum = 0;
  let laplacianSquares = 0;
  let noise = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const p = y * width + x;
      const up = luma[p - width]!;
      const down = luma[p + width]!;
      const left = luma[p - 1]!;
      const right = luma[p + 1]!;
      const centre = luma[p]!;
      const laplacian = up + down + left + right - 4 * centre;
      laplacianSum += laplacian;
      laplacianSquares += laplacian * laplacian;
      const corners = luma[p - width - 1]! + luma[p - width + 1]! + luma[p + width - 1]! + luma[p + width + 1]!;
      noise += Math.abs(corners - 2 * (up + down + left + right) + 4 * centre);
    }
  }
  const interior = (width - 2) * (height - 2);
  const laplacianMean = laplacianSum / interior;
  const sharpness = interior > 0 ? laplacianSquares / interior - laplacianMean * laplacianMean : Number.NaN;
  const noiseSigma = interior > 0 ? (Math.sqrt(Math.PI / 2) * noise) / (6 * interior) : Number.NaN;
  return [sharpness, mean / 255, shadows / n, highlights / n, std / 255, colourfulness, noiseSigma];
}
