/**
 * core_optical_flow: optical flow between the consecutive analysis frames the Segmenter sampled for this component
 * (uniform anchors and their next frame), summarized per pair in `core_optical_flow/flow.npz` (see README.md).
 */
import type { ManifestArtifact } from '../../contracts/manifest.js';
import type { ModelUsed } from '../../contracts/meta.js';
import { TrendflowError } from '../../contracts/errors.js';
import { ndarray } from '../../npz/index.js';
import { artifactMeta, writeArtifact } from '../../pipeline/artifact.js';
import type { ComponentContext } from '../../pipeline/context.js';
import type { OnnxDevice } from '../../runtime/onnx/sessions.js';
import { modelSignature } from '../../runtime/signature.js';
import { openSampledFrames } from '../vision/frames.js';
import { openModel, type ModelContext } from '../vision/models.js';
import { blockMatchingEngine, raftEngine, type BlockMatchingOptions, type FlowEngine } from './engines.js';
import { DIRECTION_BINS, framePairs, summarizeFlow, type FlowSummary } from './flow.js';

export const CORE_OPTICAL_FLOW_PRODUCER_VERSION = '1.0.0';
export const CORE_OPTICAL_FLOW_SCHEMA_VERSION = 'core_optical_flow_npz_v1';
export const CORE_OPTICAL_FLOW_ARTIFACT = 'flow.npz';

export interface CoreOpticalFlowConfig {
  engine: 'raft' | 'block_matching';
  /** raft: registry id of a RAFT-style model. */
  model: string;
  /** block_matching: working size and search. */
  block_matching: BlockMatchingOptions;
  /** Cells moving by at most this many analysis pixels between the two frames count as still. */
  moving_threshold_px: number;
  device: OnnxDevice;
  /** Pairs read per step (the model takes one pair per call); the planner's fixed batch size. */
  batch_size: number;
}

export interface CoreOpticalFlowRunContext extends ComponentContext {
  models: ModelContext;
}

export interface CoreOpticalFlowResult {
  artifact: ManifestArtifact;
  models_used: ModelUsed[];
  model_signature: string | null;
  device: string | null;
  pairs: number;
}

export async function runCoreOpticalFlow(ctx: CoreOpticalFlowRunContext, config: CoreOpticalFlowConfig, batchSize: number): Promise<CoreOpticalFlowResult> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TrendflowError('invalid_argument', `core_optical_flow batch_size must be a positive integer, got ${batchSize}`);
  let engine: FlowEngine;
  const used: ModelUsed[] = [];
  if (config.engine === 'raft') {
    const opened = await openModel(ctx.models, config.model, config.device);
    engine = raftEngine(opened);
    used.push(opened.used);
  } else {
    engine = blockMatchingEngine(config.block_matching);
  }
  const { frames, indices } = await openSampledFrames(ctx.framesDir, 'core_optical_flow');
  try {
    const pairs = framePairs(indices, frames.metadata.union_frame_indices_source);
    if (pairs.length === 0) {
      throw new TrendflowError('sampling_missing', 'the core_optical_flow frame_indices hold no two consecutive analysis frames; flow needs frame pairs', { path: frames.dir });
    }
    const diagonal = Math.hypot(frames.width, frames.height);
    const summaries: FlowSummary[] = [];
    const dt: number[] = [];
    for (let start = 0; start < pairs.length; start += batchSize) {
      ctx.signal?.throwIfAborted();
      const chunk = pairs.slice(start, start + batchSize);
      const batch = await frames.getBatch(chunk.flat());
      for (let k = 0; k < chunk.length; k++) {
        const [first, second] = chunk[k]!;
        const seconds = frames.timestamp(second) - frames.timestamp(first);
        const field = await engine.flow(batch.frames[2 * k]!, batch.frames[2 * k + 1]!);
        summaries.push(summarizeFlow(field, diagonal, seconds, config.moving_threshold_px));
        dt.push(seconds);
      }
      ctx.onProgress?.({ done: summaries.length, total: pairs.length, unit: 'pairs' });
    }

    const p = pairs.length;
    const series = (pick: (s: FlowSummary) => number) => ndarray.float32(summaries.map(pick));
    const signature = used.length > 0 ? modelSignature(used) : null;
    const meta = artifactMeta({
      identity: ctx.identity,
      producer: 'core_optical_flow',
      producerVersion: CORE_OPTICAL_FLOW_PRODUCER_VERSION,
      schemaVersion: CORE_OPTICAL_FLOW_SCHEMA_VERSION,
      status: 'ok',
      extra: {
        engine: config.engine,
        ...(signature ? { models_used: used.map((m) => ({ ...m })), model_signature: signature, model: config.model } : {}),
        ...(config.engine === 'block_matching' ? { block_matching: { ...config.block_matching } } : {}),
        batch_size: batchSize,
        moving_threshold_px: config.moving_threshold_px,
        magnitude_unit: 'analysis-frame diagonals per second',
        direction_bins: 'atan2(dy, dx) in image coordinates (y down), 45° bins centred on 0° (right), 45°, 90° (down), …, 315°',
        analysis_width: frames.width,
        analysis_height: frames.height,
        pair_count: p,
      },
    });
    const artifact = await writeArtifact(
      ctx.runDir,
      'core_optical_flow',
      CORE_OPTICAL_FLOW_ARTIFACT,
      {
        frame_indices: ndarray.int32(pairs.map(([first]) => first)),
        next_frame_indices: ndarray.int32(pairs.map(([, second]) => second)),
        time_sec: ndarray.float64(pairs.map(([first]) => frames.timestamp(first))),
        dt_sec: ndarray.float32(dt),
        mean_magnitude: series((s) => s.meanMagnitude),
        median_magnitude: series((s) => s.medianMagnitude),
        p90_magnitude: series((s) => s.p90Magnitude),
        max_magnitude: series((s) => s.maxMagnitude),
        mean_flow: ndarray.float32(summaries.flatMap((s) => s.meanFlow), [p, 2]),
        motion_energy: series((s) => s.motionEnergy),
        moving_fraction: series((s) => s.movingFraction),
        direction_present: ndarray.bool(summaries.map((s) => s.directionPresent)),
        direction_coherence: series((s) => s.coherence),
        direction_histogram: ndarray.float32(summaries.flatMap((s) => s.histogram), [p, DIRECTION_BINS]),
      },
      meta,
    );
    return { artifact, models_used: used, model_signature: signature, device: used[0]?.device ?? null, pairs: p };
  } finally {
    await frames.close();
  }
}
