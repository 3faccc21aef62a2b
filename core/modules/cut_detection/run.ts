/**
 * cut_detection: final shot boundaries and per-shot thumbnails in `cut_detection/shots.npz` (README.md).
 */
import sharp from 'sharp';
import { TrendflowError } from '../../contracts/errors.js';
import type { ManifestArtifact } from '../../contracts/manifest.js';
import { ndarray } from '../../npz/index.js';
import { artifactMeta, writeArtifact } from '../../pipeline/artifact.js';
import type { ComponentContext } from '../../pipeline/context.js';
import { FrameManager } from '../../segmenter/frame-manager.js';
import { framesDirSignatures, readCheapSignals, type CheapSignals } from '../common/frames-dir.js';
import { describeFrame, type FrameDescriptor } from './descriptors.js';
import { CutDetector, TRANSITION_TYPES, type Boundary, type CutDetectionParams, type Rejection } from './detect.js';

export const CUT_DETECTION_PRODUCER_VERSION = '1.0.0';
export const CUT_DETECTION_SCHEMA_VERSION = 'cut_detection_npz_v1';
export const CUT_DETECTION_ARTIFACT = 'shots.npz';
export const THUMBNAIL_WIDTH = 160;
export const THUMBNAIL_HEIGHT = 90;
/** Frames read and described per batch. */
const READ_BATCH = 64;

export interface Shot {
  /** First and last analysis-timeline frame of the shot (inclusive). */
  startIndex: number;
  endIndex: number;
  startSec: number;
  endSec: number;
  /** How the shot begins; null for the first shot. */
  transition: Boundary | null;
}

export interface CutDetectionResult {
  artifact: ManifestArtifact;
  shots: Shot[];
  rejected: Rejection[];
}

/** Shots covering the whole analysis timeline, split at the boundaries. */
export function shotsFromBoundaries(boundaries: readonly Boundary[], frameCount: number, analysisFps: number): Shot[] {
  const starts = [0, ...boundaries.map((b) => b.index)];
  return starts.map((start, k) => {
    const end = k + 1 < starts.length ? starts[k + 1]! - 1 : frameCount - 1;
    return { startIndex: start, endIndex: end, startSec: start / analysisFps, endSec: (end + 1) / analysisFps, transition: k === 0 ? null : boundaries[k - 1]! };
  });
}

/**
 * The stored frame that shows a shot best for a thumbnail: the union frame nearest the middle of the part of the
 * shot outside its transitions (any union frame, whichever component it was sampled for); -1 when the union has
 * no frame inside the shot.
 */
function thumbnailFrame(shot: Shot, next: Shot | undefined, unionSource: readonly number[]): number {
  const pureStart = shot.transition ? Math.max(shot.startIndex, shot.transition.spanEnd) : shot.startIndex;
  const pureEnd = next?.transition ? Math.min(shot.endIndex, next.transition.spanStart) : shot.endIndex;
  const [from, to] = pureStart <= pureEnd ? [pureStart, pureEnd] : [shot.startIndex, shot.endIndex];
  const middle = (from + to) / 2;
  let best = -1;
  for (let u = 0; u < unionSource.length; u++) {
    const index = unionSource[u]!;
    if (index < shot.startIndex || index > shot.endIndex) continue;
    const inPure = index >= from && index <= to;
    const bestInPure = best >= 0 && unionSource[best]! >= from && unionSource[best]! <= to;
    if (best < 0 || (inPure && !bestInPure) || (inPure === bestInPure && Math.abs(index - middle) < Math.abs(unionSource[best]! - middle))) best = u;
  }
  return best;
}

