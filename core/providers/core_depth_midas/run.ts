/**
 * core_depth_midas: MiDaS (v2.1 small by default) on the frames the Segmenter sampled for this component; per-frame
 * depth statistics and a small normalized depth map in `core_depth_midas/depth.npz` (see README.md).
 */
import * as ort from 'onnxruntime-node';
import type { ManifestArtifact } from '../../contracts/manifest.js';
import type { ModelUsed } from '../../contracts/meta.js';
import { TrendflowError } from '../../contracts/errors.js';
import { ndarray } from '../../npz/index.js';
import { artifactMeta, writeArtifact } from '../../pipeline/artifact.js';
import type { ComponentContext } from '../../pipeline/context.js';
import type { OnnxDevice } from '../../runtime/onnx/sessions.js';
import { modelSignature } from '../../runtime/signature.js';
import { openSampledFrames } from '../vision/frames.js';
import { imageTensor, resizeRgb } from '../vision/image.js';
import { openModel, type ModelContext, type OpenedModel } from '../vision/models.js';
import { summarizeDepth, type DepthSummary } from './summary.js';

export const CORE_DEPTH_MIDAS_PRODUCER_VERSION = '1.0.0';
export const CORE_DEPTH_MIDAS_SCHEMA_VERSION = 'core_depth_midas_npz_v1';
export const CORE_DEPTH_MIDAS_ARTIFACT = 'depth.npz';

export interface CoreDepthMidasConfig {
  /** Registry id of a MiDaS-style model: one RGB [0, 1] input (1, 3, H, W), one inverse-depth output. */
  model: string;
  /** Longer side of the stored depth maps (the shorter follows the frame's aspect ratio). */
  map_long_side: number;
  device: OnnxDevice;
  /** Frames read per step (the model takes one image per call); the planner's fixed batch size. */
  batch_size: number;
}

export interface CoreDepthMidasRunContext extends ComponentContext {
  models: ModelContext;
}

export interface CoreDepthMidasResult {
  artifact: ManifestArtifact;
  models_used: ModelUsed[];
  model_signature: string;
  device: string;
  frames_without_depth: number;
}

/**
 * The model's only input (1, 3, H, W) with H, W fixed and its only output. The official MiDaS export numbers its
 * tensors, so the graph is bound by position and checked by shape rather than by name.
 */
export function midasContract(opened: OpenedModel): { input: string; output: string; width: number; height: number } {
  const { inputs, outputs } = opened.model;
  const shape = inputs[0]?.shape ?? [];
  const [height, width] = [shape[2], shape[3]];
  if (inputs.length !== 1 || outputs.length !== 1 || shape.length !== 4 || shape[1] !== 3 || typeof height !== 'number' || typeof width !== 'number') {
    throw new TrendflowError(
      'model_load_failed',
      `model ${opened.id} is not a MiDaS-style depth model: it needs one input (1, 3, H, W) with a fixed size and one output, ` +
        `it has inputs ${JSON.stringify(inputs.map((t) => t.shape))} and ${outputs.length} output(s)`,
      { path: opened.model.path },
    );
  }
  return { input: inputs[0]!.name, output: outputs[0]!.name, width, height };
}

export async function runCoreDepthMidas(ctx: CoreDepthMidasRunContext, config: CoreDepthMidasConfig, batchSize: number): Promise<CoreDepthMidasResult> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TrendflowError('invalid_argument', `core_depth_midas batch_size must be a positive integer, got ${batchSize}`);
  const opened = await openModel(ctx.models, config.model, config.device);
  const contract = midasContract(opened);
  const { frames, indices } = await openSampledFrames(ctx.framesDir, 'core_depth_midas');
  try {
    const n = indices.length;
    const long = Math.max(frames.width, frames.height);
    const mapWidth = Math.max(1, Math.round((config.map_long_side * frames.width) / long));
    const mapHeight = Math.max(1, Math.round((config.map_long_side * frames.height) / long));
    const summaries: DepthSummary[] = [];
    for (let start = 0; start < n; start += batchSize) {
      ctx.signal?.throwIfAborted();
      const batch = await frames.getBatch(indices.slice(start, start + batchSize));
      for (const frame of batch.frames) {
        const resized = await resizeRgb(frame, contract.width, contract.height);
        const input = new ort.Tensor('float32', imageTensor(resized, { layout: 'NCHW', order: 'RGB', mean: 0, scale: 1 / 255 }), [1, 3, contract.height, contract.width]);
        const out = (await opened.model.run({ [contract.input]: input }, [contract.output]))[contract.output];
        const dims = out?.dims ?? [];
        const [oh, ow] = [dims[dims.length - 2] ?? 0, dims[dims.length - 1] ?? 0];
        if (!out || !(out.data instanceof Float32Array) || out.data.length !== oh * ow || oh * ow === 0) {
          throw new TrendflowError('inference_failed', `model ${opened.id} returned ${JSON.stringify(dims)} instead of one inverse-depth map`, { path: opened.model.path });
        }
        summaries.push(summarizeDepth(out.data, ow, oh, mapWidth, mapHeight));
      }
      ctx.onProgress?.({ done: summaries.length, total: n, unit: 'frames' });
    }

    const series = (pick: (s: DepthSummary) => number) => ndarray.float32(summaries.map(pick));
    const maps = new Float32Array(n * mapWidth * mapHeight);
    summaries.forEach((s, p) => maps.set(s.map, p * mapWidth * mapHeight));
    const used = [opened.used];
    const signature = modelSignature(used);
    const missing = summaries.filter((s) => !s.present).length;
    const meta = artifactMeta({
      identity: ctx.identity,
      producer: 'core_depth_midas',
      producerVersion: CORE_DEPTH_MIDAS_PRODUCER_VERSION,
      schemaVersion: CORE_DEPTH_MIDAS_SCHEMA_VERSION,
      status: 'ok',
      extra: {
        models_used: used.map((m) => ({ ...m })),
        model_signature: signature,
        batch_size: batchSize,
        model: config.model,
        model_input_size: [contract.width, contract.height],
        depth_convention: 'relative inverse depth normalized per frame: 1 = nearest, 0 = farthest',
        analysis_width: frames.width,
        analysis_height: frames.height,
        frame_count: n,
      },
    });
    const artifact = await writeArtifact(
      ctx.runDir,
      'core_depth_midas',
      CORE_DEPTH_MIDAS_ARTIFACT,
      {
        frame_indices: ndarray.int32(indices),
        depth_present: ndarray.bool(summaries.map((s) => s.present)),
        depth_maps: ndarray.float32(maps, [n, mapHeight, mapWidth]),
        inverse_depth_range: ndarray.float32(summaries.flatMap((s) => [s.rawMin, s.rawMax]), [n, 2]),
        depth_mean: series((s) => s.mean),
        depth_std: series((s) => s.std),
        depth_p10: series((s) => s.p10),
        depth_p50: series((s) => s.p50),
        depth_p90: series((s) => s.p90),
        center_minus_surround: series((s) => s.centerMinusSurround),
      },
      meta,
    );
    return { artifact, models_used: used, model_signature: signature, device: opened.used.device, frames_without_depth: missing };
  } finally {
    await frames.close();
  }
}
