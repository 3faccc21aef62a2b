/**
 * Shot boundaries from the Segmenter's cut candidates and the content of the frames stored around them
 * (README.md, "Algorithm"). Pure: works on frame descriptors and the cheap signals, reads no files.
 *
 * Gradual transitions are found with the twin-comparison idea (Zhang, Kankanhalli & Smoliar 1993: a transition is
 * a run of steps that each change the picture a little and together change it a lot) and told apart from camera
 * or object motion by the blend model of dissolves and fades (Lienhart 2001; Alattar 1993 for fades): inside a
 * transition every frame is a mix (1 − t)·A + t·B of the frames on both sides, with t rising from 0 to 1.
 */
import { histogramDistance } from '../../segmenter/signals.js';
import { rmsDistance, type FrameDescriptor } from './descriptors.js';

export const TRANSITION_TYPES = ['hard_cut', 'dissolve', 'fade'] as const;
export type TransitionType = (typeof TRANSITION_TYPES)[number];

export const REJECTION_REASONS = ['flash', 'weak', 'inside_transition', 'same_picture'] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export interface CutDetectionParams {
  /** Longest gradual transition, seconds (fade-out + blank + fade-in counts as one). */
  max_transition_sec: number;
  /** Largest part of a frame the blend (1 − t)·A + t·B may leave unexplained, relative to |B − A|. */
  max_blend_residual: number;
  /** A window whose largest single step carries at least this share of the change is abrupt, not gradual. */
  hard_cut_share: number;
  /** The two sides of a transition must differ at least this much (RMS of the thumbnails, 0–1). */
  min_transition_change: number;
  /** Each side of a dissolve changes at most this share of the dissolve's change over as long a time. */
  max_side_drift: number;
  /** A blank frame (the middle of a fade): luma standard deviation below this and luma below/above these. */
  blank_max_luma_std: number;
  blank_dark_luma: number;
  blank_bright_luma: number;
  /** A longer blank run is a shot of its own, not the middle of a fade. */
  max_blank_sec: number;
  /** A candidate whose picture comes back within this time (to nearer than flash_return_ratio × the change) is a flash. */
  flash_max_sec: number;
  flash_return_ratio: number;
  /** A hard-cut candidate whose step changes the thumbnail less than this (RMS) is rejected as weak... */
  min_cut_change: number;
  /** ...unless it also stands out this many times above the steps of its neighbourhood. */
  min_cut_ratio: number;
  /** Neighbourhood of a candidate for its within-shot baseline, seconds on each side. */
  baseline_window_sec: number;
}

export const DEFAULT_CUT_DETECTION_PARAMS: Readonly<CutDetectionParams> = {
  max_transition_sec: 2.5,
  max_blend_residual: 0.3,
  hard_cut_share: 0.6,
  min_transition_change: 0.06,
  max_side_drift: 0.5,
  blank_max_luma_std: 0.03,
  blank_dark_luma: 0.1,
  blank_bright_luma: 0.9,
  max_blank_sec: 1,
  flash_max_sec: 0.25,
  flash_return_ratio: 0.5,
  min_cut_change: 0.03,
  min_cut_ratio: 2,
  baseline_window_sec: 1,
};

export interface Boundary {
  /** Analysis-timeline index of the first frame of the new shot. */
  index: number;
  type: TransitionType;
  /** In [0, 1]; see README.md ("Confidence"). */
  confidence: number;
  /** Analysis-timeline span of the transition: the last frame that is purely the old shot … the first purely new one. */
  spanStart: number;
  spanEnd: number;
  /** False when the frames around the boundary were not stored (the Segmenter refused the events): signals only. */
  verified: boolean;
}

export interface Rejection {
  index: number;
  reason: RejectionReason;
}

export interface DetectionInput {
  analysisFps: number;
  /** Analysis frames on the timeline. */
  frameCount: number;
  /** The Segmenter's cut candidates (first frame of the new shot, hist_diff at it). */
  candidates: ReadonlyArray<{ index: number; score: number }>;
  /** Descriptors of the stored frames, sorted by analysis index, unique. */
  frames: readonly FrameDescriptor[];
}

