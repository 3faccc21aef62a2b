/**
 * The two flow engines of core_optical_flow, chosen explicitly by config (neither replaces the other on failure):
 *
 * - `raft`: a RAFT ONNX model from the registry (RAFT-small, 240×320): both frames stretched to the model's input,
 *   RGB 0..255 NCHW (RAFT normalizes inside the graph); the full-resolution flow output is scaled back to analysis
 *   pixels.
 * - `block_matching`: classical block matching on small grayscale frames, no model: for each block of the earlier
 *   frame, the displacement within ±radius that minimizes the mean absolute difference in the later frame, refined
 *   to sub-pixel by an equiangular fit through the neighbouring costs.
 */
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { TrendflowError } from '../../contracts/errors.js';
import { imageTensor, resizeRgb, type RgbImage } from '../vision/image.js';
import type { OpenedModel } from '../vision/models.js';
import type { FlowField } from './flow.js';

export interface FlowEngine {
  flow(earlier: RgbImage, later: RgbImage): Promise<FlowField>;
}

// ------------------------------------------------------------------------------------------------------ RAFT

/**
 * RAFT exports number their tensors, so the graph is bound by position: two inputs (1, 3, H, W) of one fixed size,
 * earlier frame first; the flow is the output shaped (1, 2, H, W) (exports also return a 1/8-resolution field).
 */
export function raftEngine(opened: OpenedModel): FlowEngine {
  const { inputs } = opened.model;
  const shape = inputs[0]?.shape ?? [];
  const [height, width] = [shape[2], shape[3]];
  const sameShape = inputs.length === 2 && JSON.stringify(inputs[1]!.shape) === JSON.stringify(shape);
  if (!sameShape || shape.length !== 4 || shape[1] !== 3 || typeof height !== 'number' || typeof width !== 'number') {
    throw new TrendflowError('model_load_failed', `model ${opened.id} is not a RAFT-style flow model: it needs two inputs (1, 3, H, W) of one fixed size, it has ${JSON.stringify(inputs.map((t) => t.shape))}`, {
      path: opened.model.path,
    });
  }
  const tensor = async (image: RgbImage) =>
    new ort.Tensor('float32', imageTensor(await resizeRgb(image, width, height), { layout: 'NCHW', order: 'RGB', mean: 0, scale: 1 }), [1, 3, height, width]);
  return {
    async flow(earlier, later) {
      const out = await opened.model.run({ [inputs[0]!.name]: await tensor(earlier), [inputs[1]!.name]: await tensor(later) });
      const full = Object.values(out).find((t) => t.dims.length === 4 && t.dims[1] === 2 && t.dims[2] === height && t.dims[3] === width);
      if (!full || !(full.data instanceof Float32Array)) {
        throw new TrendflowError('inference_failed', `model ${opened.id} returned no (1, 2, ${height}, ${width}) flow (outputs: ${Object.entries(out).map(([k, t]) => `${k} ${JSON.stringify(t.dims)}`).join(', ')})`);
      }
      const plane = width * height;
      const [sx, sy] = [earlier.width / width, earlier.height / height];
      return {
        cols: width,
        rows: height,
        dx: Float32Array.from(full.data.subarray(0, plane), (v) => v * sx),
        dy: Float32Array.from(full.data.subarray(plane, 2 * plane), (v) => v * sy),
      };
    },
  };
}

// -------------------------------------------------------------------------------------------- block matching

export interface BlockMatchingOptions {
  /** Width the frames are reduced to (height keeps the aspect ratio). */
  working_width: number;
  block_size: number;
  /** Largest displacement searched, in working pixels, each axis. */
  search_radius: number;
}

/** Cost added per pixel of displacement (grey levels): flat blocks, equal everywhere, stay at zero motion. */
const ZERO_MOTION_BIAS = 0.01;

async function grayscale(image: RgbImage, width: number, height: number): Promise<Float32Array> {
  const data = await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length), { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .greyscale()
    .raw()
    .toBuffer();
  return Float32Array.from(data);
}

/** Block matching of two w×h grayscale images: one vector per block, in working pixels. */
export function blockMatch(a: Float32Array, b: Float32Array, w: number, h: number, blockSize: number, radius: number): FlowField {
  const cols = Math.floor(w / blockSize);
  const rows = Math.floor(h / blockSize);
  const dx = new Float32Array(cols * rows);
  const dy = new Float32Array(cols * rows);
  const side = 2 * radius + 1;
  const costs = new Float64Array(side * side);
  for (let by = 0; by < rows; by++) {
    for (let bx = 0; bx < cols; bx++) {
      const x0 = bx * blockSize;
      const y0 = by * blockSize;
      let best = -1;
      for (let v = -radius; v <= radius; v++) {
        for (let u = -radius; u <= radius; u++) {
          const c = (v + radius) * side + (u + radius);
          if (x0 + u < 0 || y0 + v < 0 || x0 + u + blockSize > w || y0 + v + blockSize > h) {
            costs[c] = Infinity;
            continue;
          }
          let sad = 0;
          for (let y = 0; y < blockSize; y++) {
            const ra = (y0 + y) * w + x0;
            const rb = (y0 + v + y) * w + x0 + u;
            for (let x = 0; x < blockSize; x++) sad += Math.abs(a[ra + x]! - b[rb + x]!);
          }
          costs[c] = sad / (blockSize * blockSize) + ZERO_MOTION_BIAS * (Math.abs(u) + Math.abs(v));
          if (best < 0 || costs[c]! < costs[best]!) best = c;
        }
      }
      const u = (best % side) - radius;
      const v = Math.floor(best / side) - radius;
      // sub-pixel: equiangular (V-shaped) fit through the costs at −1, 0, +1, the fit that matches absolute
      // differences (a parabola biases SAD minima); only when both neighbours were searched
      const refine = (minus: number, plus: number): number => {
        const m = costs[minus];
        const p = costs[plus];
        const c0 = costs[best]!;
        if (m === undefined || p === undefined || !Number.isFinite(m) || !Number.isFinite(p)) return 0;
        const rise = Math.max(m, p) - c0;
        return rise > 0 ? Math.max(-0.5, Math.min(0.5, (m - p) / (2 * rise))) : 0;
      };
      const i = by * cols + bx;
      dx[i] = u + (Math.abs(u) < radius ? refine(best - 1, best + 1) : 0);
      dy[i] = v + (Math.abs(v) < radius ? refine(best - side, best + side) : 0);
    }
  }
  return { cols, rows, dx, dy };
}

export function blockMatchingEngine(options: BlockMatchingOptions): FlowEngine {
  return {
    async flow(earlier, later) {
      const width = Math.min(options.working_width, earlier.width);
      const height = Math.max(options.block_size, Math.round((earlier.height * width) / earlier.width));
      const field = blockMatch(await grayscale(earlier, width, height), await grayscale(later, width, height), width, height, options.block_size, options.search_radius);
      const [sx, sy] = [earlier.width / width, earlier.height / height];
      return { ...field, dx: field.dx.map((v) => v * sx), dy: field.dy.map((v) => v * sy) };
    },
  };
}
