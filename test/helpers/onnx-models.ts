/**
 * Small generated ONNX models with the real models' input/output contracts, for tests and benchmarks where the
 * real model is too large to keep in ../shared/models (CLIP ViT-B/32 is ~350 MB per encoder).
 *
 * The weights are deterministic (a seeded PRNG), so two builds of the same model are byte-identical and their
 * outputs can be compared across runs, runtimes and batch sizes. Built with `onnx-proto` (the ONNX protobuf
 * definitions) rather than by hand-encoding protobuf.
 */
// onnx-proto is CommonJS without detectable named exports: its default export works both under vitest and in
// plain Node ESM (bench/), and the namespace's types come from a type-only import
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FEATURE_COLUMNS, FEATURE_SCHEMA_VERSION, TARGET_NAMES } from '../../core/predict/feature-spec.js';
import { MODEL_SIDECAR_FILE, PREDICTION_MODEL_FORMAT, type PredictionModelSidecar } from '../../core/predict/model/contract.js';
import { seededRandom } from '../../core/predict/baseline/gbt.js';

const onnx: typeof OnnxTypes = onnxProto.onnx;

const OPSET = 13;
const IR_VERSION = 7;

export interface ClipImageModelOptions {
  /** Input side S of (B,3,S,S); default 224. */
  size?: number;
  /** Embedding width D; default 32. */
  dim?: number;
  /** Patch side of the patchifying Conv; default 32 (as ViT-B/32). */
  patch?: number;
  inputName?: string;
  outputName?: string;
  seed?: number;
  /**
   * Residual MLP blocks over the patch tokens (default 0). With dim 768, hidden 3072 and 12 blocks the model costs
   * about what ViT-B/32 costs (~5 GFLOP per 224px image), for benchmarks where the real CLIP is not at hand.
   */
  blocks?: number;
  /** MLP width of the blocks (default 4 × dim). */
  hidden?: number;
}

export interface ClipTextModelOptions {
  dim?: number;
  contextLength?: number;
  vocabSize?: number;
  inputName?: string;
  outputName?: string;
  seed?: number;
}

/** Reproducible test weights, uniform in [-0.5, 0.5). */
function seededUniform(seed: number): () => number {
  const random = seededRandom(seed);
  return () => random() - 0.5;
}

function floatTensor(name: string, dims: number[], seed: number, scale: number): OnnxTypes.ITensorProto {
  const random = seededUniform(seed);
  const count = dims.reduce((a, b) => a * b, 1);
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = random() * scale;
  return {
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(values.buffer),
  };
}

