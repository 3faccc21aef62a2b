/**
 * shot_quality: per-frame and per-shot image quality, zero-shot CLIP quality scores and face features in
 * `shot_quality/quality.npz` (README.md).
 */
import { TrendflowError } from '../../contracts/errors.js';
import type { ManifestArtifact } from '../../contracts/manifest.js';
import { getArray, getStringList, ndarray } from '../../npz/index.js';
import { artifactMeta, writeArtifact } from '../../pipeline/artifact.js';
import { FrameManager } from '../../segmenter/frame-manager.js';
import { framesDirSignatures } from '../common/frames-dir.js';
import { dependencySignatures, loadInput, type LoadedInput, type ModuleContext } from '../common/inputs.js';
import { readShots, shotOfFrame, SHOTS_SCHEMA_VERSION } from '../common/shots.js';
import { nanMean } from '../common/stats.js';
import { CLIP_LOGIT_SCALE, CLIP_SCORE_PAIRS, clipScores } from './clip-scores.js';
import { FACE_METRIC_NAMES, faceFrames } from './face-metrics.js';
import { IMAGE_METRIC_NAMES, imageMetrics } from './image-metrics.js';

export const SHOT_QUALITY_PRODUCER_VERSION = '1.0.0';
export const SHOT_QUALITY_SCHEMA_VERSION = 'shot_quality_npz_v1';
export const SHOT_QUALITY_ARTIFACT = 'quality.npz';
const READ_BATCH = 32;

export type ShotQualityResult = { status: 'ok'; artifact: ManifestArtifact } | { status: 'empty'; artifact: null };

/** Per-row values of `rows` (row-major, `width` columns) averaged over the rows each group selects (NaN-aware). */
function groupMeans(values: Float32Array, width: number, groups: number[][]): Float32Array {
  const out = new Float32Array(groups.length * width).fill(Number.NaN);
  groups.forEach((rows, g) => {
    for (let c = 0; c < width; c++) out[g * width + c] = nanMean(rows.map((r) => values[r * width + c]!));
  });
  return out;
}

