/**
 * Rotated square crops (MediaPipe's rotated ROI → tensor step) and the inverse mapping of points found in a crop.
 *
 * Written here rather than with sharp: sharp's `affine` sizes and places its output canvas itself (bounding box of
 * the transformed input), so a fixed 192×192 crop of a rotated square needs a second extract and reproducing
 * libvips' placement rules to map landmarks back. Sampling the crop directly keeps one exact matrix for both
 * directions; at 192×192 it costs well under a millisecond.
 */
import type { RgbImage } from './image.js';

/** A square in image pixels: centre, side and rotation (radians; positive turns the crop's x axis towards +y). */
export interface RotatedSquare {
  cx: number;
  cy: number;
  size: number;
  angle: number;
}

/** The image point of crop coordinates (u, v), 0…outSize along each crop axis (continuous, pixel edges at integers). */
export function cropToImage(square: RotatedSquare, u: number, v: number, outSize: number): [number, number] {
  const dx = (u / outSize - 0.5) * square.size;
  const dy = (v / outSize - 0.5) * square.size;
  const cos = Math.cos(square.angle);
  const sin = Math.sin(square.angle);
  return [square.cx + cos * dx - sin * dy, square.cy + sin * dx + cos * dy];
}

/**
 * Samples an outSize×outSize RGB crop of `square` from `image`: bilinear, edges replicated (MediaPipe's
 * BORDER_REPLICATE for landmark crops), and averaged over k×k sub-samples per output pixel when the crop shrinks
 * the image by k or more, so that a large face is not aliased.
 */
export function cropRotatedSquare(image: RgbImage, square: RotatedSquare, outSize: number): RgbImage {
  const { width, height, data } = image;
  const out = new Uint8Array(outSize * outSize * 3);
  const k = Math.min(4, Math.max(1, Math.ceil(square.size / outSize)));
  const cos = Math.cos(square.angle);
  const sin = Math.sin(square.angle);
  const step = square.size / outSize;
  const acc = [0, 0, 0];
  const sample = (x: number, y: number): void => {
    // continuous image coordinates → pixel-centre index space
    const fx = Math.min(Math.max(x - 0.5, 0), width - 1);
    const fy = Math.min(Math.max(y - 0.5, 0), height - 1);
    const x0 = Math.floor(fx);
    const y0 = Math.floor(fy);
    const x1 = Math.min(x0 + 1, width - 1);
    const y1 = Math.min(y0 + 1, height - 1);
    const ax = fx - x0;
    const ay = fy - y0;
    const i00 = (y0 * width + x0) * 3;
    const i01 = (y0 * width + x1) * 3;
    const i10 = (y1 * width + x0) * 3;
    const i11 = (y1 * width + x1) * 3;
    for (let c = 0; c < 3; c++) {
      const top = data[i00 + c]! * (1 - ax) + data[i01 + c]! * ax;
      const bottom = data[i10 + c]! * (1 - ax) + data[i11 + c]! * ax;
      acc[c]! += top * (1 - ay) + bottom * ay;
    }
  };
  const origin = -square.size / 2;
  for (let v = 0; v < outSize; v++) {
    for (let u = 0; u < outSize; u++) {
      acc[0] = acc[1] = acc[2] = 0;
      for (let sy = 0; sy < k; sy++) {
        const dy = origin + (v + (sy + 0.5) / k) * step;
        for (let sx = 0; sx < k; sx++) {
          const dx = origin + (u + (sx + 0.5) / k) * step;
          sample(square.cx + cos * dx - sin * dy, square.cy + sin * dx + cos * dy);
        }
      }
      const o = (v * outSize + u) * 3;
      const n = k * k;
      out[o] = Math.round(acc[0]! / n);
      out[o + 1] = Math.round(acc[1]! / n);
      out[o + 2] = Math.round(acc[2]! / n);
    }
  }
  return { width: outSize, height: outSize, data: out };
}