function valueInfo(name: string, elemType: number, shape: (number | string)[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function encodeModel(graph: OnnxTypes.IGraphProto): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'trendflow-test',
    opsetImport: [{ domain: '', version: OPSET }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * CLIP image-encoder contract: `pixel_values` f32 [B,3,S,S] → `image_embeds` f32 [B,D].
 * Graph: Conv (patchify, stride = patch) → Relu → ReduceMean over the patch grid (optionally residual MLP blocks over
 * the patch tokens first). The Relu keeps it non-linear so different images give different directions after L2
 * normalization.
 */
export function makeClipImageModel(options: ClipImageModelOptions = {}): Uint8Array {
  const size = options.size ?? 224;
  const dim = options.dim ?? 32;
  const patch = options.patch ?? 32;
  const input = options.inputName ?? 'pixel_values';
  const output = options.outputName ?? 'image_embeds';
  const seed = options.seed ?? 1;
  const blocks = options.blocks ?? 0;
  const hidden = options.hidden ?? 4 * dim;
  const ints = (name: string, values: number[]): OnnxTypes.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: values });
  const initializer: OnnxTypes.ITensorProto[] = [floatTensor('patch_weight', [dim, 3, patch, patch], seed, 0.2), floatTensor('patch_bias', [dim], seed + 1, 0.2)];
  const node: OnnxTypes.INodeProto[] = [
    { opType: 'Conv', input: [input, 'patch_weight', 'patch_bias'], output: ['patches'], attribute: [ints('kernel_shape', [patch, patch]), ints('strides', [patch, patch])] },
    { opType: 'Relu', input: ['patches'], output: ['activated'] },
  ];
  if (blocks === 0) {
    node.push({ opType: 'ReduceMean', input: ['activated'], output: [output], attribute: [ints('axes', [2, 3]), { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] });
  } else {
    // (B, D, g, g) → (B, g·g, D) tokens → residual MLP blocks → mean over tokens
    initializer.push({ name: 'token_shape', dims: [3], dataType: onnx.TensorProto.DataType.INT64, int64Data: [0, dim, -1] });
    node.push({ opType: 'Reshape', input: ['activated', 'token_shape'], output: ['channels_tokens'] });
    node.push({ opType: 'Transpose', input: ['channels_tokens'], output: ['tokens_0'], attribute: [ints('perm', [0, 2, 1])] });
    const scale = 1 / Math.sqrt(hidden);
    for (let b = 0; b < blocks; b++) {
      initializer.push(floatTensor(`up_${b}`, [dim, hidden], seed + 10 + 2 * b, scale), floatTensor(`down_${b}`, [hidden, dim], seed + 11 + 2 * b, scale));
      node.push({ opType: 'MatMul', input: [`tokens_${b}`, `up_${b}`], output: [`up_out_${b}`] });
      node.push({ opType: 'Relu', input: [`up_out_${b}`], output: [`up_act_${b}`] });
      node.push({ opType: 'MatMul', input: [`up_act_${b}`, `down_${b}`], output: [`down_out_${b}`] });
      node.push({ opType: 'Add', input: [`tokens_${b}`, `down_out_${b}`], output: [`tokens_${b + 1}`] });
    }
    node.push({ opType: 'ReduceMean', input: [`tokens_${blocks}`], output: [output], attribute: [ints('axes', [1]), { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] });
  }
  return encodeModel({
    name: 'clip_image_contract',
    input: [valueInfo(input, onnx.TensorProto.DataType.FLOAT, ['batch', 3, size, size])],
    output: [valueInfo(output, onnx.TensorProto.DataType.FLOAT, ['batch', dim])],
    initializer,
    node,
  });
}

/**
 * CLIP text-encoder contract: `input_ids` int64 [B,77] → `text_embeds` f32 [B,D].
 * Graph: Gather from a token-embedding table → ReduceMean over the context (padding included, as position matters
 * only through which tokens are present; enough for contract tests).
 */
export function makeClipTextModel(options: ClipTextModelOptions = {}): Uint8Array {
  const dim = options.dim ?? 32;
  const contextLength = options.contextLength ?? 77;
  const vocabSize = options.vocabSize ?? 49408;
  const input = options.inputName ?? 'input_ids';
  const output = options.outputName ?? 'text_embeds';
  const seed = options.seed ?? 2;
  return encodeModel({
    name: 'clip_text_contract',
    input: [valueInfo(input, onnx.TensorProto.DataType.INT64, ['batch', contextLength])],
    output: [valueInfo(output, onnx.TensorProto.DataType.FLOAT, ['batch', dim])],
    initializer: [floatTensor('token_embedding', [vocabSize, dim], seed, 1)],
    node: [
      { opType: 'Gather', input: ['token_embedding', input], output: ['token_vectors'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] },
      {
        opType: 'ReduceMean',
        input: ['token_vectors'],
        output: [output],
        attribute: [
          { name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1] },
          { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 },
        ],
      },
    ],
  });
}

export interface DepthContractModelOptions {
  /** Input side S of (1,3,S,S); default 256 (MiDaS small). */
  size?: number;
  inputName?: string;
  outputName?: string;
}

/**
 * MiDaS-small contract: one input f32 [1,3,S,S] (RGB in [0,1]) → one output f32 [1,S,S], "inverse depth" = the
 * mean of the three channels: bright pixels are near, dark ones far, so a test can place depth with colour. The
 * names differ from the registry's on purpose: the provider binds MiDaS by position.
 */
export function makeDepthContractModel(options: DepthContractModelOptions = {}): Uint8Array {
  const size = options.size ?? 256;
  const input = options.inputName ?? 'image';
  const output = options.outputName ?? 'inverse_depth';
  return encodeModel({
    name: 'midas_contract',
    input: [valueInfo(input, onnx.TensorProto.DataType.FLOAT, [1, 3, size, size])],
    output: [valueInfo(output, onnx.TensorProto.DataType.FLOAT, [1, size, size])],
    node: [
      {
        opType: 'ReduceMean',
        input: [input],
        output: [output],
        attribute: [
          { name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1] },
          { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 },
        ],
      },
    ],
  });
}

export interface FlowContractModelOptions {
  /** Input size; default 240×320 (the RAFT-small export). */
  height?: number;
  width?: number;
  inputNames?: [string, string];
}

/**
 * RAFT contract: two inputs f32 [1,3,H,W] (earlier, later frame, RGB 0..255) → `flow_low` f32 [1,2,H/8,W/8] and
 * `flow_up` f32 [1,2,H,W], in that order. The "flow" is uniform: dx = mean(later − earlier) over all pixels and
 * channels, dy = 0, so a brightening video moves everything right by a known number of input pixels.
 */
export function makeFlowContractModel(options: FlowContractModelOptions = {}): Uint8Array {
  const height = options.height ?? 240;
  const width = options.width ?? 320;
  const [first, second] = options.inputNames ?? ['frame0', 'frame1'];
  const int64s = (name: string, values: number[]): OnnxTypes.ITensorProto => ({
    name,
    dims: [values.length],
    dataType: onnx.TensorProto.DataType.INT64,
    rawData: new Uint8Array(BigInt64Array.from(values, BigInt).buffer),
  });
  return encodeModel({
    name: 'raft_contract',
    input: [valueInfo(first, onnx.TensorProto.DataType.FLOAT, [1, 3, height, width]), valueInfo(second, onnx.TensorProto.DataType.FLOAT, [1, 3, height, width])],
    output: [
      valueInfo('flow_low', onnx.TensorProto.DataType.FLOAT, [1, 2, height / 8, width / 8]),
      valueInfo('flow_up', onnx.TensorProto.DataType.FLOAT, [1, 2, height, width]),
    ],
    initializer: [
      { name: 'zero', dims: [1], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(new Float32Array([0]).buffer) },
      int64s('shape_up', [1, 2, height, width]),
      int64s('shape_low', [1, 2, height / 8, width / 8]),
    ],
    node: [
      { opType: 'Sub', input: [second, first], output: ['difference'] },
      {
        opType: 'ReduceMean',
        input: ['difference'],
        output: ['dx'],
        attribute: [
          { name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 2, 3] },
          { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 1 },
        ],
      },
      { opType: 'Mul', input: ['dx', 'zero'], output: ['dy'] },
      { opType: 'Concat', input: ['dx', 'dy'], output: ['vector'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
      { opType: 'Expand', input: ['vector', 'shape_low'], output: ['flow_low'] },
      { opType: 'Expand', input: ['vector', 'shape_up'], output: ['flow_up'] },
    ],
  });
}

export interface ClapAudioModelOptions {
  /** Embedding width D; default 32. */
  dim?: number;
  /** Time frames and mel bands of `input_features`; default 1001 × 64 (10 s at 48 kHz, hop 480). */
  frames?: number;
  mels?: number;
  seed?: number;
}

/**
 * CLAP audio-encoder contract (Xenova/clap-htsat-unfused `audio_model.onnx`): `input_features` f32
 * [B,1,frames,mels] log-mel → `audio_embeds` f32 [B,D]. Graph: mean and standard deviation over time per mel band
 * (so a change anywhere in the clip, level or movement, changes the result), concatenated, MatMul → Tanh.
 */
export function makeClapAudioModel(options: ClapAudioModelOptions = {}): Uint8Array {
  const dim = options.dim ?? 32;
  const frames = options.frames ?? 1001;
  const mels = options.mels ?? 64;
  const seed = options.seed ?? 3;
  const ints = (name: string, value: number[]) => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: value });
  const keep = { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 };
  return encodeModel({
    name: 'clap_audio_contract',
    input: [valueInfo('input_features', onnx.TensorProto.DataType.FLOAT, ['batch_size', 1, frames, mels])],
    output: [valueInfo('audio_embeds', onnx.TensorProto.DataType.FLOAT, ['batch_size', dim])],
    initializer: [floatTensor('projection', [2 * mels, dim], seed, 0.002)],
    node: [
      { opType: 'ReduceMean', input: ['input_features'], output: ['mean'], attribute: [ints('axes', [1, 2]), keep] },
      { opType: 'ReduceMean', input: ['input_features'], output: ['mean_keep'], attribute: [ints('axes', [2])] },
      { opType: 'Sub', input: ['input_features', 'mean_keep'], output: ['centred'] },
      { opType: 'Mul', input: ['centred', 'centred'], output: ['squared'] },
      { opType: 'ReduceMean', input: ['squared'], output: ['variance'], attribute: [ints('axes', [1, 2]), keep] },
      { opType: 'Sqrt', input: ['variance'], output: ['deviation'] },
      { opType: 'Concat', input: ['mean', 'deviation'], output: ['summary'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
      { opType: 'MatMul', input: ['summary', 'projection'], output: ['projected'] },
      { opType: 'Tanh', input: ['projected'], output: ['audio_embeds'] },
    ],
  });
}

export interface SentenceEncoderModelOptions {
  /** Token ids the embedding table covers; default 64. */
  vocabSize?: number;
  /** Hidden width D; default 16. */
  dim?: number;
  seed?: number;
}

/**
 * Hugging Face sentence-encoder contract (an XLM-R / MPNet export such as Xenova/paraphrase-multilingual-mpnet-
 * base-v2): `input_ids` i64 [B,T] and `attention_mask` i64 [B,T] → `last_hidden_state` f32 [B,T,D]. Graph: Gather
 * from a token-embedding table, times the mask (padding positions are 0, as a real encoder's are ignored by mean
 * pooling).
 */
export function makeSentenceEncoderModel(options: SentenceEncoderModelOptions = {}): Uint8Array {
  const vocabSize = options.vocabSize ?? 64;
  const dim = options.dim ?? 16;
  const seed = options.seed ?? 4;
  return encodeModel({
    name: 'sentence_encoder_contract',
    input: [
      valueInfo('input_ids', onnx.TensorProto.DataType.INT64, ['batch_size', 'sequence_length']),
      valueInfo('attention_mask', onnx.TensorProto.DataType.INT64, ['batch_size', 'sequence_length']),
    ],
    output: [valueInfo('last_hidden_state', onnx.TensorProto.DataType.FLOAT, ['batch_size', 'sequence_length', dim])],
    initializer: [
      floatTensor('token_embedding', [vocabSize, dim], seed, 1),
      { name: 'last_axis', dims: [1], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(new BigInt64Array([2n]).buffer) },
    ],
    node: [
      { opType: 'Gather', input: ['token_embedding', 'input_ids'], output: ['states'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] },
      { opType: 'Cast', input: ['attention_mask'], output: ['mask_float'], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: onnx.TensorProto.DataType.FLOAT }] },
      { opType: 'Unsqueeze', input: ['mask_float', 'last_axis'], output: ['mask_column'] },
      { opType: 'Mul', input: ['states', 'mask_column'], output: ['last_hidden_state'] },
    ],
  });
}

