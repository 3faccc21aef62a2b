import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTrendflowError } from '../../contracts/errors.js';
import { getArray, getMeta, getStringList, ndarray, readNpzFile, writeNpzFile, type NpzContents } from '../../npz/index.js';
import type { ComponentInput } from '../../pipeline/component.js';
import { setupCoreClip } from '../../providers/core_clip/setup.js';
import { DEFAULT_CORE_CLIP_CONFIG, runCoreClip } from '../../providers/core_clip/index.js';
import { OnnxSessionRegistry } from '../../runtime/onnx/sessions.js';
import { validateNpzFile } from '../../schema/index.js';
import { FrameManager } from '../../segmenter/frame-manager.js';
import { segmentVideo } from '../../segmenter/segment.js';
import { MODEL_USED } from '../../../test/helpers/artifacts.js';
import { prepareClipModelsDir, TEST_CLIP_IMAGE_ID, TEST_CLIP_TEXT_ID } from '../../../test/helpers/clip-models.js';
import { sampleIdentity } from '../../../test/helpers/manifest.js';
import { numpyAvailableOrCi, runPython } from '../../../test/helpers/python.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { VideoFixtures } from '../../../test/helpers/video-fixtures.js';
import { DEFAULT_CUT_DETECTION_PARAMS, runCutDetection } from '../cut_detection/index.js';
import { inputFromArtifact } from '../common/inputs.js';
import { CLIP_SCORE_PAIRS } from './clip-scores.js';
import { FACE_METRIC_NAMES } from './face-metrics.js';
import { IMAGE_METRIC_NAMES } from './image-metrics.js';
import { runShotQuality } from './run.js';

const tmp = useTempDirs('shot-quality-');
let fixtures: VideoFixtures;
const sessions = new OnnxSessionRegistry();

/** A segmented video with its cut_detection artifact: what shot_quality needs at least. */
interface Prepared {
  framesDir: string;
  runDir: string;
  cut: ComponentInput;
}

async function prepare(video: string): Promise<Prepared> {
  const work = await tmp();
  const framesDir = path.join(work, 'frames');
  await segmentVideo(video, { outDir: framesDir, components: ['cut_detection', 'core_clip', 'core_face_landmarks', 'shot_quality'], durable: false });
  const runDir = path.join(work, 'run');
  const { artifact } = await runCutDetection({ identity: sampleIdentity(), runDir, framesDir }, DEFAULT_CUT_DETECTION_PARAMS);
  return { framesDir, runDir, cut: await inputFromArtifact(runDir, 'cut_detection', 'ok', artifact.path) };
}

async function quality(prepared: Prepared, inputs: ComponentInput[] = []): Promise<NpzContents> {
  const ctx = {
    identity: sampleIdentity(),
    runDir: prepared.runDir,
    framesDir: prepared.framesDir,
    inputs: Object.fromEntries([prepared.cut, ...inputs].map((i) => [i.component, i])),
  };
  const result = await runShotQuality(ctx);
  const file = path.join(prepared.runDir, 'shot_quality', 'quality.npz');
  expect(result.status).toBe('ok');
  expect((await validateNpzFile(file)).problems).toEqual([]);
  return readNpzFile(file);
}

/** The mean of one image metric over all frames. */
function metric(npz: NpzContents, name: (typeof IMAGE_METRIC_NAMES)[number]): number {
  const values = getArray(npz, 'frame_image_metrics', 'float32').data;
  const column = IMAGE_METRIC_NAMES.indexOf(name);
  const k = IMAGE_METRIC_NAMES.length;
  let sum = 0;
  for (let r = 0; r < values.length / k; r++) sum += values[r * k + column]!;
  return sum / (values.length / k);
}

/**
 * A core_face_landmarks artifact to the letter of its schema (the provider is written elsewhere): on its sampled
 * frames, one face whose landmarks fill the box x, y ∈ [0.25, 0.75] on the frames `withFace` selects; none
 * elsewhere; empty (no_faces_in_video) when no frame has one.
 */
