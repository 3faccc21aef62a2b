import { describe, expect, it } from 'vitest';
import { describeFrame, type FrameDescriptor } from './descriptors.js';
import { CutDetector, type DetectionInput } from './detect.js';

/** Synthetic 64x36 pictures: a deterministic random pattern per seed, blends of two, flat colours. */
const W = 64;
const H = 36;
const FPS = 12;

function pattern(seed: number): Float64Array {
  const out = new Float64Array(W * H * 3);
  let x = seed * 2654435761;
  const blocks = new Map<number, number>();
  for (let i = 0; i < out.length; i++) {
    // 8x8-pixel blocks of one random value per channel: a picture, not pixel noise the thumbnail would average away
    const pixel = Math.floor(i / 3);
    const block = (Math.floor(Math.floor(pixel / W) / 8) * 8 + Math.floor((pixel % W) / 8)) * 3 + (i % 3);
    if (!blocks.has(block)) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      blocks.set(block, ((x >>> 0) % 256) / 255);
    }
    out[i] = blocks.get(block)!;
  }
  return out;
}

function blend(a: Float64Array, b: Float64Array, t: number): Float64Array {
  return a.map((v, i) => (1 - t) * v + t * b[i]!);
}

function flat(value: number): Float64Array {
  return new Float64Array(W * H * 3).fill(value);
}

function frame(picture: Float64Array, index: number): FrameDescriptor {
  return describeFrame(Uint8Array.from(picture, (v) => Math.round(v * 255)), W, H, index, index);
}

function input(pictures: Float64Array[], candidates: DetectionInput['candidates'] = [], stored?: (index: number) => boolean): DetectionInput {
  const frames = pictures.flatMap((p, i) => (!stored || stored(i) ? [frame(p, i)] : []));
  return { analysisFps: FPS, frameCount: pictures.length, candidates, frames };
}

const A = pattern(1);
const B = pattern(2);

describe('CutDetector', () => {
  it('finds a slow dissolve that produced no cut candidate, at its middle', () => {
    // 20 frames of A, a 20-frame (1.7 s) linear dissolve, 20 frames of B
    const pictures = Array.from({ length: 60 }, (_, i) => (i < 20 ? A : i < 40 ? blend(A, B, (i - 19) / 21) : B));
    const { boundaries } = new CutDetector(input(pictures)).run();
    expect(boundaries).toHaveLength(1);
    expect(boundaries[0]).toMatchObject({ type: 'dissolve', verified: true });
    expect(Math.abs(boundaries[0]!.index - 30)).toBeLessThanOrEqual(1);
    expect(boundaries[0]!.spanStart).toBeGreaterThanOrEqual(16);
    expect(boundaries[0]!.spanEnd).toBeLessThanOrEqual(43);
    expect(boundaries[0]!.confidence).toBeGreaterThan(0.8);
  });

  it('does not call a change that goes on all the time (a slow zoom or pan) a dissolve', () => {
    const pictures = Array.from({ length: 72 }, (_, i) => blend(A, B, i / 71));
    expect(new CutDetector(input(pictures)).run().boundaries).toEqual([]);
  });

  it('confirms a hard cut, rejects a one-frame flash and a candidate between two views of the same picture', () => {
    const noisy = A.map((v, i) => Math.min(1, v + ((i * 7) % 3) / 255));
    const pictures = Array.from({ length: 48 }, (_, i) => (i < 12 ? A : i === 12 ? flat(1) : i < 24 ? A : i < 36 ? noisy : B));
    const result = new CutDetector(input(pictures, [{ index: 12, score: 0.9 }, { index: 24, score: 0.25 }, { index: 36, score: 0.8 }])).run();
    expect(result.boundaries.map((b) => [b.index, b.type])).toEqual([[36, 'hard_cut']]);
    expect(result.boundaries[0]!.confidence).toBeGreaterThan(0.5);
    expect(result.rejected).toEqual([
      { index: 12, reason: 'flash' },
      { index: 24, reason: 'weak' },
    ]);
  });

  it('keeps a candidate whose frames were not stored, on the signals alone (unverified, confidence = its score)', () => {
    const pictures = Array.from({ length: 48 }, (_, i) => (i < 24 ? A : B));
    const result = new CutDetector(input(pictures, [{ index: 24, score: 0.7 }], (i) => i % 6 === 0)).run();
    expect(result.boundaries).toEqual([{ index: 24, type: 'hard_cut', confidence: expect.closeTo(0.7, 6) as number, spanStart: 23, spanEnd: 24, verified: false }]);
  });

  it('reads a dip through black between two shots as one fade, and the same dip inside one picture as no boundary', () => {
    const ramp = (from: Float64Array, to: Float64Array, i: number) =>
      i < 12 ? from : i < 18 ? blend(from, flat(0), (i - 11) / 6) : i === 18 ? flat(0) : i < 25 ? blend(flat(0), to, (i - 18) / 7) : to;
    const between = new CutDetector(input(Array.from({ length: 36 }, (_, i) => ramp(A, B, i)), [{ index: 19, score: 0.6 }])).run();
    expect(between.boundaries.map((b) => [b.index, b.type])).toEqual([[18, 'fade']]);
    expect(between.rejected).toEqual([{ index: 19, reason: 'inside_transition' }]);
    const same = new CutDetector(input(Array.from({ length: 36 }, (_, i) => ramp(A, A, i)))).run();
    expect(same.boundaries).toEqual([]);
    expect(same.rejected).toEqual([{ index: 18, reason: 'same_picture' }]);
  });
});
