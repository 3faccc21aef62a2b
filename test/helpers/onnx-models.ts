/**
 * Small generated ONNX models with the real models' input/output contracts, for tests and benchmarks where the
 * real model is too large to keep in ../shared/models (CLIP ViT-B/32 is ~350 MB per encoder).
 *
 * The weights are deterministic (a seeded PRNG), so two builds of the same model are byte-identical and their
 * outputs can be compared across runs, runtimes and batch sizes. Built with `onnx-proto` (the ONNX protobuf
 * definitions) rather than by hand-encoding protobuf.
 */
import { onnx } from 'onnx-proto';

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
}

export interface ClipTextModelOptions {
  dim?: number;
  contextLength?: number;
  vocabSize?: number;
  inputName?: string;
  outputName?: string;
  seed?: number;
}

/** mulberry32: a tiny seeded PRNG, enough for reproducible test weights. */
function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

function floatTensor(name: string, dims: number[], seed: number, scale: number): onnx.ITensorProto {
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

function valueInfo(name: string, elemType: number, shape: (number | string)[]): onnx.IValueInfoProto {
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

function encodeModel(graph: onnx.IGraphProto): Uint8Array {
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
 * Graph: Conv (patchify, stride = patch) → Relu → ReduceMean over the patch grid. The Relu keeps it non-linear so
 * different images give different directions after L2 normalization.
 */
export function makeClipImageModel(options: ClipImageModelOptions = {}): Uint8Array {
  const size = options.size ?? 224;
  const dim = options.dim ?? 32;
  const patch = options.patch ?? 32;
  const input = options.inputName ?? 'pixel_values';
  const output = options.outputName ?? 'image_embeds';
  const seed = options.seed ?? 1;
  return encodeModel({
    name: 'clip_image_contract',
    input: [valueInfo(input, onnx.TensorProto.DataType.FLOAT, ['batch', 3, size, size])],
    output: [valueInfo(output, onnx.TensorProto.DataType.FLOAT, ['batch', dim])],
    initializer: [floatTensor('patch_weight', [dim, 3, patch, patch], seed, 0.2), floatTensor('patch_bias', [dim], seed + 1, 0.2)],
    node: [
      {
        opType: 'Conv',
        input: [input, 'patch_weight', 'patch_bias'],
        output: ['patches'],
        attribute: [
          { name: 'kernel_shape', type: onnx.AttributeProto.AttributeType.INTS, ints: [patch, patch] },
          { name: 'strides', type: onnx.AttributeProto.AttributeType.INTS, ints: [patch, patch] },
        ],
      },
      { opType: 'Relu', input: ['patches'], output: ['activated'] },
      {
        opType: 'ReduceMean',
        input: ['activated'],
        output: [output],
        attribute: [
          { name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [2, 3] },
          { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 },
        ],
      },
    ],
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
