import { describe, expect, it } from 'vitest';
import { blockMatch } from './engines.js';
import { framePairs, summarizeFlow } from './flow.js';

const field = (vectors: Array<[number, number]>) => ({ cols: vectors.length, rows: 1, dx: Float32Array.from(vectors.map((v) => v[0])), dy: Float32Array.from(vectors.map((v) => v[1])) });

describe('flow summaries (hand-computed)', () => {
  it('normalizes a uniform pan to diagonals per second, fully coherent, one direction', () => {
    // 3 px in 0.5 s on a frame of diagonal 10 → 0.6 diagonals per second
    const s = summarizeFlow(field([[3, 0], [3, 0], [3, 0], [3, 0]]), 10, 0.5, 0.5);
    expect(s.meanMagnitude).toBeCloseTo(0.6, 6);
    expect(s.medianMagnitude).toBeCloseTo(0.6, 6);
    expect(s.meanFlow[0]).toBeCloseTo(0.6, 6);
    expect(s.meanFlow[1]).toBeCloseTo(0, 6);
    expect(s.motionEnergy).toBeCloseTo(0.36, 6);
    expect([s.movingFraction, s.directionPresent, s.coherence]).toEqual([1, true, 1]);
    expect(s.histogram).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('sees opposite motions cancel in the mean but not in the magnitude; down is bin 2', () => {
    const s = summarizeFlow(field([[2, 0], [-2, 0], [0, 4], [0.1, 0]]), 10, 1, 0.5);
    expect(s.meanFlow[0]).toBeCloseTo(0.1 / 4 / 10, 6);
    expect(s.meanMagnitude).toBeCloseTo((2 + 2 + 4 + 0.1) / 4 / 10, 6);
    expect(s.maxMagnitude).toBeCloseTo(0.4, 6);
    expect(s.movingFraction).toBe(0.75);
    // moving: right 2, left 2, down 4 → mean vector (0, 4) / 3 over mean magnitude 8 / 3
    expect(s.coherence).toBeCloseTo(0.5, 6);
    expect(s.histogram.map((v) => +v.toFixed(6))).toEqual([0.25, 0, 0.5, 0, 0.25, 0, 0, 0]);
  });

  it('has no direction when nothing moves', () => {
    const s = summarizeFlow(field([[0, 0], [0.2, -0.1]]), 10, 1, 0.5);
    expect(s.directionPresent).toBe(false);
    expect(Number.isNaN(s.coherence) && s.histogram.every(Number.isNaN)).toBe(true);
    expect(s.movingFraction).toBe(0);
  });

  it('pairs consecutive analysis frames of a sample', () => {
    // union frames 0…5 are analysis frames 0, 1, 5, 6, 7, 20
    expect(framePairs([0, 1, 2, 3, 4, 5], [0, 1, 5, 6, 7, 20])).toEqual([[0, 1], [2, 3], [3, 4]]);
    expect(framePairs([1, 2, 5], [0, 1, 5, 6, 7, 20])).toEqual([]);
  });
});

describe('block matching', () => {
  const w = 64;
  const h = 48;
  const texture = (x: number, y: number) => 128 + 50 * Math.sin(x / 3) * Math.cos(y / 4) + 40 * Math.sin(x / 7 + y / 2);
  const image = (shiftX: number, shiftY: number) => {
    const out = new Float32Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = texture(x - shiftX, y - shiftY);
    return out;
  };

  it('finds the displacement of every block whose search stays inside the frame', () => {
    const flow = blockMatch(image(0, 0), image(2, -1), w, h, 8, 4);
    expect([flow.cols, flow.rows]).toEqual([8, 6]);
    for (let by = 1; by < flow.rows - 1; by++) {
      for (let bx = 0; bx < flow.cols - 1; bx++) {
        // integer search plus the sub-pixel fit: within 0.15 px of the true shift
        expect(Math.abs(flow.dx[by * flow.cols + bx]! - 2)).toBeLessThan(0.15);
        expect(Math.abs(flow.dy[by * flow.cols + bx]! + 1)).toBeLessThan(0.15);
      }
    }
  });

  it('refines to sub-pixel and keeps flat areas still', () => {
    const flow = blockMatch(image(0, 0), image(1.5, 0), w, h, 8, 4);
    const inner = [...flow.dx].slice(1, -1);
    const mean = inner.reduce((a, b) => a + b, 0) / inner.length;
    expect(Math.abs(mean - 1.5)).toBeLessThan(0.2);
    const flat = blockMatch(new Float32Array(w * h).fill(90), new Float32Array(w * h).fill(90), w, h, 8, 4);
    expect(flat.dx.every((v) => v === 0) && flat.dy.every((v) => v === 0)).toBe(true);
  });
});