export interface DetectionResult {
  boundaries: Boundary[];
  rejected: Rejection[];
}

/** Widths (stored frames) by which a window is widened on each side when a dissolve is searched for. */
const WINDOW_OFFSETS = [0, 1, 2, 3, 4, 6, 8, 11, 15, 20, 26, 33];

const clamp01 = (value: number): number => Math.min(1, Math.max(0, value));

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Where each intermediate frame of a window lies on the blend from its first frame A to its last frame B. */
interface BlendFit {
  /** Progress t of each intermediate frame (0 = A, 1 = B), in window order. */
  progress: number[];
  /** |frame − ((1 − t)·A + t·B)| / |B − A| of each intermediate frame. */
  residual: number[];
  /** RMS distance of A and B. */
  change: number;
}

export class CutDetector {
  private readonly frames: readonly FrameDescriptor[];
  private readonly position = new Map<number, number>();
  private readonly fps: number;

  constructor(
    private readonly input: DetectionInput,
    private readonly params: CutDetectionParams = DEFAULT_CUT_DETECTION_PARAMS,
  ) {
    this.frames = input.frames;
    this.fps = input.analysisFps;
    this.frames.forEach((frame, k) => this.position.set(frame.analysisIndex, k));
  }

  run(): DetectionResult {
    const rejected: Rejection[] = [];
    const gradual = this.fades(rejected);
    const hard: Boundary[] = [];
    for (const candidate of this.input.candidates) {
      if (gradual.some((g) => candidate.index > g.spanStart && candidate.index <= g.spanEnd)) {
        rejected.push({ index: candidate.index, reason: 'inside_transition' });
        continue;
      }
      const found = this.examine(candidate, rejected);
      if (found) (found.type === 'hard_cut' ? hard : gradual).push(found);
    }
    gradual.push(...this.dissolvesWithoutCandidates([...gradual, ...hard]));
    const merged = mergeOverlapping(gradual);
    const boundaries: Boundary[] = [...merged];
    for (const cut of hard) {
      if (merged.some((g) => cut.index > g.spanStart && cut.index <= g.spanEnd)) rejected.push({ index: cut.index, reason: 'inside_transition' });
      else boundaries.push(cut);
    }
    boundaries.sort((a, b) => a.index - b.index);
    rejected.sort((a, b) => a.index - b.index);
    return { boundaries: boundaries.filter((b) => b.index > 0 && b.index < this.input.frameCount), rejected };
  }

  // ---- the blend model

  /**
   * The blend fit of the window [a, b] (positions in the stored frames), or null as soon as it fails: the ends
   * too alike, or an intermediate frame off the blend (residual above max_blend_residual) or out of order.
   */
  private blendFit(a: number, b: number): BlendFit | null {
    const A = this.frames[a]!.pixels;
    const B = this.frames[b]!.pixels;
    let norm = 0;
    for (let i = 0; i < A.length; i++) norm += (B[i]! - A[i]!) ** 2;
    const change = Math.sqrt(norm / A.length);
    if (change < this.params.min_transition_change) return null;
    const slack = 0.1;
    const progress: number[] = [];
    const residual: number[] = [];
    let reached = 0;
    for (let j = a + 1; j < b; j++) {
      const M = this.frames[j]!.pixels;
      let dot = 0;
      let away = 0;
      for (let i = 0; i < A.length; i++) {
        const m = M[i]! - A[i]!;
        dot += m * (B[i]! - A[i]!);
        away += m * m;
      }
      const t = dot / norm;
      // |M − A − t(B − A)|² = |M − A|² − dot² / |B − A|²
      const r = Math.sqrt(Math.max(0, away - dot * t) / norm);
      if (r > this.params.max_blend_residual || t < reached - slack || t > 1 + slack) return null;
      reached = Math.max(reached, t);
      progress.push(t);
      residual.push(r);
    }
    return { progress, residual, change };
  }

