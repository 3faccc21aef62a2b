import { describe, expect, it } from 'vitest';
import type { RgbImage } from './image.js';
import { cropRotatedSquare, cropToImage } from './warp.js';

/** R = x, G = y, B = 7 at every pixel of a 64x64 image. */
function ramps(): RgbImage {
  const data = new Uint8Array(64 * 64 * 3);
  for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) data.set([x, y, 7], (y * 64 + x) * 3);
  return { width: 64, height: 64, data };
}

describe('rotated square crops', () => {
  it('maps crop coordinates to image points for upright and rotated squares', () => {
    const upright = { cx: 100, cy: 50, size: 40, angle: 0 };
    expect(cropToImage(upright, 0, 0, 192)).toEqual([80, 30]);
    expect(cropToImage(upright, 192, 96, 192)).toEqual([120, 50]);
    // a quarter turn: the crop's x axis points down the image
    const turned = { ...upright, angle: Math.PI / 2 };
    const [x, y] = cropToImage(turned, 192, 96, 192);
    expect(x).toBeCloseTo(100, 9);
    expect(y).toBeCloseTo(70, 9);
  });

  it('samples an upright crop exactly at pixel centres', () => {
    const crop = cropRotatedSquare(ramps(), { cx: 32, cy: 32, size: 32, angle: 0 }, 32);
    for (const [u, v] of [[0, 0], [5, 9], [31, 31]] as const) {
      expect(Array.from(crop.data.subarray((v * 32 + u) * 3, (v * 32 + u) * 3 + 3))).toEqual([16 + u, 16 + v, 7]);
    }
  });

  it('rotates the content with the square', () => {
    const crop = cropRotatedSquare(ramps(), { cx: 32, cy: 32, size: 32, angle: Math.PI / 2 }, 32);
    // crop (u, v) shows image (32 − (v + 0.5 − 16), 32 + (u + 0.5 − 16)) → pixel (47 − v, 16 + u)
    for (const [u, v] of [[0, 0], [10, 3], [31, 20]] as const) {
      expect(Array.from(crop.data.subarray((v * 32 + u) * 3, (v * 32 + u) * 3 + 2))).toEqual([47 - v, 16 + u]);
    }
  });

  it('averages when shrinking so a fine pattern does not alias, and replicates edges', () => {
    const data = new Uint8Array(64 * 64 * 3);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) data.fill((x + y) % 2 ? 255 : 0, (y * 64 + x) * 3, (y * 64 + x) * 3 + 3);
    const crop = cropRotatedSquare({ width: 64, height: 64, data }, { cx: 32, cy: 32, size: 64, angle: 0 }, 16);
    for (const value of crop.data) expect(Math.abs(value - 127.5)).toBeLessThanOrEqual(1);
    const outside = cropRotatedSquare(ramps(), { cx: -100, cy: 10, size: 4, angle: 0 }, 2);
    expect(Array.from(outside.data.subarray(0, 3))).toEqual([0, 9, 7]);
  });
});
