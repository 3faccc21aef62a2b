/**
 * YOLOX (Megvii) as exported without in-graph decoding: preprocessing (416×416 letterbox top-left, pad 114, BGR
 * 0..255 NCHW, as YOLOX's `preproc`), grid decoding of the raw head (`demo_postprocess`: centre = (offset + cell) ·
 * stride, size = exp(·) · stride over strides 8/16/32, score = objectness · class probability), per-class NMS and
 * the mapping back to frame pixels.
 */
import * as ort from 'onnxruntime-node';
import { TrendflowError } from '../../contracts/errors.js';
import { nmsPerClass, type Detection } from '../vision/boxes.js';
import { fromLetterbox, imageTensor, letterboxRgb, type RgbImage } from '../vision/image.js';
import { outputData, requireTensors, type OpenedModel } from '../vision/models.js';

export const YOLOX_STRIDES = [8, 16, 32] as const;
export const YOLOX_PAD = 114;

/**
 * Decodes a raw YOLOX head for an inputW×inputH input: `raw` is rows × (5 + classes), rows ordered stride by
 * stride, row-major cells. Keeps, per cell, the best class when obj·cls ≥ threshold. Boxes in input pixels.
 */
export function decodeYolox(raw: Float32Array, inputW: number, inputH: number, classes: number, threshold: number): Detection[] {
  const width = 5 + classes;
  const found: Detection[] = [];
  let row = 0;
  for (const stride of YOLOX_STRIDES) {
    const cols = Math.floor(inputW / stride);
    const rows = Math.floor(inputH / stride);
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < cols; x++, row++) {
        const o = row * width;
        const objectness = raw[o + 4]!;
        let best = 0;
        for (let c = 1; c < classes; c++) if (raw[o + 5 + c]! > raw[o + 5 + best]!) best = c;
        const score = objectness * raw[o + 5 + best]!;
        if (score < threshold) continue;
        const cx = (raw[o]! + x) * stride;
        const cy = (raw[o + 1]! + y) * stride;
        const w = Math.exp(raw[o + 2]!) * stride;
        const h = Math.exp(raw[o + 3]!) * stride;
        found.push({ box: { x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2 }, score, keypoints: [], classId: best });
      }
    }
  }
  if (row * width !== raw.length) {
    throw new TrendflowError('inference_failed', `YOLOX returned ${raw.length / width} rows for a ${inputW}x${inputH} input, expected ${row}`);
  }
  return found;
}

export interface YoloxOptions {
  classes: number;
  scoreThreshold: number;
  nmsIou: number;
  maxDetections: number;
}

export interface YoloxDetector {
  detect(image: RgbImage): Promise<Detection[]>;
}

/**
 * A detector on an opened YOLOX model: input `images` (1, 3, S, S) with S fixed in the file (416 for YOLOX-nano),
 * output `output` (the registry contract); anything else is `model_load_failed`.
 */
export function yoloxDetector(opened: OpenedModel, options: YoloxOptions): YoloxDetector {
  requireTensors(opened, ['images'], ['output']);
  const shape = opened.model.inputs.find((input) => input.name === 'images')!.shape;
  const size = shape[3];
  if (typeof size !== 'number' || shape[2] !== size) {
    throw new TrendflowError('model_load_failed', `model ${opened.id} takes images of shape ${JSON.stringify(shape)}; a fixed square input is needed`, { path: opened.model.path });
  }
  const { classes } = options;
  return {
    async detect(image) {
      const { image: boxed, geometry } = await letterboxRgb(image, size, size, 'top-left', YOLOX_PAD);
      const input = new ort.Tensor('float32', imageTensor(boxed, { layout: 'NCHW', order: 'BGR', mean: 0, scale: 1 }), [1, 3, size, size]);
      const out = await opened.model.run({ images: input }, ['output']);
      const rows = YOLOX_STRIDES.reduce((sum, s) => sum + Math.floor(size / s) ** 2, 0);
      const raw = outputData(out, 'output', rows * (5 + classes), 'YOLOX');
      const kept = nmsPerClass(decodeYolox(raw, size, size, classes, options.scoreThreshold), options.nmsIou, options.maxDetections);
      return kept.map((d) => {
        const [x1, y1] = fromLetterbox(geometry, d.box.x1, d.box.y1);
        const [x2, y2] = fromLetterbox(geometry, d.box.x2, d.box.y2);
        return { ...d, box: { x1, y1, x2, y2 } };
      });
    },
  };
}
