/**
 * clap_extractor: CLAP audio embeddings of the video's audio track in fixed windows (default 10 s every 5 s), each
 * L2-normalised, and their duration-weighted mean as the track's embedding (seed 001 §8; DESIGN.md §7: the
 * windows are what shot_sequence pools per shot into A_shot). See README.md.
 */
import * as ort from 'onnxruntime-node';
import { TrendflowError } from '../../contracts/errors.js';
import type { ModelUsed } from '../../contracts/meta.js';
import type { EmptyReason } from '../../contracts/status.js';
import { ndarray } from '../../npz/index.js';
import { artifactMeta, writeArtifact } from '../../pipeline/artifact.js';
import type { ComponentOutcome, ComponentRunContext } from '../../pipeline/component.js';
import type { OnnxDevice, OnnxPrecision } from '../../runtime/onnx/sessions.js';
import { fileContract, locateModelFile, modelUsed, type ModelEntry } from '../../runtime/registry/index.js';
import { modelSignature } from '../../runtime/signature.js';
import { analysedStream, audioOutcome, monoAudio, silenceOf, SILENT_NOTE, streamMeta } from '../shared/component.js';
import { CLAP_INPUT, CLAP_PRESET, clapLogMel } from './features.js';

export const CLAP_PRODUCER_VERSION = '1.0.0';
export const CLAP_SCHEMA_VERSION = 'audio_npz_v2';
export const CLAP_ARTIFACT = 'embeddings.npz';
export const CLAP_FEATURES = ['window_count', 'audio_duration_sec', 'embedding_dispersion'] as const;

export interface ClapConfig {
  /** Registry id of the CLAP audio encoder. */
  model: string;
  device: OnnxDevice;
  precision: OnnxPrecision;
  /** Window length and step in seconds; windows shorter than 10 s are repeat-padded as CLAP pads short clips. */
  window_sec: number;
  hop_sec: number;
  /** Windows per inference call; null lets the batch planner choose. */
  batch_size: number | null;
}

export const DEFAULT_CLAP_CONFIG: Readonly<ClapConfig> = {
  model: 'clap-htsat-unfused-audio',
  device: 'cpu',
  precision: 'fp32',
  window_sec: 10,
  hop_sec: 5,
  batch_size: null,
};

export type ClapContext = Pick<ComponentRunContext, 'identity' | 'runDir' | 'probe' | 'audio' | 'models' | 'batchSize' | 'signal' | 'onProgress'>;

/** [start, end) in seconds of every window: every hop, until one reaches the end of the audio. */
export function clapWindows(durationSec: number, windowSec: number, hopSec: number): [number, number][] {
  const windows: [number, number][] = [];
  for (let start = 0; start === 0 || start + windowSec - hopSec < durationSec; start += hopSec) {
    windows.push([start, Math.min(start + windowSec, durationSec)]);
  }
  return windows;
}

/** The embedding width the model's contract declares (needed even for an empty artifact). */
function declaredWidth(entry: ModelEntry, id: string): number {
  const output = fileContract(entry).outputs[0];
  const width = output?.shape[output.shape.length - 1];
  if (typeof width !== 'number' || width < 1) {
    throw new TrendflowError('invalid_argument', `clap_extractor needs ${id}'s contract to declare its embedding width (the last dimension of its first output), got ${JSON.stringify(output?.shape ?? null)}`);
  }
  return width;
}

function normalize(vector: Float32Array): void {
  let sum = 0;
  for (const v of vector) sum += v * v;
  const norm = Math.sqrt(sum);
  if (!(norm > 0) || !Number.isFinite(norm)) throw new TrendflowError('inference_failed', `a CLAP embedding has norm ${norm}; cannot normalize`);
  for (let i = 0; i < vector.length; i++) vector[i] = vector[i]! / norm;
}