async function faceArtifact(prepared: Prepared, withFace: (row: number) => boolean): Promise<ComponentInput> {
  const frames = await FrameManager.open(prepared.framesDir);
  const indices = frames.frameIndices('core_face_landmarks');
  await frames.close();
  const n = indices.length;
  const present = indices.map((_, r) => withFace(r));
  const landmarks = new Float32Array(n * 468 * 3).fill(Number.NaN);
  present.forEach((p, r) => {
    if (!p) return;
    for (let k = 0; k < 468; k++) {
      landmarks[(r * 468 + k) * 3] = 0.25 + 0.5 * ((k % 22) / 21);
      landmarks[(r * 468 + k) * 3 + 1] = 0.25 + 0.5 * (Math.floor(k / 22) / 21);
      landmarks[(r * 468 + k) * 3 + 2] = 0;
    }
  });
  const any = present.some(Boolean);
  const reason = any ? null : 'no_faces_in_video';
  const file = path.join(prepared.runDir, 'core_face_landmarks', 'landmarks.npz');
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeNpzFile(
    file,
    {
      frame_indices: ndarray.int32(indices),
      face_landmarks: ndarray.float32(landmarks, [n, 1, 468, 3]),
      face_present: ndarray.bool(present, [n, 1]),
      has_any_face: ndarray.bool([any], []),
      empty_reason: ndarray.objectScalar(reason),
      meta: ndarray.objectScalar({
        producer: 'core_face_landmarks',
        producer_version: '1.0.0',
        schema_version: 'core_face_landmarks_npz_v1',
        created_at: '2026-01-01T00:00:00.000Z',
        ...sampleIdentity(),
        status: any ? 'ok' : 'empty',
        empty_reason: reason,
        models_used: [{ ...MODEL_USED }],
        model_signature: 'msig1:' + '0'.repeat(64),
        batch_size: 1,
      }),
    },
    { compress: true },
  );
  expect((await validateNpzFile(file)).problems).toEqual([]);
  return inputFromArtifact(prepared.runDir, 'core_face_landmarks', any ? 'ok' : 'empty', file);
}

beforeAll(async () => {
  fixtures = await VideoFixtures.create();
});

afterAll(async () => {
  await sessions.releaseAll();
  await fixtures?.cleanup();
});

describe('shot_quality image metrics on degraded copies of one clip', () => {
  const results = new Map<string, NpzContents>();

  beforeAll(async () => {
    for (const kind of ['original', 'blurred', 'dark', 'noisy'] as const) results.set(kind, await quality(await prepare(await fixtures.qualityVariant(kind))));
  });

  it('a blurred copy scores lower sharpness than the original, per frame and per shot', () => {
    const original = results.get('original')!;
    const blurred = results.get('blurred')!;
    expect(metric(blurred, 'sharpness_laplacian_var')).toBeLessThan(0.2 * metric(original, 'sharpness_laplacian_var'));
    const shots = (npz: NpzContents) => Array.from(getArray(npz, 'shot_image_metrics', 'float32').data).filter((_, i) => i % IMAGE_METRIC_NAMES.length === 0);
    shots(blurred).forEach((value, s) => expect(value).toBeLessThan(shots(original)[s]!));
  });

  it('an under-exposed copy scores lower exposure and clips more shadows', () => {
    const original = results.get('original')!;
    const dark = results.get('dark')!;
    expect(metric(dark, 'luma_mean')).toBeLessThan(0.6 * metric(original, 'luma_mean'));
    expect(metric(dark, 'contrast_rms')).toBeLessThan(metric(original, 'contrast_rms'));
    expect(metric(dark, 'shadows_clipped_share')).toBeGreaterThan(metric(original, 'shadows_clipped_share'));
    expect(metric(dark, 'highlights_clipped_share')).toBeLessThan(metric(original, 'highlights_clipped_share'));
  });

  it('a noisy copy has a higher noise estimate', () => {
    expect(metric(results.get('noisy')!, 'noise_sigma')).toBeGreaterThan(2 * metric(results.get('original')!, 'noise_sigma'));
  });

  it('without core_clip and core_face_landmarks their parts are NaN with masks False, never zeros', () => {
    const npz = results.get('original')!;
    expect(Array.from(getArray(npz, 'frame_clip_present', 'bool').data).some(Boolean)).toBe(false);
    expect(getArray(npz, 'frame_prompt_similarity', 'float32').shape[1]).toBe(0);
    expect(Array.from(getArray(npz, 'frame_clip_scores', 'float32').data).every(Number.isNaN)).toBe(true);
    expect(Array.from(getArray(npz, 'frame_face_measured', 'bool').data).some(Boolean)).toBe(false);
    expect(Array.from(getArray(npz, 'frame_face_count', 'float32').data).every(Number.isNaN)).toBe(true);
    expect(Array.from(getArray(npz, 'shot_face_presence', 'float32').data).every(Number.isNaN)).toBe(true);
    expect(getMeta(npz)).toMatchObject({ clip_source: null, face_source: null });
    expect(Object.keys(getMeta(npz).dependencies as object).sort()).toEqual(['cut_detection', 'segmenter/metadata.json', 'segmenter/signals.npz']);
  });

  it('maps every frame to the shot it lies in (two shots of 1 s)', () => {
    const npz = results.get('original')!;
    const times = getArray(npz, 'frame_time_sec', 'float64').data;
    const shot = getArray(npz, 'frame_shot_index', 'int32').data;
    times.forEach((t, r) => expect(shot[r]).toBe(t < 1 ? 0 : 1));
    expect(Array.from(getArray(npz, 'shot_frame_count', 'int32').data).every((c) => c > 0)).toBe(true);
  });
});

