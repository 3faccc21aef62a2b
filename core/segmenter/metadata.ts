/**
 * frames_dir/metadata.json: what the segmenter stored and why (DESIGN.md §6, seed 002 §5). Written last, so a
 * folder without it is never a finished frames_dir. Component entries sit at the top level under their canonical
 * names (`meta["core_clip"]["frame_indices"]`, the seeds' contract); `components` lists which are present.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isComponentName, type ComponentName } from '../contracts/components.js';
import { TrendflowError } from '../contracts/errors.js';
import type { CutParams } from './signals.js';
import type { DeclaredBudget, EffectiveBudget, PolicyParams } from './policy.js';

export const FRAMES_DIR_FORMAT = 'trendflow_frames_dir';
export const FRAMES_DIR_FORMAT_VERSION = 1;
export const METADATA_FILE = 'metadata.json';
export const FRAMES_FILE = 'frames.npy';
export const SIGNALS_FILE = 'signals.npz';
export const SEGMENTER_PRODUCER = 'segmenter';
/** Version of the segmenter code (the policy has its own SAMPLING_POLICY_VERSION). */
export const SEGMENTER_VERSION = '1.0.0';

export interface SourceInfo {
  path: string;
  size_bytes: number;
  format: string;
  duration_sec: number;
  /** Mean frame rate (see core/video README: for variable rate, frames ÷ duration). */
  fps: number | null;
  is_variable_frame_rate: boolean;
  /** Stored frame size (before rotation). */
  width: number;
  height: number;
  /** Square-pixel display size after rotation (what the analysis frames show). */
  display_width: number;
  display_height: number;
  /** Clockwise display rotation applied (0/90/180/270). */
  rotation_deg: number;
  codec: string;
  pix_fmt: string | null;
  color_space: string | null;
  nb_frames: number | null;
  has_audio: boolean;
}

export interface ComponentFrames {
  /** Indices into the union (frames.npy), sorted and unique. */
  frame_indices: number[];
  /** Effective budget for this video: declared budget scaled by duration, never above the frames that exist. */
  budget: EffectiveBudget;
  strategy: {
    uniform: { count: number; lattice: 'nested_dyadic' };
    per_shot: number;
    dense_window: { before: number; after: number } | null;
    pairs: boolean;
    event_allowance: number;
    declared_budget: DeclaredBudget;
    why: string;
  };
  counts: { uniform: number; per_shot: number; window: number; total: number };
  events_refused: number;
  shots_uncovered: number;
}

export interface CutCandidate {
  /** Analysis-timeline index of the first frame of the new shot. */
  index: number;
  time_sec: number;
  /** hist_diff at the cut. */
  score: number;
}

export interface FramesMetadataBase {
  format: typeof FRAMES_DIR_FORMAT;
  format_version: number;
  producer: typeof SEGMENTER_PRODUCER;
  producer_version: string;
  dataprocessor_version: string;
  sampling_policy_version: string;
  created_at: string;
  color_space: 'RGB';
  frames_file: typeof FRAMES_FILE;
  dtype: 'uint8';
  /** Frames stored (the union). */
  frame_count: number;
  /** [N, H, W, 3]. */
  frame_shape: [number, number, number, 3];
  /** Rate of the analysis timeline actually used. */
  analysis_fps: number;
  /** The same as an exact fraction (what ffmpeg used): timestamp of index i is i × den / num. */
  analysis_fps_rational: { num: number; den: number };
  analysis_fps_requested: number;
  analysis_width: number;
  analysis_height: number;
  analysis_short_side_target: number;
  /** The source's shorter side is below `min_short_side`: frames are kept at the source size, not upscaled. */
  below_min_resolution: boolean;
  min_short_side: number;
  /** Frames on the analysis timeline (decoded), and what the probe predicted. */
  analysis_frame_count: number;
  analysis_frame_count_expected: number;
  source: SourceInfo;
  /** Time of each stored frame, seconds (union order). */
  union_timestamps_sec: number[];
  /** Analysis-timeline index of each stored frame (union order; time = index / analysis_fps). */
  union_frame_indices_source: number[];
  cheap_signals: {
    file: typeof SIGNALS_FILE;
    width: number;
    height: number;
    keys: string[];
    histogram: string;
    params: CutParams;
    cut_candidate_count: number;
    cut_candidates: CutCandidate[];
  };
  sampling: {
    policy_version: string;
    params: PolicyParams;
    lattice_size: number;
    union_bound: number;
    ring_frames: number;
    components_without_frames: Record<string, string>;
  };
  /** Components with frame_indices in this file (each has a top-level entry). */
  components: ComponentName[];
  warnings: string[];
  ingest: { elapsed_ms: number; frames_bytes: number; ffmpeg_command: string[] | null };
}

