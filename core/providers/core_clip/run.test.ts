import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTrendflowError } from '../../contracts/errors.js';
import { getArray, readNpzFile } from '../../npz/index.js';
import { OnnxSessionRegistry } from '../../runtime/onnx/sessions.js';
import type { ModelRegistry } from '../../runtime/registry/index.js';
import { TritonClient, type TritonModelMapping } from '../../runtime/triton/index.js';
import { validateNpzFile } from '../../schema/index.js';
import { FrameManager } from '../../segmenter/frame-manager.js';
import { segmentVideo } from '../../segmenter/segment.js';
import { startKServeServer, type KServeTestServer } from '../../../test/helpers/kserve-server.js';
import { sampleIdentity } from '../../../test/helpers/manifest.js';
import { prepareClipModelsDir, TEST_CLIP_IMAGE_ID, TEST_CLIP_TEXT_ID } from '../../../test/helpers/clip-models.js';
import { numpyAvailableOrCi, runPython } from '../../../test/helpers/python.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { VideoFixtures } from '../../../test/helpers/video-fixtures.js';
import { runCoreClip, type CoreClipResult } from './run.js';
import { DEFAULT_CORE_CLIP_CONFIG, setupCoreClip, type CoreClipConfig, type CoreClipDependencies } from './setup.js';
import { SHOT_QUALITY_PROMPTS } from './prompts.js';
import { codeOf } from '../../../test/helpers/errors.js';

const tmp = useTempDirs('core-clip-');
const DIM = 32;
let fixtures: VideoFixtures;
let framesDir: string;
let modelsDir: string;
let registry: ModelRegistry;
let imageModelFile: string;
let textModelFile: string;
const sessions = new OnnxSessionRegistry();

/** core_clip configured for the generated contract models (the real CLIP is too large for ../shared/models). */
const config: CoreClipConfig = { ...DEFAULT_CORE_CLIP_CONFIG, image_model: TEST_CLIP_IMAGE_ID, text_model: TEST_CLIP_TEXT_ID };

function deps(): CoreClipDependencies {
  return { registry, modelsDir, sessions };
}

async function runInto(runDir: string, batchSize: number, overrides: Partial<CoreClipConfig> = {}, extra: Partial<CoreClipDependencies> = {}): Promise<CoreClipResult> {
  const setup = await setupCoreClip({ ...config, ...overrides }, { ...deps(), ...extra });
  try {
    return await runCoreClip({ identity: sampleIdentity(), runDir, framesDir }, { preset: setup.preset, batchSize, encoders: setup.encoders, tokenizer: setup.tokenizer });
  } finally {
    await setup.close();
  }
}