export async function runShotQuality(ctx: ModuleContext): Promise<ShotQualityResult> {
  const cut = await loadInput(ctx, 'cut_detection', SHOTS_SCHEMA_VERSION);
  // the orchestrator runs shot_quality only with its required input; called without it, there is nothing to write
  if (!cut) return { status: 'empty', artifact: null };
  const clip = await loadInput(ctx, 'core_clip', 'core_clip_npz_v1');
  const face = await loadInput(ctx, 'core_face_landmarks', 'core_face_landmarks_npz_v1');
  const shots = readShots(cut);

  const frames = await FrameManager.open(ctx.framesDir);
  try {
    const indices = frames.metadata.shot_quality?.frame_indices;
    if (!indices || indices.length === 0) {
      throw new TrendflowError('sampling_missing', 'the frames_dir has no shot_quality frame_indices (missing or empty); shot_quality has no fallback sampling', { path: frames.dir });
    }
    const n = indices.length;
    const unionSource = frames.metadata.union_frame_indices_source;
    const frameShot = indices.map((u) => shotOfFrame(shots, unionSource[u]!));

    const K = IMAGE_METRIC_NAMES.length;
    const image = new Float32Array(n * K);
    for (let start = 0; start < n; start += READ_BATCH) {
      ctx.signal?.throwIfAborted();
      const batch = await frames.getBatch(indices.slice(start, start + READ_BATCH));
      batch.frames.forEach((frame, k) => image.set(imageMetrics(frame.data, frame.width, frame.height), (start + k) * K));
      ctx.onProgress?.({ done: Math.min(n, start + READ_BATCH), total: n, unit: 'frames' });
    }

    const clipPart = clip ? clipRows(clip, indices) : null;
    const P = clipPart?.prompts.length ?? 0;
    const Q = CLIP_SCORE_PAIRS.length;
    const clipPresent = indices.map((_, r) => clipPart?.present[r] ?? false);
    const similarity = clipPart?.similarity ?? new Float32Array(0);
    const scores = clipPart?.scores ?? new Float32Array(n * Q).fill(Number.NaN);

    const faces = face ? faceFrames(face.npz, face.input.path) : null;
    const faceRow = new Map<number, number>();
    faces?.frameIndices.forEach((u, r) => faceRow.set(u, r));
    const G = FACE_METRIC_NAMES.length;
    const faceMeasured = indices.map((u) => faceRow.has(u));
    const faceCount = Float32Array.from(indices, (u) => (faceRow.has(u) ? faces!.count[faceRow.get(u)!]! : Number.NaN));
    const facePresent = Array.from(faceCount, (c) => c > 0);
    const faceMetrics = new Float32Array(n * G).fill(Number.NaN);
    indices.forEach((u, r) => {
      const row = faceRow.get(u);
      if (row !== undefined && facePresent[r]) faceMetrics.set(faces!.metrics.subarray(row * G, (row + 1) * G), r * G);
    });

    // per shot
    const S = shots.count;
    const rowsOf = Array.from({ length: S }, () => [] as number[]);
    frameShot.forEach((s, r) => rowsOf[s]!.push(r));
    const where = (mask: boolean[]) => rowsOf.map((rows) => rows.filter((r) => mask[r]));
    const clipRowsOf = where(clipPresent);
    const measuredRowsOf = where(faceMeasured);
    const faceRowsOf = where(facePresent);
    const shotFaceMeasured = measuredRowsOf.map((rows) => rows.length > 0);

    const meta = artifactMeta({
      identity: ctx.identity,
      producer: 'shot_quality',
      producerVersion: SHOT_QUALITY_PRODUCER_VERSION,
      schemaVersion: SHOT_QUALITY_SCHEMA_VERSION,
      status: 'ok',
      extra: {
        dependencies: dependencySignatures([cut, clip, face], await framesDirSignatures(ctx.framesDir)),
        clip_logit_scale: CLIP_LOGIT_SCALE,
        clip_source: clip ? { status: clip.input.status, prompt_set_version: clip.meta.shot_quality_prompt_set_version ?? null, model_signature: clip.meta.model_signature ?? null } : null,
        face_source: face ? { status: face.input.status, empty_reason: face.meta.empty_reason ?? null } : null,
        frame_count: n,
        shot_count: S,
      },
    });
    const artifact = await writeArtifact(
      ctx.runDir,
      'shot_quality',
      SHOT_QUALITY_ARTIFACT,
      {
        frame_indices: ndarray.int32(indices),
        frame_time_sec: ndarray.float64(indices.map((u) => frames.metadata.union_timestamps_sec[u]!)),
        frame_shot_index: ndarray.int32(frameShot),
        image_metric_names: ndarray.objectArray([...IMAGE_METRIC_NAMES]),
        frame_image_metrics: ndarray.float32(image, [n, K]),
        clip_prompts: ndarray.objectArray(clipPart ? [...clipPart.prompts] : []),
        clip_score_names: ndarray.objectArray(CLIP_SCORE_PAIRS.map((p) => p.name)),
        frame_clip_present: ndarray.bool(clipPresent),
        frame_prompt_similarity: ndarray.float32(similarity, [n, P]),
        frame_clip_scores: ndarray.float32(scores, [n, Q]),
        face_metric_names: ndarray.objectArray([...FACE_METRIC_NAMES]),
        frame_face_measured: ndarray.bool(faceMeasured),
        frame_face_count: ndarray.float32(faceCount),
        frame_face_present: ndarray.bool(facePresent),
        frame_face_metrics: ndarray.float32(faceMetrics, [n, G]),
        shot_frame_count: ndarray.int32(rowsOf.map((rows) => rows.length)),
        shot_has_frames: ndarray.bool(rowsOf.map((rows) => rows.length > 0)),
        shot_image_metrics: ndarray.float32(groupMeans(image, K, rowsOf), [S, K]),
        shot_clip_present: ndarray.bool(clipRowsOf.map((rows) => rows.length > 0)),
        shot_clip_scores: ndarray.float32(groupMeans(scores, Q, clipRowsOf), [S, Q]),
        shot_face_measured: ndarray.bool(shotFaceMeasured),
        shot_face_presence: ndarray.float32(measuredRowsOf.map((rows) => (rows.length ? rows.filter((r) => facePresent[r]).length / rows.length : Number.NaN))),
        shot_face_count: ndarray.float32(measuredRowsOf.map((rows) => nanMean(rows.map((r) => faceCount[r]!)))),
        shot_face_present: ndarray.bool(faceRowsOf.map((rows) => rows.length > 0)),
        shot_face_metrics: ndarray.float32(groupMeans(faceMetrics, G, faceRowsOf), [S, G]),
      },
      meta,
    );
    return { status: 'ok', artifact };
  } finally {
    await frames.close();
  }
}

/** core_clip's embeddings of the shot_quality frames it also embedded, scored against its prompts. */
function clipRows(clip: LoadedInput, indices: readonly number[]): { prompts: string[]; present: boolean[]; similarity: Float32Array; scores: Float32Array } {
  const file = clip.input.path;
  const clipIndices = getArray(clip.npz, 'frame_indices', 'int32', file).data;
  const embeddings = getArray(clip.npz, 'frame_embeddings', 'float32', file);
  const texts = getArray(clip.npz, 'shot_quality_text_embeddings', 'float32', file).data;
  const prompts = getStringList(clip.npz, 'shot_quality_prompts', file);
  const dim = embeddings.shape[1]!;
  const rowOf = new Map<number, number>();
  clipIndices.forEach((u, r) => rowOf.set(u, r));
  const all = clipScores(embeddings.data, clipIndices.length, texts, prompts, dim);
  const P = prompts.length;
  const Q = CLIP_SCORE_PAIRS.length;
  const similarity = new Float32Array(indices.length * P).fill(Number.NaN);
  const scores = new Float32Array(indices.length * Q).fill(Number.NaN);
  const present = indices.map((u, r) => {
    const row = rowOf.get(u);
    if (row === undefined) return false;
    similarity.set(all.similarity.subarray(row * P, (row + 1) * P), r * P);
    scores.set(all.scores.subarray(row * Q, (row + 1) * Q), r * Q);
    return true;
  });
  return { prompts, present, similarity, scores };
}
