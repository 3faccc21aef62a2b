/**
 * Sampling policy (SAMPLING_POLICY_VERSION): per-component frame requirements as declared data, budgets scaled by
 * duration, the analysis timeline and size, and the nested uniform lattice every uniform sampler picks from.
 * Everything here is pure and deterministic; the online part (cut candidates, per-shot frames, dense windows)
 * is in selector.ts. See README.md ("Sampling policy").
 */
import { COMPONENT_NAMES, type ComponentName } from '../contracts/components.js';
import { TrendflowError } from '../contracts/errors.js';
import { SAMPLING_POLICY_VERSION } from '../contracts/version.js';

/** Declared budget of a component: min/max frames and the rate that gives the target (frames per second of video). */
export interface DeclaredBudget {
  min: number;
  max: number;
  per_sec: number;
}

/** What a component needs from the segmenter. */
export type SamplingRequirement =
  | {
      frames: 'sampled';
      budget: DeclaredBudget;
      /** Uniform over time from the shared nested lattice; always covers start, middle and end. */
      uniform: true;
      /** At least this many frames per candidate shot (0 = none). */
      per_shot: number;
      /** Dense window around each cut candidate c: frames c-before … c+after-1 (null = none). */
      dense_window: { before: number; after: number } | null;
      /** Each uniform anchor a also brings frame a+1 (motion pairs, optical flow). */
      pairs: boolean;
      /**
       * Share of the target kept free for event frames (per-shot, dense windows) when the target is at the max.
       * 0 for components without event strategies.
       */
      event_share: number;
      why: string;
    }
  | { frames: 'none'; why: string };

const uniformOnly = (budget: DeclaredBudget, why: string): SamplingRequirement => ({
  frames: 'sampled',
  budget,
  uniform: true,
  per_shot: 0,
  dense_window: null,
  pairs: false,
  event_share: 0,
  why,
});

/**
 * The requirement table, keyed by canonical component name (budgets from seed 002 §5; rates chosen so that a
 * component reaches its max at 12.5–16.7 minutes of video). Components that read other artifacts, audio or text
 * get no frames.
 */
export const SAMPLING_REQUIREMENTS: Readonly<Record<ComponentName, SamplingRequirement>> = {
  cut_detection: {
    frames: 'sampled',
    budget: { min: 400, max: 1500, per_sec: 2 },
    uniform: true,
    per_shot: 0,
    dense_window: { before: 2, after: 2 },
    pairs: false,
    event_share: 0.25,
    why: 'uniform frames for shot thumbnails and gradual transitions, plus the frames on both sides of every cut candidate',
  },
  core_clip: {
    frames: 'sampled',
    budget: { min: 200, max: 800, per_sec: 1 },
    uniform: true,
    per_shot: 1,
    dense_window: null,
    pairs: false,
    event_share: 0.25,
    why: 'seed 000: uniform over time covering start/middle/end, capped for long videos; one frame per candidate shot for per-shot features',
  },
  core_face_landmarks: uniformOnly(
    { min: 200, max: 800, per_sec: 1 },
    'seed 004: primary frame_indices uniform over the whole video (the component subsamples them for its detector itself)',
  ),
  core_depth_midas: uniformOnly({ min: 120, max: 400, per_sec: 0.5 }, 'depth summaries over time'),
  core_object_detections: uniformOnly({ min: 120, max: 400, per_sec: 0.5 }, 'object presence over time'),
  core_optical_flow: {
    frames: 'sampled',
    budget: { min: 120, max: 400, per_sec: 0.5 },
    uniform: true,
    per_shot: 0,
    dense_window: null,
    pairs: true,
    event_share: 0,
    why: 'flow needs consecutive analysis frames: uniform anchors a with their next frame a+1 (the budget counts frames, i.e. two per pair)',
  },
  shot_quality: {
    frames: 'sampled',
    budget: { min: 200, max: 1000, per_sec: 1 },
    uniform: true,
    per_shot: 1,
    dense_window: null,
    pairs: false,
    event_share: 0.25,
    why: 'per-frame and per-shot quality; its uniform frames contain core_clip’s (nested lattice) so CLIP scores exist for them',
  },
  scene_classification: { frames: 'none', why: 'reads core_clip and cut_detection artifacts' },
  video_pacing: { frames: 'none', why: 'reads cut_detection, the cheap signals (signals.npz) and loudness' },
  shot_sequence: { frames: 'none', why: 'reads core_clip, clap_extractor and cut_detection artifacts' },
  video_aggregates: { frames: 'none', why: 'reads other artifacts' },
  loudness_extractor: { frames: 'none', why: 'audio' },
  tempo_extractor: { frames: 'none', why: 'audio' },
  clap_extractor: { frames: 'none', why: 'audio' },
  text_processor: { frames: 'none', why: 'text' },
  temporal_snapshot_features: { frames: 'none', why: 'snapshots JSON' },
  targets_builder_multi_horizon: { frames: 'none', why: 'snapshots JSON' },
  prediction: { frames: 'none', why: 'reads features' },
};

