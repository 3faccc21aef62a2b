/**
 * Multilingual sentence embeddings for text_processor: a Hugging Face tokenizer (tokenizer.json, run by
 * @huggingface/tokenizers) and an ONNX sentence encoder from the model registry; token states are mean-pooled over
 * the attention mask (sentence-transformers' pooling) and L2-normalised. Long texts are cut into chunks of whole
 * words (chunkText) whose embeddings are averaged.
 */
import { promises as fs } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { TrendflowError } from '../../contracts/errors.js';
import type { ModelUsed } from '../../contracts/meta.js';
import type { ComponentRunContext } from '../../pipeline/component.js';
import type { OnnxDevice, OnnxPrecision } from '../../runtime/onnx/sessions.js';
import { fileContract, locateModelFile, modelUsed } from '../../runtime/registry/index.js';

export interface EmbedderConfig {
  /** Registry ids of the ONNX sentence encoder and of its tokenizer (tokenizer.json [+ tokenizer_config.json]). */
  model: string;
  tokenizer: string;
  device: OnnxDevice;
  precision: OnnxPrecision;
  /** Tokens per chunk, special tokens included (the encoder's training length). */
  max_tokens: number;
}

export interface TextEmbedder {
  dim: number;
  /** One L2-normalised row per text. */
  embed(texts: string[]): Promise<Float32Array>;
  modelsUsed(): ModelUsed[];
}

/** The embedding width the encoder's contract declares (known without loading it: an empty artifact needs it). */
export function declaredTextWidth(models: ComponentRunContext['models'], id: string): number {
  const output = fileContract(models.registry.get(id)).outputs[0];
  const width = output?.shape[output.shape.length - 1];
  if (typeof width !== 'number' || width < 1) {
    throw new TrendflowError('invalid_argument', `text_processor needs ${id}'s contract to declare its embedding width (the last dimension of its first output), got ${JSON.stringify(output?.shape ?? null)}`);
  }
  return width;
}

async function readJsonFile(file: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new TrendflowError('model_load_failed', `cannot read the tokenizer file: ${(error as Error).message}`, { path: file, cause: error });
  }
}

/**
 * Pieces of at most `maxChars` characters cut at whitespace (a word longer than that is cut inside), at most
 * `maxChunks` of them: what one encoder call sees of a long description or subtitle track.
 */
export function chunkText(text: string, maxChars: number, maxChunks: number): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/u).filter(Boolean)) {
    for (let piece = word; piece.length > 0; piece = piece.slice(maxChars)) {
      const head = piece.slice(0, maxChars);
      if (current.length > 0 && current.length + 1 + head.length > maxChars) {
        chunks.push(current);
        if (chunks.length === maxChunks) return chunks;
        current = '';
      }
      current = current ? `${current} ${head}` : head;
    }
  }
  if (current.length > 0 && chunks.length < maxChunks) chunks.push(current);
  return chunks;
}

