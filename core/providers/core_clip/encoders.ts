/**
 * The two CLIP encoders behind one interface, on one runtime for both (seed 000: with runtime=triton, image and
 * text embeddings are both computed by Triton; tokenization and image preprocessing stay local).
 */
import * as ort from 'onnxruntime-node';
import { TrendflowError } from '../../contracts/errors.js';
import type { ModelUsed } from '../../contracts/meta.js';
import type { OnnxModel } from '../../runtime/onnx/sessions.js';

export interface ClipEncoders {
  /** (count, 3, size, size) float32 CLIP-normalized pixels → (count, D) raw embeddings. */
  encodeImages(pixels: Float32Array, count: number, size: number): Promise<Float32Array>;
  /** (count, contextLength) int64 token ids → (count, D) raw embeddings. */
  encodeTexts(tokens: BigInt64Array, count: number): Promise<Float32Array>;
  /** Every model the encoders called: image encoder, text encoder, BPE vocabulary. */
  modelsUsed(): ModelUsed[];
}

export interface OnnxEncoderSpec {
  model: OnnxModel;
  used: ModelUsed;
  /** Input and output names; default: the model's first input and first output. */
  input?: string;
  output?: string;
}

function asFloat32(tensor: ort.Tensor | undefined, what: string, path: string): Float32Array {
  if (!tensor || !(tensor.data instanceof Float32Array)) {
    throw new TrendflowError('inference_failed', `the ${what} encoder did not return a float32 tensor`, { path });
  }
  return tensor.data;
}

/** In-process encoders on two onnxruntime sessions. */
export function onnxClipEncoders(image: OnnxEncoderSpec, text: OnnxEncoderSpec, vocabulary: ModelUsed): ClipEncoders {
  const imageInput = image.input ?? image.model.inputs[0]!.name;
  const imageOutput = image.output ?? image.model.outputs[0]!.name;
  const textInput = text.input ?? text.model.inputs[0]!.name;
  const textOutput = text.output ?? text.model.outputs[0]!.name;
  // Hugging Face exports of the text tower may also take an attention mask: 1 on real tokens, 0 on padding
  const wantsMask = text.model.inputs.some((i) => i.name === 'attention_mask');
  return {
    async encodeImages(pixels, count, size) {
      const feeds = { [imageInput]: new ort.Tensor('float32', pixels, [count, 3, size, size]) };
      const out = await image.model.run(feeds, [imageOutput]);
      return asFloat32(out[imageOutput], 'image', image.model.path);
    },
    async encodeTexts(tokens, count) {
      const shape = [count, tokens.length / count];
      const feeds: Record<string, ort.Tensor> = { [textInput]: new ort.Tensor('int64', tokens, shape) };
      if (wantsMask) feeds.attention_mask = new ort.Tensor('int64', tokens.map((t) => (t === 0n ? 0n : 1n)), shape);
      const out = await text.model.run(feeds, [textOutput]);
      return asFloat32(out[textOutput], 'text', text.model.path);
    },
    modelsUsed: () => [image.used, text.used, vocabulary],
  };
}
