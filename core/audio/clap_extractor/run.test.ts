import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTrendflowError } from '../../contracts/errors.js';
import { getArray, getMeta, ndarray, readNpzFile, writeNpy } from '../../npz/index.js';
import { componentDefinition } from '../../pipeline/registry.js';
import { OnnxSessionRegistry } from '../../runtime/onnx/sessions.js';
import { addModel, loadRegistry, type ModelRegistry } from '../../runtime/registry/index.js';
import { validateNpzFile } from '../../schema/index.js';
import { sampleIdentity } from '../../../test/helpers/manifest.js';
import { makeClapAudioModel } from '../../../test/helpers/onnx-models.js';
import { numpyAvailableOrCi, runPython } from '../../../test/helpers/python.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { VideoFixtures } from '../../../test/helpers/video-fixtures.js';
import { standaloneRunContext } from '../../../test/helpers/run-context.js';
import { CLAP_INPUT, clapLogMel } from './features.js';
import { clapWindows, DEFAULT_CLAP_CONFIG, runClapExtractor, type ClapConfig } from './run.js';

const tmp = useTempDirs('clap-');
const DIM = 24;
const TEST_MODEL = 'test-clap-audio';
let fixtures: VideoFixtures;
let models: { registry: ModelRegistry; modelsDir: string; sessions: OnnxSessionRegistry };
/** 12 s: a 440 Hz tone for 6 s, then noise: two windows (0–10 s, 5–12 s) that sound different. */
let toneThenNoise: string;

beforeAll(async () => {
  fixtures = await VideoFixtures.create();
  const work = await tmp();
  const modelsDir = path.join(work, 'models');
  const onnxFile = path.join(work, 'clap_audio.onnx');
  await fs.writeFile(onnxFile, makeClapAudioModel({ dim: DIM }));
  await addModel(await loadRegistry({ modelsDir }), modelsDir, onnxFile, { id: TEST_MODEL, license: 'MIT', task: 'audio_embedding' });
  models = { registry: await loadRegistry({ modelsDir }), modelsDir, sessions: new OnnxSessionRegistry() };
  toneThenNoise = await fixtures.synthVideo(['if(lt(t,6),0.3*sin(2*PI*440*t),0.3*(random(0)-0.5))'], 48_000, 12);
});
afterAll(async () => {
  await models?.sessions.releaseAll();
  await fixtures?.cleanup();
});

const config: ClapConfig = { ...DEFAULT_CLAP_CONFIG, model: TEST_MODEL };

async function clapOf(video: string, options: { batchSize?: number; config?: ClapConfig } = {}) {
  const runDir = await tmp();
  const ctx = await standaloneRunContext({ videoPath: video, identity: sampleIdentity(), runDir, models, batchSize: options.batchSize ?? 4 });
  const outcome = await runClapExtractor(ctx, options.config ?? config);
  const file = path.join(runDir, outcome.artifacts[0]!.path);
  const npz = await readNpzFile(file);
  return {
    outcome,
    file,
    embedding: getArray(npz, 'embedding', 'float32').data,
    present: getArray(npz, 'embedding_present', 'bool').data[0] === 1,
    starts: Array.from(getArray(npz, 'window_start_sec', 'float32').data),
    ends: Array.from(getArray(npz, 'window_end_sec', 'float32').data),
    windows: getArray(npz, 'window_embeddings', 'float32'),
    values: Array.from(getArray(npz, 'feature_values', 'float32').data),
    meta: getMeta(npz),
  };
}

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

describe('windows', () => {
  it('cover the audio every hop until one reaches its end; short audio is one window', () => {
    expect(clapWindows(3, 10, 5)).toEqual([[0, 3]]);
    expect(clapWindows(10, 10, 5)).toEqual([[0, 10]]);
    expect(clapWindows(12, 10, 5)).toEqual([[0, 10], [5, 12]]);
    expect(clapWindows(25, 10, 5)).toEqual([[0, 10], [5, 15], [10, 20], [15, 25]]);
    expect(clapWindows(23, 10, 10)).toEqual([[0, 10], [10, 20], [20, 23]]);
  });
});

