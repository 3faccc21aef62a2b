import { describe, expect, it } from 'vitest';
import type { Detection } from '../vision/boxes.js';
import type { FaceDetector } from '../vision/face-detectors.js';
import type { RgbImage } from '../vision/image.js';
import { FACEMESH_POINTS, landmarksBox, type FaceMesh, type MeshFace } from './facemesh.js';
import { detectorPositions, runFaceStages, windowPositions, type FaceStagesOptions } from './stages.js';

describe('stage 1 subsample (target 50, min 20, max 200, stride ceil(N/target))', () => {
  const defaults = { target: 50, min: 20, max: 200 };
  const sizes = (n: number, sampling = defaults) => {
    const { positions, stride } = detectorPositions(n, sampling);
    return { count: positions.length, stride, first: positions.slice(0, 3), last: positions[positions.length - 1] };
  };

  it('takes every primary frame of a short list', () => {
    expect(sizes(10)).toEqual({ count: 10, stride: 1, first: [0, 1, 2], last: 9 });
    expect(sizes(50)).toEqual({ count: 50, stride: 1, first: [0, 1, 2], last: 49 });
  });

  it('strides long lists to about the target', () => {
    expect(sizes(80)).toEqual({ count: 40, stride: 2, first: [0, 2, 4], last: 78 });
    expect(sizes(800)).toEqual({ count: 50, stride: 16, first: [0, 16, 32], last: 784 });
    expect(sizes(801)).toEqual({ count: 48, stride: 17, first: [0, 17, 34], last: 799 });
  });

  it('keeps the count within min and max, spreading evenly when the stride alone would not', () => {
    expect(sizes(1000, { target: 10, min: 20, max: 200 })).toEqual({ count: 20, stride: 50, first: [0, 50, 100], last: 950 });
    expect(sizes(1000, { target: 500, min: 20, max: 200 })).toEqual({ count: 200, stride: 5, first: [0, 5, 10], last: 995 });
    expect(sizes(15, { target: 5, min: 20, max: 200 })).toEqual({ count: 15, stride: 1, first: [0, 1, 2], last: 14 });
  });

  it('windows ±R around the anchors, clipped to the list', () => {
    expect(windowPositions(20, [3, 10], 2)).toEqual([1, 2, 3, 4, 5, 8, 9, 10, 11, 12]);
    expect(windowPositions(5, [0, 4], 1)).toEqual([0, 1, 3, 4]);
    expect(windowPositions(5, [], 3)).toEqual([]);
  });
});

/**
 * A scripted world: frame p is an image whose first byte is p; `faceAt(p)` lists the face boxes visible there.
 * The fake detector sees exactly those; the fake mesh finds a face when its crop centre lies inside a visible box.
 */
function scripted(count: number, faceAt: (p: number) => { x1: number; y1: number; x2: number; y2: number }[]) {
  const frame = (p: number): RgbImage => ({ width: 100, height: 100, data: Uint8Array.of(p, 0, 0) });
  const detectorCalls: number[] = [];
  const meshCalls: number[] = [];
  const detector: FaceDetector = {
    id: 'yunet-2023mar',
    used: { model_name: 'fake', model_version: '1', weights_digest: `sha256:${'0'.repeat(64)}`, runtime: 'inprocess', engine: 'fake', precision: 'fp32', device: 'cpu' },
    hasEyeKeypoints: true,
    get calls() {
      return detectorCalls.length;
    },
    async detect(image) {
      const p = image.data[0]!;
      detectorCalls.push(p);
      return faceAt(p).map((box): Detection => ({ box, score: 0.9, classId: 0, keypoints: [[box.x1 + 2, box.y1 + 2], [box.x2 - 2, box.y1 + 2]] }));
    },
  };
  const mesh: FaceMesh = {
    used: detector.used,
    get calls() {
      return meshCalls.length;
    },
    async run(image, roi) {
      const p = image.data[0]!;
      meshCalls.push(p);
      const hit = faceAt(p).find((b) => roi.cx > b.x1 && roi.cx < b.x2 && roi.cy > b.y1 && roi.cy < b.y2);
      const box = hit ?? { x1: roi.cx - 5, y1: roi.cy - 5, x2: roi.cx + 5, y2: roi.cy + 5 };
      const landmarks = new Float32Array(FACEMESH_POINTS * 3);
      for (let i = 0; i < FACEMESH_POINTS; i++) landmarks.set([box.x1 + ((box.x2 - box.x1) * (i % 10)) / 9, box.y1 + ((box.y2 - box.y1) * (i % 7)) / 6, 0], i * 3);
      const face: MeshFace = { landmarks, presence: hit ? 0.99 : 0.01, box: landmarksBox(landmarks), roi };
      return face;
    },
  };
  return { source: { count, load: async (positions: readonly number[]) => positions.map(frame) }, detector, mesh, detectorCalls, meshCalls };
}

