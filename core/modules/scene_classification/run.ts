/**
 * scene_classification: zero-shot scene labels per frame, per shot and for the video, from core_clip's frame
 * embeddings and the label set's CLIP text embeddings, in `scene_classification/scenes.npz` (README.md).
 */
import type { ManifestArtifact } from '../../contracts/manifest.js';
import type { ModelUsed } from '../../contracts/meta.js';
import { TrendflowError } from '../../contracts/errors.js';
import { getArray, ndarray } from '../../npz/index.js';
import { artifactMeta, writeArtifact } from '../../pipeline/artifact.js';
import type { ComponentRunContext } from '../../pipeline/component.js';
import { dependencySignatures, loadInput, type ModuleContext } from '../common/inputs.js';
import { readShots, SHOTS_SCHEMA_VERSION, unionFrameShots } from '../common/shots.js';
import { SCENE_LABEL_SET_VERSION } from './labels.js';
import { labelEmbeddings } from './text-embeddings.js';

export const SCENE_CLASSIFICATION_PRODUCER_VERSION = '1.0.0';
export const SCENE_CLASSIFICATION_SCHEMA_VERSION = 'scene_classification_npz_v1';
export const SCENE_CLASSIFICATION_ARTIFACT = 'scenes.npz';
/** CLIP's logit scale (OpenAI CLIP's learned temperature, exp(t) = 100). */
export const SCENE_LOGIT_SCALE = 100;

export interface SceneClassificationConfig {
  /** Labels kept per shot, most probable first. */
  top_k: number;
}

export const DEFAULT_SCENE_CLASSIFICATION_CONFIG: Readonly<SceneClassificationConfig> = { top_k: 3 };

export type SceneClassificationResult =
  | { status: 'ok'; artifact: ManifestArtifact; models_used: ModelUsed[]; model_signature: string; cacheHit: boolean }
  | { status: 'empty'; artifact: null };

/** Shannon entropy / log(L): 0 for one certain label, 1 for a uniform distribution. */
function normalizedEntropy(p: ArrayLike<number>): number {
  let h = 0;
  for (let i = 0; i < p.length; i++) if (p[i]! > 0) h -= p[i]! * Math.log(p[i]!);
  return h / Math.log(p.length);
}

