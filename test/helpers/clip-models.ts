import { promises as fs } from 'node:fs';
import path from 'node:path';
import { addModel, loadRegistry, type ModelRegistry } from '../../core/runtime/registry/index.js';
import { makeClipImageModel, makeClipTextModel } from './onnx-models.js';
import { sharedModel } from './shared-models.js';

export const TEST_CLIP_IMAGE_ID = 'test-clip-image';
export const TEST_CLIP_TEXT_ID = 'test-clip-text';

export interface ClipModelsDir {
  modelsDir: string;
  registry: ModelRegistry;
  /** The generated ONNX files (also installed in the models dir under the ids above). */
  imageFile: string;
  textFile: string;
  dim: number;
}

/**
 * A models dir for core_clip tests: the generated CLIP-contract encoders added with `models add` under
 * TEST_CLIP_IMAGE_ID / TEST_CLIP_TEXT_ID, and the real BPE vocabulary from ../shared/models.
 */
export async function prepareClipModelsDir(work: string, dim = 32): Promise<ClipModelsDir> {
  const modelsDir = path.join(work, 'models');
  const imageFile = path.join(work, 'clip_image.onnx');
  const textFile = path.join(work, 'clip_text.onnx');
  await fs.writeFile(imageFile, makeClipImageModel({ size: 224, dim }));
  await fs.writeFile(textFile, makeClipTextModel({ dim }));
  const builtin = await loadRegistry({ modelsDir });
  await addModel(builtin, modelsDir, imageFile, { id: TEST_CLIP_IMAGE_ID, license: 'MIT', task: 'image_embedding' });
  await addModel(builtin, modelsDir, textFile, { id: TEST_CLIP_TEXT_ID, license: 'MIT', task: 'text_embedding' });
  const vocabulary = path.join(modelsDir, 'clip-bpe-vocab', 'bpe_simple_vocab_16e6.txt.gz');
  await fs.mkdir(path.dirname(vocabulary), { recursive: true });
  await fs.copyFile(sharedModel('clip-bpe-vocab', 'bpe_simple_vocab_16e6.txt.gz'), vocabulary);
  return { modelsDir, registry: await loadRegistry({ modelsDir }), imageFile, textFile, dim };
}