export async function openTextEmbedder(config: EmbedderConfig, models: ComponentRunContext['models'], batchSize: number): Promise<TextEmbedder> {
  const tokenizerEntry = models.registry.get(config.tokenizer);
  const tokenizerFile = await locateModelFile(models.registry, models.modelsDir, config.tokenizer, 'tokenizer.json');
  const hasConfig = tokenizerEntry.files.some((f) => f.name === 'tokenizer_config.json');
  const tokenizerConfig = hasConfig ? await readJsonFile((await locateModelFile(models.registry, models.modelsDir, config.tokenizer, 'tokenizer_config.json')).path) : {};
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(await readJsonFile(tokenizerFile.path), tokenizerConfig);
  } catch (error) {
    throw new TrendflowError('model_load_failed', `${config.tokenizer}: not a tokenizer @huggingface/tokenizers can run: ${(error as Error).message}`, { path: tokenizerFile.path, cause: error });
  }
  const padToken = typeof tokenizerConfig.pad_token === 'string' ? tokenizerConfig.pad_token : null;
  const padId = (padToken !== null ? tokenizer.token_to_id(padToken) : undefined) ?? 0;

  const entry = models.registry.get(config.model);
  const file = await locateModelFile(models.registry, models.modelsDir, config.model);
  const model = await models.sessions.get(file.path, { device: config.device, precision: config.precision });
  const contract = fileContract(entry);
  const dim = declaredTextWidth(models, config.model);
  const inputNames = new Set(model.inputs.map((i) => i.name));
  const output = contract.outputs[0]?.name ?? model.outputs[0]!.name;
  const pooled = (contract.outputs[0]?.shape.length ?? model.outputs[0]!.shape.length) === 2;
  const used: ModelUsed[] = [
    modelUsed(entry, file, { runtime: 'inprocess', engine: 'onnxruntime', precision: config.precision, device: model.device }),
    // the tokenizer is code-side data: it runs wherever the component runs
    modelUsed(tokenizerEntry, tokenizerFile, { runtime: 'inprocess', engine: 'hf_tokenizers', precision: 'n/a', device: 'cpu' }),
  ];

  /** Token ids with the tokenizer's special tokens; over-long text keeps its first tokens and the final special token. */
  const encode = (text: string): number[] => {
    const ids = tokenizer.encode(text).ids;
    return ids.length <= config.max_tokens ? ids : [...ids.slice(0, config.max_tokens - 1), ids[ids.length - 1]!];
  };

  const embedBatch = async (texts: string[]): Promise<Float32Array> => {
    const encoded = texts.map(encode);
    const length = Math.max(1, ...encoded.map((ids) => ids.length));
    const ids = new BigInt64Array(texts.length * length).fill(BigInt(padId));
    const mask = new BigInt64Array(texts.length * length);
    encoded.forEach((row, b) => {
      row.forEach((id, t) => {
        ids[b * length + t] = BigInt(id);
        mask[b * length + t] = 1n;
      });
    });
    const shape = [texts.length, length];
    const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', ids, shape) };
    if (inputNames.has('attention_mask')) feeds.attention_mask = new ort.Tensor('int64', mask, shape);
    if (inputNames.has('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(ids.length), shape);
    const result = await model.run(feeds, [output]);
    const data = result[output]?.data;
    const expected = pooled ? texts.length * dim : texts.length * length * dim;
    if (!(data instanceof Float32Array) || data.length !== expected) {
      throw new TrendflowError('inference_failed', `${config.model} returned ${data instanceof Float32Array ? data.length : 'no float32'} values, expected ${expected}`, { path: file.path });
    }
    const out = new Float32Array(texts.length * dim);
    for (let b = 0; b < texts.length; b++) {
      const row = out.subarray(b * dim, (b + 1) * dim);
      if (pooled) row.set(data.subarray(b * dim, (b + 1) * dim));
      else {
        // sentence-transformers' mean pooling: the average of the token states the attention mask keeps
        const tokens = encoded[b]!.length;
        for (let t = 0; t < tokens; t++) for (let k = 0; k < dim; k++) row[k] = row[k]! + data[(b * length + t) * dim + k]! / tokens;
      }
      let norm = 0;
      for (const v of row) norm += v * v;
      norm = Math.sqrt(norm);
      if (!(norm > 0) || !Number.isFinite(norm)) throw new TrendflowError('inference_failed', `a sentence embedding of ${config.model} has norm ${norm}`, { path: file.path });
      for (let k = 0; k < dim; k++) row[k] = row[k]! / norm;
    }
    return out;
  };

  return {
    dim,
    async embed(texts) {
      const out = new Float32Array(texts.length * dim);
      for (let start = 0; start < texts.length; start += batchSize) {
        out.set(await embedBatch(texts.slice(start, start + batchSize)), start * dim);
      }
      return out;
    },
    modelsUsed: () => used,
  };
}
