/**
 * Small descriptors of stored frames that cut_detection compares: an RGB thumbnail (longer side 32, box
 * average) as a vector in [0, 1] for the blend tests, and the Segmenter's joint YCbCr histogram of it.
 */
import { SignalComputer } from '../../segmenter/signals.js';

export const THUMB_LONG_SIDE = 32;

export interface FrameDescriptor {
  /** Analysis-timeline index of the frame. */
  analysisIndex: number;
  /** Index of the frame in the union (frames.npy). */
  unionIndex: number;
  /** RGB thumbnail, row-major, values in [0, 1]. */
  pixels: Float32Array;
  /** The Segmenter's normalized joint YCbCr histogram of the thumbnail. */
  hist: Float32Array;
  /** Mean and standard deviation of the thumbnail's luma (BT.601), in [0, 1]. */
  lumaMean: number;
  lumaStd: number;
}

export function thumbSize(width: number, height: number): { width: number; height: number } {
  const scale = Math.min(1, THUMB_LONG_SIDE / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * Box-average downscale (each source pixel counted in exactly one thumbnail cell). Written here rather than with
 * sharp because it is a few lines, synchronous, and exact for any size ratio; sharp would cost one native call
 * per frame for a 32-pixel result.
 */
export function describeFrame(rgb: Uint8Array, width: number, height: number, analysisIndex: number, unionIndex: number): FrameDescriptor {
  const size = thumbSize(width, height);
  const cells = size.width * size.height;
  const sums = new Float64Array(cells * 3);
  const counts = new Uint32Array(cells);
  for (let y = 0; y < height; y++) {
    const row = Math.min(size.height - 1, Math.floor((y * size.height) / height)) * size.width;
    for (let x = 0; x < width; x++) {
      const cell = row + Math.min(size.width - 1, Math.floor((x * size.width) / width));
      const o = (y * width + x) * 3;
      sums[cell * 3] = sums[cell * 3]! + rgb[o]!;
      sums[cell * 3 + 1] = sums[cell * 3 + 1]! + rgb[o + 1]!;
      sums[cell * 3 + 2] = sums[cell * 3 + 2]! + rgb[o + 2]!;
      counts[cell]!++;
    }
  }
  const pixels = new Float32Array(cells * 3);
  const bytes = new Uint8Array(cells * 3);
  let lumaSum = 0;
  let lumaSquares = 0;
  for (let cell = 0; cell < cells; cell++) {
    for (let c = 0; c < 3; c++) {
      const mean = sums[cell * 3 + c]! / counts[cell]!;
      pixels[cell * 3 + c] = mean / 255;
      bytes[cell * 3 + c] = Math.round(mean);
    }
    const luma = 0.299 * pixels[cell * 3]! + 0.587 * pixels[cell * 3 + 1]! + 0.114 * pixels[cell * 3 + 2]!;
    lumaSum += luma;
    lumaSquares += luma * luma;
  }
  const lumaMean = lumaSum / cells;
  const hist = new SignalComputer(size.width, size.height).push(bytes).hist;
  return { analysisIndex, unionIndex, pixels, hist, lumaMean, lumaStd: Math.sqrt(Math.max(0, lumaSquares / cells - lumaMean * lumaMean)) };
}

/** Root-mean-square difference of two thumbnails, in [0, 1]. */
export function rmsDistance(a: FrameDescriptor, b: FrameDescriptor): number {
  let sum = 0;
  for (let i = 0; i < a.pixels.length; i++) {
    const d = a.pixels[i]! - b.pixels[i]!;
    sum += d * d;
  }
  return Math.sqrt(sum / a.pixels.length);
}
