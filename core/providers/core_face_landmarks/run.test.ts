import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTrendflowError } from '../../contracts/errors.js';
import { getArray, getMeta, readNpzFile } from '../../npz/index.js';
import type { ComponentOutcome } from '../../pipeline/component.js';
import { componentDefinition } from '../../pipeline/registry.js';
import { validateNpzFile } from '../../schema/index.js';
import { FrameManager } from '../../segmenter/frame-manager.js';
import { segmentVideo } from '../../segmenter/segment.js';
import { standaloneRunContext } from '../../../test/helpers/run-context.js';
import { sampleIdentity } from '../../../test/helpers/manifest.js';
import { numpyAvailableOrCi, runPython } from '../../../test/helpers/python.js';
import { SHARED_MODELS_DIR } from '../../../test/helpers/shared-models.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { VideoFixtures } from '../../../test/helpers/video-fixtures.js';
import type { ModelContext } from '../vision/models.js';
import { linkModels } from '../../../test/helpers/vision-models.js';
import { coreFaceLandmarksComponent, DEFAULT_CORE_FACE_LANDMARKS_CONFIG, runCoreFaceLandmarks, type CoreFaceLandmarksConfig } from './index.js';

/** ../shared/media: real photos and clips, read in place. */
const SHARED_MEDIA_DIR = path.resolve(SHARED_MODELS_DIR, '..', 'media');
const tmp = useTempDirs('core-face-landmarks-');
let fixtures: VideoFixtures;
let models: ModelContext;
let work: string;

async function segment(video: string, name: string, components: ('core_face_landmarks' | 'core_clip')[] = ['core_face_landmarks'], analysisFps?: number): Promise<string> {
  const framesDir = path.join(work, `frames-${name}`);
  await segmentVideo(video, { outDir: framesDir, components, ...(analysisFps ? { analysisFps } : {}) });
  return framesDir;
}

/** Runs the component as the orchestrator would: parsed config, planned (fixed) batch size, a run context. */
async function runComponent(video: string, framesDir: string, config: Partial<CoreFaceLandmarksConfig> = {}): Promise<{ outcome: ComponentOutcome; runDir: string }> {
  const definition = componentDefinition('core_face_landmarks');
  const parsed = definition.parseConfig(config) as CoreFaceLandmarksConfig;
  const runDir = await tmp();
  const ctx = await standaloneRunContext({ videoPath: video, identity: sampleIdentity(), runDir, models, batchSize: definition.batching!(parsed).fixed });
  return { outcome: await definition.run({ ...ctx, framesDir }, parsed), runDir };
}

interface Landmarks {
  indices: number[];
  landmarks: Float32Array;
  present: Uint8Array;
  boxes: Float32Array;
  scores: Float32Array;
  meta: Record<string, unknown>;
  faces: number;
}

async function readLandmarks(runDir: string): Promise<Landmarks> {
  const npz = await readNpzFile(path.join(runDir, 'core_face_landmarks', 'landmarks.npz'));
  const present = getArray(npz, 'face_present', 'bool');
  return {
    indices: Array.from(getArray(npz, 'frame_indices', 'int32').data),
    landmarks: getArray(npz, 'face_landmarks', 'float32').data,
    present: present.data,
    boxes: getArray(npz, 'face_boxes', 'float32').data,
    scores: getArray(npz, 'face_scores', 'float32').data,
    meta: getMeta(npz) as Record<string, unknown>,
    faces: present.shape[1]!,
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isTrendflowError(error)) return error.code;
    throw error;
  }
  return 'resolved';
}

beforeAll(async () => {
  fixtures = await VideoFixtures.create();
  work = await tmp();
  models = await linkModels(SHARED_MODELS_DIR, work, ['yunet-2023mar', 'mediapipe-facemesh-468']);
});

afterAll(async () => {
  await models?.sessions.releaseAll();
  await fixtures?.cleanup();
});

