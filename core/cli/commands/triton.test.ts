/** `trendflow triton export-repo` and `trendflow triton status`, in-process. */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startKServeServer } from '../../../test/helpers/kserve-server.js';
import { makeClipImageModel } from '../../../test/helpers/onnx-models.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { testModelSpec, writeTestRegistry } from '../../../test/helpers/model-host.js';
import { runCliInProcess } from '../../../test/helpers/cli.js';

const tmp = useTempDirs('triton-cli-');

describe('trendflow triton', () => {
  it('export-repo writes a repository from a registry; status checks the served models', async () => {
    const dir = await tmp();
    const modelsDir = path.join(dir, 'models');
    const onnx = makeClipImageModel({ size: 32, dim: 16, patch: 8 });
    await fs.mkdir(path.join(modelsDir, 'tiny-clip-image'), { recursive: true });
    await fs.writeFile(path.join(modelsDir, 'tiny-clip-image', 'vision_model.onnx'), onnx);
    const sha256 = createHash('sha256').update(onnx).digest('hex');
    const registry = await writeTestRegistry(path.join(dir, 'registry.json'), {
      'tiny-clip-image': testModelSpec([{ name: 'vision_model.onnx', url: 'https://example.invalid/vision_model.onnx', sha256, bytes: onnx.byteLength }], {
        inputs: [{ name: 'pixel_values', dtype: 'float32', shape: ['batch_size', 3, 32, 32] }],
        outputs: [{ name: 'image_embeds', dtype: 'float32', shape: ['batch_size', 16] }],
      }),
      'not-fetched': testModelSpec([{ name: 'm.onnx', url: 'https://example.invalid/m.onnx', sha256: 'a'.repeat(64), bytes: 10 }]),
    });
    const repo = path.join(dir, 'repo');
    const common = ['--models-dir', modelsDir, '--registry', registry];

    const missing = await runCliInProcess('triton', 'export-repo', repo, ...common);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/model_not_found: .*not-fetched.*npx trendflow models fetch not-fetched/);

    const done = await runCliInProcess('triton', 'export-repo', repo, ...common, '--models', 'tiny-clip-image', '--name', 'tiny-clip-image=clip_image', '--max-batch-size', '4', '--json');
    expect(done.code).toBe(0);
    const result = JSON.parse(done.stdout) as { models: { id: string; tritonName: string; modelPath: string; maxBatchSize: number }[] };
    expect(result.models).toMatchObject([{ id: 'tiny-clip-image', tritonName: 'clip_image', maxBatchSize: 4, modelPath: path.join(repo, 'clip_image', '1', 'model.onnx') }]);
    expect(await fs.readFile(path.join(repo, 'clip_image', 'config.pbtxt'), 'utf8')).toContain('max_batch_size: 4\n');

    const text = await runCliInProcess('triton', 'export-repo', repo, ...common, '--models', 'tiny-clip-image', '--triton-version', '2', '--kind', 'cpu');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('tiny-clip-image -> ');
    expect(text.stdout).toContain('tritonserver --model-repository=/models');
    expect(await fs.readFile(path.join(repo, 'tiny-clip-image', 'config.pbtxt'), 'utf8')).toContain('kind: KIND_CPU');
    expect((await runCliInProcess('triton', 'export-repo', repo, ...common, '--kind', 'tpu')).code).toBe(2);
    expect((await runCliInProcess('triton', 'export-repo', repo, ...common, '--models', 'nope')).stderr).toContain('model_unknown');

    const server = await startKServeServer({ models: [{ name: 'clip_image', onnx: path.join(repo, 'clip_image', '1', 'model.onnx') }] });
    try {
      const ok = await runCliInProcess('triton', 'status', '--url', server.url, '--model', 'clip_image:1');
      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain(`${server.url}: live, ready`);
      expect(ok.stdout).toContain('clip_image:1: ready; inputs pixel_values FP32 [-1,3,32,32]; outputs image_embeds FP32 [-1,16]');
      const bad = await runCliInProcess('triton', 'status', '--url', server.url, '--model', 'clip_image:1', '--model', 'clip_text', '--json');
      expect(bad.code).toBe(1);
      const status = JSON.parse(bad.stdout) as { ready: boolean; models: { model: string; ready: boolean; error_code?: string }[] };
      expect(status.ready).toBe(true);
      expect(status.models.map((model) => [model.model, model.ready, model.error_code])).toEqual([
        ['clip_image:1', true, undefined],
        ['clip_text', false, 'model_not_found'],
      ]);
      expect(bad.stderr).toContain('model_not_found');
    } finally {
      await server.close();
    }
    const down = await runCliInProcess('triton', 'status', '--url', server.url, '--timeout', '500');
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('triton_unavailable');
  });
});