export async function runClapExtractor(ctx: ClapContext, config: ClapConfig = DEFAULT_CLAP_CONFIG): Promise<ComponentOutcome> {
  if (!(config.hop_sec > 0 && config.hop_sec <= config.window_sec && config.window_sec <= CLAP_INPUT.maxSamples / CLAP_INPUT.sampleRate)) {
    throw new TrendflowError('invalid_argument', `clap_extractor: need 0 < hop_sec ≤ window_sec ≤ 10, got window ${config.window_sec} s, hop ${config.hop_sec} s`);
  }
  const batchSize = ctx.batchSize ?? config.batch_size;
  if (batchSize === null || !Number.isInteger(batchSize) || batchSize < 1) throw new TrendflowError('invalid_argument', `clap_extractor runs with a positive batch size, got ${batchSize}`);
  const entry = ctx.models.registry.get(config.model);
  const preset = entry.preprocessing?.preset ?? null;
  // a model added locally (`models add`) names no preset: the caller vouches that it takes CLAP's input
  if (preset !== null && preset !== CLAP_PRESET) throw new TrendflowError('invalid_argument', `${config.model} expects preprocessing ${preset}; clap_extractor prepares ${CLAP_PRESET}`);
  const width = declaredWidth(entry, config.model);
  const empty = (reason: EmptyReason, note: string) => writeClap(ctx, config, batchSize, { width, reason, notes: [note] });

  const audio = await monoAudio(ctx, CLAP_INPUT.sampleRate);
  if ('unusable' in audio) return empty('audio_missing_or_extract_failed', audio.unusable);
  const { samples } = audio;
  if (silenceOf(samples).silent) return empty('audio_missing_or_extract_failed', SILENT_NOTE);

  const file = await locateModelFile(ctx.models.registry, ctx.models.modelsDir, config.model);
  const model = await ctx.models.sessions.get(file.path, { device: config.device, precision: config.precision });
  const contract = fileContract(entry);
  const input = contract.inputs[0]?.name ?? model.inputs[0]!.name;
  const output = contract.outputs[0]?.name ?? model.outputs[0]!.name;
  const used = modelUsed(entry, file, { runtime: 'inprocess', engine: 'onnxruntime', precision: config.precision, device: model.device });

  const windows = clapWindows(samples.duration_sec, config.window_sec, config.hop_sec);
  const perWindow = CLAP_INPUT.frames * CLAP_INPUT.nMels;
  const embeddings = new Float32Array(windows.length * width);
  for (let first = 0; first < windows.length; first += batchSize) {
    ctx.signal?.throwIfAborted();
    const batch = windows.slice(first, first + batchSize);
    const features = new Float32Array(batch.length * perWindow);
    batch.forEach(([start, end], i) => {
      const from = Math.round(start * CLAP_INPUT.sampleRate);
      const to = Math.max(from + 1, Math.min(samples.samples.length, Math.round(end * CLAP_INPUT.sampleRate)));
      clapLogMel(samples.samples.subarray(from, to), features, i * perWindow);
    });
    const result = await model.run({ [input]: new ort.Tensor('float32', features, [batch.length, 1, CLAP_INPUT.frames, CLAP_INPUT.nMels]) }, [output]);
    const data = result[output]?.data;
    if (!(data instanceof Float32Array) || data.length !== batch.length * width) {
      throw new TrendflowError('inference_failed', `${config.model} returned ${data instanceof Float32Array ? data.length : 'no float32'} values for ${batch.length} windows of width ${width}`, { path: file.path });
    }
    embeddings.set(data, first * width);
    ctx.onProgress?.({ done: first + batch.length, total: windows.length, unit: 'windows' });
  }
  for (let w = 0; w < windows.length; w++) normalize(embeddings.subarray(w * width, (w + 1) * width));
  return writeClap(ctx, config, batchSize, { width, reason: null, notes: [], windows, embeddings, durationSec: samples.duration_sec, used });
}

interface ClapResult {
  width: number;
  reason: EmptyReason | null;
  notes: string[];
  windows?: [number, number][];
  embeddings?: Float32Array;
  durationSec?: number;
  used?: ModelUsed;
}

/** The track embedding: the duration-weighted mean of the window embeddings, L2-normalised; and how spread they are. */
export function poolWindows(windows: [number, number][], embeddings: Float32Array, width: number): { embedding: Float32Array; dispersion: number } {
  const embedding = new Float32Array(width);
  windows.forEach(([start, end], w) => {
    for (let k = 0; k < width; k++) embedding[k] = embedding[k]! + (end - start) * embeddings[w * width + k]!;
  });
  normalize(embedding);
  // 1 − mean cosine similarity of the windows to the track embedding: 0 for a uniform soundtrack
  let similarity = 0;
  for (let w = 0; w < windows.length; w++) {
    for (let k = 0; k < width; k++) similarity += (embeddings[w * width + k]! * embedding[k]!) / windows.length;
  }
  return { embedding, dispersion: 1 - similarity };
}

async function writeClap(ctx: ClapContext, config: ClapConfig, batchSize: number, result: ClapResult): Promise<ComponentOutcome> {
  const status = result.reason === null ? 'ok' : 'empty';
  const windows = result.windows ?? [];
  const { width } = result;
  const pooled = result.embeddings && windows.length > 0 ? poolWindows(windows, result.embeddings, width) : null;
  const models = result.used ? [result.used] : [];
  const signature = models.length > 0 ? modelSignature(models) : null;
  const stream = analysedStream(ctx);
  const meta = artifactMeta({
    identity: ctx.identity,
    producer: 'clap_extractor',
    producerVersion: CLAP_PRODUCER_VERSION,
    schemaVersion: CLAP_SCHEMA_VERSION,
    status,
    emptyReason: result.reason,
    extra: {
      models_used: models.map((m) => ({ ...m })),
      // absent when no model ran (an empty artifact): there is nothing to sign
      ...(signature ? { model_signature: signature } : {}),
      batch_size: batchSize,
      model_id: config.model,
      preprocess_preset: CLAP_PRESET,
      window_sec: config.window_sec,
      hop_sec: config.hop_sec,
      embedding_dim: width,
      l2_normalized: true,
      pooling: 'duration-weighted mean of the L2-normalised window embeddings, L2-normalised',
      audio_stream: stream ? streamMeta(stream) : null,
      notes: result.notes,
    },
  });
  const values = pooled ? [windows.length, result.durationSec!, pooled.dispersion] : [Number.NaN, Number.NaN, Number.NaN];
  const artifact = await writeArtifact(
    ctx.runDir,
    'clap_extractor',
    CLAP_ARTIFACT,
    {
      feature_names: ndarray.objectArray([...CLAP_FEATURES]),
      feature_values: ndarray.float32(values, [CLAP_FEATURES.length]),
      embedding: ndarray.float32(pooled?.embedding ?? new Float32Array(width).fill(Number.NaN), [width]),
      embedding_present: ndarray.bool([pooled !== null], []),
      window_start_sec: ndarray.float32(windows.map(([start]) => start), [windows.length]),
      window_end_sec: ndarray.float32(windows.map(([, end]) => end), [windows.length]),
      window_embeddings: ndarray.float32(result.embeddings ?? new Float32Array(0), [windows.length, width]),
    },
    meta,
  );
  return audioOutcome(artifact, status, result.reason, result.notes, { models_used: models, model_signature: signature, device_used: result.used?.device ?? null });
}
