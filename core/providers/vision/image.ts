/**
 * Turning RGB frames into model input tensors: resizing (sharp/libvips), letterboxing with a pad colour, channel
 * order, value range and layout. Every vision provider describes its model's input with a `TensorSpec` instead of
 * writing its own pixel loops.
 */
import sharp, { type Sharp } from 'sharp';

/** An RGB uint8 image, row-major H×W×3 (what FrameManager returns). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** How pixels become tensor values: `(value - mean) * scale`, in `order`, laid out as `layout`. */
export interface TensorSpec {
  layout: 'NCHW' | 'NHWC';
  order: 'RGB' | 'BGR';
  mean: number;
  scale: number;
}

/** Where a letterboxed image sits in the model input: `input = source * scale + offset`. */
export interface LetterboxGeometry {
  scale: number;
  offsetX: number;
  offsetY: number;
  /** Size of the resized content inside the input. */
  contentWidth: number;
  contentHeight: number;
}

/**
 * Letterbox geometry: the largest scale that fits `srcW×srcH` into `dstW×dstH` keeping the aspect ratio, content
 * sizes rounded down (as YOLOX's preprocessing does), placed top-left (pad right/bottom, YOLOX and YuNet) or
 * centred (MediaPipe's keep_aspect_ratio).
 */
export function letterboxGeometry(srcW: number, srcH: number, dstW: number, dstH: number, align: 'top-left' | 'center'): LetterboxGeometry {
  const scale = Math.min(dstW / srcW, dstH / srcH);
  const contentWidth = Math.min(dstW, Math.max(1, Math.floor(srcW * scale)));
  const contentHeight = Math.min(dstH, Math.max(1, Math.floor(srcH * scale)));
  const offsetX = align === 'center' ? Math.floor((dstW - contentWidth) / 2) : 0;
  const offsetY = align === 'center' ? Math.floor((dstH - contentHeight) / 2) : 0;
  return { scale, offsetX, offsetY, contentWidth, contentHeight };
}

/** A point of the model input back in source pixels. */
export function fromLetterbox(g: LetterboxGeometry, x: number, y: number): [number, number] {
  return [(x - g.offsetX) / g.scale, (y - g.offsetY) / g.scale];
}

function sharpRaw(image: RgbImage): Sharp {
  return sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.width * image.height * 3), {
    raw: { width: image.width, height: image.height, channels: 3 },
  });
}

/** Resizes to exactly width×height (aspect ratio not kept), antialiased when shrinking. */
export async function resizeRgb(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (image.width === width && image.height === height) return image;
  const data = await sharpRaw(image).resize(width, height, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** Resizes into a dstW×dstH canvas keeping the aspect ratio, padding with the grey level `pad` (0..255). */
export async function letterboxRgb(
  image: RgbImage,
  dstW: number,
  dstH: number,
  align: 'top-left' | 'center',
  pad: number,
): Promise<{ image: RgbImage; geometry: LetterboxGeometry }> {
  const geometry = letterboxGeometry(image.width, image.height, dstW, dstH, align);
  const content = await resizeRgb(image, geometry.contentWidth, geometry.contentHeight);
  const data = new Uint8Array(dstW * dstH * 3).fill(pad);
  const rowBytes = geometry.contentWidth * 3;
  for (let y = 0; y < geometry.contentHeight; y++) {
    const target = ((y + geometry.offsetY) * dstW + geometry.offsetX) * 3;
    data.set(content.data.subarray(y * rowBytes, (y + 1) * rowBytes), target);
  }
  return { image: { width: dstW, height: dstH, data }, geometry };
}

/** Writes one image into `target` at `offset` (elements) as the spec says. */
export function writeTensor(image: RgbImage, spec: TensorSpec, target: Float32Array, offset = 0): void {
  const { width, height, data } = image;
  const plane = width * height;
  const [c0, c1, c2] = spec.order === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const { mean, scale } = spec;
  for (let p = 0; p < plane; p++) {
    const a = (data[p * 3 + c0]! - mean) * scale;
    const b = (data[p * 3 + c1]! - mean) * scale;
    const c = (data[p * 3 + c2]! - mean) * scale;
    if (spec.layout === 'NCHW') {
      target[offset + p] = a;
      target[offset + plane + p] = b;
      target[offset + 2 * plane + p] = c;
    } else {
      target[offset + p * 3] = a;
      target[offset + p * 3 + 1] = b;
      target[offset + p * 3 + 2] = c;
    }
  }
}

/** One image as a (1, …) tensor's data. */
export function imageTensor(image: RgbImage, spec: TensorSpec): Float32Array {
  const out = new Float32Array(image.width * image.height * 3);
  writeTensor(image, spec, out);
  return out;
}
