import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { isTrendflowError } from '../../contracts/errors.js';
import { makeClipImageModel } from '../../../test/helpers/onnx-models.js';
import { sharedModel } from '../../../test/helpers/shared-models.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { cudaProviderInstalled, OnnxSessionRegistry } from './sessions.js';
import { codeOf } from '../../../test/helpers/errors.js';

const tmp = useTempDirs('onnx-');
const registry = new OnnxSessionRegistry();
afterAll(() => registry.releaseAll());

/** Each real model of ../shared/models (SOURCES.md): input, a zero tensor of its shape, expected output dims. */
const REAL_MODELS = [
  { id: 'yolox-nano', file: 'yolox_nano.onnx', input: 'images', shape: [1, 3, 416, 416], outputs: { output: [1, 3549, 85] } },
  { id: 'ultraface-rfb-320', file: 'version-RFB-320.onnx', input: 'input', shape: [1, 3, 240, 320], outputs: { scores: [1, 4420, 2], boxes: [1, 4420, 4] } },
  { id: 'yunet-2023mar', file: 'yunet_s_640_640.onnx', input: 'input', shape: [1, 3, 640, 640], outputs: { cls_8: [1, 6400, 1], bbox_32: [1, 400, 4] } },
  { id: 'yunet-2023mar', file: 'yunet_s_dynamic.onnx', input: 'input', shape: [1, 3, 320, 256], outputs: { cls_8: [1, 1280, 1], kps_16: [1, 320, 10] } },
  { id: 'blazeface-front-128', file: 'face_detection_front_128x128_barracuda.onnx', input: 'input:0', shape: [1, 128, 128, 3], outputs: { 'Identity:0': [1, 512, 1], 'Identity_3:0': [1, 384, 16] } },
  { id: 'mediapipe-facemesh-468', file: 'face_landmark_barracuda.onnx', input: 'input_1', shape: [1, 3, 192, 192], outputs: { conv2d_20: [1, 1404, 1, 1], conv2d_30: [1, 1, 1, 1] } },
];

describe('OnnxSessionRegistry', () => {
  for (const model of REAL_MODELS) {
    it(`loads and runs the real ${model.id}/${model.file} on CPU`, async () => {
      const loaded = await registry.get(sharedModel(model.id, model.file));
      expect(loaded.device).toBe('cpu');
      expect(loaded.inputs.map((i) => i.name)).toContain(model.input);
      const size = model.shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(size).fill(0.25);
      const outputs = await loaded.run({ [model.input]: new ort.Tensor('float32', data, model.shape) });
      for (const [name, dims] of Object.entries(model.outputs)) {
        expect(outputs[name]?.dims, name).toEqual(dims);
        expect(Array.from(outputs[name]!.data as Float32Array).every(Number.isFinite), `${name} finite`).toBe(true);
      }
    });
  }

  it('reuses one session per file, device and precision, and loads concurrent requests once', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'clip_image.onnx');
    await fs.writeFile(file, makeClipImageModel({ size: 64 }));
    const local = new OnnxSessionRegistry();
    const [a, b] = await Promise.all([local.get(file), local.get(file)]);
    expect(a).toBe(b);
    expect(local.size).toBe(1);
    const other = await local.get(file, { intraOpThreads: 1 });
    expect(other).not.toBe(a);
    expect(local.size).toBe(2);
    await local.releaseAll();
    expect(local.size).toBe(0);
  });

  it('a missing file is model_not_found and is not cached', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'later.onnx');
    expect(await codeOf(registry.get(file))).toBe('model_not_found');
    await fs.writeFile(file, makeClipImageModel({ size: 64 }));
    expect((await registry.get(file)).inputs[0]?.name).toBe('pixel_values');
  });

  it('a file that is not ONNX is model_load_failed', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'garbage.onnx');
    await fs.writeFile(file, 'this is not a protobuf model');
    expect(await codeOf(registry.get(file))).toBe('model_load_failed');
  });

  it('a wrong input is inference_failed, naming the inputs', async () => {
    const loaded = await registry.get(sharedModel('yolox-nano', 'yolox_nano.onnx'));
    expect(await codeOf(loaded.run({ pixels: new ort.Tensor('float32', new Float32Array(3), [3]) }))).toBe('inference_failed');
    const wrongShape = loaded.run({ images: new ort.Tensor('float32', new Float32Array(3 * 8 * 8), [1, 3, 8, 8]) });
    expect(await codeOf(wrongShape)).toBe('inference_failed');
  });

  it.skipIf(cudaProviderInstalled())('cuda without the CUDA provider is a clear error, not a CPU run', async () => {
    const error = await registry.get(sharedModel('yolox-nano', 'yolox_nano.onnx'), { device: 'cuda' }).catch((e: unknown) => e);
    expect(isTrendflowError(error) && error.code).toBe('execution_provider_unavailable');
    expect((error as Error).message).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12');
  });
});
