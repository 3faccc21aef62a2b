import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTrendflowError } from '../../contracts/errors.js';
import { SHARED_MODELS_DIR } from '../../../test/helpers/shared-models.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import type { Anchor } from './anchors.js';
import { decodeBlazeFace, decodeUltraFace, decodeYunet, FACE_DETECTOR_IDS, openFaceDetector, type FaceDetector, type YunetOutputs } from './face-detectors.js';
import type { RgbImage } from './image.js';
import type { ModelContext } from './models.js';
import { readAnalysisImage, linkModels } from '../../../test/helpers/vision-models.js';

/** ../shared/media: real photos and clips, read in place. */
const SHARED_MEDIA_DIR = path.resolve(SHARED_MODELS_DIR, '..', 'media');
const tmp = useTempDirs('face-detectors-');

describe('detector output decoding (hand-computed)', () => {
  it('decodes YuNet cells: score √(cls·obj), centre (cell + offset)·stride, size exp(·)·stride, keypoints', () => {
    // a 64×64 input: 8×8 cells at stride 8, 4×4 at 16, 2×2 at 32
    const outputs = {} as YunetOutputs;
    for (const s of [8, 16, 32] as const) {
      const n = (64 / s) ** 2;
      outputs[`cls_${s}`] = new Float32Array(n);
      outputs[`obj_${s}`] = new Float32Array(n).fill(1);
      outputs[`bbox_${s}`] = new Float32Array(n * 4);
      outputs[`kps_${s}`] = new Float32Array(n * 10);
    }
    // stride 16, row 1, column 2 → cell 6
    outputs.cls_16[6] = 0.81;
    outputs.bbox_16.set([0.5, 0.25, Math.log(2), 0], 6 * 4);
    outputs.kps_16.set([0.1, 0.2, 0.9, 0.2], 6 * 10);
    outputs.cls_8[0] = 0.2; // √0.2 ≈ 0.45: below the threshold
    outputs.cls_32[3] = 1.7; // clamped to 1
    const found = decodeYunet(outputs, 64, 64, 0.5);
    expect(found).toHaveLength(2);
    const [face] = found;
    expect(face!.score).toBeCloseTo(0.9, 6);
    // centre (2.5·16, 1.25·16) = (40, 20), size 32×16
    const b = face!.box;
    for (const [got, want] of [[b.x1, 24], [b.y1, 12], [b.x2, 56], [b.y2, 28]] as const) expect(got).toBeCloseTo(want, 5);
    expect(face!.keypoints[0]![0]).toBeCloseTo(33.6, 5);
    expect(face!.keypoints[0]![1]).toBeCloseTo(19.2, 5);
    expect(face!.keypoints[1]![0]).toBeCloseTo(46.4, 5);
    expect(found[1]!.score).toBe(1);
    // stride 32, cell 3 = row 1, column 1: centre (32, 32), size 32
    expect(found[1]!.box).toEqual({ x1: 16, y1: 16, x2: 48, y2: 48 });
  });

  it('decodes BlazeFace offsets against their anchor (scaled by the 128-px input)', () => {
    const anchors: Anchor[] = [{ cx: 0.5, cy: 0.5, w: 1, h: 1 }, { cx: 0.25, cy: 0.25, w: 1, h: 1 }];
    const raw = new Float32Array(2 * 16);
    raw.set([12.8, -6.4, 32, 64, 0, 0, 6.4, 0]);
    const found = decodeBlazeFace(Float32Array.from([2, -3]), raw, 0.5, anchors);
    expect(found).toHaveLength(1);
    expect(found[0]!.score).toBeCloseTo(1 / (1 + Math.exp(-2)), 12);
    // centre (0.6, 0.45)·128, size (0.25, 0.5)·128
    const b = found[0]!.box;
    for (const [got, want] of [[b.x1, 60.8], [b.y1, 25.6], [b.x2, 92.8], [b.y2, 89.6]] as const) expect(got).toBeCloseTo(want, 4);
    expect(found[0]!.keypoints).toHaveLength(6);
    expect(found[0]!.keypoints[0]).toEqual([64, 64]);
    expect(found[0]!.keypoints[1]![0]).toBeCloseTo(70.4, 4);
  });

  it('decodes UltraFace face scores and normalized corners into image pixels', () => {
    const found = decodeUltraFace(Float32Array.from([0.9, 0.1, 0.2, 0.8]), Float32Array.from([0, 0, 1, 1, 0.1, 0.2, 0.5, 0.6]), 0.7, 200, 100);
    expect(found).toHaveLength(1);
    expect(found[0]!.score).toBeCloseTo(0.8, 6);
    const b = found[0]!.box;
    for (const [got, want] of [[b.x1, 20], [b.y1, 20], [b.x2, 100], [b.y2, 60]] as const) expect(got).toBeCloseTo(want, 4);
  });
});

