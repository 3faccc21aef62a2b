/**
 * The real model files in ../shared/models verify against the registry's sha256: they are linked (never copied)
 * into a temporary models dir with the `<model_id>/<file>` layout.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED_MODELS_DIR } from '../../../test/helpers/shared-models.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { fetchModel } from './fetch.js';
import { loadRegistry } from './registry.js';
import { locateModelFile, verifyModels } from './verify.js';

const tmp = useTempDirs('registry-verify-');
const SHARED_IDS = ['blazeface-front-128', 'clip-bpe-vocab', 'mediapipe-facemesh-468', 'ultraface-rfb-320', 'yolox-nano', 'yunet-2023mar'];

/** A models dir whose model folders hold symlinks to the files in ../shared/models. */
async function linkedModelsDir(): Promise<string> {
  const modelsDir = await tmp();
  for (const id of SHARED_IDS) {
    await fs.mkdir(path.join(modelsDir, id));
    for (const name of await fs.readdir(path.join(SHARED_MODELS_DIR, id))) {
      await fs.symlink(path.join(SHARED_MODELS_DIR, id, name), path.join(modelsDir, id, name));
    }
  }
  return modelsDir;
}

describe('the real models in ../shared/models', () => {
  it('verify against the registry sha256 and sizes', async () => {
    const modelsDir = await linkedModelsDir();
    const registry = await loadRegistry({ modelsDir });
    const results = await verifyModels(registry, modelsDir, SHARED_IDS);
    for (const result of results) {
      expect(result, result.id).toMatchObject({ installed: true, ok: true });
      for (const file of result.files) expect(file.sha256, `${result.id}/${file.file}`).toBe(file.expected);
    }
    expect(results.flatMap((r) => r.files)).toHaveLength(7);

    // without ids: every model; the large ones (CLIP towers…) are not installed here, which is not a failure of the others
    const all = await verifyModels(registry, modelsDir);
    const notInstalled = registry.ids().filter((id) => !SHARED_IDS.includes(id)).sort();
    expect(notInstalled).toContain('clip-vit-b32-image');
    expect(all.filter((r) => !r.installed).map((r) => r.id).sort()).toEqual(notInstalled);
    expect(all.filter((r) => r.installed).every((r) => r.ok)).toBe(true);

    const located = await locateModelFile(registry, modelsDir, 'yolox-nano');
    expect(located).toEqual({
      path: path.join(modelsDir, 'yolox-nano', 'yolox_nano.onnx'),
      sha256: '695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14',
      bytes: 3660092,
    });
    // the second look uses the stamps written beside the links
    const again = await verifyModels(registry, modelsDir, ['yolox-nano']);
    expect(again[0]!.ok).toBe(true);
  });

  it('are already in place for fetch, which then downloads nothing', async () => {
    const modelsDir = await linkedModelsDir();
    const registry = await loadRegistry({ modelsDir });
    const refuse: typeof fetch = () => Promise.reject(new Error('no network in this test'));
    for (const id of SHARED_IDS) {
      const result = await fetchModel(registry, modelsDir, id, { fetchImpl: refuse });
      expect(result.files.every((file) => file.status === 'present'), id).toBe(true);
    }
  });
});
