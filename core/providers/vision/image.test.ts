import { describe, expect, it } from 'vitest';
import { fromLetterbox, imageTensor, letterboxGeometry, letterboxRgb, resizeRgb, type RgbImage } from './image.js';

function solid(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) data.set(rgb, p * 3);
  return { width, height, data };
}

describe('letterbox geometry', () => {
  it('fits 640x360 into 416x416 top-left as YOLOX does (r = 0.65, content 416x234)', () => {
    const g = letterboxGeometry(640, 360, 416, 416, 'top-left');
    expect(g).toEqual({ scale: 0.65, offsetX: 0, offsetY: 0, contentWidth: 416, contentHeight: 234 });
    expect(fromLetterbox(g, 208, 117)).toEqual([320, 180]);
    expect(fromLetterbox(g, 416, 234)).toEqual([640, 360]);
  });

  it('centres a portrait frame for MediaPipe (360x640 → 128x128: 72x128 at x 28)', () => {
    const g = letterboxGeometry(360, 640, 128, 128, 'center');
    expect(g).toEqual({ scale: 0.2, offsetX: 28, offsetY: 0, contentWidth: 72, contentHeight: 128 });
    const [x, y] = fromLetterbox(g, 28 + 36, 64);
    expect(x).toBeCloseTo(180, 9);
    expect(y).toBeCloseTo(320, 9);
  });

  it('pads with the given grey outside the content', async () => {
    const { image, geometry } = await letterboxRgb(solid(64, 32, [200, 10, 20]), 32, 32, 'top-left', 114);
    expect(geometry.contentHeight).toBe(16);
    expect(Array.from(image.data.subarray(0, 3))).toEqual([200, 10, 20]);
    expect(Array.from(image.data.subarray((15 * 32 + 31) * 3, (15 * 32 + 32) * 3))).toEqual([200, 10, 20]);
    expect(Array.from(image.data.subarray(16 * 32 * 3, 16 * 32 * 3 + 6))).toEqual([114, 114, 114, 114, 114, 114]);
    expect(image.data.subarray(16 * 32 * 3).every((v) => v === 114)).toBe(true);
  });

  it('resizes with sharp to the exact size asked', async () => {
    const out = await resizeRgb(solid(40, 30, [1, 2, 3]), 7, 5);
    expect([out.width, out.height, out.data.length]).toEqual([7, 5, 105]);
    expect(Array.from(out.data.subarray(0, 3))).toEqual([1, 2, 3]);
  });
});

describe('image tensors', () => {
  const twoPixels: RgbImage = { width: 2, height: 1, data: Uint8Array.from([10, 20, 30, 40, 50, 60]) };

  it('writes BGR planes for NCHW models (YuNet, YOLOX)', () => {
    expect(Array.from(imageTensor(twoPixels, { layout: 'NCHW', order: 'BGR', mean: 0, scale: 1 }))).toEqual([30, 60, 20, 50, 10, 40]);
  });

  it('writes interleaved RGB in [-1, 1] for NHWC models (BlazeFace)', () => {
    const t = imageTensor(twoPixels, { layout: 'NHWC', order: 'RGB', mean: 127.5, scale: 1 / 127.5 });
    expect(Array.from(t).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([10, 20, 30, 40, 50, 60].map((v) => Math.round(((v - 127.5) / 127.5) * 1e6) / 1e6));
  });
});
