/**
 * core_clip's configuration and how it becomes a tokenizer plus a pair of encoders: in-process on
 * onnxruntime-node, or on Triton (seed 000). Every model comes from the registry by id and is digest-checked; a
 * missing model is an error naming the `models fetch` command, never a silent substitute.
 */
import { TrendflowError } from '../../contracts/errors.js';
import type { ModelUsed } from '../../contracts/meta.js';
import { halfToNumber, numberToHalf } from '../../npz/float16.js';
import type { OnnxDevice, OnnxPrecision, OnnxSessionRegistry } from '../../runtime/onnx/sessions.js';
import { fileContract, locateModelFile, modelUsed, type ModelRegistry } from '../../runtime/registry/index.js';
import { checkModelAgainstRef, TritonClient, tritonModelRef, validateTritonModelMapping, type TritonModelMapping, type TritonModelRef } from '../../runtime/triton/index.js';
import { onnxClipEncoders, type ClipEncoders } from './encoders.js';
import { CLIP_PRESETS, type ClipPresetName } from '../../runtime/clip/preprocess.js';
import { ClipTokenizer } from '../../runtime/clip/tokenizer.js';

export interface CoreClipConfig {
  runtime: 'inprocess' | 'triton';
  /** Registry ids of the image tower, the text tower and the BPE vocabulary. */
  image_model: string;
  text_model: string;
  vocab_model: string;
  /** Preprocessing preset; must match the image model's input size. */
  preset: ClipPresetName;
  /** In-process only (Triton runs on the server's GPU). */
  device: OnnxDevice;
  precision: OnnxPrecision;
  /** Triton only: the resolved model mapping of seed 000. */
  triton?: TritonModelMapping;
}

export const DEFAULT_CORE_CLIP_CONFIG: Readonly<CoreClipConfig> = {
  runtime: 'inprocess',
  image_model: 'clip-vit-b32-image',
  text_model: 'clip-vit-b32-text',
  vocab_model: 'clip-bpe-vocab',
  preset: 'openai_clip_224',
  device: 'cpu',
  precision: 'fp32',
};

export interface CoreClipDependencies {
  registry: ModelRegistry;
  modelsDir: string;
  sessions: OnnxSessionRegistry;
  /** Triton client options for tests (retry delays); the URL comes from the mapping. */
  tritonClient?: (url: string) => TritonClient;
}

export interface CoreClipSetup {
  encoders: ClipEncoders;
  tokenizer: ClipTokenizer;
  preset: ClipPresetName;
  /** Frees what the setup opened (a Triton client's sockets); in-process sessions stay in the shared registry. */
  close(): Promise<void>;
}

/** The image side the model declares for its pixel input (null when symbolic). */
function declaredImageSide(registry: ModelRegistry, id: string): number | null {
  const input = fileContract(registry.get(id)).inputs[0];
  const side = input?.shape[input.shape.length - 1];
  return typeof side === 'number' ? side : null;
}

async function loadTokenizer(config: CoreClipConfig, deps: CoreClipDependencies): Promise<{ tokenizer: ClipTokenizer; used: ModelUsed; }> {
  const entry = deps.registry.get(config.vocab_model);
  const file = await locateModelFile(deps.registry, deps.modelsDir, config.vocab_model);
  const tokenizer = await ClipTokenizer.load(file.path);
  // the vocabulary is code-side data: it runs wherever the component runs
  const used = modelUsed(entry, file, { runtime: config.runtime === 'triton' ? 'triton-gpu' : 'inprocess', engine: 'clip_bpe', precision: 'n/a', device: 'cpu' });
  return { tokenizer, used };
}

