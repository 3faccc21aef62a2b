/**
 * Support for the vision providers' tests and tools: a models dir whose model files are links to a folder of model
 * files (the tests pass ../shared/models), and image files decoded the way the Segmenter would store a frame.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { OnnxSessionRegistry } from '../../core/runtime/onnx/sessions.js';
import { loadRegistry } from '../../core/runtime/registry/index.js';
import { resizeRgb, type RgbImage } from '../../core/providers/vision/image.js';
import type { ModelContext } from '../../core/providers/vision/models.js';

/**
 * A models dir in `work` whose `<id>/<file>` entries are symlinks to `<sourceDir>/<id>/<file>` (model files only:
 * verification stamps are written in `work`, never into the source folder).
 */
export async function linkModels(sourceDir: string, work: string, ids: readonly string[], sessions = new OnnxSessionRegistry()): Promise<ModelContext> {
  const modelsDir = path.join(work, 'models');
  for (const id of ids) {
    await fs.mkdir(path.join(modelsDir, id), { recursive: true });
    for (const name of await fs.readdir(path.join(sourceDir, id))) {
      if (!name.startsWith('.')) await fs.symlink(path.join(sourceDir, id, name), path.join(modelsDir, id, name));
    }
  }
  return { registry: await loadRegistry({ modelsDir }), modelsDir, sessions };
}

/**
 * An image file decoded to RGB (EXIF orientation applied) and scaled like an analysis frame: shorter side
 * `shortSide` (the Segmenter's default 360), never upscaled.
 */
export async function readAnalysisImage(file: string, shortSide = 360): Promise<RgbImage> {
  const { data, info } = await sharp(file).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const image = { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  const short = Math.min(image.width, image.height);
  if (short <= shortSide) return image;
  const f = shortSide / short;
  return resizeRgb(image, Math.round(image.width * f), Math.round(image.height * f));
}