export interface QuantileRegressorModelOptions {
  /** Feature columns F of the input; default 120 (features_v1). */
  features?: number;
  /** Target heads T; default 6. */
  targets?: number;
  /** Per-quantile offsets added to every head's point, length Q; ascending gives monotone quantiles. */
  offsets: number[];
  /** Row-major [F, T] weights; default seeded uniform in ±0.005. */
  weights?: ArrayLike<number>;
  /** Per-head bias, length T; default all 1. */
  bias?: ArrayLike<number>;
  inputName?: string;
  outputName?: string;
  seed?: number;
}

/**
 * Prediction-model contract (core/predict/model/contract.ts, engine kind onnx): `features` f32 [batch,F] →
 * `quantiles` f32 [batch,T,Q]. Graph: point = x · W + b (MatMul, Add) → Unsqueeze to [batch,T,1] → Add the
 * [T,Q] offsets, so head t's quantile q is point_t + offsets[q]: monotone when the offsets ascend, crossing
 * (a broken model) when they do not. NaN in the input propagates to the output, as in a model that cannot take NaN.
 */
export function makeQuantileRegressorModel(options: QuantileRegressorModelOptions): Uint8Array {
  const F = options.features ?? 120;
  const T = options.targets ?? 6;
  const Q = options.offsets.length;
  const input = options.inputName ?? 'features';
  const output = options.outputName ?? 'quantiles';
  const floats = (name: string, dims: number[], values: ArrayLike<number>): OnnxTypes.ITensorProto => ({
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(Float32Array.from(values).buffer),
  });
  const offsets = Array.from({ length: T }, () => options.offsets).flat();
  return encodeModel({
    name: 'quantile_regressor_contract',
    input: [valueInfo(input, onnx.TensorProto.DataType.FLOAT, ['batch', F])],
    output: [valueInfo(output, onnx.TensorProto.DataType.FLOAT, ['batch', T, Q])],
    initializer: [
      options.weights ? floats('weights', [F, T], options.weights) : floatTensor('weights', [F, T], options.seed ?? 5, 0.01),
      floats('bias', [T], options.bias ?? new Array<number>(T).fill(1)),
      floats('offsets', [T, Q], offsets),
      { name: 'last_axis', dims: [1], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(new BigInt64Array([2n]).buffer) },
    ],
    node: [
      { opType: 'MatMul', input: [input, 'weights'], output: ['product'] },
      { opType: 'Add', input: ['product', 'bias'], output: ['point'] },
      { opType: 'Unsqueeze', input: ['point', 'last_axis'], output: ['point_column'] },
      { opType: 'Add', input: ['point_column', 'offsets'], output: [output] },
    ],
  });
}

