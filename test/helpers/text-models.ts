/**
 * A models dir with text_processor's generated models: the sentence encoder (makeSentenceEncoderModel) added as a
 * local model, and its tokenizer (makeSentenceTokenizer) registered in the local registry by hand, since a
 * vocabulary is not ONNX and cannot be `models add`ed.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { addModel, loadRegistry, type ModelRegistry } from '../../core/runtime/registry/index.js';
import { makeSentenceEncoderModel, makeSentenceTokenizer } from './onnx-models.js';

export const TEST_TEXT_ENCODER_ID = 'test-text-encoder';
export const TEST_TEXT_TOKENIZER_ID = 'test-text-tokenizer';

/** Installs both models into `modelsDir` (made if missing) and returns the registry that knows them. */
export async function prepareTextModelsDir(modelsDir: string, dim: number): Promise<ModelRegistry> {
  await fs.mkdir(modelsDir, { recursive: true });
  const { files, vocabSize } = makeSentenceTokenizer();
  const onnxFile = path.join(modelsDir, 'encoder-upload.onnx');
  await fs.writeFile(onnxFile, makeSentenceEncoderModel({ vocabSize, dim }));
  await addModel(await loadRegistry({ modelsDir }), modelsDir, onnxFile, { id: TEST_TEXT_ENCODER_ID, license: 'MIT', task: 'text_embedding' });
  await fs.rm(onnxFile);
  await fs.mkdir(path.join(modelsDir, TEST_TEXT_TOKENIZER_ID), { recursive: true });
  for (const [name, text] of Object.entries(files)) await fs.writeFile(path.join(modelsDir, TEST_TEXT_TOKENIZER_ID, name), text);
  const localFile = path.join(modelsDir, 'local-registry.json');
  const local = JSON.parse(await fs.readFile(localFile, 'utf8'));
  local.models[TEST_TEXT_TOKENIZER_ID] = {
    model_name: TEST_TEXT_TOKENIZER_ID,
    model_version: 'test',
    license: 'MIT',
    task: 'tokenizer_vocab',
    engine: 'vocab',
    files: Object.entries(files).map(([name, text]) => ({ name, url: null, sha256: createHash('sha256').update(text).digest('hex'), bytes: Buffer.byteLength(text) })),
    inputs: [],
    outputs: [],
    preprocessing: null,
  };
  await fs.writeFile(localFile, JSON.stringify(local));
  return loadRegistry({ modelsDir });
}
