import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getArray, getMeta, ndarray, readNpzFile, writeNpzFile, type NpzContents } from '../../npz/index.js';
import type { ComponentInput } from '../../pipeline/component.js';
import { DEFAULT_CORE_CLIP_CONFIG, runCoreClip, setupCoreClip } from '../../providers/core_clip/index.js';
import { OnnxSessionRegistry } from '../../runtime/onnx/sessions.js';
import { validateNpzFile } from '../../schema/index.js';
import { FrameManager } from '../../segmenter/frame-manager.js';
import { segmentVideo } from '../../segmenter/segment.js';
import { sampleMeta } from '../../../test/helpers/artifacts.js';
import { prepareClipModelsDir, TEST_CLIP_IMAGE_ID, TEST_CLIP_TEXT_ID } from '../../../test/helpers/clip-models.js';
import { sampleIdentity } from '../../../test/helpers/manifest.js';
import { numpyAvailableOrCi, runPython } from '../../../test/helpers/python.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { VideoFixtures } from '../../../test/helpers/video-fixtures.js';
import { readCheapSignals } from '../common/frames-dir.js';
import { inputFromArtifact } from '../common/inputs.js';
import { DEFAULT_CUT_DETECTION_PARAMS, writeShotsArtifact, type Boundary } from '../cut_detection/index.js';
import { runShotSequence } from './run.js';

const tmp = useTempDirs('shot-sequence-');
const DIM = 32;
const SHOTS = 400;
let fixtures: VideoFixtures;
const sessions = new OnnxSessionRegistry();
let framesDir: string;
let runDir: string;
let cut: ComponentInput;
let clip: ComponentInput;