describe('core_face_landmarks on a face shown for 2 s, then 4 s of grey (5 fps)', () => {
  let video: string;
  let framesDir: string;
  let outcome: ComponentOutcome;
  let runDir: string;
  let result: Landmarks;

  beforeAll(async () => {
    video = await fixtures.photoThenGrey(path.join(SHARED_MEDIA_DIR, 'faces', 'max_neutral.jpeg'));
    // 5 fps: 10 photo frames, then 20 grey; stage 1 every 3rd primary frame (target 10), so R = 3
    framesDir = await segment(video, 'photo', ['core_face_landmarks'], 5);
    ({ outcome, runDir } = await runComponent(video, framesDir, { detector_sampling: { target: 10, min: 5, max: 200 } }));
    result = await readLandmarks(runDir);
  });

  it('writes a valid ok artifact aligned to the primary frame_indices, with full meta', async () => {
    expect(outcome).toMatchObject({ status: 'ok', empty_reason: null, device_used: 'cpu' });
    expect(outcome.models_used.map((m) => m.model_name)).toEqual(['ShiqiYu/libfacedetection.train', 'keijiro/FaceMeshBarracuda']);
    expect(outcome.model_signature).toMatch(/^msig1:[0-9a-f]{64}$/);
    expect(outcome.artifacts.map((a) => a.path)).toEqual(['core_face_landmarks/landmarks.npz']);
    expect((await validateNpzFile(path.join(runDir, 'core_face_landmarks', 'landmarks.npz'))).problems).toEqual([]);
    const frames = await FrameManager.open(framesDir);
    expect(result.indices).toEqual(frames.frameIndices('core_face_landmarks'));
    await frames.close();
    expect(result.meta).toMatchObject({ producer: 'core_face_landmarks', status: 'ok', empty_reason: null, batch_size: 16, model_signature: outcome.model_signature, max_faces: 2 });
    // 6 s at 5 fps: 30 primary frames; stage 1 every 3rd (stride ceil(30/10)), R = 3
    expect(result.indices).toHaveLength(30);
    expect(result.meta).toMatchObject({ detector_stride: 3, mesh_window_radius: 3, analysis_width: 640, analysis_height: 360 });
  });

  it('finds the face on every photo frame and marks the grey frames as faceless with NaN', () => {
    const n = result.indices.length;
    const withFace = [...Array(n).keys()].filter((p) => result.present[p * result.faces]);
    expect(withFace).toEqual([...Array(10).keys()]);
    for (let p = 0; p < n; p++) {
      for (let slot = 0; slot < result.faces; slot++) {
        const s = p * result.faces + slot;
        const block = result.landmarks.subarray(s * 468 * 3, (s + 1) * 468 * 3);
        if (result.present[s]) {
          expect(block.every((v) => Number.isFinite(v))).toBe(true);
          expect(result.scores[s]).toBeGreaterThan(0.5);
        } else {
          expect(block.every((v) => Number.isNaN(v))).toBe(true);
          expect(Number.isNaN(result.scores[s]!) && result.boxes.subarray(s * 4, s * 4 + 4).every(Number.isNaN)).toBe(true);
        }
      }
    }
    // normalized coordinates: the face sits in the middle of the 640x360 frame, inside its box
    const [x1, y1, x2, y2] = result.boxes.subarray(0, 4);
    expect(x1).toBeGreaterThan(0.3);
    expect(x2).toBeLessThan(0.7);
    expect(y1).toBeGreaterThan(0);
    expect(y2).toBeLessThan(1);
    for (let i = 0; i < 468; i++) {
      expect(result.landmarks[i * 3]).toBeGreaterThanOrEqual(x1! - 1e-6);
      expect(result.landmarks[i * 3]).toBeLessThanOrEqual(x2! + 1e-6);
    }
  });

  it('runs FaceMesh only within ±R of stage-1 detections and records where each stage ran', () => {
    const position = new Map(result.indices.map((index, p) => [index, p]));
    const positions = (key: string) => (result.meta[key] as number[]).map((index) => position.get(index)!);
    const detectorAt = positions('detector_frame_indices');
    const meshAt = positions('mesh_frame_indices');
    expect(detectorAt).toEqual([...Array(10).keys()].map((k) => 3 * k));
    // the face is visible on positions 0…9: its stage-1 detections are 0, 3, 6, 9 → windows reach 12
    expect(meshAt).toEqual([...Array(13).keys()]);
    expect(result.meta.mesh_calls).toBeLessThanOrEqual(meshAt.length * 2);
    expect(result.meta.mesh_calls).toBeGreaterThanOrEqual(10);
    expect(result.meta.detector_calls).toBe(10 + (result.meta.redetect_frame_indices as number[]).length);
    expect(outcome.notes.join(' ')).toMatch(/FaceMesh on 13 \(window ±3\)/);
  });

  it('loads in NumPy: NaN where no face, masks, meta', { skip: !numpyAvailableOrCi }, () => {
    const out = runPython(
      `import sys, json, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
lm = z['face_landmarks']; present = z['face_present']; m = z['meta'].item()
print(json.dumps({'shape': list(lm.shape), 'dtype': str(lm.dtype), 'present': int(present[:, 0].sum()),
  'nan_where_absent': bool(np.isnan(lm[~present]).all()), 'finite_where_present': bool(np.isfinite(lm[present]).all()),
  'any': bool(z['has_any_face']), 'reason': None if z['empty_reason'].item() is None else str(z['empty_reason'].item()),
  'x_range': [float(np.nanmin(lm[..., 0])), float(np.nanmax(lm[..., 0]))], 'models': [u['model_name'] for u in m['models_used']],
  'mesh': len(m['mesh_frame_indices'])}))`,
      [path.join(runDir, 'core_face_landmarks', 'landmarks.npz')],
    );
    const parsed = JSON.parse(out) as { x_range: number[] } & Record<string, unknown>;
    expect(parsed).toMatchObject({ shape: [30, 2, 468, 3], dtype: 'float32', present: 10, nan_where_absent: true, finite_where_present: true, any: true, reason: null, mesh: 13 });
    expect(parsed.models).toEqual(['ShiqiYu/libfacedetection.train', 'keijiro/FaceMeshBarracuda']);
    expect(parsed.x_range[0]).toBeGreaterThan(0);
    expect(parsed.x_range[1]).toBeLessThan(1);
  });
});

