/**
 * core_clip (seed 000): CLIP image embeddings of the frames the Segmenter sampled for core_clip, plus CLIP text
 * embeddings of the fixed shot_quality prompts, L2-normalized, in `core_clip/embeddings.npz`.
 *
 * Frames are read, preprocessed and embedded in batches of exactly `batch_size` (chosen by the batch planner
 * before the component starts, never inside it); the next batch is read and preprocessed while the current one is
 * in inference, so the model is rarely idle.
 */
import { TrendflowError } from '../../contracts/errors.js';
import type { ManifestArtifact } from '../../contracts/manifest.js';
import type { ModelUsed } from '../../contracts/meta.js';
import { ndarray } from '../../npz/index.js';
import { artifactMeta, writeArtifact } from '../../pipeline/artifact.js';
import type { ComponentContext } from '../../pipeline/context.js';
import { modelSignature } from '../../runtime/signature.js';
import { FrameManager } from '../../segmenter/frame-manager.js';
import type { ClipEncoders } from './encoders.js';
import { CLIP_PRESETS, preprocessClipBatch, type ClipPresetName } from '../../runtime/clip/preprocess.js';
import { SHOT_QUALITY_PROMPT_SET_VERSION, SHOT_QUALITY_PROMPTS } from './prompts.js';
import type { ClipTokenizer } from '../../runtime/clip/tokenizer.js';

export const CORE_CLIP_PRODUCER_VERSION = '1.0.0';
export const CORE_CLIP_SCHEMA_VERSION = 'core_clip_npz_v1';
export const CORE_CLIP_ARTIFACT = 'embeddings.npz';

export interface CoreClipRunOptions {
  preset: ClipPresetName;
  /** Frames per inference call, from the batch planner (recorded in meta). */
  batchSize: number;
  encoders: ClipEncoders;
  tokenizer: ClipTokenizer;
}

export interface CoreClipResult {
  artifact: ManifestArtifact;
  models_used: ModelUsed[];
  model_signature: string;
  batch_size: number;
  frame_count: number;
  embedding_dim: number;
}

/** Divides each row of a (rows, dim) matrix by its L2 norm; a zero or non-finite row is an inference failure. */
export function normalizeRows(matrix: Float32Array, rows: number, dim: number, what: string): void {
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let k = r * dim; k < (r + 1) * dim; k++) sum += matrix[k]! * matrix[k]!;
    const norm = Math.sqrt(sum);
    if (!(norm > 0) || !Number.isFinite(norm)) {
      throw new TrendflowError('inference_failed', `the ${what} embedding of row ${r} has norm ${norm}; cannot normalize`);
    }
    for (let k = r * dim; k < (r + 1) * dim; k++) matrix[k] = matrix[k]! / norm;
  }
}

/** Checks an encoder's output size and returns its embedding width. */
function embeddingWidth(output: Float32Array, rows: number, what: string): number {
  const dim = output.length / rows;
  if (rows === 0 || !Number.isInteger(dim) || dim < 1) {
    throw new TrendflowError('inference_failed', `the ${what} encoder returned ${output.length} values for ${rows} inputs`);
  }
  return dim;
}

export async function runCoreClip(ctx: ComponentContext, options: CoreClipRunOptions): Promise<CoreClipResult> {
  const { batchSize, encoders, tokenizer } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TrendflowError('invalid_argument', `core_clip batch_size must be a positive integer, got ${batchSize}`);
  const preset = CLIP_PRESETS[options.preset];
  if (!preset) throw new TrendflowError('invalid_argument', `unknown CLIP preprocessing preset ${JSON.stringify(options.preset)}`);
  const prompts = SHOT_QUALITY_PROMPTS;

  const frames = await FrameManager.open(ctx.framesDir);
  try {
    // no fallback (seed 000): core_clip embeds exactly what the Segmenter sampled for it, or fails
    const indices = frames.metadata.core_clip?.frame_indices;
    if (!indices || indices.length === 0) {
      throw new TrendflowError('sampling_missing', 'the frames_dir has no core_clip frame_indices (missing or empty); core_clip has no fallback sampling', { path: frames.dir });
    }

    const prepare = async (start: number): Promise<{ pixels: Float32Array; count: number }> => {
      const batch = await frames.getBatch(indices.slice(start, start + batchSize));
      return { pixels: await preprocessClipBatch(batch.frames, options.preset), count: batch.frames.length };
    };
    let embeddings: Float32Array | null = null;
    let dim = 0;
    let next = prepare(0);
    for (let start = 0; start < indices.length; start += batchSize) {
      ctx.signal?.throwIfAborted();
      const { pixels, count } = await next;
      if (start + batchSize < indices.length) next = prepare(start + batchSize);
      const output = await encoders.encodeImages(pixels, count, preset.size);
      if (embeddings === null) {
        dim = embeddingWidth(output, count, 'image');
        embeddings = new Float32Array(indices.length * dim);
      } else if (output.length !== count * dim) {
        throw new TrendflowError('inference_failed', `the image encoder returned ${output.length} values for ${count} frames of width ${dim}`);
      }
      embeddings.set(output, start * dim);
      ctx.onProgress?.({ done: start + count, total: indices.length, unit: 'frames' });
    }
    normalizeRows(embeddings!, indices.length, dim, 'image');

    const textEmbeddings = new Float32Array(prompts.length * dim);
    for (let start = 0; start < prompts.length; start += batchSize) {
      ctx.signal?.throwIfAborted();
      const texts = prompts.slice(start, start + batchSize);
      const output = await encoders.encodeTexts(tokenizer.tokenize([...texts]), texts.length);
      if (output.length !== texts.length * dim) {
        throw new TrendflowError('inference_failed', `the text encoder returned ${output.length / texts.length} values per prompt; the image encoder ${dim} (not one CLIP model?)`);
      }
      textEmbeddings.set(output, start * dim);
    }
    normalizeRows(textEmbeddings, prompts.length, dim, 'text');

    const models = encoders.modelsUsed();
    const signature = modelSignature(models);
    const meta = artifactMeta({
      identity: ctx.identity,
      producer: 'core_clip',
      producerVersion: CORE_CLIP_PRODUCER_VERSION,
      schemaVersion: CORE_CLIP_SCHEMA_VERSION,
      status: 'ok',
      extra: {
        models_used: models.map((m) => ({ ...m })),
        model_signature: signature,
        batch_size: batchSize,
        preprocess_preset: options.preset,
        image_size: preset.size,
        embedding_dim: dim,
        l2_normalized: true,
        shot_quality_prompt_set_version: SHOT_QUALITY_PROMPT_SET_VERSION,
        frame_count: indices.length,
      },
    });
    const artifact = await writeArtifact(
      ctx.runDir,
      'core_clip',
      CORE_CLIP_ARTIFACT,
      {
        frame_indices: ndarray.int32(indices),
        frame_embeddings: ndarray.float32(embeddings!, [indices.length, dim]),
        shot_quality_prompts: ndarray.objectArray([...prompts]),
        shot_quality_text_embeddings: ndarray.float32(textEmbeddings, [prompts.length, dim]),
      },
      meta,
    );
    return { artifact, models_used: models, model_signature: signature, batch_size: batchSize, frame_count: indices.length, embedding_dim: dim };
  } finally {
    await frames.close();
  }
}
