/**
 * Cheap per-frame signals on the small signal stream (RGB, longer side 64 by default) and the online cut
 * candidate detector built on them. See README.md ("Cheap signals and cut candidates").
 */

/** Joint histogram: 16 luma levels × 4 Cb × 4 Cr levels. */
export const HIST_BINS = 256;

export interface FrameSignals {
  /** Mean luma (BT.601 weights on the RGB pixels) in [0, 1]. */
  luma: number;
  /** Total-variation distance between this frame's joint YCbCr histogram and the previous frame's, in [0, 1]. */
  hist_diff: number;
  /** Mean absolute luma difference from the previous frame, in [0, 1] (motion proxy). */
  motion: number;
  /** The normalized histogram (HIST_BINS values summing to 1). */
  hist: Float32Array;
}

/** Computes the signals of consecutive small RGB frames. */
export class SignalComputer {
  private previousLuma: Uint8Array | null = null;
  private previousHist: Float32Array | null = null;
  private readonly pixels: number;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.pixels = width * height;
  }

  push(rgb: Uint8Array): FrameSignals {
    const n = this.pixels;
    if (rgb.length !== n * 3) throw new Error(`signal frame has ${rgb.length} bytes, expected ${n * 3}`);
    const counts = new Uint32Array(HIST_BINS);
    const luma = new Uint8Array(n);
    let lumaSum = 0;
    for (let p = 0, o = 0; p < n; p++, o += 3) {
      const r = rgb[o]!;
      const g = rgb[o + 1]!;
      const b = rgb[o + 2]!;
      // full-range BT.601 (JPEG) YCbCr in integers
      const y = (77 * r + 150 * g + 29 * b + 128) >> 8;
      const cb = Math.min(255, Math.max(0, ((-43 * r - 85 * g + 128 * b + 128) >> 8) + 128));
      const cr = Math.min(255, Math.max(0, ((128 * r - 107 * g - 21 * b + 128) >> 8) + 128));
      luma[p] = y;
      lumaSum += y;
      counts[((y >> 4) << 4) | ((cb >> 6) << 2) | (cr >> 6)]!++;
    }
    const hist = new Float32Array(HIST_BINS);
    for (let k = 0; k < HIST_BINS; k++) hist[k] = counts[k]! / n;
    let histDiff = 0;
    let motion = 0;
    if (this.previousHist && this.previousLuma) {
      histDiff = histogramDistance(this.previousHist, hist);
      const previous = this.previousLuma;
      let sum = 0;
      for (let p = 0; p < n; p++) sum += Math.abs(luma[p]! - previous[p]!);
      motion = sum / (n * 255);
    }
    this.previousHist = hist;
    this.previousLuma = luma;
    return { luma: lumaSum / (n * 255), hist_diff: histDiff, motion, hist };
  }
}

/** Total-variation distance ½·Σ|a−b| between two normalized histograms, in [0, 1]. */
export function histogramDistance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let k = 0; k < a.length; k++) sum += Math.abs(a[k]! - b[k]!);
  return Math.min(1, sum / 2);
}

export interface CutParams {
  /** No candidate below this hist_diff. */
  min_score: number;
  /** A hist_diff at or above this is a candidate whatever the local baseline (frequent cuts). */
  strong_score: number;
  /** Otherwise the hist_diff must be this many times the local baseline (median of the neighbours' hist_diff). */
  baseline_ratio: number;
  /** Neighbourhood for the baseline, seconds before the frame (plus the lookahead after it). */
  baseline_window_sec: number;
  /**
   * Flash rule: a change that returns, within this time, to a histogram closer to the one before it than
   * `flash_return_ratio` × the change is a flash (camera flash, one odd frame), not a cut — neither its start nor
   * its return.
   */
  flash_max_sec: number;
  flash_return_ratio: number;
  /** Candidates closer than this to the previous one are dropped. */
  min_shot_sec: number;
}

export const DEFAULT_CUT_PARAMS: Readonly<CutParams> = {
  min_score: 0.2,
  strong_score: 0.5,
  baseline_ratio: 2.5,
  baseline_window_sec: 1,
  flash_max_sec: 0.1,
  flash_return_ratio: 0.5,
  min_shot_sec: 0.15,
};