async function embeddings(runDir: string): Promise<{ frames: Float32Array; texts: Float32Array; indices: Int32Array }> {
  const npz = await readNpzFile(path.join(runDir, 'core_clip', 'embeddings.npz'));
  return {
    frames: getArray(npz, 'frame_embeddings', 'float32').data as Float32Array,
    texts: getArray(npz, 'shot_quality_text_embeddings', 'float32').data as Float32Array,
    indices: getArray(npz, 'frame_indices', 'int32').data as Int32Array,
  };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

beforeAll(async () => {
  fixtures = await VideoFixtures.create();
  const work = await tmp();
  // red, green, blue seconds: many identical frames inside each colour, three distinct pictures
  framesDir = path.join(work, 'frames');
  await segmentVideo(await fixtures.colors(), { outDir: framesDir, components: ['core_clip'] });
  ({ modelsDir, registry, imageFile: imageModelFile, textFile: textModelFile } = await prepareClipModelsDir(work, DIM));
});

afterAll(async () => {
  await sessions.releaseAll();
  await fixtures?.cleanup();
});

describe('core_clip in process', () => {
  let runDir: string;
  let result: CoreClipResult;

  beforeAll(async () => {
    runDir = await tmp();
    result = await runInto(runDir, 8);
  });

  it('writes embeddings.npz that validates against core_clip_npz_v1 with full meta', async () => {
    const file = path.join(runDir, 'core_clip', 'embeddings.npz');
    const validation = await validateNpzFile(file);
    expect(validation.problems).toEqual([]);
    expect(result.artifact.path).toBe('core_clip/embeddings.npz');
    expect(result.artifact.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(result.embedding_dim).toBe(DIM);
    expect(result.models_used.map((m) => m.model_name)).toEqual(['test-clip-image', 'test-clip-text', 'openai/CLIP']);
    expect(result.models_used.every((m) => /^sha256:[0-9a-f]{64}$/.test(m.weights_digest))).toBe(true);
    expect(result.model_signature).toMatch(/^msig1:[0-9a-f]{64}$/);
    const meta = (await readNpzFile(file)).get('meta')!.data[0] as Record<string, unknown>;
    expect(meta).toMatchObject({ producer: 'core_clip', status: 'ok', empty_reason: null, batch_size: 8, model_signature: result.model_signature, preprocess_preset: 'openai_clip_224' });
  });

  it('embeds exactly the frames the Segmenter sampled for core_clip, and every prompt', async () => {
    const frames = await FrameManager.open(framesDir);
    const sampled = frames.frameIndices('core_clip');
    await frames.close();
    const { indices, frames: vectors, texts } = await embeddings(runDir);
    expect(Array.from(indices)).toEqual(sampled);
    expect(vectors.length).toBe(sampled.length * DIM);
    expect(texts.length).toBe(SHOT_QUALITY_PROMPTS.length * DIM);
  });

  it('gives unit-norm embeddings', async () => {
    const { frames: vectors, texts } = await embeddings(runDir);
    for (const matrix of [vectors, texts]) {
      for (let row = 0; row < matrix.length / DIM; row++) {
        let sum = 0;
        for (let k = 0; k < DIM; k++) sum += matrix[row * DIM + k]! ** 2;
        expect(Math.sqrt(sum)).toBeCloseTo(1, 5);
      }
    }
  });

  it('gives identical embeddings to identical frames, and different ones to different pictures', async () => {
    const frames = await FrameManager.open(framesDir);
    const sampled = frames.frameIndices('core_clip');
    const batch = await frames.getBatch(sampled);
    await frames.close();
    const { frames: vectors } = await embeddings(runDir);
    const row = (i: number) => vectors.subarray(i * DIM, (i + 1) * DIM);
    const bytes = (i: number) => Buffer.from(batch.frames[i]!.data).toString('base64');
    let identicalPairs = 0;
    let differentPairs = 0;
    for (let i = 1; i < sampled.length; i++) {
      if (bytes(i) === bytes(i - 1)) {
        identicalPairs++;
        expect(maxAbsDiff(row(i), row(i - 1))).toBe(0);
      } else if ([0, 1, 2].some((c) => Math.abs(batch.frames[i]!.data[c]! - batch.frames[i - 1]!.data[c]!) > 100)) {
        differentPairs++;
        expect(maxAbsDiff(row(i), row(i - 1))).toBeGreaterThan(1e-3);
      }
    }
    expect(identicalPairs).toBeGreaterThan(3);
    expect(differentPairs).toBeGreaterThanOrEqual(2); // red→green, green→blue
  });

  it('does not depend on the batch size', async () => {
    const reference = await embeddings(runDir);
    for (const batchSize of [1, 5]) {
      const other = await tmp();
      const run = await runInto(other, batchSize);
      expect(run.batch_size).toBe(batchSize);
      const got = await embeddings(other);
      expect(maxAbsDiff(got.frames, reference.frames)).toBeLessThan(1e-6);
      expect(maxAbsDiff(got.texts, reference.texts)).toBeLessThan(1e-6);
    }
  });

  it.skipIf(!numpyAvailableOrCi)('loads in NumPy with the same values and a meta dict', async () => {
    const file = path.join(runDir, 'core_clip', 'embeddings.npz');
    const out = runPython(
      `import sys, json, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
e = z['frame_embeddings']; t = z['shot_quality_text_embeddings']; m = z['meta'].item()
print(json.dumps({'keys': sorted(z.files), 'dtype': str(e.dtype), 'shape': list(e.shape), 'norms': float(np.abs(np.linalg.norm(e, axis=1) - 1).max()),
  'prompts': [str(p) for p in z['shot_quality_prompts']], 'tshape': list(t.shape), 'idx': str(z['frame_indices'].dtype),
  'producer': m['producer'], 'models': [u['model_name'] for u in m['models_used']], 'first': float(e[0, 0])}))`,
      [file],
    );
    const parsed = JSON.parse(out) as Record<string, unknown>;
    const { frames: vectors } = await embeddings(runDir);
    expect(parsed).toMatchObject({
      keys: ['frame_embeddings', 'frame_indices', 'meta', 'shot_quality_prompts', 'shot_quality_text_embeddings'],
      dtype: 'float32',
      shape: [vectors.length / DIM, DIM],
      prompts: [...SHOT_QUALITY_PROMPTS],
      tshape: [SHOT_QUALITY_PROMPTS.length, DIM],
      idx: 'int32',
      producer: 'core_clip',
      models: ['test-clip-image', 'test-clip-text', 'openai/CLIP'],
      first: vectors[0],
    });
    expect(parsed.norms as number).toBeLessThan(1e-6);
  });
});

describe('core_clip on Triton (KServe v2 test server running the same ONNX models)', () => {
  let server: KServeTestServer;
  let mapping: TritonModelMapping;
  const fastClient = (url: string) => new TritonClient({ url, retries: 3, retryBaseDelayMs: 5, retryMaxDelayMs: 20, connectTimeoutMs: 500 });

  beforeAll(async () => {
    server = await startKServeServer({
      models: [
        { name: 'clip_image', version: '1', onnx: imageModelFile },
        { name: 'clip_text', version: '1', onnx: textModelFile },
      ],
    });
    mapping = {
      triton_http_url: server.url,
      triton_image_model_name: 'clip_image',
      triton_image_model_version: '1',
      triton_image_input_name: 'pixel_values',
      triton_image_output_name: 'image_embeds',
      triton_image_datatype: 'FP32',
      triton_text_model_name: 'clip_text',
      triton_text_model_version: '1',
      triton_text_input_name: 'input_ids',
      triton_text_output_name: 'text_embeds',
      triton_text_datatype: 'INT64',
      triton_preprocess_preset: 'openai_clip_224',
      batch_size: 8,
    };
  });
  afterAll(() => server?.close());

  it('gives the same embeddings as in-process inference, recording triton-gpu models', async () => {
    const local = await tmp();
    await runInto(local, 8);
    const remote = await tmp();
    const before = server.count('/infer');
    const result = await runInto(remote, 8, { runtime: 'triton', triton: mapping }, { tritonClient: fastClient });
    expect(server.count('/infer')).toBeGreaterThan(before);
    const a = await embeddings(local);
    const b = await embeddings(remote);
    expect(maxAbsDiff(a.frames, b.frames)).toBe(0);
    expect(maxAbsDiff(a.texts, b.texts)).toBe(0);
    expect(result.models_used.slice(0, 2).map((m) => [m.model_name, m.model_version, m.runtime, m.device])).toEqual([
      ['clip_image', '1', 'triton-gpu', 'cuda'],
      ['clip_text', '1', 'triton-gpu', 'cuda'],
    ]);
    expect((await validateNpzFile(path.join(remote, 'core_clip', 'embeddings.npz'))).problems).toEqual([]);
  });

  it('retries a transient 503 and succeeds', async () => {
    server.failNext(2, { status: 503, pathIncludes: '/infer' });
    const runDir = await tmp();
    await runInto(runDir, 8, { runtime: 'triton', triton: mapping }, { tritonClient: fastClient });
    expect((await validateNpzFile(path.join(runDir, 'core_clip', 'embeddings.npz'))).ok).toBe(true);
  });

  it('an unknown model is model_not_found and a server that is down is triton_unavailable, with nothing written', async () => {
    const runDir = await tmp();
    const unknown = { ...mapping, triton_image_model_name: 'no_such_model' };
    expect(await codeOf(runInto(runDir, 8, { runtime: 'triton', triton: unknown }, { tritonClient: fastClient }))).toBe('model_not_found');
    const down = { ...mapping, triton_http_url: 'http://127.0.0.1:9' };
    expect(await codeOf(runInto(runDir, 8, { runtime: 'triton', triton: down }, { tritonClient: fastClient }))).toBe('triton_unavailable');
    await expect(fs.readdir(runDir)).resolves.toEqual([]);
  });
});

describe('core_clip refuses to guess', () => {
  it('a frames_dir without core_clip frame_indices is sampling_missing (no fallback)', async () => {
    const work = await tmp();
    const noClip = path.join(work, 'frames');
    await segmentVideo(await fixtures.colors(), { outDir: noClip, components: ['core_face_landmarks'] });
    const setup = await setupCoreClip(config, deps());
    const run = runCoreClip({ identity: sampleIdentity(), runDir: work, framesDir: noClip }, { preset: setup.preset, batchSize: 4, encoders: setup.encoders, tokenizer: setup.tokenizer });
    expect(await codeOf(run)).toBe('sampling_missing');
  });

  it('a model that was never fetched is model_not_found, naming the fetch command', async () => {
    const error = await setupCoreClip(DEFAULT_CORE_CLIP_CONFIG, deps()).catch((e: unknown) => e);
    expect(isTrendflowError(error) && error.code).toBe('model_not_found');
    expect((error as Error).message).toContain('npx trendflow models fetch clip-vit-b32-image');
  });

  it('a preset that does not match the model input is invalid_argument', async () => {
    expect(await codeOf(setupCoreClip({ ...config, preset: 'openai_clip_336' }, deps()))).toBe('invalid_argument');
  });

  it('a batch size that is not a positive integer is invalid_argument', async () => {
    const setup = await setupCoreClip(config, deps());
    const run = runCoreClip({ identity: sampleIdentity(), runDir: await tmp(), framesDir }, { preset: setup.preset, batchSize: 0, encoders: setup.encoders, tokenizer: setup.tokenizer });
    expect(await codeOf(run)).toBe('invalid_argument');
  });
});
