import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComponentName } from '../../contracts/components.js';
import { getArray, getMeta, getStringList, readNpzFile, type NpzContents } from '../../npz/index.js';
import type { ComponentInput } from '../../pipeline/component.js';
import { DEFAULT_CORE_CLIP_CONFIG, runCoreClip, setupCoreClip } from '../../providers/core_clip/index.js';
import { OnnxSessionRegistry } from '../../runtime/onnx/sessions.js';
import { validateNpzFile } from '../../schema/index.js';
import { segmentVideo } from '../../segmenter/segment.js';
import { prepareClipModelsDir, TEST_CLIP_IMAGE_ID, TEST_CLIP_TEXT_ID } from '../../../test/helpers/clip-models.js';
import { sampleIdentity } from '../../../test/helpers/manifest.js';
import { numpyAvailableOrCi, runPython } from '../../../test/helpers/python.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { VideoFixtures } from '../../../test/helpers/video-fixtures.js';
import { inputFromArtifact } from '../common/inputs.js';
import { DEFAULT_CUT_DETECTION_PARAMS, runCutDetection } from '../cut_detection/index.js';
import { DEFAULT_SCENE_CLASSIFICATION_CONFIG, runSceneClassification } from '../scene_classification/index.js';
import { runShotQuality } from '../shot_quality/index.js';
import { runShotSequence } from '../shot_sequence/index.js';
import { DEFAULT_VIDEO_PACING_CONFIG, runVideoPacing } from '../video_pacing/index.js';
import { AGGREGATE_FEATURES } from './features.js';
import { runVideoAggregates } from './run.js';

const tmp = useTempDirs('video-aggregates-');
let fixtures: VideoFixtures;
const sessions = new OnnxSessionRegistry();
let framesDir: string;
/** Every upstream artifact of a run on the generated shots, built by the real components. */
const inputs = new Map<ComponentName, ComponentInput>();

async function aggregate(components: ComponentName[]): Promise<{ npz: NpzContents; file: string; status: string }> {
  const runDir = path.join(await tmp(), 'run');
  const result = await runVideoAggregates({ identity: sampleIdentity(), runDir, framesDir, inputs: Object.fromEntries(components.map((c) => [c, inputs.get(c)!])) });
  const file = path.join(runDir, 'video_aggregates', 'aggregates.npz');
  expect((await validateNpzFile(file)).problems).toEqual([]);
  return { npz: await readNpzFile(file), file, status: result.status };
}

function values(npz: NpzContents): Map<string, number> {
  const names = getStringList(npz, 'feature_names');
  const data = getArray(npz, 'feature_values', 'float32').data;
  return new Map(names.map((n, i) => [n, data[i]!]));
}

beforeAll(async () => {
  fixtures = await VideoFixtures.create();
  const work = await tmp();
  framesDir = path.join(work, 'frames');
  await segmentVideo(await fixtures.cutSuite(), { outDir: framesDir, components: ['core_clip', 'cut_detection', 'shot_quality'], durable: false });
  const runDir = path.join(work, 'run');
  const identity = sampleIdentity();
  const add = async (component: ComponentName, file: string) => inputs.set(component, await inputFromArtifact(runDir, component, 'ok', file));
  await add('cut_detection', (await runCutDetection({ identity, runDir, framesDir }, DEFAULT_CUT_DETECTION_PARAMS)).artifact.path);
  const { modelsDir, registry } = await prepareClipModelsDir(work, 32);
  const setup = await setupCoreClip({ ...DEFAULT_CORE_CLIP_CONFIG, image_model: TEST_CLIP_IMAGE_ID, text_model: TEST_CLIP_TEXT_ID }, { registry, modelsDir, sessions });
  try {
    await add('core_clip', (await runCoreClip({ identity, runDir, framesDir }, { preset: setup.preset, batchSize: 32, encoders: setup.encoders, tokenizer: setup.tokenizer })).artifact.path);
  } finally {
    await setup.close();
  }
  const ctx = () => ({ identity, runDir, framesDir, inputs: Object.fromEntries(inputs) });
  const written = async (result: { artifact: { path: string } | null }) => result.artifact!.path;
  await add('shot_quality', await written(await runShotQuality(ctx())));
  await add('video_pacing', await written(await runVideoPacing(ctx(), DEFAULT_VIDEO_PACING_CONFIG)));
  await add('shot_sequence', await written(await runShotSequence(ctx())));
  await add('scene_classification', await written(await runSceneClassification({ ...ctx(), models: { registry, modelsDir, sessions } }, DEFAULT_SCENE_CLASSIFICATION_CONFIG)));
});

afterAll(async () => {
  await sessions.releaseAll();
  await fixtures?.cleanup();
});