/** The frame scaled into THUMBNAIL_WIDTH × THUMBNAIL_HEIGHT, aspect kept, black bars (sharp, libvips). */
async function thumbnail(frame: { data: Uint8Array; width: number; height: number }): Promise<Uint8Array> {
  const data = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .resize(THUMBNAIL_WIDTH, THUMBNAIL_HEIGHT, { fit: 'contain', background: { r: 0, g: 0, b: 0 }, kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export interface ShotsToWrite {
  frames: FrameManager;
  signals: CheapSignals;
  boundaries: readonly Boundary[];
  rejected: readonly Rejection[];
  params: CutDetectionParams;
  /** Stored frames the detection compared. */
  framesExamined: number;
}

/**
 * Writes shots.npz for boundaries on the frames_dir's analysis timeline: shots, transitions, thumbnails (from any
 * union frame inside each shot) and the rejected candidates.
 */
export async function writeShotsArtifact(ctx: ComponentContext, input: ShotsToWrite): Promise<CutDetectionResult> {
  const { frames, signals, boundaries, rejected } = input;
  const fps = signals.analysisFps;
  const unionSource = frames.metadata.union_frame_indices_source;
  const shots = shotsFromBoundaries(boundaries, signals.frameCount, fps);
  const count = shots.length;

  const thumbnailUnion = shots.map((shot, k) => thumbnailFrame(shot, shots[k + 1], unionSource));
  const pictures = new Uint8Array(count * THUMBNAIL_HEIGHT * THUMBNAIL_WIDTH * 3);
  for (let k = 0; k < count; k++) {
    ctx.signal?.throwIfAborted();
    if (thumbnailUnion[k]! < 0) continue; // thumbnail_present is False: the zeros are not a picture
    pictures.set(await thumbnail(await frames.get(thumbnailUnion[k]!)), k * THUMBNAIL_HEIGHT * THUMBNAIL_WIDTH * 3);
  }
  const unionRange = shots.map((shot) => {
    const inside = unionSource.flatMap((index, u) => (index >= shot.startIndex && index <= shot.endIndex ? [u] : []));
    return inside.length ? [inside[0]!, inside[inside.length - 1]!] : [-1, -1];
  });

  const transition = shots.map((s) => s.transition);
  const nanUnless = (values: Array<number | null>) => values.map((v) => (v === null ? Number.NaN : v));
  const typeCounts = Object.fromEntries(TRANSITION_TYPES.map((type) => [type, boundaries.filter((b) => b.type === type).length]));
  const meta = artifactMeta({
    identity: ctx.identity,
    producer: 'cut_detection',
    producerVersion: CUT_DETECTION_PRODUCER_VERSION,
    schemaVersion: CUT_DETECTION_SCHEMA_VERSION,
    status: 'ok',
    extra: {
      dependencies: await framesDirSignatures(ctx.framesDir),
      parameters: { ...input.params },
      analysis_fps: fps,
      analysis_frame_count: signals.frameCount,
      duration_sec: signals.frameCount / fps,
      frames_examined: input.framesExamined,
      segmenter_candidates: signals.candidates.length,
      shot_count: count,
      transition_counts: typeCounts,
      unverified_boundaries: boundaries.filter((b) => !b.verified).length,
      thumbnail_size: [THUMBNAIL_HEIGHT, THUMBNAIL_WIDTH],
    },
  });
  const artifact = await writeArtifact(
    ctx.runDir,
    'cut_detection',
    CUT_DETECTION_ARTIFACT,
    {
      shot_start_index: ndarray.int32(shots.map((s) => s.startIndex)),
      shot_end_index: ndarray.int32(shots.map((s) => s.endIndex)),
      shot_start_sec: ndarray.float64(shots.map((s) => s.startSec)),
      shot_end_sec: ndarray.float64(shots.map((s) => s.endSec)),
      shot_first_union_index: ndarray.int32(unionRange.map((r) => r[0]!)),
      shot_last_union_index: ndarray.int32(unionRange.map((r) => r[1]!)),
      shot_has_union_frames: ndarray.bool(unionRange.map((r) => r[0]! >= 0)),
      transition_type: ndarray.objectArray(transition.map((t) => t?.type ?? 'video_start')),
      transition_present: ndarray.bool(transition.map((t) => t !== null)),
      transition_confidence: ndarray.float32(nanUnless(transition.map((t) => t?.confidence ?? null))),
      transition_start_sec: ndarray.float64(nanUnless(transition.map((t) => (t ? t.spanStart / fps : null)))),
      transition_end_sec: ndarray.float64(nanUnless(transition.map((t) => (t ? t.spanEnd / fps : null)))),
      transition_verified: ndarray.bool(transition.map((t) => t?.verified ?? false)),
      thumbnails: ndarray.uint8(pictures, [count, THUMBNAIL_HEIGHT, THUMBNAIL_WIDTH, 3]),
      thumbnail_union_index: ndarray.int32(thumbnailUnion),
      thumbnail_present: ndarray.bool(thumbnailUnion.map((u) => u >= 0)),
      rejected_candidate_indices: ndarray.int32(rejected.map((r) => r.index)),
      rejected_candidate_reasons: ndarray.objectArray(rejected.map((r) => r.reason)),
    },
    meta,
  );
  return { artifact, shots, rejected: [...rejected] };
}

export async function runCutDetection(ctx: ComponentContext, params: CutDetectionParams): Promise<CutDetectionResult> {
  const signals = await readCheapSignals(ctx.framesDir);
  const frames = await FrameManager.open(ctx.framesDir);
  try {
    // no fallback: cut_detection reads what the Segmenter sampled for it (dense windows around every candidate)
    const indices = frames.metadata.cut_detection?.frame_indices;
    if (!indices || indices.length === 0) {
      throw new TrendflowError('sampling_missing', 'the frames_dir has no cut_detection frame_indices (missing or empty); cut_detection has no fallback sampling', { path: frames.dir });
    }
    const unionSource = frames.metadata.union_frame_indices_source;
    const descriptors: FrameDescriptor[] = [];
    for (let start = 0; start < indices.length; start += READ_BATCH) {
      ctx.signal?.throwIfAborted();
      const batch = await frames.getBatch(indices.slice(start, start + READ_BATCH));
      for (const frame of batch.frames) descriptors.push(describeFrame(frame.data, frame.width, frame.height, unionSource[frame.index]!, frame.index));
      ctx.onProgress?.({ done: descriptors.length, total: indices.length, unit: 'frames' });
    }
    const detection = new CutDetector({ analysisFps: signals.analysisFps, frameCount: signals.frameCount, candidates: signals.candidates, frames: descriptors }, params).run();
    return await writeShotsArtifact(ctx, { frames, signals, boundaries: detection.boundaries, rejected: detection.rejected, params, framesExamined: descriptors.length });
  } finally {
    await frames.close();
  }
}