export async function runSceneClassification(
  ctx: ModuleContext & Pick<ComponentRunContext, 'models'>,
  config: SceneClassificationConfig,
): Promise<SceneClassificationResult> {
  const cut = await loadInput(ctx, 'cut_detection', SHOTS_SCHEMA_VERSION);
  const clip = await loadInput(ctx, 'core_clip', 'core_clip_npz_v1');
  // both are required: the orchestrator never runs it without them; called so, there is nothing to write
  if (!cut || !clip) return { status: 'empty', artifact: null };
  const shots = readShots(cut);
  const text = await labelEmbeddings((clip.meta.models_used ?? []) as unknown as ModelUsed[], ctx.models);

  const indices = getArray(clip.npz, 'frame_indices', 'int32', clip.input.path).data;
  const frames = getArray(clip.npz, 'frame_embeddings', 'float32', clip.input.path);
  const [N, D] = [frames.shape[0]!, frames.shape[1]!];
  if (D !== text.dim) {
    throw new TrendflowError('inference_failed', `core_clip's frame embeddings have width ${D}, the label embeddings ${text.dim}: not one CLIP model`, { path: clip.input.path });
  }
  const L = text.labels.length;
  const K = Math.min(config.top_k, L);

  // per frame: softmax over the labels of 100 · cosine similarity (both sides are unit vectors)
  const frameProbs = new Float32Array(N * L);
  const logits = new Float64Array(L);
  for (let r = 0; r < N; r++) {
    for (let l = 0; l < L; l++) {
      let dot = 0;
      for (let k = 0; k < D; k++) dot += frames.data[r * D + k]! * text.embeddings[l * D + k]!;
      logits[l] = SCENE_LOGIT_SCALE * dot;
    }
    const max = Math.max(...logits);
    let sum = 0;
    for (let l = 0; l < L; l++) sum += Math.exp(logits[l]! - max);
    for (let l = 0; l < L; l++) frameProbs[r * L + l] = Math.exp(logits[l]! - max) / sum;
  }

  // per shot: the mean distribution of its frames
  const shotOf = unionFrameShots(shots);
  const frameShot = Array.from(indices, (u) => shotOf(u));
  const S = shots.count;
  const shotProbs = new Float32Array(S * L).fill(Number.NaN);
  const counts = new Array<number>(S).fill(0);
  frameShot.forEach((s) => s >= 0 && counts[s]!++);
  for (let s = 0; s < S; s++) if (counts[s]! > 0) shotProbs.fill(0, s * L, (s + 1) * L);
  frameShot.forEach((s, r) => {
    if (s < 0) return;
    for (let l = 0; l < L; l++) shotProbs[s * L + l] = shotProbs[s * L + l]! + frameProbs[r * L + l]! / counts[s]!;
  });
  const present = counts.map((c) => c > 0);
  const topLabels = new Int32Array(S * K).fill(-1);
  const topProbs = new Float32Array(S * K).fill(Number.NaN);
  const entropy = new Float32Array(S).fill(Number.NaN);
  for (let s = 0; s < S; s++) {
    if (!present[s]) continue;
    const row = shotProbs.subarray(s * L, (s + 1) * L);
    const order = Array.from(row.keys()).sort((a, b) => row[b]! - row[a]! || a - b);
    for (let k = 0; k < K; k++) {
      topLabels[s * K + k] = order[k]!;
      topProbs[s * K + k] = row[order[k]!]!;
    }
    entropy[s] = normalizedEntropy(row);
  }

  // the video: the shots' distributions weighted by their durations
  const video = new Float32Array(L).fill(Number.NaN);
  const weight = present.reduce((sum, p, s) => (p ? sum + shots.endSec[s]! - shots.startSec[s]! : sum), 0);
  const videoPresent = weight > 0;
  if (videoPresent) {
    video.fill(0);
    for (let s = 0; s < S; s++) {
      if (!present[s]) continue;
      const w = (shots.endSec[s]! - shots.startSec[s]!) / weight;
      for (let l = 0; l < L; l++) video[l] = video[l]! + w * shotProbs[s * L + l]!;
    }
  }

  const meta = artifactMeta({
    identity: ctx.identity,
    producer: 'scene_classification',
    producerVersion: SCENE_CLASSIFICATION_PRODUCER_VERSION,
    schemaVersion: SCENE_CLASSIFICATION_SCHEMA_VERSION,
    status: 'ok',
    extra: {
      dependencies: dependencySignatures([cut, clip]),
      models_used: text.models_used.map((m) => ({ ...m })),
      model_signature: text.model_signature,
      // all labels are embedded in one call (when not cached)
      batch_size: L,
      label_set_version: SCENE_LABEL_SET_VERSION,
      logit_scale: SCENE_LOGIT_SCALE,
      top_k: K,
      label_embeddings_cache: { hit: text.cache.hit, file: text.cache.file },
      clip_model_signature: clip.meta.model_signature ?? null,
    },
  });
  const artifact = await writeArtifact(
    ctx.runDir,
    'scene_classification',
    SCENE_CLASSIFICATION_ARTIFACT,
    {
      labels: ndarray.objectArray(text.labels),
      prompts: ndarray.objectArray(text.prompts),
      frame_indices: ndarray.int32(indices),
      frame_shot_index: ndarray.int32(frameShot),
      frame_label_probs: ndarray.float32(frameProbs, [N, L]),
      shot_present: ndarray.bool(present),
      shot_frame_count: ndarray.int32(counts),
      shot_label_probs: ndarray.float32(shotProbs, [S, L]),
      shot_top_labels: ndarray.int32(topLabels, [S, K]),
      shot_top_probs: ndarray.float32(topProbs, [S, K]),
      shot_entropy: ndarray.float32(entropy),
      video_distribution_present: ndarray.bool([videoPresent], []),
      video_label_distribution: ndarray.float32(video),
      video_entropy: ndarray.float32([videoPresent ? normalizedEntropy(video) : Number.NaN], []),
    },
    meta,
  );
  return { status: 'ok', artifact, models_used: text.models_used, model_signature: text.model_signature, cacheHit: text.cache.hit };
}