/** Components that get frames, in table order. */
export const FRAME_COMPONENTS: readonly ComponentName[] = COMPONENT_NAMES.filter((name) => SAMPLING_REQUIREMENTS[name].frames === 'sampled');

/** Tunable parameters of the policy; every value is recorded in metadata.json. */
export interface PolicyParams {
  /** Requested analysis rate (frames per second on the real timeline). */
  analysis_fps: number;
  /** Target shorter side of the analysis frames (never upscaled). */
  analysis_short_side: number;
  /** The longer side is kept at or below this (very wide or tall videos). */
  analysis_max_long_side: number;
  /** Frames whose shorter side is below this are flagged `below_min_resolution` (not upscaled). */
  min_short_side: number;
  /** Longer side of the small signal stream. */
  signal_long_side: number;
  /** An analysis rate above the source's constant frame rate is lowered to the source rate (no duplicated frames). */
  cap_fps_at_source: boolean;
}

export const DEFAULT_POLICY_PARAMS: Readonly<PolicyParams> = {
  analysis_fps: 12,
  analysis_short_side: 360,
  analysis_max_long_side: 1280,
  min_short_side: 256,
  signal_long_side: 64,
  cap_fps_at_source: true,
};

/** Allowed ranges of the user-settable parameters. */
export const PARAM_LIMITS = {
  analysis_fps: { min: 0.1, max: 60 },
  analysis_short_side: { min: 16, max: 720 },
} as const;

