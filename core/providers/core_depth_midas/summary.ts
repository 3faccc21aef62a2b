/**
 * Per-frame depth summaries from a MiDaS output map: MiDaS gives relative inverse depth with an unknown scale and
 * shift per image, so every statistic is taken on the map normalized per frame to [0, 1] (1 = nearest point of the
 * frame, 0 = farthest), and the raw range is kept to undo the normalization.
 */

export interface DepthSummary {
  /** False when the map is flat or not finite: nothing can be normalized, every value below is NaN. */
  present: boolean;
  rawMin: number;
  rawMax: number;
  mean: number;
  std: number;
  p10: number;
  p50: number;
  p90: number;
  /** Mean of the central half (in each axis) minus the mean of the rest: > 0 when the centre is nearer. */
  centerMinusSurround: number;
  /** The normalized map resized to the small map size. */
  map: Float32Array;
}

function quantile(sorted: Float32Array, q: number): number {
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/**
 * Area-averaging resize of a one-channel float map (each output cell is the overlap-weighted mean of the input
 * cells it covers). Written here because sharp takes raw input as 8-bit bands and would quantize the depth values.
 */
export function areaResize(src: Float32Array, sw: number, sh: number, dw: number, dh: number): Float32Array {
  const weights = (s: number, d: number): Array<Array<[number, number]>> =>
    Array.from({ length: d }, (_, o) => {
      const start = (o * s) / d;
      const end = ((o + 1) * s) / d;
      const cells: Array<[number, number]> = [];
      for (let i = Math.floor(start); i < Math.min(Math.ceil(end), s); i++) cells.push([i, Math.min(end, i + 1) - Math.max(start, i)]);
      return cells;
    });
  const wx = weights(sw, dw);
  const wy = weights(sh, dh);
  const out = new Float32Array(dw * dh);
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) {
      let sum = 0;
      let total = 0;
      for (const [iy, ay] of wy[y]!) for (const [ix, ax] of wx[x]!) {
        sum += src[iy * sw + ix]! * ax * ay;
        total += ax * ay;
      }
      out[y * dw + x] = sum / total;
    }
  }
  return out;
}

/** Summarizes one width×height inverse-depth map; the small map is mapWidth×mapHeight. */
export function summarizeDepth(raw: Float32Array, width: number, height: number, mapWidth: number, mapHeight: number): DepthSummary {
  let rawMin = Infinity;
  let rawMax = -Infinity;
  for (const v of raw) {
    rawMin = Math.min(rawMin, v);
    rawMax = Math.max(rawMax, v);
  }
  const span = rawMax - rawMin;
  if (!Number.isFinite(span) || !(span > 1e-6 * Math.max(1, Math.abs(rawMax)))) {
    const nan = Number.NaN;
    const finite = Number.isFinite(rawMin) && Number.isFinite(rawMax);
    return {
      present: false,
      rawMin: finite ? rawMin : nan,
      rawMax: finite ? rawMax : nan,
      mean: nan,
      std: nan,
      p10: nan,
      p50: nan,
      p90: nan,
      centerMinusSurround: nan,
      map: new Float32Array(mapWidth * mapHeight).fill(nan),
    };
  }
  const normalized = new Float32Array(raw.length);
  let sum = 0;
  let center = 0;
  let centerCount = 0;
  for (let y = 0; y < height; y++) {
    const inY = y >= height / 4 && y < (3 * height) / 4;
    for (let x = 0; x < width; x++) {
      const v = (raw[y * width + x]! - rawMin) / span;
      normalized[y * width + x] = v;
      sum += v;
      if (inY && x >= width / 4 && x < (3 * width) / 4) {
        center += v;
        centerCount++;
      }
    }
  }
  const n = normalized.length;
  const mean = sum / n;
  let squares = 0;
  for (const v of normalized) squares += (v - mean) ** 2;
  const sorted = Float32Array.from(normalized).sort();
  return {
    present: true,
    rawMin,
    rawMax,
    mean,
    std: Math.sqrt(squares / n),
    p10: quantile(sorted, 0.1),
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    centerMinusSurround: center / centerCount - (sum - center) / (n - centerCount),
    map: areaResize(normalized, width, height, mapWidth, mapHeight),
  };
}
