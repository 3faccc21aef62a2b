import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_MODELS_DIR } from '../../../test/helpers/shared-models.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import type { Box, Detection } from '../vision/boxes.js';
import { openFaceDetector, type FaceDetector } from '../vision/face-detectors.js';
import type { RgbImage } from '../vision/image.js';
import type { ModelContext } from '../vision/models.js';
import { readAnalysisImage, linkModels } from '../../../test/helpers/vision-models.js';
import { FACEMESH_POINTS, openFaceMesh, projectLandmarks, roiFromDetection, roiFromLandmarks, type FaceMesh, type MeshFace } from './facemesh.js';
import { runFaceStages } from './stages.js';

/** ../shared/media: real photos and clips, read in place. */
const SHARED_MEDIA_DIR = path.resolve(SHARED_MODELS_DIR, '..', 'media');
const tmp = useTempDirs('facemesh-');
const deg = (radians: number) => (radians * 180) / Math.PI;

describe('regions of interest and projection', () => {
  it('squares 1.5× the longer side of a detection, rotated by the eye line', () => {
    const tilted: Detection = { box: { x1: 100, y1: 50, x2: 180, y2: 150 }, score: 0.9, classId: 0, keypoints: [[120, 80], [120 + 40 * Math.cos(Math.PI / 6), 80 + 40 * Math.sin(Math.PI / 6)]] };
    const roi = roiFromDetection(tilted, true);
    expect(roi).toMatchObject({ cx: 140, cy: 100, size: 150 });
    expect(deg(roi.angle)).toBeCloseTo(30, 9);
    expect(roiFromDetection(tilted, false).angle).toBe(0);
  });

  it('tracks from landmarks: their bounding box and the outer eye corners 33 → 263', () => {
    const landmarks = new Float32Array(FACEMESH_POINTS * 3);
    for (let i = 0; i < FACEMESH_POINTS; i++) landmarks.set([50 + (i % 20), 60 + (i % 30), 0], i * 3);
    landmarks.set([55, 70, 0], 33 * 3);
    landmarks.set([65, 60, 0], 263 * 3);
    const roi = roiFromLandmarks({ landmarks, box: { x1: 50, y1: 60, x2: 69, y2: 89 } });
    expect(roi.cx).toBeCloseTo(59.5, 9);
    expect(roi.cy).toBeCloseTo(74.5, 9);
    expect(roi.size).toBeCloseTo(43.5, 9);
    expect(deg(roi.angle)).toBeCloseTo(-45, 9);
  });

  it('projects crop-space landmarks back through the rotated square, z on the scale of x', () => {
    const raw = new Float32Array(FACEMESH_POINTS * 3);
    raw.set([96, 96, 10, 192, 96, -4]);
    const out = projectLandmarks(raw, { cx: 300, cy: 200, size: 96, angle: Math.PI / 2 });
    expect(Array.from(out.subarray(0, 3)).map((v) => +v.toFixed(6))).toEqual([300, 200, 5]);
    // the crop's right edge lies below the centre when the square is turned a quarter
    expect(Array.from(out.subarray(3, 6)).map((v) => +v.toFixed(6))).toEqual([300, 248, -2]);
  });
});

const SINGLE_FACES = ['max_angry.jpg', 'max_happy-baby.jpeg', 'max_neutral.jpeg', 'max_sad-baby.jpeg', 'max_surprised.jpeg'];

function point(face: MeshFace, i: number): [number, number] {
  return [face.landmarks[i * 3]!, face.landmarks[i * 3 + 1]!];
}

/** Coordinates in the face's own frame: x along the eye line (33 → 263), y perpendicular, downwards. */
function faceFrame(face: MeshFace): (i: number) => [number, number] {
  const [ax, ay] = point(face, 33);
  const [bx, by] = point(face, 263);
  const angle = Math.atan2(by - ay, bx - ax);
  const [c, s] = [Math.cos(angle), Math.sin(angle)];
  return (i) => {
    const [x, y] = point(face, i);
    return [c * (x - ax) + s * (y - ay), -s * (x - ax) + c * (y - ay)];
  };
}