describe('clap_extractor with the generated contract model', () => {
  let result: Awaited<ReturnType<typeof clapOf>>;
  beforeAll(async () => {
    result = await clapOf(toneThenNoise);
  });

  it('writes one unit-norm embedding per window and their duration-weighted mean, valid against audio_npz_v2', async () => {
    expect((await validateNpzFile(result.file)).problems).toEqual([]);
    expect(result.outcome).toMatchObject({ status: 'ok', empty_reason: null, device_used: 'cpu' });
    expect(result.starts).toEqual([0, 5]);
    expect(result.ends).toEqual([10, 12]);
    expect(result.windows.shape).toEqual([2, DIM]);
    const rows = [result.windows.data.subarray(0, DIM), result.windows.data.subarray(DIM)];
    for (const row of rows) expect(norm(row)).toBeCloseTo(1, 5);
    // the tone window and the noise-heavy window differ
    expect(Math.max(...Array.from(rows[0]!, (v, k) => Math.abs(v - rows[1]![k]!)))).toBeGreaterThan(1e-3);
    const mean = Array.from({ length: DIM }, (_, k) => 10 * rows[0]![k]! + 7 * rows[1]![k]!);
    const expected = mean.map((v) => v / norm(mean));
    for (let k = 0; k < DIM; k++) expect(result.embedding[k]).toBeCloseTo(expected[k]!, 6);
    expect(result.present).toBe(true);
    const similarity = (rows[0]!.reduce((s, v, k) => s + v * expected[k]!, 0) + rows[1]!.reduce((s, v, k) => s + v * expected[k]!, 0)) / 2;
    expect(result.values[0]).toBe(2);
    expect(result.values[1]).toBeCloseTo(12, 3);
    expect(result.values[2]).toBeCloseTo(1 - similarity, 5);
  });

  it('records the model it used, its signature and the batch size', () => {
    expect(result.meta).toMatchObject({ producer: 'clap_extractor', schema_version: 'audio_npz_v2', batch_size: 4, model_id: TEST_MODEL, embedding_dim: DIM, preprocess_preset: 'clap_htsat_unfused_48k' });
    const used = result.meta.models_used as Record<string, string>[];
    expect(used.map((m) => [m.model_name, m.runtime, m.engine, m.precision, m.device])).toEqual([[TEST_MODEL, 'inprocess', 'onnxruntime', 'fp32', 'cpu']]);
    expect(result.meta.model_signature).toMatch(/^msig1:[0-9a-f]{64}$/);
    expect(result.outcome.model_signature).toBe(result.meta.model_signature);
  });

  it('does not depend on the batch size', async () => {
    const one = await clapOf(toneThenNoise, { batchSize: 1 });
    const diff = Math.max(...Array.from(one.windows.data, (v, i) => Math.abs(v - result.windows.data[i]!)));
    expect(diff).toBeLessThan(1e-6);
  });

  it.skipIf(!numpyAvailableOrCi)('loads in NumPy', () => {
    const out = runPython(
      `import sys, json, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
w = z['window_embeddings']
print(json.dumps({'keys': sorted(z.files), 'w': list(w.shape), 'norms': np.linalg.norm(w, axis=1).round(5).tolist(), 'present': bool(z['embedding_present']), 'first': float(z['embedding'][0])}))`,
      [result.file],
    );
    expect(JSON.parse(out)).toEqual({
      keys: ['embedding', 'embedding_present', 'feature_names', 'feature_values', 'meta', 'window_embeddings', 'window_end_sec', 'window_start_sec'],
      w: [2, DIM],
      norms: [1, 1],
      present: true,
      first: result.embedding[0],
    });
  });
});

