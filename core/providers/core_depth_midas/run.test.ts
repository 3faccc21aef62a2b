import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTrendflowError } from '../../contracts/errors.js';
import { getArray, getMeta, readNpzFile } from '../../npz/index.js';
import { componentDefinition } from '../../pipeline/registry.js';
import { OnnxSessionRegistry } from '../../runtime/onnx/sessions.js';
import { addModel, loadRegistry } from '../../runtime/registry/index.js';
import { validateNpzFile } from '../../schema/index.js';
import { segmentVideo } from '../../segmenter/segment.js';
import { standaloneRunContext } from '../../../test/helpers/run-context.js';
import { sampleIdentity } from '../../../test/helpers/manifest.js';
import { makeDepthContractModel, makeFlowContractModel } from '../../../test/helpers/onnx-models.js';
import { numpyAvailableOrCi, runPython } from '../../../test/helpers/python.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { VideoFixtures } from '../../../test/helpers/video-fixtures.js';
import type { ModelContext } from '../vision/models.js';
import { DEFAULT_CORE_DEPTH_MIDAS_CONFIG, runCoreDepthMidas, type CoreDepthMidasConfig } from './index.js';
import { areaResize, summarizeDepth } from './summary.js';

const tmp = useTempDirs('core-depth-midas-');
let fixtures: VideoFixtures;
let models: ModelContext;
let framesDir: string;
let video: string;

describe('depth summaries (hand-computed)', () => {
  it('averages areas exactly when shrinking', () => {
    const src = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]); // 4×3
    expect(Array.from(areaResize(src, 4, 3, 2, 1))).toEqual([(1 + 2 + 5 + 6 + 9 + 10) / 6, (3 + 4 + 7 + 8 + 11 + 12) / 6]);
    // 3 → 2 columns: the middle input column is shared half and half
    expect(Array.from(areaResize(Float32Array.from([0, 3, 6]), 3, 1, 2, 1))).toEqual([(0 * 1 + 3 * 0.5) / 1.5, (3 * 0.5 + 6 * 1) / 1.5]);
  });

  it('normalizes per frame and measures the centre against the surround', () => {
    // 4×4: the central 2×2 at 10 (near), the rest at 2
    const raw = Float32Array.from([2, 2, 2, 2, 2, 10, 10, 2, 2, 10, 10, 2, 2, 2, 2, 2]);
    const s = summarizeDepth(raw, 4, 4, 2, 2);
    expect(s).toMatchObject({ present: true, rawMin: 2, rawMax: 10, mean: 0.25, p10: 0, p50: 0, centerMinusSurround: 1 });
    expect(s.std).toBeCloseTo(Math.sqrt(0.25 * 0.75), 6);
    expect(s.p90).toBeCloseTo(1, 6);
    expect(Array.from(s.map)).toEqual([0.25, 0.25, 0.25, 0.25]);
    const flat = summarizeDepth(new Float32Array(16).fill(3), 4, 4, 2, 2);
    expect(flat.present).toBe(false);
    expect([flat.rawMin, flat.rawMax]).toEqual([3, 3]);
    expect([flat.mean, flat.centerMinusSurround, ...flat.map].every(Number.isNaN)).toBe(true);
  });
});

beforeAll(async () => {
  fixtures = await VideoFixtures.create();
  const work = await tmp();
  const modelsDir = path.join(work, 'models');
  // the contract model: inverse depth = brightness, registered locally as the real MiDaS file would be fetched
  await fs.writeFile(path.join(work, 'midas.onnx'), makeDepthContractModel());
  await fs.writeFile(path.join(work, 'raft.onnx'), makeFlowContractModel({ height: 64, width: 64 }));
  const builtin = await loadRegistry({ modelsDir });
  await addModel(builtin, modelsDir, path.join(work, 'midas.onnx'), { id: 'test-midas', license: 'MIT', task: 'depth_estimation' });
  await addModel(builtin, modelsDir, path.join(work, 'raft.onnx'), { id: 'test-two-inputs', license: 'MIT', task: 'optical_flow' });
  models = { registry: await loadRegistry({ modelsDir }), modelsDir, sessions: new OnnxSessionRegistry() };
  // 1 s of a white central half on black, then 1 s of grey
  const picture = path.join(work, 'centre.png');
  await sharp({ create: { width: 320, height: 180, channels: 3, background: '#000' } })
    .composite([{ input: { create: { width: 160, height: 90, channels: 3, background: '#fff' } }, left: 80, top: 45 }])
    .png()
    .toFile(picture);
  video = await fixtures.photoThenGrey(picture, 1, 1);
  framesDir = path.join(work, 'frames');
  await segmentVideo(video, { outDir: framesDir, components: ['core_depth_midas'], analysisFps: 2 });
});