export function checkPolicyParams(params: PolicyParams): void {
  const bad = (message: string): never => {
    throw new TrendflowError('invalid_argument', message);
  };
  const { analysis_fps: fps, analysis_short_side: side } = params;
  if (typeof fps !== 'number' || !Number.isFinite(fps) || fps < PARAM_LIMITS.analysis_fps.min || fps > PARAM_LIMITS.analysis_fps.max) {
    bad(`analysis fps must be a number in [${PARAM_LIMITS.analysis_fps.min}, ${PARAM_LIMITS.analysis_fps.max}], got ${fps}`);
  }
  if (!Number.isInteger(side) || side < PARAM_LIMITS.analysis_short_side.min || side > PARAM_LIMITS.analysis_short_side.max) {
    bad(`analysis short side must be an integer in [${PARAM_LIMITS.analysis_short_side.min}, ${PARAM_LIMITS.analysis_short_side.max}], got ${side}`);
  }
  if (!Number.isInteger(params.analysis_max_long_side) || params.analysis_max_long_side < side) {
    bad(`analysis max long side must be an integer ≥ the short side, got ${params.analysis_max_long_side}`);
  }
  if (!Number.isInteger(params.signal_long_side) || params.signal_long_side < 8 || params.signal_long_side > 256) {
    bad(`signal long side must be an integer in [8, 256], got ${params.signal_long_side}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Analysis size and rate

export interface Size {
  width: number;
  height: number;
}

/**
 * The analysis size for a display size (after rotation and pixel aspect): the shorter side scaled to
 * `shortSide`, aspect kept, never upscaled, the longer side at most `maxLongSide`. Odd sizes are fine (rgb24).
 */
export function analysisSize(display: Size, shortSide: number, maxLongSide: number): Size {
  const { width, height } = display;
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const scale = Math.min(1, shortSide / short, maxLongSide / long);
  if (scale >= 1) return { width, height };
  const scaled = (value: number): number => Math.max(1, Math.round(value * scale));
  // the side that defines the scale gets exactly its target, the other one is rounded
  return { width: scaled(width), height: scaled(height) };
}

/** The small signal stream: longer side `longSide`, aspect kept, never larger than the analysis frames. */
export function signalSize(analysis: Size, longSide: number): Size {
  const long = Math.max(analysis.width, analysis.height);
  if (long <= longSide) return { ...analysis };
  const scale = longSide / long;
  return { width: Math.max(1, Math.round(analysis.width * scale)), height: Math.max(1, Math.round(analysis.height * scale)) };
}

/**
 * Expected number of analysis frames: ffmpeg's fps filter (start_time=0, round=up) emits a frame for every
 * instant k/fps before the end of the video (its start offset plus its duration).
 */
export function expectedAnalysisFrames(endSec: number, fps: { num: number; den: number }): number {
  const frames = Math.ceil((endSec * fps.num) / fps.den - 1e-6);
  return Math.max(1, frames);
}

// ---------------------------------------------------------------------------------------------------------------
// Nested uniform lattice

/** Reverses the lowest `bits` bits of `value`. */
function bitReverse(value: number, bits: number): number {
  let out = 0;
  for (let b = 0; b < bits; b++) out = (out << 1) | ((value >> b) & 1);
  return out;
}

/**
 * Positions of the analysis timeline 0…frames-1 in lattice priority order: start, end, middle, then the quarter
 * points, the eighths, … (level k adds the odd multiples of 1/2^k, in bit-reversed order so that a partly used
 * level is spread evenly over the video), each mapped to the nearest frame, duplicates skipped. The first n
 * positions are the uniform sample of size n, so samples of different sizes are NESTED: a smaller one is always
 * contained in a larger one, and the union of every component's uniform frames is the largest of them.
 */
export function latticeOrder(frames: number, count: number): number[] {
  const n = Math.min(count, frames);
  const out: number[] = [];
  if (n <= 0) return out;
  const seen = new Uint8Array(frames);
  const take = (position: number): void => {
    if (out.length < n && !seen[position]) {
      seen[position] = 1;
      out.push(position);
    }
  };
  const last = frames - 1;
  take(0);
  take(last);
  for (let level = 1; out.length < n; level++) {
    const points = 2 ** (level - 1);
    const denominator = 2 ** level;
    const bits = level - 1;
    for (let r = 0; r < points && out.length < n; r++) {
      const j = bitReverse(r, bits);
      take(Math.round(((2 * j + 1) * last) / denominator));
    }
    // once a level's spacing is below half a frame every frame has been reached
    if (denominator > 4 * frames + 4) {
      for (let p = 0; p < frames && out.length < n; p++) take(p);
    }
  }
  return out;
}

/** The uniform sample of size `count` over `frames` analysis frames, sorted. */
export function uniformPicks(frames: number, count: number): number[] {
  return latticeOrder(frames, count).sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------------------------
// Budgets and the plan

export interface EffectiveBudget {
  min: number;
  target: number;
  max: number;
}

export interface ComponentPlan {
  name: ComponentName;
  requirement: Extract<SamplingRequirement, { frames: 'sampled' }>;
  budget: EffectiveBudget;
  /** Uniform frames (analysis indices, sorted); for pairs, the anchors and their next frames. */
  uniform: number[];
  /** Number of uniform lattice points (anchors for pairs). */
  uniform_count: number;
  /** Event frames (per-shot, dense windows) this component may add over the whole video. */
  event_allowance: number;
  /** Largest distance between consecutive uniform frames (analysis frames). */
  max_uniform_gap: number;
}

export interface SamplingPlan {
  policy_version: string;
  /** Analysis frames the plan was made for. */
  frames: number;
  duration_sec: number;
  components: ComponentPlan[];
  /** Size of the largest uniform sample (all other uniform samples are contained in it). */
  lattice_size: number;
  /** Upper bound of the union: every uniform frame plus every event allowance. */
  union_bound: number;
}

export function effectiveBudget(declared: DeclaredBudget, durationSec: number, frames: number): EffectiveBudget {
  const target = Math.min(Math.max(Math.round(durationSec * declared.per_sec), declared.min), declared.max);
  return { min: Math.min(declared.min, frames), target: Math.min(target, frames), max: Math.min(declared.max, frames) };
}

/**
 * The fixed part of the sampling, known before decoding: budgets, uniform frames and event allowances.
 * `frames` is the expected number of analysis frames.
 */
export function planSampling(components: readonly ComponentName[], durationSec: number, frames: number): SamplingPlan {
  const plans: ComponentPlan[] = [];
  for (const name of components) {
    const requirement = SAMPLING_REQUIREMENTS[name];
    if (requirement.frames !== 'sampled') continue;
    const budget = effectiveBudget(requirement.budget, durationSec, frames);
    let uniform: number[];
    let uniformCount: number;
    let allowance = 0;
    if (requirement.pairs) {
      // anchors from the shared lattice, each with its next frame (the last frame pairs with the one before it)
      uniformCount = Math.max(1, Math.floor(budget.target / 2));
      const anchors = uniformPicks(frames, uniformCount);
      uniform = [...new Set(anchors.flatMap((a) => (frames < 2 ? [a] : [a, a + 1 < frames ? a + 1 : a - 1])))].sort((a, b) => a - b);
    } else {
      const hasEvents = requirement.per_shot > 0 || requirement.dense_window !== null;
      const reserve = hasEvents ? Math.ceil(requirement.event_share * budget.target) : 0;
      uniformCount = Math.max(budget.min, Math.min(budget.target, budget.max - reserve));
      uniform = uniformPicks(frames, uniformCount);
      allowance = hasEvents ? Math.max(0, budget.max - uniform.length) : 0;
    }
    let gap = 0;
    for (let k = 1; k < uniform.length; k++) gap = Math.max(gap, uniform[k]! - uniform[k - 1]!);
    plans.push({
      name,
      requirement,
      budget,
      uniform,
      uniform_count: uniformCount,
      event_allowance: allowance,
      max_uniform_gap: Math.max(gap, 1),
    });
  }
  const latticeSize = Math.max(0, ...plans.map((p) => p.uniform_count));
  // pair partners are the only uniform frames outside the lattice
  const pairFrames = plans.filter((p) => p.requirement.pairs).reduce((sum, p) => sum + p.uniform.length - p.uniform_count, 0);
  const unionBound = Math.min(frames, latticeSize + pairFrames + plans.reduce((sum, p) => sum + p.event_allowance, 0));
  return {
    policy_version: SAMPLING_POLICY_VERSION,
    frames,
    duration_sec: durationSec,
    components: plans,
    lattice_size: latticeSize,
    union_bound: unionBound,
  };
}

/** Event frames a component may have added by the time analysis frame `index` is decided. */
export function allowedEvents(allowance: number, index: number, frames: number): number {
  if (allowance <= 0) return 0;
  const slack = Math.min(allowance, Math.max(4, Math.ceil(0.1 * allowance)));
  return Math.min(allowance, Math.floor((allowance * (index + 1)) / Math.max(frames, 1)) + slack);
}