describe('core_face_landmarks without faces', () => {
  it('is a valid empty artifact: no_faces_in_video, all NaN, only the detector in models_used', async () => {
    const video = await fixtures.colors();
    const framesDir = await segment(video, 'colors', ['core_face_landmarks'], 3);
    const { outcome, runDir } = await runComponent(video, framesDir);
    expect(outcome).toMatchObject({ status: 'empty', empty_reason: 'no_faces_in_video' });
    expect(outcome.models_used.map((m) => m.model_name)).toEqual(['ShiqiYu/libfacedetection.train']);
    const file = path.join(runDir, 'core_face_landmarks', 'landmarks.npz');
    expect((await validateNpzFile(file)).problems).toEqual([]);
    const result = await readLandmarks(runDir);
    expect(result.landmarks.every(Number.isNaN)).toBe(true);
    expect(result.present.every((v) => v === 0)).toBe(true);
    expect(result.meta).toMatchObject({ status: 'empty', empty_reason: 'no_faces_in_video', mesh_calls: 0, mesh_frame_indices: [] });
    if (numpyAvailableOrCi) {
      const out = runPython(
        `import sys, json, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
print(json.dumps([bool(z['has_any_face']), str(z['empty_reason'].item()), str(z['face_empty_reason'].item()), bool(np.isnan(z['face_landmarks']).all()), z['meta'].item()['status']]))`,
        [file],
      );
      expect(JSON.parse(out)).toEqual([false, 'no_faces_in_video', 'no_faces_in_video', true, 'empty']);
    }
  });
});

/** Inner-lip opening (13 → 14) over face height (10 → 152), per primary frame with a face in slot 0. */
function mouthOpenings(result: Landmarks): number[] {
  const out: number[] = [];
  for (let p = 0; p < result.indices.length; p++) {
    if (!result.present[p * result.faces]) continue;
    const y = (i: number) => result.landmarks[(p * result.faces * 468 + i) * 3 + 1]!;
    out.push((y(14) - y(13)) / (y(152) - y(10)));
  }
  return out;
}