afterAll(async () => {
  await models?.sessions.releaseAll();
  await fixtures?.cleanup();
});

describe('core_depth_midas with a MiDaS-contract model', () => {
  let file: string;

  beforeAll(async () => {
    const definition = componentDefinition('core_depth_midas');
    const config = definition.parseConfig({ model: 'test-midas' }) as CoreDepthMidasConfig;
    const runDir = await tmp();
    const ctx = await standaloneRunContext({ videoPath: video, identity: sampleIdentity(), runDir, models, batchSize: definition.batching!(config).fixed });
    const outcome = await definition.run({ ...ctx, framesDir }, config);
    expect(outcome).toMatchObject({ status: 'ok', device_used: 'cpu', notes: ['2 frames with a flat depth prediction (depth_present False)'] });
    expect(outcome.models_used.map((m) => m.model_name)).toEqual(['test-midas']);
    file = path.join(runDir, 'core_depth_midas', 'depth.npz');
  });

  it('writes a valid artifact: a near centre on the picture frames, no depth on the flat grey frames', async () => {
    expect((await validateNpzFile(file)).problems).toEqual([]);
    const npz = await readNpzFile(file);
    expect(Array.from(getArray(npz, 'depth_present', 'bool').data)).toEqual([1, 1, 0, 0]);
    const cms = getArray(npz, 'center_minus_surround', 'float32').data;
    const mean = getArray(npz, 'depth_mean', 'float32').data;
    expect(cms[0]).toBeGreaterThan(0.85);
    expect(mean[0]).toBeGreaterThan(0.2);
    expect(mean[0]).toBeLessThan(0.3);
    expect([cms[2], mean[3]].every(Number.isNaN)).toBe(true);
    const maps = getArray(npz, 'depth_maps', 'float32');
    expect(maps.shape).toEqual([4, 36, 64]);
    const at = (p: number, y: number, x: number) => maps.data[(p * 36 + y) * 64 + x]!;
    expect(at(0, 18, 32)).toBeCloseTo(1, 2);
    expect(at(0, 1, 1)).toBeCloseTo(0, 2);
    expect(getMeta(npz)).toMatchObject({ producer: 'core_depth_midas', model: 'test-midas', model_input_size: [256, 256], batch_size: 8 });
    if (numpyAvailableOrCi) {
      const out = runPython(
        `import sys, json, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
print(json.dumps([list(z['depth_maps'].shape), bool(np.isnan(z['depth_maps'][~z['depth_present']]).all()), float(np.nanmax(z['depth_maps'])), z['inverse_depth_range'].shape[1]]))`,
        [file],
      );
      expect(JSON.parse(out)).toEqual([[4, 36, 64], true, expect.closeTo(1, 2), 2]);
    }
  });

  it('refuses a graph that is not MiDaS-shaped, a missing model, and frames_dirs without its sample', async () => {
    const code = (promise: Promise<unknown>) => promise.then(() => 'resolved', (e: unknown) => (isTrendflowError(e) ? e.code : String(e)));
    const ctx = { identity: sampleIdentity(), runDir: await tmp(), framesDir, models };
    expect(await code(runCoreDepthMidas(ctx, { ...DEFAULT_CORE_DEPTH_MIDAS_CONFIG, model: 'test-two-inputs' }, 2))).toBe('model_load_failed');
    expect(await code(runCoreDepthMidas(ctx, DEFAULT_CORE_DEPTH_MIDAS_CONFIG, 2))).toBe('model_not_found');
    const other = path.join(await tmp(), 'frames');
    await segmentVideo(await fixtures.colors(), { outDir: other, components: ['core_clip'], analysisFps: 2 });
    expect(await code(runCoreDepthMidas({ ...ctx, framesDir: other }, { ...DEFAULT_CORE_DEPTH_MIDAS_CONFIG, model: 'test-midas' }, 2))).toBe('sampling_missing');
  });
});