export interface OnnxPredictionFolderOptions {
  /** The model's quantile offsets (see makeQuantileRegressorModel); default p10/p50/p90 at -0.5, 0, +0.5. */
  offsets?: number[];
  quantiles?: number[];
  weights?: ArrayLike<number>;
  bias?: ArrayLike<number>;
  /** Sidecar fields to override (a broken sidecar for a test). */
  sidecar?: Partial<Record<keyof PredictionModelSidecar, unknown>>;
}

/**
 * Writes an external ONNX prediction-model folder (core/predict/model/README.md): `model.onnx` from
 * makeQuantileRegressorModel and a `model.json` that meets the contract for features_v1, with imputation 0 for
 * every feature unless the sidecar override says otherwise. Returns the folder.
 */
export async function writeOnnxPredictionFolder(dir: string, type: 'v1' | 'v2', options: OnnxPredictionFolderOptions = {}): Promise<string> {
  const quantiles = options.quantiles ?? [0.1, 0.5, 0.9];
  const offsets = options.offsets ?? [-0.5, 0, 0.5];
  await fs.mkdir(dir, { recursive: true });
  const model = makeQuantileRegressorModel({ offsets, ...(options.weights ? { weights: options.weights } : {}), ...(options.bias ? { bias: options.bias } : {}) });
  await fs.writeFile(path.join(dir, 'model.onnx'), model);
  const sidecar = {
    format: PREDICTION_MODEL_FORMAT,
    type,
    version: `${type}.0.1`,
    feature_schema_version: FEATURE_SCHEMA_VERSION,
    feature_names: FEATURE_COLUMNS.map((c) => c.name),
    targets: [...TARGET_NAMES],
    quantiles,
    calibration: { method: 'quantile_regression', groups: ['target'], calibration_rows: 0 },
    engine: { kind: 'onnx', file: 'model.onnx', input: 'features', output: 'quantiles', imputation: FEATURE_COLUMNS.map(() => 0) },
    created_at: '2026-01-01T00:00:00Z',
    ...options.sidecar,
  };
  await fs.writeFile(path.join(dir, MODEL_SIDECAR_FILE), JSON.stringify(sidecar, null, 2));
  return dir;
}

