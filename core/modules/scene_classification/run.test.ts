import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTrendflowError } from '../../contracts/errors.js';
import { getArray, getMeta, getStringList, readNpzFile, type NpzContents } from '../../npz/index.js';
import type { ComponentInput } from '../../pipeline/component.js';
import { DEFAULT_CORE_CLIP_CONFIG, runCoreClip, setupCoreClip } from '../../providers/core_clip/index.js';
import { OnnxSessionRegistry } from '../../runtime/onnx/sessions.js';
import { addModel, loadRegistry, type ModelRegistry } from '../../runtime/registry/index.js';
import { validateNpzFile } from '../../schema/index.js';
import { segmentVideo } from '../../segmenter/segment.js';
import { prepareClipModelsDir, TEST_CLIP_IMAGE_ID, TEST_CLIP_TEXT_ID } from '../../../test/helpers/clip-models.js';
import { sampleIdentity } from '../../../test/helpers/manifest.js';
import { makeClipTextModel } from '../../../test/helpers/onnx-models.js';
import { numpyAvailableOrCi, runPython } from '../../../test/helpers/python.js';
import { sharedModel } from '../../../test/helpers/shared-models.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { VideoFixtures } from '../../../test/helpers/video-fixtures.js';
import { inputFromArtifact } from '../common/inputs.js';
import { DEFAULT_CUT_DETECTION_PARAMS, runCutDetection } from '../cut_detection/index.js';
import { SCENE_LABEL_SET_VERSION, SCENE_LABELS } from './labels.js';
import { DEFAULT_SCENE_CLASSIFICATION_CONFIG, runSceneClassification, SCENE_LOGIT_SCALE } from './run.js';

const tmp = useTempDirs('scene-classification-');
const DIM = 32;
const L = SCENE_LABELS.length;
let fixtures: VideoFixtures;
const sessions = new OnnxSessionRegistry();
let framesDir: string;
let modelsDir: string;
let registry: ModelRegistry;
let cut: ComponentInput;
let clip: ComponentInput;

async function classify(models = { registry, modelsDir, sessions }): Promise<{ npz: NpzContents; file: string }> {
  const runDir = path.join(await tmp(), 'run');
  const result = await runSceneClassification({ identity: sampleIdentity(), runDir, framesDir, inputs: { cut_detection: cut, core_clip: clip }, models }, DEFAULT_SCENE_CLASSIFICATION_CONFIG);
  expect(result.status).toBe('ok');
  const file = path.join(runDir, 'scene_classification', 'scenes.npz');
  expect((await validateNpzFile(file)).problems).toEqual([]);
  return { npz: await readNpzFile(file), file };
}

beforeAll(async () => {
  fixtures = await VideoFixtures.create();
  const work = await tmp();
  framesDir = path.join(work, 'frames');
  // two shots of 1 s: testsrc2, then colour bars
  await segmentVideo(await fixtures.qualityVariant('original'), { outDir: framesDir, components: ['core_clip', 'cut_detection'], durable: false });
  const runDir = path.join(work, 'run');
  const detected = await runCutDetection({ identity: sampleIdentity(), runDir, framesDir }, DEFAULT_CUT_DETECTION_PARAMS);
  cut = await inputFromArtifact(runDir, 'cut_detection', 'ok', detected.artifact.path);
  ({ modelsDir, registry } = await prepareClipModelsDir(work, DIM));
  const setup = await setupCoreClip({ ...DEFAULT_CORE_CLIP_CONFIG, image_model: TEST_CLIP_IMAGE_ID, text_model: TEST_CLIP_TEXT_ID }, { registry, modelsDir, sessions });
  try {
    const run = await runCoreClip({ identity: sampleIdentity(), runDir, framesDir }, { preset: setup.preset, batchSize: 16, encoders: setup.encoders, tokenizer: setup.tokenizer });
    clip = await inputFromArtifact(runDir, 'core_clip', 'ok', run.artifact.path);
  } finally {
    await setup.close();
  }
});

afterAll(async () => {
  await sessions.releaseAll();
  await fixtures?.cleanup();
});