export interface CutDecision {
  index: number;
  cut: boolean;
  /** hist_diff of the frame (the change from the frame before it). */
  score: number;
}

/**
 * Online cut candidates with a fixed lookahead: the decision for frame d is made when frame d + lookahead has
 * arrived (or at the end). Candidate = first frame of a new shot.
 */
export class CutDetector {
  /** Frames of delay between a frame's arrival and its decision. */
  readonly lookahead: number;
  readonly flashFrames: number;
  readonly baselineFrames: number;
  readonly minGapFrames: number;
  private readonly scores: number[] = [];
  private readonly hists: Float32Array[] = [];
  private readonly histCapacity: number;
  private decided = 0;
  private lastCut = -1;

  constructor(
    readonly params: CutParams,
    fps: number,
  ) {
    this.flashFrames = Math.max(1, Math.round(params.flash_max_sec * fps));
    this.lookahead = Math.max(2, this.flashFrames);
    this.baselineFrames = Math.max(4, Math.round(params.baseline_window_sec * fps));
    this.minGapFrames = Math.max(1, Math.round(params.min_shot_sec * fps));
    this.histCapacity = 2 * this.flashFrames + this.lookahead + 4;
  }

  /** Frames received so far. */
  get count(): number {
    return this.scores.length;
  }

  push(signals: FrameSignals): CutDecision[] {
    const index = this.scores.length;
    this.scores.push(signals.hist_diff);
    this.hists[index % this.histCapacity] = signals.hist;
    const out: CutDecision[] = [];
    while (this.decided + this.lookahead <= index) out.push(this.decide(this.decided++));
    return out;
  }

  /** Decisions for the frames still pending (the lookahead is cut short by the end of the video). */
  finish(): CutDecision[] {
    const out: CutDecision[] = [];
    while (this.decided < this.scores.length) out.push(this.decide(this.decided++));
    return out;
  }

  private hist(index: number): Float32Array | null {
    if (index < 0 || index >= this.scores.length || index <= this.scores.length - 1 - this.histCapacity) return null;
    return this.hists[index % this.histCapacity] ?? null;
  }

  /** A change at `a` that comes back, within flashFrames, to a histogram near the one before it. */
  private isFlashStart(a: number): boolean {
    const before = this.hist(a - 1);
    if (!before) return false;
    const limit = this.params.flash_return_ratio * this.scores[a]!;
    for (let b = a + 1; b <= Math.min(a + this.flashFrames, this.scores.length - 1); b++) {
      const later = this.hist(b);
      if (later && histogramDistance(before, later) < limit) return true;
    }
    return false;
  }

  /** `d` is where a flash that started shortly before (a large change at a) comes back to the picture before a. */
  private isFlashEnd(d: number): boolean {
    const current = this.hist(d);
    if (!current) return false;
    for (let a = d - 1; a >= Math.max(1, d - this.flashFrames); a--) {
      const spike = this.scores[a]!;
      if (spike < this.params.min_score) continue;
      const before = this.hist(a - 1);
      if (before && histogramDistance(before, current) < this.params.flash_return_ratio * spike) return true;
    }
    return false;
  }

  private decide(d: number): CutDecision {
    const score = this.scores[d]!;
    const no = { index: d, cut: false, score };
    if (d === 0 || score < this.params.min_score) return no;
    if (score < this.params.strong_score) {
      const last = Math.min(this.scores.length - 1, d + this.lookahead);
      const neighbours: number[] = [];
      for (let j = Math.max(1, d - this.baselineFrames); j <= last; j++) if (j !== d) neighbours.push(this.scores[j]!);
      if (score < this.params.baseline_ratio * median(neighbours)) return no;
    }
    if (this.isFlashStart(d) || this.isFlashEnd(d)) return no;
    if (this.lastCut >= 0 && d - this.lastCut < this.minGapFrames) return no;
    this.lastCut = d;
    return { index: d, cut: true, score };
  }
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
