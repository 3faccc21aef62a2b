/**
 * CLIP text embeddings of the scene labels, in the same space as core_clip's frame embeddings: the text tower and
 * the BPE vocabulary core_clip used (found in the registry from its artifact's models_used and digest-checked),
 * run in process on the CPU, and cached under the models dir keyed by the label-set version and the model
 * signature, so they are computed once per model, not once per video (README.md, "Label embeddings").
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { TrendflowError } from '../../contracts/errors.js';
import type { ModelUsed } from '../../contracts/meta.js';
import { getArray, getMeta, getStringList, ndarray, readNpzFile, writeNpzFile, type PyValue } from '../../npz/index.js';
import type { ComponentRunContext } from '../../pipeline/component.js';
import { ClipTokenizer } from '../../runtime/clip/tokenizer.js';
import { fileContract, locateModelFile, modelUsed, type ModelEntry } from '../../runtime/registry/index.js';
import { modelSignature } from '../../runtime/signature.js';
import { SCENE_LABEL_SET_VERSION, SCENE_LABELS } from './labels.js';

export interface LabelEmbeddings {
  labels: string[];
  prompts: string[];
  /** (labels, dim), L2-normalized. */
  embeddings: Float32Array;
  dim: number;
  models_used: ModelUsed[];
  model_signature: string;
  cache: { file: string; hit: boolean };
}

/** The registry entry of `task` whose weights are one of the models core_clip used. */
function matchingEntry(registry: ComponentRunContext['models']['registry'], used: readonly ModelUsed[], task: string): { entry: ModelEntry; used: ModelUsed } {
  for (const entry of registry.list()) {
    if (entry.task !== task) continue;
    const pinned = entry.files[0]?.sha256;
    const match = used.find(
      (u) => (pinned && u.weights_digest === `sha256:${pinned}`) || (u.model_name === entry.model_name && u.model_version === entry.model_version),
    );
    if (match) return { entry, used: match };
  }
  throw new TrendflowError(
    'model_not_found',
    `no ${task} model in the registry matches core_clip's models_used (${used.map((u) => `${u.model_name}@${u.model_version}`).join(', ')}); scene labels must be embedded by the text tower core_clip used`,
  );
}

/** The file of a matched entry, checked to be the very weights core_clip used. */
async function locate(models: ComponentRunContext['models'], match: { entry: ModelEntry; used: ModelUsed }): Promise<{ path: string; sha256: string }> {
  const file = await locateModelFile(models.registry, models.modelsDir, match.entry.id);
  if (`sha256:${file.sha256}` !== match.used.weights_digest) {
    throw new TrendflowError(
      'model_digest_mismatch',
      `${match.entry.id} in the models dir has sha256 ${file.sha256}, but core_clip used ${match.used.weights_digest}: its text embeddings would not match the frames`,
      { path: file.path },
    );
  }
  return file;
}

function normalize(matrix: Float32Array, rows: number, dim: number): void {
  for (let r = 0; r < rows; r++) {
    const row = matrix.subarray(r * dim, (r + 1) * dim);
    const norm = Math.hypot(...row);
    if (!(norm > 0) || !Number.isFinite(norm)) throw new TrendflowError('inference_failed', `the text embedding of label ${r} has norm ${norm}`);
    for (let k = 0; k < dim; k++) row[k] = row[k]! / norm;
  }
}

async function readCache(file: string, signature: string): Promise<{ embeddings: Float32Array; dim: number } | null> {
  let npz;
  try {
    npz = await readNpzFile(file);
  } catch {
    return null; // no cache yet (or an unreadable one, rebuilt below)
  }
  const meta = getMeta(npz, file);
  const labels = getStringList(npz, 'labels', file);
  const embeddings = getArray(npz, 'text_embeddings', 'float32', file);
  const same = meta.label_set_version === SCENE_LABEL_SET_VERSION && meta.model_signature === signature && labels.join('\n') === SCENE_LABELS.map((l) => l.label).join('\n');
  return same && embeddings.shape[0] === SCENE_LABELS.length ? { embeddings: embeddings.data, dim: embeddings.shape[1]! } : null;
}

export async function labelEmbeddings(clipModels: readonly ModelUsed[], models: ComponentRunContext['models']): Promise<LabelEmbeddings> {
  const text = matchingEntry(models.registry, clipModels, 'text_embedding');
  const vocabulary = matchingEntry(models.registry, clipModels, 'tokenizer_vocab');
  const [textFile, vocabFile] = await Promise.all([locate(models, text), locate(models, vocabulary)]);
  const used = [
    modelUsed(text.entry, textFile, { runtime: 'inprocess', engine: 'onnxruntime', precision: 'fp32', device: 'cpu' }),
    modelUsed(vocabulary.entry, vocabFile, { runtime: 'inprocess', engine: 'clip_bpe', precision: 'n/a', device: 'cpu' }),
  ];
  const signature = modelSignature(used);
  const labels = SCENE_LABELS.map((l) => l.label);
  const prompts = SCENE_LABELS.map((l) => l.prompt);
  const file = path.join(models.modelsDir, 'cache', 'scene_classification', `${SCENE_LABEL_SET_VERSION}-${signature.slice(signature.indexOf(':') + 1)}.npz`);

  const cached = await readCache(file, signature);
  if (cached) return { labels, prompts, ...cached, models_used: used, model_signature: signature, cache: { file, hit: true } };

  const tokenizer = await ClipTokenizer.load(vocabFile.path);
  const model = await models.sessions.get(textFile.path, { device: 'cpu', precision: 'fp32' });
  const contract = fileContract(text.entry);
  const input = contract.inputs[0]?.name ?? model.inputs[0]!.name;
  const output = contract.outputs[0]?.name ?? model.outputs[0]!.name;
  const tokens = tokenizer.tokenize(prompts);
  const shape = [prompts.length, tokens.length / prompts.length];
  const feeds: Record<string, ort.Tensor> = { [input]: new ort.Tensor('int64', tokens, shape) };
  // Hugging Face exports of the text tower may also take an attention mask: 1 on real tokens, 0 on padding
  if (model.inputs.some((i) => i.name === 'attention_mask')) feeds.attention_mask = new ort.Tensor('int64', tokens.map((t) => (t === 0n ? 0n : 1n)), shape);
  const result = (await model.run(feeds, [output]))[output];
  if (!result || !(result.data instanceof Float32Array) || result.data.length % prompts.length !== 0) {
    throw new TrendflowError('inference_failed', 'the CLIP text tower did not return one float32 embedding per label', { path: textFile.path });
  }
  const embeddings = Float32Array.from(result.data);
  const dim = embeddings.length / prompts.length;
  normalize(embeddings, prompts.length, dim);

  await fs.mkdir(path.dirname(file), { recursive: true });
  const meta: Record<string, PyValue> = {
    label_set_version: SCENE_LABEL_SET_VERSION,
    model_signature: signature,
    models_used: used.map((u) => ({ ...u })),
    created_at: new Date().toISOString(),
  };
  await writeNpzFile(
    file,
    { labels: ndarray.objectArray(labels), prompts: ndarray.objectArray(prompts), text_embeddings: ndarray.float32(embeddings, [prompts.length, dim]), meta: ndarray.objectScalar(meta) },
    { compress: true },
  );
  return { labels, prompts, embeddings, dim, models_used: used, model_signature: signature, cache: { file, hit: false } };
}