/**
 * The tokenizer files that go with makeSentenceEncoderModel: a small SentencePiece-style (Unigram) tokenizer in
 * the Hugging Face format, built like XLM-R's (Metaspace pre-tokenizer, `<s> $A </s>` template), with pieces for
 * Latin and Cyrillic letters, digits, some punctuation and a few words. `vocabSize` is the encoder's vocabSize.
 */
export function makeSentenceTokenizer(): { files: { 'tokenizer.json': string; 'tokenizer_config.json': string }; vocabSize: number } {
  const specials = ['<s>', '<pad>', '</s>', '<unk>'];
  const pieces = ['▁', '▁video', '▁видео', ...'abcdefghijklmnopqrstuvwxyz'.split(''), ...'абвгдеёжзийклмнопрстуфхцчшщъыьэюя'.split(''), ...'0123456789?!.,#'.split('')];
  const vocab = [...specials.map((s) => [s, 0]), ...pieces.map((p) => [p, p.length > 2 ? -2 : -5])];
  const special = (id: string, n: number) => ({ id, ids: [n], tokens: [id] });
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      special_tokens: { '<s>': special('<s>', 0), '</s>': special('</s>', 2) },
    },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 3, vocab, byte_fallback: false },
  };
  const config = { bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>', unk_token: '<unk>', model_max_length: 512 };
  return { files: { 'tokenizer.json': JSON.stringify(tokenizer), 'tokenizer_config.json': JSON.stringify(config) }, vocabSize: vocab.length };
}