describe('video_aggregates', () => {
  it('documents every feature, in order, with its group, in README.md', async () => {
    const readme = await fs.readFile(new URL('./README.md', import.meta.url), 'utf8');
    const documented = [...readme.matchAll(/^\| `([a-z0-9_]+)` \| (\w+) \|/gm)].map((m) => [m[1], m[2]]);
    expect(documented).toEqual(AGGREGATE_FEATURES.map((f) => [f.name, f.group]));
    expect(AGGREGATE_FEATURES.length).toBeGreaterThanOrEqual(30);
    expect(AGGREGATE_FEATURES.length).toBeLessThanOrEqual(80);
  });

  it('with every input: the features their artifacts define, matching the artifacts', async () => {
    const { npz, status } = await aggregate([...inputs.keys()]);
    expect(status).toBe('ok');
    const v = values(npz);
    expect(v.get('duration_sec')).toBeCloseTo(15, 5);
    expect(v.get('shot_count')).toBe(8);
    expect(v.get('cuts_per_min')).toBeCloseTo(28, 4);
    const quality = await readNpzFile(inputs.get('shot_quality')!.path);
    const k = getStringList(quality, 'image_metric_names').indexOf('luma_mean');
    const shotImage = getArray(quality, 'shot_image_metrics', 'float32');
    const lumas = Array.from({ length: shotImage.shape[0]! }, (_, s) => shotImage.data[s * shotImage.shape[1]! + k]!);
    expect(v.get('luma_mean')).toBeCloseTo(lumas.reduce((a, b) => a + b, 0) / lumas.length, 5);
    const scenes = await readNpzFile(inputs.get('scene_classification')!.path);
    expect(v.get('scene_top1_share')).toBeCloseTo(Math.max(...getArray(scenes, 'video_label_distribution', 'float32').data), 5);
    for (const name of ['quality_professional_mean', 'visual_dispersion', 'repetition_ratio', 'unique_shot_share', 'scene_entropy', 'motion_energy_mean', 'static_share']) {
      expect(Number.isFinite(v.get(name)), name).toBe(true);
    }
    // no face artifact, no optical flow, no loudness in this run: those features are NaN with their masks False
    const present = getArray(npz, 'feature_present', 'bool').data;
    AGGREGATE_FEATURES.forEach((f, i) => {
      const missing = f.sources.some((s) => s === 'core_face_landmarks' || s === 'core_optical_flow' || s === 'loudness_extractor');
      expect(Boolean(present[i]), f.name).toBe(!missing);
      if (missing) expect(v.get(f.name), f.name).toBeNaN();
    });
    expect(getMeta(npz).inputs_found).toEqual(['shot_quality', 'video_pacing', 'shot_sequence', 'scene_classification', 'core_clip']);
    expect(Object.keys(getMeta(npz).dependencies as object).sort()).toEqual(['core_clip', 'scene_classification', 'shot_quality', 'shot_sequence', 'video_pacing']);
  });

  it('no feature is 0 where its input is missing: with video_pacing alone only pacing and motion are defined', async () => {
    const { npz, status } = await aggregate(['video_pacing']);
    expect(status).toBe('ok');
    const present = getArray(npz, 'feature_present', 'bool').data;
    const v = getArray(npz, 'feature_values', 'float32').data;
    AGGREGATE_FEATURES.forEach((f, i) => {
      const defined = f.sources.every((s) => s === 'video_pacing');
      expect(Boolean(present[i]), f.name).toBe(defined);
      if (!defined) expect(v[i], f.name).toBeNaN();
    });
  });

  it('with no input at all the artifact is empty (dependency_missing) and every feature NaN', async () => {
    const { npz, status } = await aggregate([]);
    expect(status).toBe('empty');
    expect(getMeta(npz)).toMatchObject({ status: 'empty', empty_reason: 'dependency_missing', feature_set_version: 'aggregates_features_v1' });
    expect(Array.from(getArray(npz, 'feature_values', 'float32').data).every(Number.isNaN)).toBe(true);
    expect(getArray(npz, 'any_feature_present', 'bool').data[0]).toBe(0);
  });

  it.skipIf(!numpyAvailableOrCi)('loads in NumPy as a name → value table with NaN where not present', async () => {
    const { file } = await aggregate([...inputs.keys()]);
    const out = runPython(
      `import sys, json, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
n = [str(x) for x in z['feature_names']]; v = z['feature_values']; p = z['feature_present']
print(json.dumps({'count': len(n), 'nan_ok': bool(np.isnan(v[~p]).all() and np.isfinite(v[p]).all()), 'version': z['meta'].item()['feature_set_version'], 'groups': sorted(set(str(g) for g in z['feature_groups']))}))`,
      [file],
    );
    expect(JSON.parse(out)).toEqual({ count: AGGREGATE_FEATURES.length, nan_ok: true, version: 'aggregates_features_v1', groups: ['audio_energy', 'diversity', 'faces', 'motion', 'pacing', 'quality'] });
  });
});
