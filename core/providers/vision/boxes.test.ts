import { describe, expect, it } from 'vitest';
import { boxArea, clipBox, iou, nms, nmsPerClass, weightedNms, type Detection } from './boxes.js';

const det = (x1: number, y1: number, x2: number, y2: number, score: number, classId = 0, keypoints: [number, number][] = []): Detection => ({
  box: { x1, y1, x2, y2 },
  score,
  keypoints,
  classId,
});

describe('boxes', () => {
  it('computes areas and IoU by hand', () => {
    expect(boxArea({ x1: 0, y1: 0, x2: 10, y2: 4 })).toBe(40);
    expect(boxArea({ x1: 5, y1: 5, x2: 1, y2: 9 })).toBe(0);
    // 5×5 overlap of two 10×10 boxes: 25 / (100 + 100 − 25)
    expect(iou({ x1: 0, y1: 0, x2: 10, y2: 10 }, { x1: 5, y1: 5, x2: 15, y2: 15 })).toBeCloseTo(25 / 175, 12);
    expect(iou({ x1: 0, y1: 0, x2: 10, y2: 10 }, { x1: 10, y1: 0, x2: 20, y2: 10 })).toBe(0);
    expect(clipBox({ x1: -3, y1: 2, x2: 50, y2: 70 }, 40, 60)).toEqual({ x1: 0, y1: 2, x2: 40, y2: 60 });
  });

  it('hard NMS keeps the best of overlapping boxes and every separate one', () => {
    const a = det(0, 0, 10, 10, 0.9);
    const b = det(1, 1, 11, 11, 0.8); // IoU with a = 81 / 119 ≈ 0.68
    const c = det(20, 20, 30, 30, 0.7);
    const d = det(0, 5, 10, 15, 0.6); // IoU with a = 50 / 150 ≈ 0.33
    expect(nms([c, b, d, a], 0.5)).toEqual([a, c, d]);
    expect(nms([c, b, d, a], 0.3)).toEqual([a, c]);
    expect(nms([c, b, d, a], 0.5, 2)).toEqual([a, c]);
  });

  it('per-class NMS never lets one class suppress another', () => {
    const person = det(0, 0, 10, 10, 0.9, 0);
    const dog = det(1, 1, 11, 11, 0.8, 16);
    const person2 = det(1, 1, 11, 11, 0.7, 0);
    expect(nmsPerClass([person2, dog, person], 0.5)).toEqual([person, dog]);
  });

  it('weighted NMS averages each cluster by score and keeps the best score (MediaPipe)', () => {
    const a = det(0, 0, 10, 10, 0.75, 0, [[2, 2]]);
    const b = det(2, 0, 12, 10, 0.25, 0, [[6, 2]]); // IoU 80 / 120
    const far = det(50, 50, 60, 60, 0.5, 0, [[55, 55]]);
    const [merged, alone] = weightedNms([b, far, a], 0.3);
    expect(merged!.score).toBe(0.75);
    expect(merged!.box.x1).toBeCloseTo(0.5, 12);
    expect(merged!.box.x2).toBeCloseTo(10.5, 12);
    expect(merged!.box.y1).toBeCloseTo(0, 12);
    expect(merged!.keypoints[0]![0]).toBeCloseTo(3, 12);
    expect(alone).toEqual(far);
  });
});