  private span(a: number, b: number): number {
    return (this.frames[b]!.analysisIndex - this.frames[a]!.analysisIndex) / this.fps;
  }

  /**
   * The best blend window [a, b] with a in `lefts` and b in `rights` (positions in the stored frames): every
   * intermediate frame a blend of the ends, the change spread over several steps (no step carries hard_cut_share
   * of it). Windows come from a coarse grid of widths: a greedy one-frame growth fails on slow transitions, whose
   * per-frame change is smaller than the motion inside the shots. The largest change × linearity wins, the
   * shortest of near-equals, so a window does not run on into the shots around the transition.
   */
  private bestBlend(lefts: readonly number[], rights: readonly number[], minIntermediate: number): { a: number; b: number; fit: BlendFit } | null {
    let best: { a: number; b: number; fit: BlendFit; score: number } | null = null;
    for (const a of lefts) {
      for (const b of rights) {
        if (b - a - 1 < minIntermediate || this.span(a, b) > this.params.max_transition_sec) continue;
        const fit = this.blendFit(a, b);
        if (!fit) continue;
        const steps = [...fit.progress, 1].map((t, k) => t - (k === 0 ? 0 : fit.progress[k - 1]!));
        if (Math.max(...steps) >= this.params.hard_cut_share) continue;
        const score = fit.change * this.linearity(fit.residual);
        const better = !best || score > best.score * 1.05 || (score >= best.score * 0.95 && b - a < best.b - best.a);
        if (better) best = { a, b, fit, score };
      }
    }
    return best;
  }

  /** Positions from `from` outwards by the window grid, inside the stored frames. */
  private offsets(from: number, direction: -1 | 1): number[] {
    return WINDOW_OFFSETS.map((o) => from + direction * o).filter((k) => k >= 0 && k < this.frames.length);
  }

  /** Blend residuals mapped to [0, 1]: 1 for a perfect blend, 0 at max_blend_residual. */
  private linearity(residuals: number[]): number {
    if (residuals.length === 0) return 0;
    return clamp01(1 - residuals.reduce((sum, r) => sum + r, 0) / residuals.length / this.params.max_blend_residual);
  }

  /** How far the change between the two sides exceeds the minimum, in [0, 1]. */
  private magnitude(change: number): number {
    return Math.min(1, change / (2 * this.params.min_transition_change));
  }

  // ---- fades through a blank frame

  private isBlank(frame: FrameDescriptor): boolean {
    const p = this.params;
    return frame.lumaStd <= p.blank_max_luma_std && (frame.lumaMean <= p.blank_dark_luma || frame.lumaMean >= p.blank_bright_luma);
  }

  /** Short runs of blank frames between two different pictures, with the fade-out and fade-in ramps around them. */
  private fades(rejected: Rejection[]): Boundary[] {
    const found: Boundary[] = [];
    const frames = this.frames;
    for (let k0 = 1; k0 < frames.length - 1; k0++) {
      if (!this.isBlank(frames[k0]!) || this.isBlank(frames[k0 - 1]!)) continue;
      let k1 = k0;
      while (k1 + 1 < frames.length && this.isBlank(frames[k1 + 1]!)) k1++;
      if (k1 === frames.length - 1 || this.span(k0, k1) > this.params.max_blank_sec) continue;
      // fade-out: frames before the blank run are blends of the last pure frame and the blank; fade-in likewise
      const out = this.bestBlend(this.offsets(k0 - 1, -1), [k0], 1);
      const into = this.bestBlend([k1], this.offsets(k1 + 1, 1), 1);
      const a = out ? out.a : k0 - 1;
      const b = into ? into.b : k1 + 1;
      const middle = frames[Math.ceil((k0 + k1) / 2)]!.analysisIndex;
      const spanStart = frames[a]!.analysisIndex;
      const spanEnd = frames[b]!.analysisIndex;
      const change = rmsDistance(frames[a]!, frames[b]!);
      const candidate = this.input.candidates.some((c) => c.index > spanStart && c.index <= spanEnd);
      // without ramps, a blank picture that the Segmenter saw come back (no candidate) is a flash, not a dip to black
      const reason: RejectionReason | null = change < this.params.min_transition_change ? (out || into ? 'same_picture' : 'flash') : !out && !into && !candidate ? 'flash' : null;
      if (reason) {
        // a candidate inside the span is examined on its own and reports its own reason
        if (!candidate) rejected.push({ index: middle, reason });
        k0 = k1;
        continue;
      }
      const residuals = [...(out?.fit.residual ?? []), ...(into?.fit.residual ?? [])];
      // a cut to black and back without ramps is still a dip to black between two shots, with less certainty
      const ramps = residuals.length > 0 ? 0.5 + 0.5 * this.linearity(residuals) : 0.5;
      found.push({ index: middle, type: 'fade', confidence: clamp01(ramps * this.magnitude(change)), spanStart, spanEnd, verified: true });
      k0 = k1;
    }
    return found;
  }

