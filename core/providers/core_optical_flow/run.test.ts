import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTrendflowError } from '../../contracts/errors.js';
import { getArray, getMeta, readNpzFile } from '../../npz/index.js';
import { componentDefinition } from '../../pipeline/registry.js';
import { OnnxSessionRegistry } from '../../runtime/onnx/sessions.js';
import { addModel, loadRegistry } from '../../runtime/registry/index.js';
import { validateNpzFile } from '../../schema/index.js';
import { FrameManager } from '../../segmenter/frame-manager.js';
import { segmentVideo } from '../../segmenter/segment.js';
import { standaloneRunContext } from '../../../test/helpers/run-context.js';
import { sampleIdentity } from '../../../test/helpers/manifest.js';
import { makeDepthContractModel, makeFlowContractModel } from '../../../test/helpers/onnx-models.js';
import { numpyAvailableOrCi, runPython } from '../../../test/helpers/python.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { VideoFixtures } from '../../../test/helpers/video-fixtures.js';
import type { ModelContext } from '../vision/models.js';
import { DEFAULT_CORE_OPTICAL_FLOW_CONFIG, runCoreOpticalFlow, type CoreOpticalFlowConfig } from './index.js';

const tmp = useTempDirs('core-optical-flow-');
let fixtures: VideoFixtures;
let models: ModelContext;

beforeAll(async () => {
  fixtures = await VideoFixtures.create();
  const work = await tmp();
  const modelsDir = path.join(work, 'models');
  await fs.writeFile(path.join(work, 'raft.onnx'), makeFlowContractModel());
  await addModel(await loadRegistry({ modelsDir }), modelsDir, path.join(work, 'raft.onnx'), { id: 'test-raft', license: 'MIT', task: 'optical_flow' });
  models = { registry: await loadRegistry({ modelsDir }), modelsDir, sessions: new OnnxSessionRegistry() };
});

afterAll(async () => {
  await models?.sessions.releaseAll();
  await fixtures?.cleanup();
});

async function segment(video: string, components: ('core_optical_flow' | 'core_clip')[] = ['core_optical_flow']): Promise<string> {
  const framesDir = path.join(await tmp(), 'frames');
  await segmentVideo(video, { outDir: framesDir, components });
  return framesDir;
}

async function run(video: string, framesDir: string, config: Partial<CoreOpticalFlowConfig>) {
  const definition = componentDefinition('core_optical_flow');
  const parsed = definition.parseConfig(config) as CoreOpticalFlowConfig;
  const runDir = await tmp();
  const ctx = await standaloneRunContext({ videoPath: video, identity: sampleIdentity(), runDir, models, batchSize: definition.batching!(parsed).fixed });
  const outcome = await definition.run({ ...ctx, framesDir }, parsed);
  const file = path.join(runDir, 'core_optical_flow', 'flow.npz');
  return { outcome, file, npz: await readNpzFile(file) };
}

describe('core_optical_flow, block matching, on a texture panning left by 2 px per frame', () => {
  it('measures the pan on every pair: speed, direction left, coherent, and a valid NPZ', async () => {
    const video = await fixtures.pannedTexture(2);
    const framesDir = await segment(video);
    const { outcome, file, npz } = await run(video, framesDir, { engine: 'block_matching' });
    expect(outcome).toMatchObject({ status: 'ok', models_used: [], model_signature: null, device_used: null });
    expect((await validateNpzFile(file)).problems).toEqual([]);
    // every pair is two consecutive analysis frames (the Segmenter's anchors and their next frame), 0.1 s apart
    const frames = await FrameManager.open(framesDir);
    const source = frames.metadata.union_frame_indices_source;
    await frames.close();
    const first = Array.from(getArray(npz, 'frame_indices', 'int32').data);
    const next = Array.from(getArray(npz, 'next_frame_indices', 'int32').data);
    const pairs = first.length;
    expect(pairs).toBeGreaterThanOrEqual(8);
    expect(outcome.notes).toEqual([`block_matching flow on ${pairs} frame pairs`]);
    first.forEach((f, p) => expect(source[next[p]!]).toBe(source[f]! + 1));
    expect(Array.from(getArray(npz, 'dt_sec', 'float32').data).every((dt) => Math.abs(dt - 0.1) < 1e-6)).toBe(true);
    const diagonal = Math.hypot(320, 180);
    const expected = 2 / diagonal / 0.1;
    const meanFlow = getArray(npz, 'mean_flow', 'float32').data;
    const histogram = getArray(npz, 'direction_histogram', 'float32').data;
    const coherence = getArray(npz, 'direction_coherence', 'float32').data;
    for (let p = 0; p < pairs; p++) {
      expect(meanFlow[p * 2]! / -expected).toBeGreaterThan(0.85);
      expect(meanFlow[p * 2]! / -expected).toBeLessThan(1.1);
      expect(Math.abs(meanFlow[p * 2 + 1]!)).toBeLessThan(0.1 * expected);
      expect(histogram[p * 8 + 4]).toBeGreaterThan(0.9); // left
      expect(coherence[p]).toBeGreaterThan(0.95);
    }
    expect(getMeta(npz)).toMatchObject({ engine: 'block_matching', batch_size: 8, block_matching: { working_width: 160, block_size: 8, search_radius: 6 } });
    expect(getMeta(npz)).not.toHaveProperty('models_used');
  });
});