const options = (overrides: Partial<FaceStagesOptions> = {}): FaceStagesOptions => ({
  maxFaces: 2,
  presenceThreshold: 0.5,
  sampling: { target: 10, min: 2, max: 200 },
  windowRadius: null,
  batchSize: 3,
  ...overrides,
});

describe('stage 2: the mesh only near detections, tracking inside the windows', () => {
  const face = { x1: 40, y1: 40, x2: 60, y2: 60 };

  it('runs the mesh only within ±R of detected stage-1 frames and re-detects only when tracking loses the face', async () => {
    // 40 primary frames, a face on positions 10…19; stage 1 every 4th frame (0, 4, …, 36), R = 4
    const world = scripted(40, (p) => (p >= 10 && p <= 19 ? [face] : []));
    const result = await runFaceStages(world.source, world.detector, world.mesh, options());
    expect(result.stride).toBe(4);
    expect(result.windowRadius).toBe(4);
    expect(result.detectorPositions).toEqual([0, 4, 8, 12, 16, 20, 24, 28, 32, 36]);
    // detections at 12 and 16 → windows 8…20
    expect(result.meshPositions).toEqual([8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    const present = result.faces.map((faces) => faces.length);
    expect(present.flatMap((n, p) => (n > 0 ? [p] : []))).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    // forward from 12 to 20 (20: a stage-1 frame without detection, tracking fails there), backward 11, 10, 9;
    // at 9 tracking loses the face → the detector runs there; 8 is a stage-1 frame (already detected: nothing)
    expect(result.redetectPositions).toEqual([9]);
    expect(world.detectorCalls.length).toBe(10 + 1);
    expect([...world.meshCalls].sort((a, b) => a - b)).toEqual([9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(world.meshCalls.every((p) => p >= 8 && p <= 20)).toBe(true);
  });

  it('follows a configured window radius and re-acquires a face that appears inside a window', async () => {
    // the face is visible at 0…3 and again from 6 on; R = 10 covers everything from the detection at 0
    const world = scripted(12, (p) => (p <= 3 || p >= 6 ? [face] : []));
    const result = await runFaceStages(world.source, world.detector, world.mesh, options({ sampling: { target: 2, min: 1, max: 200 }, windowRadius: 10 }));
    expect(result.detectorPositions).toEqual([0, 6]);
    expect(result.meshPositions).toEqual([...Array(12).keys()]);
    expect(result.faces.map((f) => f.length)).toEqual([1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1]);
    expect(result.redetectPositions).toEqual([4, 5]);
  });

  it('keeps the largest faces first, at most maxFaces, and merges meshes that converge on one face', async () => {
    const small = { x1: 0, y1: 0, x2: 10, y2: 10 };
    const large = { x1: 20, y1: 20, x2: 60, y2: 60 };
    const medium = { x1: 70, y1: 70, x2: 90, y2: 90 };
    const duplicate = { x1: 21, y1: 21, x2: 59, y2: 59 };
    const world = scripted(1, () => [small, large, medium, duplicate]);
    const result = await runFaceStages(world.source, world.detector, world.mesh, options({ maxFaces: 3 }));
    // the three largest detections are meshed; two of them land on the large face and count once
    expect(world.meshCalls).toHaveLength(3);
    expect(result.faces[0]!.map((f) => f.box.x2 - f.box.x1)).toEqual([40, 20]);
  });

  it('analyses nothing beyond stage 1 on a list without faces', async () => {
    const world = scripted(30, () => []);
    const result = await runFaceStages(world.source, world.detector, world.mesh, options());
    expect(result.meshPositions).toEqual([]);
    expect(world.meshCalls).toEqual([]);
    expect(world.detectorCalls).toEqual(result.detectorPositions);
    expect(result.faces.every((f) => f.length === 0)).toBe(true);
  });
});