export async function setupCoreClip(config: CoreClipConfig, deps: CoreClipDependencies): Promise<CoreClipSetup> {
  if (!CLIP_PRESETS[config.preset]) throw new TrendflowError('invalid_argument', `unknown CLIP preprocessing preset ${JSON.stringify(config.preset)}`);
  const side = declaredImageSide(deps.registry, config.image_model);
  if (side !== null && side !== CLIP_PRESETS[config.preset].size) {
    throw new TrendflowError('invalid_argument', `preset ${config.preset} makes ${CLIP_PRESETS[config.preset].size}px images but ${config.image_model} takes ${side}px`);
  }
  const { tokenizer, used: vocabulary } = await loadTokenizer(config, deps);

  if (config.runtime === 'inprocess') {
    const open = async (id: string) => {
      const file = await locateModelFile(deps.registry, deps.modelsDir, id);
      const model = await deps.sessions.get(file.path, { device: config.device, precision: config.precision });
      const contract = fileContract(deps.registry.get(id));
      const used = modelUsed(deps.registry.get(id), file, { runtime: 'inprocess', engine: 'onnxruntime', precision: config.precision, device: model.device });
      return { model, used, ...(contract.inputs[0] ? { input: contract.inputs[0].name } : {}), ...(contract.outputs[0] ? { output: contract.outputs[0].name } : {}) };
    };
    // both load at once; when both fail, the image model's error is the one reported, whichever failed first
    const [image, text] = await Promise.allSettled([open(config.image_model), open(config.text_model)]);
    if (image.status === 'rejected') throw image.reason;
    if (text.status === 'rejected') throw text.reason;
    return { encoders: onnxClipEncoders(image.value, text.value, vocabulary), tokenizer, preset: config.preset, close: async () => undefined };
  }

  if (!config.triton) throw new TrendflowError('invalid_argument', 'core_clip runtime=triton needs the resolved model mapping (triton)');
  const mapping = validateTritonModelMapping(config.triton, 'core_clip.triton');
  if (mapping.triton_preprocess_preset !== config.preset) {
    throw new TrendflowError('invalid_argument', `the Triton mapping's preset ${mapping.triton_preprocess_preset} differs from core_clip's ${config.preset}`);
  }
  const client = deps.tritonClient ? deps.tritonClient(mapping.triton_http_url) : new TritonClient({ url: mapping.triton_http_url });
  try {
    const image = tritonModelRef(mapping, 'image');
    const text = tritonModelRef(mapping, 'text');
    // fail fast, before any frame is read: both models must be served, with the inputs the mapping names
    checkModelAgainstRef(await client.ensureModelReady(image.model, image.version), image);
    checkModelAgainstRef(await client.ensureModelReady(text.model, text.version), text);
    const used = async (id: string, ref: TritonModelRef): Promise<ModelUsed> => {
      // weights_digest: the registry digest of the model the mapping serves (what `triton export-repo` deploys)
      const digest = deps.registry.get(id).files[0]!.sha256;
      if (!digest) throw new TrendflowError('model_unpinned', `${id} has no pinned digest, so its Triton deployment cannot be identified`);
      return modelUsed({ model_name: ref.model, model_version: ref.version, engine: 'onnx' }, digest, {
        runtime: 'triton-gpu',
        engine: 'triton_onnxruntime',
        precision: ref.datatype === 'FP16' ? 'fp16' : 'fp32',
        device: 'cuda',
      });
    };
    const models = [await used(config.image_model, image), await used(config.text_model, text), vocabulary];
    return { encoders: tritonClipEncoders(client, image, text, models), tokenizer, preset: config.preset, close: async () => client.close() };
  } catch (error) {
    client.close();
    throw error;
  }
}

function outputFloats(output: { datatype: string; data: unknown } | undefined, ref: TritonModelRef): Float32Array {
  if (!output) throw new TrendflowError('triton_request_failed', `${ref.model} returned no ${ref.output}`);
  if (output.data instanceof Float32Array) return output.data;
  if (output.datatype === 'FP16' && output.data instanceof Uint16Array) return Float32Array.from(output.data, halfToNumber);
  throw new TrendflowError('triton_request_failed', `${ref.model} returned ${ref.output} as ${output.datatype}, expected FP32 or FP16`);
}

/** Encoders that send preprocessed pixels and token ids to Triton; no local inference at all (seed 000). */
export function tritonClipEncoders(client: TritonClient, image: TritonModelRef, text: TritonModelRef, models: ModelUsed[]): ClipEncoders {
  return {
    async encodeImages(pixels, count, size) {
      const data = image.datatype === 'FP16' ? Uint16Array.from(pixels, numberToHalf) : pixels;
      const out = await client.infer(image.model, image.version, [{ name: image.input, datatype: image.datatype, shape: [count, 3, size, size], data }], [image.output]);
      return outputFloats(out.get(image.output), image);
    },
    async encodeTexts(tokens, count) {
      const data = text.datatype === 'INT32' ? Int32Array.from(tokens, Number) : tokens;
      const out = await client.infer(text.model, text.version, [{ name: text.input, datatype: text.datatype, shape: [count, tokens.length / count], data }], [text.output]);
      return outputFloats(out.get(text.output), text);
    },
    modelsUsed: () => models,
  };
}