describe('core_face_landmarks on a real talking head (GRID bbaf2n, 3 s)', () => {
  let video: string;
  let framesDir: string;

  beforeAll(async () => {
    video = path.join(SHARED_MEDIA_DIR, 'grid_bbaf2n.mpg');
    // 8 fps: 24 primary frames over the sentence
    framesDir = await segment(video, 'grid', ['core_face_landmarks'], 8);
  });

  it('finds the face on nearly every primary frame, and the mouth opens and closes', async () => {
    const { outcome, runDir } = await runComponent(video, framesDir);
    expect(outcome.status).toBe('ok');
    const result = await readLandmarks(runDir);
    const n = result.indices.length;
    const found = [...Array(n).keys()].filter((p) => result.present[p * result.faces]).length;
    expect(found / n).toBeGreaterThanOrEqual(0.9);
    const mouth = mouthOpenings(result);
    expect(Math.max(...mouth) - Math.min(...mouth)).toBeGreaterThan(0.02);
  });

  it('tracks through the windows when stage 1 is sparse: few detector calls, the face kept', async () => {
    const { outcome, runDir } = await runComponent(video, framesDir, { detector_sampling: { target: 4, min: 2, max: 200 } });
    const result = await readLandmarks(runDir);
    const n = result.indices.length;
    expect(result.meta.detector_stride).toBe(Math.ceil(n / 4));
    expect(result.meta.detector_calls).toBeLessThanOrEqual(8);
    expect(result.meta.mesh_calls).toBeGreaterThanOrEqual(n);
    const found = [...Array(n).keys()].filter((p) => result.present[p * result.faces]).length;
    expect(found / n).toBeGreaterThanOrEqual(0.9);
    expect(outcome.notes[0]).toMatch(/FaceMesh on \d+ \(window ±\d+\); \d+ detector and \d+ mesh calls/);
  });
});

describe('core_face_landmarks errors and config', () => {
  it('fails with sampling_missing when the frames_dir has no core_face_landmarks frames', async () => {
    const framesDir = await segment(await fixtures.colors(), 'clip-only', ['core_clip'], 2);
    const config = { ...DEFAULT_CORE_FACE_LANDMARKS_CONFIG };
    expect(await codeOf(runCoreFaceLandmarks({ identity: sampleIdentity(), runDir: await tmp(), framesDir, models }, config, 4))).toBe('sampling_missing');
  });

  it('fails loudly when pose or hands are asked for (no model for them), or a model is missing', async () => {
    const framesDir = await segment(await fixtures.colors(), 'errors', ['core_face_landmarks'], 2);
    const ctx = { identity: sampleIdentity(), runDir: await tmp(), framesDir, models };
    expect(await codeOf(runCoreFaceLandmarks(ctx, { ...DEFAULT_CORE_FACE_LANDMARKS_CONFIG, pose: true }, 4))).toBe('model_not_found');
    expect(await codeOf(runCoreFaceLandmarks(ctx, { ...DEFAULT_CORE_FACE_LANDMARKS_CONFIG, hands: true }, 4))).toBe('model_not_found');
    const noMesh = await linkModels(SHARED_MODELS_DIR, await tmp(), ['yunet-2023mar'], models.sessions);
    expect(await codeOf(runCoreFaceLandmarks({ ...ctx, models: noMesh }, DEFAULT_CORE_FACE_LANDMARKS_CONFIG, 4))).toBe('model_not_found');
  });

  it('checks its config and fixes the batch size from it', () => {
    const definition = coreFaceLandmarksComponent;
    expect(definition.parseConfig(undefined)).toEqual(DEFAULT_CORE_FACE_LANDMARKS_CONFIG);
    expect(definition.batching!(definition.parseConfig({ batch_size: 4, device: 'cuda' }))).toEqual({ device: 'cuda', fixed: 4 });
    const invalid = (value: unknown) => {
      try {
        definition.parseConfig(value);
        return 'accepted';
      } catch (error) {
        return isTrendflowError(error) ? error.code : String(error);
      }
    };
    expect(invalid({ max_face: 3 })).toBe('invalid_argument');
    expect(invalid({ detector_model: 'yolox-nano' })).toBe('invalid_argument');
    expect(invalid({ detector_sampling: { target: 10, min: 20, max: 200 } })).toBe('invalid_argument');
    expect(invalid({ presence_threshold: 1.5 })).toBe('invalid_argument');
    expect(invalid({ detector_model: 'ultraface-rfb-320', max_faces: 5, mesh_window_radius: 0 })).toBe('accepted');
  });
});