export type FramesMetadata = FramesMetadataBase & Partial<Record<ComponentName, ComponentFrames>>;

/** The entry of one component; `frames_dir_invalid` when it has none. */
export function componentFrames(metadata: FramesMetadata, component: ComponentName, where = ''): ComponentFrames {
  const entry = metadata[component];
  if (!entry || !Array.isArray(entry.frame_indices)) {
    throw new TrendflowError('frames_dir_invalid', `metadata.json has no frame_indices for ${component}`, where ? { path: where } : {});
  }
  return entry;
}

/**
 * Reads and checks metadata.json of a frames_dir: present (else the folder is not a finished frames_dir), JSON,
 * the right format, arrays consistent with frame_count, component indices sorted, unique and in range.
 */
export async function readFramesMetadata(dir: string): Promise<FramesMetadata> {
  const file = path.join(dir, METADATA_FILE);
  const invalid = (why: string, cause?: unknown) =>
    new TrendflowError('frames_dir_invalid', why, { path: file, ...(cause === undefined ? {} : { cause }) });
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw invalid(`not a finished frames_dir: ${METADATA_FILE} is missing`, error);
    throw invalid(`cannot read ${METADATA_FILE}: ${(error as Error).message}`, error);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(`${METADATA_FILE} is not valid JSON: ${(error as Error).message}`, error);
  }
  const meta = value as FramesMetadata;
  if (typeof value !== 'object' || value === null || meta.format !== FRAMES_DIR_FORMAT) {
    throw invalid(`${METADATA_FILE} is not a ${FRAMES_DIR_FORMAT} file`);
  }
  if (meta.format_version !== FRAMES_DIR_FORMAT_VERSION) {
    throw invalid(`${METADATA_FILE} has format_version ${String(meta.format_version)}, this version reads ${FRAMES_DIR_FORMAT_VERSION}`);
  }
  const n = meta.frame_count;
  if (!Number.isInteger(n) || n < 0) throw invalid('frame_count is not a non-negative integer');
  if (!Array.isArray(meta.union_timestamps_sec) || meta.union_timestamps_sec.length !== n) throw invalid('union_timestamps_sec does not have frame_count entries');
  if (!Array.isArray(meta.union_frame_indices_source) || meta.union_frame_indices_source.length !== n) {
    throw invalid('union_frame_indices_source does not have frame_count entries');
  }
  if (!Array.isArray(meta.components) || !meta.components.every(isComponentName)) throw invalid('components is not a list of component names');
  for (const name of meta.components) {
    const indices = meta[name]?.frame_indices;
    if (!Array.isArray(indices)) throw invalid(`${name}.frame_indices is missing`);
    for (let k = 0; k < indices.length; k++) {
      const v = indices[k];
      if (!Number.isInteger(v) || (v as number) < 0 || (v as number) >= n) throw invalid(`${name}.frame_indices[${k}] = ${String(v)} is not an index into ${n} frames`);
      if (k > 0 && (v as number) <= indices[k - 1]!) throw invalid(`${name}.frame_indices is not sorted and unique at ${k}`);
    }
  }
  return meta;
}
