/**
 * The tabular aggregate set (seed 002 §7; README.md lists every feature with its definition). Each feature is
 * computed from the artifacts that exist; a feature whose input is missing (or undefined for this video, e.g. a
 * face size on a faceless video) is NaN with `feature_present` False, never a zero placeholder. Changing, adding,
 * removing or reordering a feature is a new AGGREGATE_FEATURE_SET_VERSION.
 */
import type { ComponentName } from '../../contracts/components.js';
import { nanMean, nanPercentile, nanStd } from '../common/stats.js';

export const AGGREGATE_FEATURE_SET_VERSION = 'aggregates_features_v1';

export const FEATURE_GROUPS = ['quality', 'pacing', 'motion', 'audio_energy', 'diversity', 'faces'] as const;
export type FeatureGroup = (typeof FEATURE_GROUPS)[number];

/** Thresholds of the share features (README.md). */
export const THRESHOLDS = {
  /** A shot whose CLIP professional-vs-amateur score is below this is a "bad" shot. */
  bad_shot_professional: 0.5,
  /** A shot whose mean luma is below this is dark. */
  dark_shot_luma: 0.25,
  /** A grid bin whose motion proxy is below this is static. */
  static_motion: 0.01,
  /** A grid bin quieter than this (LUFS) is silent. */
  silent_lufs: -60,
  /** Two shot embeddings at least this similar (cosine) repeat each other. */
  repeat_cosine: 0.95,
  /** Shot embeddings at least this similar (cosine) fall in one visual cluster. */
  cluster_cosine: 0.9,
  /** A face covering at least this share of the frame is a close-up. */
  closeup_area: 0.1,
} as const;

/** What the features are computed from, read from the upstream artifacts (README.md, "Inputs"). */
export interface AggregateInputs {
  quality: {
    /** Per shot: image metrics by name and CLIP pair scores by name (NaN rows where the shot has none). */
    shotImage: (name: string) => number[];
    shotClip: ((name: string) => number[]) | null;
    /** Per analysed frame (frame_face_measured): face count, and per frame with a face: area share, centre offset. */
    faceMeasured: boolean;
    faceCounts: number[];
    faceAreas: number[];
    faceOffsets: number[];
  } | null;
  pacing: {
    feature: (name: string) => number;
    motion: number[];
    flow: number[] | null;
    loudness: number[] | null;
  } | null;
  /** Unit-length frame embeddings of core_clip. */
  clipFrames: number[][] | null;
  /** Unit-length E_shot of the tokens that have one, in time order. */
  shotEmbeddings: number[][] | null;
  scenes: {
    /** The video's label distribution (sums to 1). */
    distribution: number[];
    /** Top-1 label of each shot that has one, in time order. */
    shotTop1: number[];
  } | null;
}

export interface FeatureSpec {
  name: string;
  group: FeatureGroup;
  /** The components whose artifacts it needs. */
  sources: readonly ComponentName[];
  compute(inputs: AggregateInputs): number;
}

const share = (values: number[], test: (v: number) => boolean): number => {
  const finite = values.filter((v) => !Number.isNaN(v));
  return finite.length ? finite.filter(test).length / finite.length : Number.NaN;
};

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  for (let k = 0; k < a.length; k++) dot += a[k]! * b[k]!;
  return dot;
}

/** Normalized Shannon entropy of a distribution, in [0, 1] (1 = uniform). */
function normalizedEntropy(distribution: number[]): number {
  if (distribution.length < 2) return Number.NaN;
  const h = distribution.reduce((sum, p) => (p > 0 ? sum - p * Math.log(p) : sum), 0);
  return h / Math.log(distribution.length);
}

/** Greedy leader clustering: each embedding joins the first cluster whose leader it matches, else leads a new one. */
function clusterCount(embeddings: number[][], threshold: number): number {
  const leaders: number[][] = [];
  for (const e of embeddings) if (!leaders.some((l) => cosine(l, e) >= threshold)) leaders.push(e);
  return leaders.length;
}

const q = (f: (quality: NonNullable<AggregateInputs['quality']>) => number) => (inputs: AggregateInputs) => (inputs.quality ? f(inputs.quality) : Number.NaN);
const clipQ = (f: (clip: (name: string) => number[]) => number) => q((quality) => (quality.shotClip ? f(quality.shotClip) : Number.NaN));
const faces = (f: (quality: NonNullable<AggregateInputs['quality']>) => number) => q((quality) => (quality.faceMeasured ? f(quality) : Number.NaN));
const p = (f: (pacing: NonNullable<AggregateInputs['pacing']>) => number) => (inputs: AggregateInputs) => (inputs.pacing ? f(inputs.pacing) : Number.NaN);
const pacingFeature = (name: string, as = name): FeatureSpec => ({ name: as, group: 'pacing', sources: ['video_pacing'], compute: p((pacing) => pacing.feature(name)) });
const shots = (f: (embeddings: number[][]) => number) => (inputs: AggregateInputs) => (inputs.shotEmbeddings && inputs.shotEmbeddings.length > 0 ? f(inputs.shotEmbeddings) : Number.NaN);
const scenes = (f: (s: NonNullable<AggregateInputs['scenes']>) => number) => (inputs: AggregateInputs) => (inputs.scenes ? f(inputs.scenes) : Number.NaN);