  // ---- dissolves the cheap signals missed (each step too small for a candidate)

  /**
   * Local maxima of the change across one second (the frames half a second before and after) that no boundary
   * explains seed a growth; only a window that is a blend becomes a dissolve, so camera motion never does.
   */
  private dissolvesWithoutCandidates(known: readonly Boundary[]): Boundary[] {
    const half = Math.max(1, Math.round(0.5 * this.fps));
    const frames = this.frames;
    const change = frames.map((frame) => {
      const before = this.nearestAtOrBefore(frame.analysisIndex - half);
      const after = this.nearestAtOrAfter(frame.analysisIndex + half);
      return before === null || after === null ? 0 : rmsDistance(frames[before]!, frames[after]!);
    });
    const near = (index: number) => known.some((b) => index >= b.spanStart - half && index <= b.spanEnd + half);
    const found: Boundary[] = [];
    for (let k = 1; k < frames.length - 1; k++) {
      const value = change[k]!;
      if (value < 2 * this.params.min_transition_change || value < change[k - 1]! || value < change[k + 1]!) continue;
      const index = frames[k]!.analysisIndex;
      if (near(index) || found.some((b) => index >= b.spanStart && index <= b.spanEnd)) continue;
      const gradual = this.gradualAround(k - 1, k);
      if (gradual) found.push(gradual);
    }
    return found;
  }

  private nearestAtOrBefore(index: number): number | null {
    for (let i = index; i >= Math.max(0, index - Math.round(this.fps)); i--) {
      const k = this.position.get(i);
      if (k !== undefined) return k;
    }
    return null;
  }

  private nearestAtOrAfter(index: number): number | null {
    for (let i = index; i <= Math.min(this.input.frameCount - 1, index + Math.round(this.fps)); i++) {
      const k = this.position.get(i);
      if (k !== undefined) return k;
    }
    return null;
  }

  /** The dissolve that the step between stored positions a0 and b0 belongs to, if there is one. */
  private gradualAround(a0: number, b0: number): Boundary | null {
    const best = this.bestBlend(this.offsets(a0, -1), this.offsets(b0, 1), 2);
    if (!best) return null;
    const { a, b, fit } = best;
    // a dissolve joins two pictures that each change less on their own over as long a time; a zoom or a slow pan
    // is a smooth change too, but one that goes on before and after the window
    const start = this.frames[a]!.analysisIndex;
    const end = this.frames[b]!.analysisIndex;
    const length = end - start;
    // not across another candidate: the side is the shot next to the dissolve
    const previous = Math.max(start - length, ...this.input.candidates.filter((c) => c.index <= start).map((c) => c.index));
    const next = Math.min(end + length, ...this.input.candidates.filter((c) => c.index > end).map((c) => c.index - 1));
    const before = this.nearestAtOrAfter(previous);
    const after = this.nearestAtOrBefore(next);
    const drift = Math.max(
      before === null || before >= a ? 0 : rmsDistance(this.frames[before]!, this.frames[a]!),
      after === null || after <= b ? 0 : rmsDistance(this.frames[b]!, this.frames[after]!),
    );
    if (drift > this.params.max_side_drift * fit.change) return null;
    const half = fit.progress.findIndex((t) => t >= 0.5);
    return {
      index: this.frames[half === -1 ? b : a + 1 + half]!.analysisIndex,
      type: 'dissolve',
      confidence: clamp01(this.linearity(fit.residual) * this.magnitude(fit.change)),
      spanStart: this.frames[a]!.analysisIndex,
      spanEnd: this.frames[b]!.analysisIndex,
      verified: true,
    };
  }