describe('core_optical_flow, RAFT engine, with a RAFT-contract model on a fade-in', () => {
  it('binds the two frames by position, takes the full-resolution output and scales it to the frame', async () => {
    const video = await fixtures.fadeIn();
    const framesDir = await segment(video);
    const { outcome, file, npz } = await run(video, framesDir, { engine: 'raft', model: 'test-raft' });
    expect(outcome.models_used.map((m) => m.model_name)).toEqual(['test-raft']);
    expect(outcome.model_signature).toMatch(/^msig1:/);
    expect((await validateNpzFile(file)).problems).toEqual([]);
    // the contract's flow is dx = mean(later − earlier) in 320-px input units, everywhere: recompute it from the frames
    const frames = await FrameManager.open(framesDir);
    const first = Array.from(getArray(npz, 'frame_indices', 'int32').data);
    const next = Array.from(getArray(npz, 'next_frame_indices', 'int32').data);
    const mean = async (i: number) => (await frames.get(i)).data.reduce((a, b) => a + b, 0) / (frames.width * frames.height * 3);
    const meanFlow = getArray(npz, 'mean_flow', 'float32').data;
    const dt = getArray(npz, 'dt_sec', 'float32').data;
    const diagonal = Math.hypot(frames.width, frames.height);
    let compared = 0;
    for (let p = 0; p < first.length; p++) {
      const dxInput = (await mean(next[p]!)) - (await mean(first[p]!));
      const expected = (dxInput * (frames.width / 320)) / diagonal / dt[p]!;
      if (Math.abs(expected) < 0.05) continue;
      expect(meanFlow[p * 2]! / expected).toBeGreaterThan(0.95);
      expect(meanFlow[p * 2]! / expected).toBeLessThan(1.05);
      compared++;
    }
    await frames.close();
    expect(compared).toBeGreaterThan(10);
    expect(getMeta(npz)).toMatchObject({ engine: 'raft', model: 'test-raft', model_signature: outcome.model_signature });
    if (numpyAvailableOrCi) {
      const out = runPython(
        `import sys, json, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
h = z['direction_histogram'][z['direction_present']]
print(json.dumps([int(z['frame_indices'].shape[0]), bool(np.allclose(h.sum(axis=1), 1, atol=1e-5)), bool((z['time_sec'][1:] > z['time_sec'][:-1]).all()), z['meta'].item()['engine']]))`,
        [file],
      );
      expect(JSON.parse(out)).toEqual([first.length, true, true, 'raft']);
    }
  });

  it('fails without its model or its sampled pairs, and refuses graphs that are not RAFT-shaped', async () => {
    const video = await fixtures.colors();
    const framesDir = await segment(video);
    const code = (promise: Promise<unknown>) => promise.then(() => 'resolved', (e: unknown) => (isTrendflowError(e) ? e.code : String(e)));
    const ctx = { identity: sampleIdentity(), runDir: await tmp(), framesDir, models };
    expect(await code(runCoreOpticalFlow(ctx, DEFAULT_CORE_OPTICAL_FLOW_CONFIG, 4))).toBe('model_not_found');
    const work = await tmp();
    const depthLike = path.join(work, 'one-input.onnx');
    await fs.writeFile(depthLike, makeDepthContractModel({ size: 32 }));
    await addModel(models.registry, models.modelsDir, depthLike, { id: 'test-one-input' });
    const withDepth = { ...models, registry: await loadRegistry({ modelsDir: models.modelsDir }) };
    expect(await code(runCoreOpticalFlow({ ...ctx, models: withDepth }, { ...DEFAULT_CORE_OPTICAL_FLOW_CONFIG, model: 'test-one-input' }, 4))).toBe('model_load_failed');
    const clipOnly = await segment(video, ['core_clip']);
    expect(await code(runCoreOpticalFlow({ ...ctx, framesDir: clipOnly }, { ...DEFAULT_CORE_OPTICAL_FLOW_CONFIG, engine: 'block_matching' }, 4))).toBe('sampling_missing');
  });
});