const SHOT_QUALITY = ['shot_quality'] as const;
const CLIP_QUALITY = ['shot_quality', 'core_clip'] as const;
const FACES = ['shot_quality', 'core_face_landmarks'] as const;

export const AGGREGATE_FEATURES: readonly FeatureSpec[] = [
  // quality: per shot from shot_quality, each shot counted once
  { name: 'quality_professional_mean', group: 'quality', sources: CLIP_QUALITY, compute: clipQ((c) => nanMean(c('clip_professional'))) },
  { name: 'quality_professional_median', group: 'quality', sources: CLIP_QUALITY, compute: clipQ((c) => nanPercentile(c('clip_professional'), 50)) },
  { name: 'quality_professional_p10', group: 'quality', sources: CLIP_QUALITY, compute: clipQ((c) => nanPercentile(c('clip_professional'), 10)) },
  { name: 'quality_professional_p90', group: 'quality', sources: CLIP_QUALITY, compute: clipQ((c) => nanPercentile(c('clip_professional'), 90)) },
  { name: 'quality_bad_shot_share', group: 'quality', sources: CLIP_QUALITY, compute: clipQ((c) => share(c('clip_professional'), (v) => v < THRESHOLDS.bad_shot_professional)) },
  { name: 'quality_sharp_mean', group: 'quality', sources: CLIP_QUALITY, compute: clipQ((c) => nanMean(c('clip_sharp'))) },
  { name: 'quality_well_exposed_mean', group: 'quality', sources: CLIP_QUALITY, compute: clipQ((c) => nanMean(c('clip_well_exposed'))) },
  { name: 'sharpness_laplacian_median', group: 'quality', sources: SHOT_QUALITY, compute: q((s) => nanPercentile(s.shotImage('sharpness_laplacian_var'), 50)) },
  { name: 'sharpness_laplacian_p10', group: 'quality', sources: SHOT_QUALITY, compute: q((s) => nanPercentile(s.shotImage('sharpness_laplacian_var'), 10)) },
  { name: 'luma_mean', group: 'quality', sources: SHOT_QUALITY, compute: q((s) => nanMean(s.shotImage('luma_mean'))) },
  { name: 'luma_std_across_shots', group: 'quality', sources: SHOT_QUALITY, compute: q((s) => nanStd(s.shotImage('luma_mean'))) },
  { name: 'dark_shot_share', group: 'quality', sources: SHOT_QUALITY, compute: q((s) => share(s.shotImage('luma_mean'), (v) => v < THRESHOLDS.dark_shot_luma)) },
  { name: 'shadows_clipped_mean', group: 'quality', sources: SHOT_QUALITY, compute: q((s) => nanMean(s.shotImage('shadows_clipped_share'))) },
  { name: 'highlights_clipped_mean', group: 'quality', sources: SHOT_QUALITY, compute: q((s) => nanMean(s.shotImage('highlights_clipped_share'))) },
  { name: 'contrast_rms_mean', group: 'quality', sources: SHOT_QUALITY, compute: q((s) => nanMean(s.shotImage('contrast_rms'))) },
  { name: 'colourfulness_mean', group: 'quality', sources: SHOT_QUALITY, compute: q((s) => nanMean(s.shotImage('colourfulness'))) },
  { name: 'noise_sigma_mean', group: 'quality', sources: SHOT_QUALITY, compute: q((s) => nanMean(s.shotImage('noise_sigma'))) },
  // pacing: video_pacing's shot-length statistics
  pacingFeature('duration_sec'),
  pacingFeature('shot_count'),
  pacingFeature('shots_per_min'),
  pacingFeature('cuts_per_min'),
  pacingFeature('shot_duration_mean_sec'),
  pacingFeature('shot_duration_median_sec'),
  pacingFeature('shot_duration_p10_sec'),
  pacingFeature('shot_duration_p90_sec'),
  pacingFeature('short_shot_share'),
  pacingFeature('long_shot_share'),
  pacingFeature('hard_cut_share'),
  pacingFeature('gradual_transition_share'),
  pacingFeature('cut_rate_max_per_min'),
  pacingFeature('cut_rate_std_per_min'),
  // motion: video_pacing's curves
  { name: 'motion_energy_mean', group: 'motion', sources: ['video_pacing'], compute: p((s) => nanMean(s.motion)) },
  { name: 'motion_energy_std', group: 'motion', sources: ['video_pacing'], compute: p((s) => nanStd(s.motion)) },
  { name: 'motion_energy_p90', group: 'motion', sources: ['video_pacing'], compute: p((s) => nanPercentile(s.motion, 90)) },
  { name: 'static_share', group: 'motion', sources: ['video_pacing'], compute: p((s) => share(s.motion, (v) => v < THRESHOLDS.static_motion)) },
  { name: 'flow_motion_energy_mean', group: 'motion', sources: ['video_pacing', 'core_optical_flow'], compute: p((s) => (s.flow ? nanMean(s.flow) : Number.NaN)) },
  { name: 'flow_motion_energy_p90', group: 'motion', sources: ['video_pacing', 'core_optical_flow'], compute: p((s) => (s.flow ? nanPercentile(s.flow, 90) : Number.NaN)) },
  // audio energy over time: video_pacing's loudness curve (the levels themselves are loudness_extractor's features)
  {
    name: 'loudness_curve_std_lu',
    group: 'audio_energy',
    sources: ['video_pacing', 'loudness_extractor'],
    compute: p((s) => (s.loudness ? nanStd(s.loudness.filter((l) => l >= THRESHOLDS.silent_lufs)) : Number.NaN)),
  },
  {
    name: 'silent_share',
    group: 'audio_energy',
    sources: ['video_pacing', 'loudness_extractor'],
    compute: p((s) => (s.loudness ? share(s.loudness, (l) => l < THRESHOLDS.silent_lufs) : Number.NaN)),
  },
  // diversity and repetition of the pictures
  {
    name: 'visual_dispersion',
    group: 'diversity',
    sources: ['core_clip'],
    compute: (inputs) => {
      const frames = inputs.clipFrames;
      if (!frames || frames.length === 0) return Number.NaN;
      const mean = frames[0]!.map((_, k) => frames.reduce((sum, f) => sum + f[k]!, 0) / frames.length);
      return 1 - Math.hypot(...mean);
    },
  },
  {
    name: 'adjacent_shot_distance_mean',
    group: 'diversity',
    sources: ['shot_sequence', 'core_clip'],
    compute: shots((e) => (e.length < 2 ? Number.NaN : nanMean(e.slice(1).map((v, k) => 1 - cosine(v, e[k]!))))),
  },
  {
    name: 'repetition_ratio',
    group: 'diversity',
    sources: ['shot_sequence', 'core_clip'],
    compute: shots((e) => (e.length < 3 ? Number.NaN : e.filter((v, i) => e.some((w, j) => Math.abs(i - j) > 1 && cosine(v, w) >= THRESHOLDS.repeat_cosine)).length / e.length)),
  },
  { name: 'unique_shot_share', group: 'diversity', sources: ['shot_sequence', 'core_clip'], compute: shots((e) => clusterCount(e, THRESHOLDS.cluster_cosine) / e.length) },
  { name: 'scene_entropy', group: 'diversity', sources: ['scene_classification'], compute: scenes((s) => normalizedEntropy(s.distribution)) },
  { name: 'scene_top1_share', group: 'diversity', sources: ['scene_classification'], compute: scenes((s) => Math.max(...s.distribution)) },
  { name: 'scene_unique_top1_count', group: 'diversity', sources: ['scene_classification'], compute: scenes((s) => (s.shotTop1.length ? new Set(s.shotTop1).size : Number.NaN)) },
  {
    name: 'scene_change_share',
    group: 'diversity',
    sources: ['scene_classification'],
    compute: scenes((s) => (s.shotTop1.length < 2 ? Number.NaN : s.shotTop1.slice(1).filter((label, k) => label !== s.shotTop1[k]).length / (s.shotTop1.length - 1))),
  },
  // faces: shot_quality's per-frame face features (0 faces on an analysed frame is a measurement)
  { name: 'face_time_share', group: 'faces', sources: FACES, compute: faces((s) => share(s.faceCounts, (c) => c > 0)) },
  { name: 'face_count_mean', group: 'faces', sources: FACES, compute: faces((s) => nanMean(s.faceCounts)) },
  { name: 'multi_face_share', group: 'faces', sources: FACES, compute: faces((s) => share(s.faceCounts, (c) => c >= 2)) },
  { name: 'face_area_share_mean', group: 'faces', sources: FACES, compute: faces((s) => nanMean(s.faceAreas)) },
  { name: 'face_closeup_share', group: 'faces', sources: FACES, compute: faces((s) => share(s.faceAreas, (a) => a >= THRESHOLDS.closeup_area)) },
  { name: 'face_center_offset_mean', group: 'faces', sources: FACES, compute: faces((s) => nanMean(s.faceOffsets)) },
];