/** Eyes above the nose tip above the lips above the chin; the subject's right eye on the image's left. */
function expectPlausibleGeometry(face: MeshFace, what: string): void {
  const at = faceFrame(face);
  const eyeLine = (at(33)[1] + at(133)[1] + at(362)[1] + at(263)[1]) / 4;
  expect(at(33)[0], what).toBeLessThan(at(133)[0]);
  expect(at(133)[0], what).toBeLessThan(at(362)[0]);
  expect(at(362)[0], what).toBeLessThan(at(263)[0]);
  expect(eyeLine, what).toBeLessThan(at(1)[1]);
  // 13 and 14: the inner upper and lower lip (they touch on a closed mouth)
  const lips = (at(13)[1] + at(14)[1]) / 2;
  expect(at(1)[1], what).toBeLessThan(lips);
  expect(lips, what).toBeLessThan(at(152)[1]);
  expect(at(1)[0], what).toBeGreaterThan(at(33)[0]);
  expect(at(1)[0], what).toBeLessThan(at(263)[0]);
  // eye distance against face height (forehead 10 to chin 152): a human proportion, not a collapsed mesh
  const ratio = at(263)[0] / (at(152)[1] - at(10)[1]);
  expect(ratio, what).toBeGreaterThan(0.35);
  expect(ratio, what).toBeLessThan(1.1);
}

function shareInside(face: MeshFace, box: Box, margin: number): number {
  const mx = (box.x2 - box.x1) * margin;
  const my = (box.y2 - box.y1) * margin;
  let inside = 0;
  for (let i = 0; i < FACEMESH_POINTS; i++) {
    const [x, y] = point(face, i);
    if (x >= box.x1 - mx && x <= box.x2 + mx && y >= box.y1 - my && y <= box.y2 + my) inside++;
  }
  return inside / FACEMESH_POINTS;
}

describe('YuNet + FaceMesh on ../shared/media/faces', () => {
  let models: ModelContext;
  let detector: FaceDetector;
  let mesh: FaceMesh;
  const photos = new Map<string, RgbImage>();
  let faces: Map<string, MeshFace[]>;

  beforeAll(async () => {
    models = await linkModels(SHARED_MODELS_DIR, await tmp(), ['yunet-2023mar', 'mediapipe-facemesh-468']);
    detector = await openFaceDetector(models, 'yunet-2023mar', 'cpu', null);
    mesh = await openFaceMesh(models, 'mediapipe-facemesh-468', 'cpu');
    const names = [...SINGLE_FACES, 'max_group.jpeg', 'max_tests_non_face.jpg'];
    for (const name of names) photos.set(name, await readAnalysisImage(path.join(SHARED_MEDIA_DIR, 'faces', name)));
    // every photo is a primary frame of its own; R = 0 keeps each photo to its own detections
    const result = await runFaceStages({ count: names.length, load: async (ps) => ps.map((p) => photos.get(names[p]!)!) }, detector, mesh, {
      maxFaces: 8,
      presenceThreshold: 0.5,
      sampling: { target: 50, min: 20, max: 200 },
      windowRadius: 0,
      batchSize: 4,
    });
    faces = new Map(names.map((name, p) => [name, result.faces[p]!]));
  });

  afterAll(async () => {
    await models?.sessions.releaseAll();
  });

  it('gives every single-face photo one face with landmarks inside its detection box and plausible geometry', async () => {
    for (const name of SINGLE_FACES) {
      const found = faces.get(name)!;
      expect(found, name).toHaveLength(1);
      expect(found[0]!.presence, name).toBeGreaterThan(0.9);
      const [detection] = await detector.detect(photos.get(name)!);
      expect(shareInside(found[0]!, detection!.box, 0.1), name).toBeGreaterThan(0.98);
      expectPlausibleGeometry(found[0]!, name);
    }
  });

  it('finds at least 4 faces in the 5-person group, each plausible, and none in the non-face image', () => {
    const group = faces.get('max_group.jpeg')!;
    expect(group.length).toBeGreaterThanOrEqual(4);
    for (const face of group.slice(0, 4)) expectPlausibleGeometry(face, 'group');
    // largest first
    const areas = group.map((f) => (f.box.x2 - f.box.x1) * (f.box.y2 - f.box.y1));
    expect(areas).toEqual([...areas].sort((a, b) => b - a));
    expect(faces.get('max_tests_non_face.jpg')).toEqual([]);
  });

  it('rotates the crop with the eye line: a face tilted by 25° keeps its geometry', async () => {
    const { data, info } = await sharp(path.join(SHARED_MEDIA_DIR, 'faces/max_neutral.jpeg'))
      .rotate()
      .resize({ height: 420 })
      .rotate(25, { background: '#000' })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const tilted: RgbImage = { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
    const [detection] = await detector.detect(tilted);
    const roi = roiFromDetection(detection!, true);
    expect(Math.abs(deg(roi.angle) - 25)).toBeLessThan(8);
    const face = await mesh.run(tilted, roi);
    expect(face.presence).toBeGreaterThan(0.9);
    const [ax, ay] = point(face, 33);
    const [bx, by] = point(face, 263);
    expect(Math.abs(deg(Math.atan2(by - ay, bx - ax)) - 25)).toBeLessThan(6);
    expectPlausibleGeometry(face, 'tilted');
  });
});