const SINGLE_FACES = ['max_angry.jpg', 'max_happy-baby.jpeg', 'max_neutral.jpeg', 'max_sad-baby.jpeg', 'max_surprised.jpeg'];

describe('the real face detectors on ../shared/media/faces', () => {
  let models: ModelContext;
  const photos = new Map<string, RgbImage>();
  const detectors = new Map<string, FaceDetector>();

  beforeAll(async () => {
    models = await linkModels(SHARED_MODELS_DIR, await tmp(), [...FACE_DETECTOR_IDS]);
    for (const name of [...SINGLE_FACES, 'max_group.jpeg', 'max_tests_non_face.jpg']) photos.set(name, await readAnalysisImage(path.join(SHARED_MEDIA_DIR, 'faces', name)));
    for (const id of FACE_DETECTOR_IDS) detectors.set(id, await openFaceDetector(models, id, 'cpu', null));
  });

  afterAll(async () => {
    await models?.sessions.releaseAll();
  });

  it.each(FACE_DETECTOR_IDS)('%s finds exactly one face on each single-face photo and none on the non-face image', async (id) => {
    const detector = detectors.get(id)!;
    for (const name of SINGLE_FACES) {
      const image = photos.get(name)!;
      const faces = await detector.detect(image);
      expect(faces, `${id} on ${name}`).toHaveLength(1);
      const { box, keypoints } = faces[0]!;
      // a face box of plausible size, mostly inside the frame
      expect((box.x2 - box.x1) / image.width, name).toBeGreaterThan(0.15);
      expect(box.x1).toBeGreaterThan(-0.05 * image.width);
      expect(box.x2).toBeLessThan(1.05 * image.width);
      if (detector.hasEyeKeypoints) {
        // keypoint 0 is the subject's right eye: on the image's left, both eyes inside the box's upper 2/3
        const [right, left] = [keypoints[0]!, keypoints[1]!];
        expect(right[0]).toBeLessThan(left[0]);
        for (const eye of [right, left]) {
          expect(eye[0]).toBeGreaterThan(box.x1);
          expect(eye[0]).toBeLessThan(box.x2);
          expect(eye[1]).toBeLessThan(box.y1 + ((box.y2 - box.y1) * 2) / 3);
        }
      }
    }
    expect(await detector.detect(photos.get('max_tests_non_face.jpg')!)).toEqual([]);
    expect(detector.calls).toBe(SINGLE_FACES.length + 1);
    expect(detector.used).toMatchObject({ runtime: 'inprocess', engine: 'onnxruntime', device: 'cpu', precision: 'fp32' });
    expect(detector.used.weights_digest).toBe(`sha256:${models.registry.get(id).files[0]!.sha256}`);
  });

  it('YuNet and UltraFace find at least 4 of the 5 people in the group photo; short-range BlazeFace the 3 nearest', async () => {
    const group = photos.get('max_group.jpeg')!;
    expect((await detectors.get('yunet-2023mar')!.detect(group)).length).toBeGreaterThanOrEqual(4);
    expect((await detectors.get('ultraface-rfb-320')!.detect(group)).length).toBeGreaterThanOrEqual(4);
    expect((await detectors.get('blazeface-front-128')!.detect(group)).length).toBeGreaterThanOrEqual(3);
  });

  it('refuses ids it cannot decode, and a model missing from the models dir names the fetch command', async () => {
    const code = async (promise: Promise<unknown>) => promise.then(() => 'resolved', (e: unknown) => (isTrendflowError(e) ? `${e.code}: ${e.message}` : String(e)));
    expect(await code(openFaceDetector(models, 'yolox-nano', 'cpu', null))).toMatch(/^invalid_argument: .*yunet-2023mar/);
    const empty = { ...models, modelsDir: await tmp() };
    expect(await code(openFaceDetector(empty, 'yunet-2023mar', 'cpu', null))).toMatch(/^model_not_found: .*npx trendflow models fetch yunet-2023mar/);
  });
});