describe('CLAP log-mel input', () => {
  it.skipIf(!numpyAvailableOrCi)('equals a NumPy transcription of transformers’ ClapFeatureExtractor (repeatpad, Slaney mel, dB)', async () => {
    const clip = new Float32Array(3 * CLAP_INPUT.sampleRate);
    for (let i = 0; i < clip.length; i++) clip[i] = 0.25 * Math.sin((2 * Math.PI * 523.25 * i) / CLAP_INPUT.sampleRate) * (1 + Math.sin(i / 5000)) + 0.01 * Math.sin(i * 0.37);
    const ours = new Float32Array(CLAP_INPUT.frames * CLAP_INPUT.nMels);
    clapLogMel(clip, ours);
    const dir = await tmp();
    await fs.writeFile(path.join(dir, 'clip.npy'), writeNpy(ndarray.float32(clip)));
    await fs.writeFile(path.join(dir, 'ours.npy'), writeNpy(ndarray.float32(ours, [CLAP_INPUT.frames, CLAP_INPUT.nMels])));
    const out = runPython(
      `import sys, numpy as np
clip = np.load(sys.argv[1]).astype(np.float64); ours = np.load(sys.argv[2])
sr, n_fft, hop, n_mels, fmin, fmax, max_len = 48000, 1024, 480, 64, 50.0, 14000.0, 480000
wave = np.tile(clip, max_len // len(clip)); wave = np.pad(wave, (0, max_len - len(wave)))
def hz_to_mel(f):
    f = np.asarray(f, dtype=np.float64); m = 3.0 * f / 200.0
    return np.where(f >= 1000.0, 15.0 + np.log(np.maximum(f, 1e-9) / 1000.0) * 27.0 / np.log(6.4), m)
def mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64); f = 200.0 * m / 3.0
    return np.where(m >= 15.0, 1000.0 * np.exp(np.log(6.4) / 27.0 * (m - 15.0)), f)
edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
freqs = np.linspace(0, sr // 2, n_fft // 2 + 1)
slopes = edges[None, :] - freqs[:, None]
down = -slopes[:, :-2] / np.diff(edges)[:-1]; up = slopes[:, 2:] / np.diff(edges)[1:]
bank = np.maximum(0, np.minimum(down, up)) * (2.0 / (edges[2:] - edges[:-2]))
padded = np.pad(wave, (n_fft // 2, n_fft // 2), mode='reflect')
frames = 1 + (len(padded) - n_fft) // hop
window = np.hanning(n_fft + 1)[:-1]
idx = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
power = np.abs(np.fft.rfft(padded[idx] * window, axis=1)) ** 2
ref = 10.0 * np.log10(np.maximum(1e-10, power @ bank))
print(ref.shape[0], ref.shape[1], float(np.abs(ref - ours).max()))`,
      [path.join(dir, 'clip.npy'), path.join(dir, 'ours.npy')],
    );
    const [frames, mels, maxDiff] = out.trim().split(' ').map(Number);
    expect([frames, mels]).toEqual([1001, 64]);
    expect(maxDiff).toBeLessThan(1e-3);
  });
});

describe('clap_extractor without usable audio', () => {
  it('a video without audio is empty: NaN embedding of the model’s width, no windows, no model called', async () => {
    const result = await clapOf(await fixtures.synthVideo(null, 48_000, 2));
    expect((await validateNpzFile(result.file)).problems).toEqual([]);
    expect([result.outcome.status, result.outcome.empty_reason]).toEqual(['empty', 'audio_missing_or_extract_failed']);
    expect(result.present).toBe(false);
    expect(result.embedding.length).toBe(DIM);
    expect(Array.from(result.embedding).every(Number.isNaN)).toBe(true);
    expect(result.windows.shape).toEqual([0, DIM]);
    expect(result.meta).toMatchObject({ models_used: [], batch_size: 4 });
    expect(result.meta).not.toHaveProperty('model_signature');
    expect(result.outcome.model_signature).toBeNull();
  });

  it('a silent video is empty too', async () => {
    const result = await clapOf(await fixtures.synthVideo(['0'], 48_000, 3));
    expect([result.outcome.status, result.outcome.empty_reason]).toEqual(['empty', 'audio_missing_or_extract_failed']);
    expect(result.outcome.notes[0]).toContain('silent');
  });

  it('the real CLAP model not fetched: an audio-less video is still empty, a video with audio is model_not_found', async () => {
    const silentConfig = { ...DEFAULT_CLAP_CONFIG };
    const empty = await clapOf(await fixtures.synthVideo(null, 48_000, 2), { config: silentConfig });
    expect(empty.outcome.status).toBe('empty');
    expect(empty.embedding.length).toBe(512);
    const error = await clapOf(toneThenNoise, { config: silentConfig }).catch((e: unknown) => e);
    expect(isTrendflowError(error) && error.code).toBe('model_not_found');
    expect((error as Error).message).toContain('npx trendflow models fetch clap-htsat-unfused-audio');
  });
});

describe('clap_extractor as a pipeline component', () => {
  it('is registered, plans its batch on its device, and checks its config', () => {
    const definition = componentDefinition('clap_extractor');
    expect(definition).toMatchObject({ kind: 'audio', schemaVersion: 'audio_npz_v2' });
    expect(definition.uses.audio).toBe(true);
    const parsed = definition.parseConfig({ batch_size: 8 }) as ClapConfig;
    expect(parsed).toMatchObject({ model: 'clap-htsat-unfused-audio', window_sec: 10, hop_sec: 5, batch_size: 8 });
    expect(definition.batching!(parsed)).toEqual({ device: 'cpu', fixed: 8 });
    expect(() => definition.parseConfig({ window_sec: 12 })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});