describe('scene_classification with core_clip (generated CLIP-contract models)', () => {
  let first: { npz: NpzContents; file: string };
  let cacheFile: string;

  beforeAll(async () => {
    first = await classify();
    cacheFile = String((getMeta(first.npz).label_embeddings_cache as { file: string }).file);
  });

  it('embeds the labels with the text tower core_clip used and caches them under the models dir by signature and label-set version', async () => {
    const meta = getMeta(first.npz);
    expect(meta).toMatchObject({ producer: 'scene_classification', status: 'ok', label_set_version: SCENE_LABEL_SET_VERSION, batch_size: L, top_k: 3, logit_scale: 100 });
    expect((meta.models_used as Array<{ model_name: string }>).map((m) => m.model_name)).toEqual(['test-clip-text', 'openai/CLIP']);
    const clipUsed = getMeta(await readNpzFile(clip.path)).models_used as Array<{ weights_digest: string }>;
    expect((meta.models_used as Array<{ weights_digest: string }>).map((m) => m.weights_digest)).toEqual([clipUsed[1]!.weights_digest, clipUsed[2]!.weights_digest]);
    expect(meta.label_embeddings_cache).toMatchObject({ hit: false });
    const signature = String(meta.model_signature);
    expect(cacheFile).toBe(path.join(modelsDir, 'cache', 'scene_classification', `${SCENE_LABEL_SET_VERSION}-${signature.slice('msig1:'.length)}.npz`));
    const cache = await readNpzFile(cacheFile);
    expect(getStringList(cache, 'labels')).toEqual(SCENE_LABELS.map((l) => l.label));
    expect(getMeta(cache)).toMatchObject({ label_set_version: SCENE_LABEL_SET_VERSION, model_signature: signature });
    const text = getArray(cache, 'text_embeddings', 'float32');
    expect(text.shape).toEqual([L, DIM]);
    for (let l = 0; l < L; l++) expect(Math.hypot(...text.data.subarray(l * DIM, (l + 1) * DIM))).toBeCloseTo(1, 5);
    expect(getMeta(first.npz).dependencies).toEqual({ cut_detection: cut.signature, core_clip: clip.signature });
  });

  it('scores each frame as softmax(100 · cosine) over the labels', async () => {
    const clipNpz = await readNpzFile(clip.path);
    const frames = getArray(clipNpz, 'frame_embeddings', 'float32').data;
    const text = getArray(await readNpzFile(cacheFile), 'text_embeddings', 'float32').data;
    const probs = getArray(first.npz, 'frame_label_probs', 'float32');
    const N = probs.shape[0]!;
    expect(Array.from(getArray(first.npz, 'frame_indices', 'int32').data)).toEqual(Array.from(getArray(clipNpz, 'frame_indices', 'int32').data));
    for (const r of [0, N - 1]) {
      const logits = Array.from({ length: L }, (_, l) => SCENE_LOGIT_SCALE * frames.subarray(r * DIM, (r + 1) * DIM).reduce((s, v, k) => s + v * text[l * DIM + k]!, 0));
      const max = Math.max(...logits);
      const sum = logits.reduce((s, v) => s + Math.exp(v - max), 0);
      logits.forEach((v, l) => expect(probs.data[r * L + l]).toBeCloseTo(Math.exp(v - max) / sum, 5));
    }
  });

  it('gives each shot the mean of its frames, its top labels in order and its entropy; the video the duration-weighted mean', () => {
    const probs = getArray(first.npz, 'frame_label_probs', 'float32').data;
    const frameShot = Array.from(getArray(first.npz, 'frame_shot_index', 'int32').data);
    const shotProbs = getArray(first.npz, 'shot_label_probs', 'float32').data;
    const top = getArray(first.npz, 'shot_top_labels', 'int32');
    const topProbs = getArray(first.npz, 'shot_top_probs', 'float32').data;
    const entropy = getArray(first.npz, 'shot_entropy', 'float32').data;
    const S = top.shape[0]!;
    expect(S).toBe(2);
    for (let s = 0; s < S; s++) {
      const rows = frameShot.flatMap((x, r) => (x === s ? [r] : []));
      expect(rows.length).toBeGreaterThan(0);
      for (let l = 0; l < L; l++) expect(shotProbs[s * L + l]).toBeCloseTo(rows.reduce((sum, r) => sum + probs[r * L + l]!, 0) / rows.length, 5);
      const row = Array.from(shotProbs.subarray(s * L, (s + 1) * L));
      const best = row.indexOf(Math.max(...row));
      expect(top.data[s * 3]).toBe(best);
      expect(topProbs[s * 3]).toBeGreaterThanOrEqual(topProbs[s * 3 + 1]!);
      expect(topProbs[s * 3 + 1]).toBeGreaterThanOrEqual(topProbs[s * 3 + 2]!);
      expect(entropy[s]).toBeGreaterThanOrEqual(0);
      expect(entropy[s]).toBeLessThanOrEqual(1);
    }
    // two shots of 1 s each: equal weights
    const video = getArray(first.npz, 'video_label_distribution', 'float32').data;
    for (let l = 0; l < L; l++) expect(video[l]).toBeCloseTo((shotProbs[l]! + shotProbs[L + l]!) / 2, 5);
    expect(Array.from(video).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('reads the label embeddings from the cache on the next run, with the same result; a stale cache file is rebuilt', async () => {
    const second = await classify();
    expect(getMeta(second.npz).label_embeddings_cache).toMatchObject({ hit: true, file: cacheFile });
    expect(Array.from(getArray(second.npz, 'frame_label_probs', 'float32').data)).toEqual(Array.from(getArray(first.npz, 'frame_label_probs', 'float32').data));
    await fs.writeFile(cacheFile, 'not an npz');
    const third = await classify();
    expect(getMeta(third.npz).label_embeddings_cache).toMatchObject({ hit: false });
    expect(Array.from(getArray(third.npz, 'frame_label_probs', 'float32').data)).toEqual(Array.from(getArray(first.npz, 'frame_label_probs', 'float32').data));
  });

  it.skipIf(!numpyAvailableOrCi)('loads in NumPy: probability rows sum to 1, labels are str', () => {
    const out = runPython(
      `import sys, json, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
p = z['frame_label_probs']; m = z['meta'].item()
print(json.dumps({'rows': float(np.abs(p.sum(axis=1) - 1).max()), 'labels': [str(l) for l in z['labels']][:3], 'top': z['shot_top_labels'].shape[1],
  'video': float(z['video_label_distribution'].sum()), 'models': [u['model_name'] for u in m['models_used']]}))`,
      [first.file],
    );
    const parsed = JSON.parse(out) as { rows: number; labels: string[]; top: number; video: number; models: string[] };
    expect(parsed.rows).toBeLessThan(1e-5);
    expect(parsed.labels).toEqual(SCENE_LABELS.slice(0, 3).map((l) => l.label));
    expect(parsed).toMatchObject({ top: 3, models: ['test-clip-text', 'openai/CLIP'] });
    expect(parsed.video).toBeCloseTo(1, 5);
  });
});

describe('scene_classification refuses to guess', () => {
  it('a models dir without the text tower core_clip used is model_not_found (no other tower is substituted)', async () => {
    const work = await tmp();
    const otherDir = path.join(work, 'models');
    const textFile = path.join(work, 'other_text.onnx');
    await fs.writeFile(textFile, makeClipTextModel({ dim: DIM, seed: 7 }));
    await addModel(await loadRegistry({ modelsDir: otherDir }), otherDir, textFile, { id: TEST_CLIP_TEXT_ID, license: 'MIT', task: 'text_embedding' });
    const vocabulary = path.join(otherDir, 'clip-bpe-vocab', 'bpe_simple_vocab_16e6.txt.gz');
    await fs.mkdir(path.dirname(vocabulary), { recursive: true });
    await fs.copyFile(sharedModel('clip-bpe-vocab', 'bpe_simple_vocab_16e6.txt.gz'), vocabulary);
    const other = { registry: await loadRegistry({ modelsDir: otherDir }), modelsDir: otherDir, sessions };
    const error = await runSceneClassification({ identity: sampleIdentity(), runDir: work, framesDir, inputs: { cut_detection: cut, core_clip: clip }, models: other }, DEFAULT_SCENE_CLASSIFICATION_CONFIG).catch((e: unknown) => e);
    expect(isTrendflowError(error) && error.code).toBe('model_not_found');
  });

  it('without core_clip or cut_detection it writes nothing and reports empty', async () => {
    const work = await tmp();
    const result = await runSceneClassification({ identity: sampleIdentity(), runDir: work, framesDir, inputs: { cut_detection: cut }, models: { registry, modelsDir, sessions } }, DEFAULT_SCENE_CLASSIFICATION_CONFIG);
    expect(result).toEqual({ status: 'empty', artifact: null });
    await expect(fs.readdir(work)).resolves.toEqual([]);
  });
});