/** 399 distinct boundaries in 1…frameCount−1 (a deterministic shuffle), sorted: 400 shots of 1 to a few frames. */
function boundaries(frameCount: number): Boundary[] {
  const all = Array.from({ length: frameCount - 1 }, (_, i) => i + 1);
  let x = 987654321;
  for (let i = all.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const j = x % (i + 1);
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all
    .slice(0, SHOTS - 1)
    .sort((a, b) => a - b)
    .map((index) => ({ index, type: 'hard_cut', confidence: 1, spanStart: index - 1, spanEnd: index, verified: true }));
}

async function sequence(inputs: ComponentInput[]): Promise<NpzContents> {
  const out = path.join(await tmp(), 'run');
  const result = await runShotSequence({ identity: sampleIdentity(), runDir: out, framesDir, inputs: Object.fromEntries(inputs.map((i) => [i.component, i])) });
  expect(result.status).toBe('ok');
  const file = path.join(out, 'shot_sequence', 'sequence.npz');
  expect((await validateNpzFile(file)).problems).toEqual([]);
  lastFile = file;
  return readNpzFile(file);
}

/** The file the last sequence() wrote. */
let lastFile = '';

beforeAll(async () => {
  fixtures = await VideoFixtures.create();
  const work = await tmp();
  framesDir = path.join(work, 'frames');
  // 40 s at 12 fps: 480 analysis frames; every frame differs
  await segmentVideo(await fixtures.moving40s(), { outDir: framesDir, components: ['core_clip', 'cut_detection'], durable: false });
  runDir = path.join(work, 'run');
  // a synthetic run with 400 shots, written by cut_detection's own writer (thumbnails and all)
  const signals = await readCheapSignals(framesDir);
  const frames = await FrameManager.open(framesDir);
  try {
    const written = await writeShotsArtifact(
      { identity: sampleIdentity(), runDir, framesDir },
      { frames, signals, boundaries: boundaries(signals.frameCount), rejected: [], params: DEFAULT_CUT_DETECTION_PARAMS, framesExamined: 0 },
    );
    expect(written.shots).toHaveLength(SHOTS);
    cut = await inputFromArtifact(runDir, 'cut_detection', 'ok', written.artifact.path);
  } finally {
    await frames.close();
  }
  const { modelsDir, registry } = await prepareClipModelsDir(work, DIM);
  const setup = await setupCoreClip({ ...DEFAULT_CORE_CLIP_CONFIG, image_model: TEST_CLIP_IMAGE_ID, text_model: TEST_CLIP_TEXT_ID }, { registry, modelsDir, sessions });
  try {
    const run = await runCoreClip({ identity: sampleIdentity(), runDir, framesDir }, { preset: setup.preset, batchSize: 32, encoders: setup.encoders, tokenizer: setup.tokenizer });
    clip = await inputFromArtifact(runDir, 'core_clip', 'ok', run.artifact.path);
  } finally {
    await setup.close();
  }
});

afterAll(async () => {
  await sessions.releaseAll();
  await fixtures?.cleanup();
});

describe('shot_sequence on a synthetic run with 400 shots', () => {
  let npz: NpzContents;
  let file: string;

  beforeAll(async () => {
    npz = await sequence([cut, clip]);
    file = lastFile;
  });

  it('gives exactly 256 tokens, in order, covering the whole duration without gaps', () => {
    const start = getArray(npz, 'token_start_sec', 'float64').data;
    const end = getArray(npz, 'token_end_sec', 'float64').data;
    expect(start.length).toBe(256);
    expect(start[0]).toBe(0);
    expect(end[255]).toBeCloseTo(40, 9);
    for (let k = 1; k < 256; k++) {
      expect(start[k]).toBe(end[k - 1]);
      expect(end[k]).toBeGreaterThan(start[k]!);
    }
    const first = getArray(npz, 'token_first_shot', 'int32').data;
    const last = getArray(npz, 'token_last_shot', 'int32').data;
    const count = getArray(npz, 'token_shot_count', 'int32').data;
    expect(first[0]).toBe(0);
    expect(last[255]).toBe(SHOTS - 1);
    for (let k = 0; k < 256; k++) {
      if (k > 0) expect(first[k]).toBe(last[k - 1]! + 1);
      expect(count[k]).toBe(last[k]! - first[k]! + 1);
    }
    expect(getMeta(npz)).toMatchObject({ shot_count: SHOTS, token_count: 256, max_tokens: 256, merge_rule: 'shortest_into_shorter_neighbour_v1' });
  });

  it('E_shot is the unit-length mean of the core_clip frames inside each token', async () => {
    const clipNpz = await readNpzFile(clip.path);
    const indices = getArray(clipNpz, 'frame_indices', 'int32').data;
    const embeddings = getArray(clipNpz, 'frame_embeddings', 'float32').data;
    const frames = await FrameManager.open(framesDir);
    const times = Array.from(indices, (u) => frames.timestamp(u));
    await frames.close();
    const start = getArray(npz, 'token_start_sec', 'float64').data;
    const end = getArray(npz, 'token_end_sec', 'float64').data;
    const eShot = getArray(npz, 'e_shot', 'float32');
    const present = getArray(npz, 'e_shot_present', 'bool').data;
    const frameCount = getArray(npz, 'e_shot_frame_count', 'int32').data;
    expect(eShot.shape).toEqual([256, DIM]);
    let pooled = 0;
    for (let k = 0; k < 256; k++) {
      const rows = times.flatMap((t, r) => (t >= start[k]! - 1e-9 && t < end[k]! - 1e-9 ? [r] : []));
      expect(frameCount[k]).toBe(rows.length);
      expect(Boolean(present[k])).toBe(rows.length > 0);
      const token = eShot.data.subarray(k * DIM, (k + 1) * DIM);
      if (rows.length === 0) {
        expect(Array.from(token).every(Number.isNaN)).toBe(true);
        continue;
      }
      const mean = Array.from({ length: DIM }, (_, d) => rows.reduce((sum, r) => sum + embeddings[r * DIM + d]!, 0) / rows.length);
      const norm = Math.hypot(...mean);
      mean.forEach((v, d) => expect(token[d]).toBeCloseTo(v / norm, 5));
      pooled += rows.length;
    }
    expect(pooled).toBe(indices.length);
  });

  it('without clap_extractor A_shot is (T, 0) with every mask False', () => {
    expect(getArray(npz, 'a_shot', 'float32').shape).toEqual([256, 0]);
    expect(Array.from(getArray(npz, 'a_shot_present', 'bool').data).some(Boolean)).toBe(false);
    expect(getMeta(npz)).toMatchObject({ audio_source: null });
    expect(getMeta(npz).dependencies).toEqual({ cut_detection: cut.signature, core_clip: clip.signature });
  });

  it.skipIf(!numpyAvailableOrCi)('loads in NumPy: 256 tokens, unit E_shot rows where present', () => {
    const out = runPython(
      `import sys, json, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
e = z['e_shot']; p = z['e_shot_present']
print(json.dumps({'shape': list(e.shape), 'unit': float(np.abs(np.linalg.norm(e[p], axis=1) - 1).max()), 'nan': bool(np.isnan(e[~p]).all()),
  'cover': [float(z['token_start_sec'][0]), float(z['token_end_sec'][-1])], 'shots': int(z['token_shot_count'].sum())}))`,
      [file],
    );
    const parsed = JSON.parse(out) as { shape: number[]; unit: number; nan: boolean; cover: number[]; shots: number };
    expect(parsed.shape).toEqual([256, DIM]);
    expect(parsed.unit).toBeLessThan(1e-5);
    expect(parsed).toMatchObject({ nan: true, shots: SHOTS });
    expect(parsed.cover[1]).toBeCloseTo(40, 6);
  });
});

describe('shot_sequence with clap_extractor windows', () => {
  it('A_shot is the overlap-weighted mean of the CLAP windows over each token, at unit length', async () => {
    // windows of 10 s every 5 s over the 40 s (the extractor's default), window w embedded as the basis vector e_w
    const starts = [0, 5, 10, 15, 20, 25, 30];
    const W = starts.length;
    const embeddings = new Float32Array(W * W);
    starts.forEach((_, w) => (embeddings[w * W + w] = 1));
    const file = path.join(runDir, 'clap_extractor', 'embeddings.npz');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeNpzFile(
      file,
      {
        feature_names: ndarray.objectArray(['window_count']),
        feature_values: ndarray.float32([W]),
        embedding: ndarray.float32(Array.from({ length: W }, () => 1 / Math.sqrt(W))),
        embedding_present: ndarray.bool([true], []),
        window_start_sec: ndarray.float32(starts),
        window_end_sec: ndarray.float32(starts.map((s) => s + 10)),
        window_embeddings: ndarray.float32(embeddings, [W, W]),
        meta: ndarray.objectScalar({ ...sampleMeta('clap_extractor', { models: true }), schema_version: 'audio_npz_v2' }),
      },
      { compress: true },
    );
    expect((await validateNpzFile(file)).problems).toEqual([]);
    const clap = await inputFromArtifact(runDir, 'clap_extractor', 'ok', file);
    const npz = await sequence([cut, clap]);
    const aShot = getArray(npz, 'a_shot', 'float32');
    expect(aShot.shape).toEqual([256, W]);
    const start = getArray(npz, 'token_start_sec', 'float64').data;
    const end = getArray(npz, 'token_end_sec', 'float64').data;
    const count = getArray(npz, 'a_shot_window_count', 'int32').data;
    expect(Array.from(getArray(npz, 'a_shot_present', 'bool').data).every(Boolean)).toBe(true);
    for (let k = 0; k < 256; k++) {
      const overlap = starts.map((s) => Math.max(0, Math.min(s + 10, end[k]!) - Math.max(s, start[k]!)));
      const norm = Math.hypot(...overlap);
      expect(count[k]).toBe(overlap.filter((o) => o > 0).length);
      overlap.forEach((o, w) => expect(aShot.data[k * W + w]).toBeCloseTo(o / norm, 4));
    }
    expect(getMeta(npz).dependencies).toMatchObject({ clap_extractor: clap.signature });
    expect(getMeta(npz).audio_source).toEqual({ status: 'ok', empty_reason: null, pooling: 'overlap_weighted_mean_l2_normalized' });
  });
});

describe('shot_sequence with missing inputs', () => {
  it('without core_clip E_shot is (T, 0) with masks False; the tokens are the same', async () => {
    const npz = await sequence([cut]);
    expect(getArray(npz, 'e_shot', 'float32').shape).toEqual([256, 0]);
    expect(Array.from(getArray(npz, 'e_shot_present', 'bool').data).some(Boolean)).toBe(false);
    expect(getMeta(npz)).toMatchObject({ visual_source: null, token_count: 256 });
  });

  it('without cut_detection it writes nothing and reports empty', async () => {
    const out = await tmp();
    expect(await runShotSequence({ identity: sampleIdentity(), runDir: out, framesDir, inputs: { core_clip: clip } })).toEqual({ status: 'empty', artifact: null, tokens: [] });
    await expect(fs.readdir(out)).resolves.toEqual([]);
  });
});