  // ---- one candidate

  private examine(candidate: { index: number; score: number }, rejected: Rejection[]): Boundary | null {
    const c = candidate.index;
    const s = this.position.get(c);
    const before = this.position.get(c - 1);
    if (s === undefined || before === undefined) {
      // the frames around the candidate were not stored: the Segmenter's decision stands, on signals only
      return { index: c, type: 'hard_cut', confidence: clamp01(candidate.score), spanStart: c - 1, spanEnd: c, verified: false };
    }
    const gradual = this.gradualAround(before, s);
    if (gradual) return gradual;
    return this.hardCut(candidate, before, s, rejected);
  }

  private hardCut(candidate: { index: number; score: number }, before: number, s: number, rejected: Rejection[]): Boundary | null {
    const p = this.params;
    const c = candidate.index;
    const frames = this.frames;
    const step = rmsDistance(frames[before]!, frames[s]!);
    // a flash: the picture after the candidate comes back to the one before it
    const flashFrames = Math.max(1, Math.round(p.flash_max_sec * this.fps));
    for (let j = 1; j <= flashFrames; j++) {
      const later = this.position.get(c + j);
      if (later === undefined) continue;
      if (rmsDistance(frames[before]!, frames[later]!) < p.flash_return_ratio * step) {
        rejected.push({ index: c, reason: 'flash' });
        return null;
      }
    }
    // the within-shot baseline: steps between consecutive analysis frames near the candidate, the candidate excluded
    const radius = Math.round(p.baseline_window_sec * this.fps);
    const neighbours: number[] = [];
    for (let i = c - radius; i <= c + radius; i++) {
      if (i === c) continue;
      const k = this.position.get(i);
      const previous = this.position.get(i - 1);
      if (k !== undefined && previous !== undefined) neighbours.push(rmsDistance(frames[previous]!, frames[k]!));
    }
    const baseline = median(neighbours);
    // the floor keeps a perfectly still neighbourhood (baseline 0) from turning encoder noise into a huge ratio
    const ratio = Number.isNaN(baseline) ? Number.NaN : step / Math.max(baseline, p.min_cut_change / 4);
    if (step < p.min_cut_change && !(ratio >= p.min_cut_ratio)) {
      rejected.push({ index: c, reason: 'weak' });
      return null;
    }
    const histogram = histogramDistance(frames[before]!.hist, frames[s]!.hist);
    const standsOut = Number.isNaN(ratio) ? 0.5 : clamp01((ratio - 1) / 4);
    return {
      index: c,
      type: 'hard_cut',
      confidence: clamp01(0.25 * Math.min(1, histogram / 0.5) + 0.25 * Math.min(1, step / 0.2) + 0.5 * standsOut),
      spanStart: c - 1,
      spanEnd: c,
      verified: true,
    };
  }
}

/** Gradual transitions whose spans overlap (several candidates inside one dissolve) become one. */
function mergeOverlapping(transitions: Boundary[]): Boundary[] {
  const sorted = [...transitions].sort((a, b) => a.spanStart - b.spanStart);
  const out: Boundary[] = [];
  for (const t of sorted) {
    const last = out[out.length - 1];
    if (last && t.spanStart < last.spanEnd) {
      const keep = t.confidence > last.confidence ? t : last;
      out[out.length - 1] = { ...keep, spanStart: Math.min(last.spanStart, t.spanStart), spanEnd: Math.max(last.spanEnd, t.spanEnd) };
    } else {
      out.push(t);
    }
  }
  return out;
}