describe('shot_quality with core_clip and core_face_landmarks', () => {
  let prepared: Prepared;
  let clip: ComponentInput;

  beforeAll(async () => {
    prepared = await prepare(await fixtures.qualityVariant('original'));
    const { modelsDir, registry } = await prepareClipModelsDir(await tmp(), 32);
    const setup = await setupCoreClip({ ...DEFAULT_CORE_CLIP_CONFIG, image_model: TEST_CLIP_IMAGE_ID, text_model: TEST_CLIP_TEXT_ID }, { registry, modelsDir, sessions });
    const run = await runCoreClip({ identity: sampleIdentity(), runDir: prepared.runDir, framesDir: prepared.framesDir }, { preset: setup.preset, batchSize: 16, encoders: setup.encoders, tokenizer: setup.tokenizer });
    await setup.close();
    clip = await inputFromArtifact(prepared.runDir, 'core_clip', 'ok', run.artifact.path);
  });

  it('scores the frames core_clip embedded against its prompts, NaN on the others', async () => {
    const npz = await quality(prepared, [clip]);
    const clipNpz = await readNpzFile(clip.path);
    const embedded = new Set(getArray(clipNpz, 'frame_indices', 'int32').data);
    const indices = Array.from(getArray(npz, 'frame_indices', 'int32').data);
    const present = Array.from(getArray(npz, 'frame_clip_present', 'bool').data).map(Boolean);
    expect(present).toEqual(indices.map((u) => embedded.has(u)));
    expect(present.filter(Boolean).length).toBeGreaterThan(0);
    expect(getStringList(npz, 'clip_prompts')).toEqual(getStringList(clipNpz, 'shot_quality_prompts'));
    const scores = getArray(npz, 'frame_clip_scores', 'float32').data;
    const Q = CLIP_SCORE_PAIRS.length;
    present.forEach((p, r) => {
      for (let q = 0; q < Q; q++) {
        const value = scores[r * Q + q]!;
        if (p) expect(value >= 0 && value <= 1).toBe(true);
        else expect(value).toBeNaN();
      }
    });
    // the similarity is the dot product of the unit embeddings: check one by hand
    const row = present.indexOf(true);
    const clipRow = Array.from(getArray(clipNpz, 'frame_indices', 'int32').data).indexOf(indices[row]!);
    const image = getArray(clipNpz, 'frame_embeddings', 'float32').data.subarray(clipRow * 32, (clipRow + 1) * 32);
    const text = getArray(clipNpz, 'shot_quality_text_embeddings', 'float32').data.subarray(0, 32);
    const dot = image.reduce((sum, v, k) => sum + v * text[k]!, 0);
    expect(getArray(npz, 'frame_prompt_similarity', 'float32').data[row * getStringList(npz, 'clip_prompts').length]).toBeCloseTo(dot, 5);
    expect(getMeta(npz).dependencies).toMatchObject({ core_clip: clip.signature, cut_detection: prepared.cut.signature });
    expect(Array.from(getArray(npz, 'shot_clip_present', 'bool').data).every(Boolean)).toBe(true);
  });

  it('measures face count, size and centring where faces are, and NaN with masks False where there are none', async () => {
    const face = await faceArtifact(prepared, (row) => row % 2 === 0);
    const npz = await quality(prepared, [face]);
    const faceNpz = await readNpzFile(face.path);
    const faceIndices = Array.from(getArray(faceNpz, 'frame_indices', 'int32').data);
    const indices = Array.from(getArray(npz, 'frame_indices', 'int32').data);
    const count = getArray(npz, 'frame_face_count', 'float32').data;
    const metrics = getArray(npz, 'frame_face_metrics', 'float32').data;
    indices.forEach((u, r) => {
      const row = faceIndices.indexOf(u);
      if (row < 0) {
        expect(count[r]).toBeNaN();
      } else if (row % 2 === 0) {
        expect(count[r]).toBe(1);
        expect(metrics[r * FACE_METRIC_NAMES.length]).toBeCloseTo(0.25, 5); // a 0.5 × 0.5 box
        expect(metrics[r * FACE_METRIC_NAMES.length + 1]).toBeCloseTo(0, 5); // centred
      } else {
        expect(count[r]).toBe(0);
        expect(metrics[r * FACE_METRIC_NAMES.length]).toBeNaN();
      }
    });
    const presence = Array.from(getArray(npz, 'shot_face_presence', 'float32').data);
    presence.forEach((p) => expect(p).toBeGreaterThan(0.3));
    presence.forEach((p) => expect(p).toBeLessThan(0.7));
  });

  it('a faceless video (empty face artifact): counts are 0, size and centring NaN with masks False', async () => {
    const face = await faceArtifact(prepared, () => false);
    const npz = await quality(prepared, [face]);
    const measured = Array.from(getArray(npz, 'frame_face_measured', 'bool').data).map(Boolean);
    expect(measured.some(Boolean)).toBe(true);
    const count = getArray(npz, 'frame_face_count', 'float32').data;
    measured.forEach((m, r) => (m ? expect(count[r]).toBe(0) : expect(count[r]).toBeNaN()));
    expect(Array.from(getArray(npz, 'frame_face_present', 'bool').data).some(Boolean)).toBe(false);
    expect(Array.from(getArray(npz, 'frame_face_metrics', 'float32').data).every(Number.isNaN)).toBe(true);
    expect(Array.from(getArray(npz, 'shot_face_present', 'bool').data).some(Boolean)).toBe(false);
    expect(Array.from(getArray(npz, 'shot_face_metrics', 'float32').data).every(Number.isNaN)).toBe(true);
    expect(Array.from(getArray(npz, 'shot_face_presence', 'float32').data)).toEqual([0, 0]);
    expect(getMeta(npz).face_source).toEqual({ status: 'empty', empty_reason: 'no_faces_in_video' });
  });

  it.skipIf(!numpyAvailableOrCi)('loads in NumPy with NaN where the masks are False', async () => {
    const face = await faceArtifact(prepared, () => false);
    await quality(prepared, [clip, face]);
    const out = runPython(
      `import sys, json, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
m = z['frame_face_present']; f = z['frame_face_metrics']; c = z['frame_clip_present']; s = z['frame_clip_scores']
print(json.dumps({'names': [str(n) for n in z['image_metric_names']], 'metrics': list(z['frame_image_metrics'].shape),
  'face_nan': bool(np.isnan(f[~m]).all()), 'clip_ok': bool(np.isfinite(s[c]).all() and np.isnan(s[~c]).all()),
  'deps': sorted(z['meta'].item()['dependencies'])}))`,
      [path.join(prepared.runDir, 'shot_quality', 'quality.npz')],
    );
    const parsed = JSON.parse(out) as { names: string[]; metrics: number[]; face_nan: boolean; clip_ok: boolean; deps: string[] };
    expect(parsed.names).toEqual([...IMAGE_METRIC_NAMES]);
    expect(parsed.metrics[1]).toBe(IMAGE_METRIC_NAMES.length);
    expect(parsed).toMatchObject({ face_nan: true, clip_ok: true, deps: ['core_clip', 'core_face_landmarks', 'cut_detection', 'segmenter/metadata.json', 'segmenter/signals.npz'] });
  });
});

describe('shot_quality refuses to guess', () => {
  it('without its required cut_detection input it writes nothing and reports empty', async () => {
    const work = await tmp();
    const result = await runShotQuality({ identity: sampleIdentity(), runDir: work, framesDir: work, inputs: {} });
    expect(result).toEqual({ status: 'empty', artifact: null });
    await expect(fs.readdir(work)).resolves.toEqual([]);
  });

  it('a frames_dir without shot_quality frame_indices is sampling_missing', async () => {
    const prepared = await prepare(await fixtures.qualityVariant('original'));
    const other = path.join(await tmp(), 'frames');
    await segmentVideo(await fixtures.qualityVariant('original'), { outDir: other, components: ['cut_detection'], durable: false });
    const error = await runShotQuality({ identity: sampleIdentity(), runDir: prepared.runDir, framesDir: other, inputs: { cut_detection: prepared.cut } }).catch((e: unknown) => e);
    expect(isTrendflowError(error) && error.code).toBe('sampling_missing');
  });
});
