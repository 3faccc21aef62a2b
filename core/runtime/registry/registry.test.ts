/** The built-in registry, loading and validation, the models dir, locate errors, models_used entries. */
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SHARED_MODELS_DIR } from '../../../test/helpers/shared-models.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { TrendflowError } from '../../contracts/errors.js';
import { MODEL_USED_KEYS } from '../../contracts/meta.js';
import { modelSignature } from '../signature.js';
import { builtinRegistryPath, fileContract, loadRegistry, modelFile } from './registry.js';
import { localRegistryPath, lockFilePath, MODELS_DIR_ENV, modelsCommand, resolveModelsDir } from './paths.js';
import { testModelSpec, writeTestRegistry } from '../../../test/helpers/model-host.js';
import { modelUsed } from './used.js';
import { locateModelFile } from './verify.js';

const tmp = useTempDirs('registry-');

afterEach(() => {
  vi.unstubAllEnvs();
});

/** SHA256SUMS and SOURCES.md of ../shared/models, parsed. */
function sharedSums(): Map<string, string> {
  const text = readFileSync(path.join(SHARED_MODELS_DIR, 'SHA256SUMS'), 'utf8');
  return new Map(text.trim().split('\n').map((line) => {
    const [sum, file] = line.trim().split(/\s+/);
    return [file!, sum!];
  }));
}

function sharedSources(): Map<string, { repo: string; commit: string }> {
  const text = readFileSync(path.join(SHARED_MODELS_DIR, 'SOURCES.md'), 'utf8');
  const rows = new Map<string, { repo: string; commit: string }>();
  for (const match of text.matchAll(/^\| ([a-z0-9-]+) \| [^|]+ \| ([\w.-]+\/[\w.-]+) @ ([0-9a-f]{40})/gm)) {
    rows.set(match[1]!, { repo: match[2]!, commit: match[3]! });
  }
  return rows;
}

describe('models/registry.json', () => {
  it('is found from the sources and loads valid', async () => {
    expect(builtinRegistryPath()).toBe(path.resolve(import.meta.dirname, '../../../models/registry.json'));
    const registry = await loadRegistry({ modelsDir: await tmp() });
    expect(registry.list().every((entry) => entry.source === 'builtin')).toBe(true);
    expect(registry.ids()).toEqual(
      expect.arrayContaining([
        'clip-vit-b32-image',
        'clip-vit-b32-text',
        'clip-bpe-vocab',
        'ultraface-rfb-320',
        'yunet-2023mar',
        'blazeface-front-128',
        'mediapipe-facemesh-468',
        'yolox-nano',
      ]),
    );
  });

  it('pins every model of ../shared/models to its upstream commit, sha256 and size', async () => {
    const registry = await loadRegistry({ modelsDir: await tmp() });
    const sums = sharedSums();
    const sources = sharedSources();
    expect(sources.size).toBe(6);
    const seen = new Set<string>();
    for (const [relative, sum] of sums) {
      const [id, name] = relative.split('/') as [string, string];
      const file = modelFile(registry.get(id), name);
      const source = sources.get(id)!;
      expect(file.sha256, relative).toBe(sum);
      expect(file.bytes, relative).toBe((await fs.stat(path.join(SHARED_MODELS_DIR, relative))).size);
      expect(file.pinned_by).toBe('registry');
      expect(file.url, relative).toMatch(new RegExp(`^https://raw\\.githubusercontent\\.com/${source.repo}/${source.commit}/.+/${name.replace(/\./g, '\\.')}$`));
      expect(registry.get(id).model_version).toBe(source.commit);
      seen.add(relative);
    }
    expect(seen.size).toBe(7);
  });

  it('describes the CLIP ViT-B/32 ONNX towers and their vocabulary', async () => {
    const registry = await loadRegistry({ modelsDir: await tmp() });
    const image = registry.get('clip-vit-b32-image');
    const text = registry.get('clip-vit-b32-text');
    for (const entry of [image, text]) {
      expect(entry.model_name).toBe('Xenova/clip-vit-base-patch32');
      expect(entry.model_version).toMatch(/^[0-9a-f]{40}$/);
      expect(entry.files[0]!.url).toContain(`/resolve/${entry.model_version}/onnx/`);
      expect(entry.engine).toBe('onnx');
    }
    expect(image.inputs).toEqual([expect.objectContaining({ name: 'pixel_values', dtype: 'float32', shape: ['batch_size', 3, 224, 224] })]);
    expect(image.outputs).toEqual([expect.objectContaining({ name: 'image_embeds', dtype: 'float32', shape: ['batch_size', 512] })]);
    expect(image.preprocessing?.preset).toBe('openai_clip_224');
    expect(text.inputs).toEqual([expect.objectContaining({ name: 'input_ids', dtype: 'int64' })]);
    expect(text.outputs).toEqual([expect.objectContaining({ name: 'text_embeds', dtype: 'float32', shape: ['batch_size', 512] })]);
    expect(image.companions).toEqual(['clip-vit-b32-text', 'clip-bpe-vocab']);
    const vocab = registry.get('clip-bpe-vocab');
    expect(vocab).toMatchObject({ engine: 'vocab', inputs: [], outputs: [], model_name: 'openai/CLIP' });
  });

  it('gives each yunet file its own contract', async () => {
    const registry = await loadRegistry({ modelsDir: await tmp() });
    const yunet = registry.get('yunet-2023mar');
    expect(fileContract(yunet).inputs[0]!.shape).toEqual([1, 3, 640, 640]);
    expect(fileContract(yunet, 'yunet_s_dynamic.onnx').inputs[0]!.shape).toEqual(['batch', 3, 'height', 'width']);
    expect(() => fileContract(yunet, 'nope.onnx')).toThrow(/has no file "nope.onnx"; its files: yunet_s_640_640.onnx, yunet_s_dynamic.onnx/);
  });
});

describe('ModelRegistry', () => {
  it('get throws model_unknown listing the known ids', async () => {
    const registry = await loadRegistry({ modelsDir: await tmp() });
    const error = (() => {
      try {
        registry.get('clip-vit-h14');
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(TrendflowError);
    expect(error).toMatchObject({ code: 'model_unknown' });
    expect((error as Error).message).toMatch(/no model "clip-vit-h14" in the registry; known models: clip-vit-b32-image, .*yolox-nano/);
  });

  it('rejects an invalid registry with model_registry_invalid and a clear message', async () => {
    const dir = await tmp();
    const cases: [unknown, RegExp][] = [
      [{ registry_version: 1, models: { Bad_Id: testModelSpec([{ name: 'a.onnx', url: 'https://x/a', sha256: null, bytes: null }]) } }, /propertyNames|must match pattern/],
      [{ registry_version: 1, models: { m: { ...testModelSpec([{ name: 'a.onnx', url: 'https://x/a', sha256: 'xyz', bytes: 1 }]) } } }, /\/models\/m\/files\/0\/sha256/],
      [{ registry_version: 1, models: { m: testModelSpec([{ name: 'a.onnx', url: null, sha256: 'a'.repeat(64), bytes: 1 }]) } }, /has no url \(only models added locally may\)/],
      [{ registry_version: 1, models: { m: testModelSpec([{ name: 'a.onnx', url: 'https://x/a', sha256: null, bytes: null }], { model_version: 'latest' }) } }, /model_version/],
      [{ registry_version: 1, models: { m: testModelSpec([{ name: 'a.onnx', url: 'https://x/a', sha256: null, bytes: null }], { inputs: [] }) } }, /must describe its inputs and outputs/],
      [{ registry_version: 1, models: { m: testModelSpec([{ name: 'a.onnx', url: 'https://x/a', sha256: null, bytes: null }], { companions: ['ghost'] }) } }, /unknown companion models \(m → ghost\)/],
      [{ registry_version: 2, models: {} }, /registry_version/],
    ];
    for (const [json, message] of cases) {
      const file = path.join(dir, 'bad.json');
      await fs.writeFile(file, JSON.stringify(json));
      const error = await loadRegistry({ modelsDir: dir, registryFile: file }).catch((e: unknown) => e);
      expect(error, JSON.stringify(json)).toMatchObject({ code: 'model_registry_invalid', details: { path: file } });
      expect((error as Error).message, JSON.stringify(json)).toMatch(message);
    }
    const notJson = path.join(dir, 'broken.json');
    await fs.writeFile(notJson, '{ nope');
    await expect(loadRegistry({ modelsDir: dir, registryFile: notJson })).rejects.toMatchObject({ code: 'model_registry_invalid' });
  });

  it('rejects a local model that reuses a built-in id, and a broken lock file', async () => {
    const modelsDir = await tmp();
    await fs.writeFile(
      localRegistryPath(modelsDir),
      JSON.stringify({ registry_version: 1, models: { 'yolox-nano': testModelSpec([{ name: 'a.onnx', url: null, sha256: 'a'.repeat(64), bytes: 1 }]) } }),
    );
    await expect(loadRegistry({ modelsDir })).rejects.toMatchObject({ code: 'model_registry_invalid', message: expect.stringContaining('clashes with the built-in model') });
    await fs.rm(localRegistryPath(modelsDir));
    await fs.writeFile(lockFilePath(modelsDir), JSON.stringify({ lock_version: 1, models: { m: { 'a.onnx': { sha256: 'nope' } } } }));
    await expect(loadRegistry({ modelsDir })).rejects.toMatchObject({ code: 'model_registry_invalid', message: expect.stringContaining('invalid models lock file') });
  });

  it('applies a lock record only to the version and URL it was recorded for', async () => {
    const dir = await tmp();
    const modelsDir = path.join(dir, 'models');
    await fs.mkdir(modelsDir);
    const spec = testModelSpec([{ name: 'a.onnx', url: 'https://example.invalid/a.onnx', sha256: null, bytes: null }]);
    const registryFile = await writeTestRegistry(path.join(dir, 'r.json'), { m: spec });
    const record = { model_version: spec.model_version, url: 'https://example.invalid/a.onnx', sha256: 'b'.repeat(64), bytes: 5, recorded_at: 'now' };
    await fs.writeFile(lockFilePath(modelsDir), JSON.stringify({ lock_version: 1, models: { m: { 'a.onnx': record } } }));
    expect((await loadRegistry({ modelsDir, registryFile })).get('m').files[0]).toMatchObject({ sha256: 'b'.repeat(64), bytes: 5, pinned_by: 'lock' });
    await writeTestRegistry(registryFile, { m: { ...spec, model_version: 'v2' } });
    expect((await loadRegistry({ modelsDir, registryFile })).get('m').files[0]).toMatchObject({ sha256: null, pinned_by: null });
  });
});

describe('resolveModelsDir', () => {
  it('takes the flag, then TRENDFLOW_MODELS_DIR, then the per-user data folder', () => {
    const env = { [MODELS_DIR_ENV]: '/env/models', XDG_DATA_HOME: '/xdg' };
    expect(resolveModelsDir({ modelsDir: 'rel/dir', env })).toBe(path.resolve('rel/dir'));
    expect(resolveModelsDir({ env })).toBe('/env/models');
    expect(resolveModelsDir({ env: { XDG_DATA_HOME: '/xdg' }, platform: 'linux', homedir: '/home/u' })).toBe('/xdg/trendflow/models');
    expect(resolveModelsDir({ env: { XDG_DATA_HOME: 'relative' }, platform: 'linux', homedir: '/home/u' })).toBe('/home/u/.local/share/trendflow/models');
    expect(resolveModelsDir({ env: {}, platform: 'darwin', homedir: '/Users/u' })).toBe('/Users/u/Library/Application Support/trendflow/models');
    expect(resolveModelsDir({ env: { LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, platform: 'win32', homedir: 'C:\\Users\\u' })).toBe(
      'C:\\Users\\u\\AppData\\Local\\trendflow\\models',
    );
    expect(resolveModelsDir({ env: {}, platform: 'win32', homedir: 'C:\\Users\\u' })).toBe('C:\\Users\\u\\AppData\\Local\\trendflow\\models');
  });

  it('reads the environment of the process by default', () => {
    vi.stubEnv(MODELS_DIR_ENV, '/from/env');
    expect(resolveModelsDir()).toBe('/from/env');
    expect(resolveModelsDir({ modelsDir: '/flag' })).toBe('/flag');
  });
});

describe('locateModelFile', () => {
  it('names the exact fetch command when a model is missing', async () => {
    const modelsDir = await tmp();
    const registry = await loadRegistry({ modelsDir });
    const error = await locateModelFile(registry, modelsDir, 'clip-vit-b32-image').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'model_not_found', details: { path: path.join(modelsDir, 'clip-vit-b32-image', 'vision_model.onnx') } });
    expect((error as Error).message).toBe(
      `model clip-vit-b32-image file vision_model.onnx is not in ${modelsDir}: run \`npx trendflow models fetch clip-vit-b32-image --models-dir ${modelsDir}\``,
    );
    // when the models dir is the one the command finds by itself, no flag is needed
    vi.stubEnv(MODELS_DIR_ENV, modelsDir);
    const plain = await locateModelFile(registry, modelsDir, 'yunet-2023mar', 'yunet_s_dynamic.onnx').catch((e: unknown) => e);
    expect((plain as Error).message).toMatch(/: run `npx trendflow models fetch yunet-2023mar`$/);
    await expect(locateModelFile(registry, modelsDir, 'nope')).rejects.toMatchObject({ code: 'model_unknown' });
  });

  it('quotes a models dir with spaces in the command', () => {
    expect(modelsCommand(['fetch', 'm'], '/tmp/my models')).toBe('npx trendflow models fetch m --models-dir "/tmp/my models"');
  });
});

describe('modelUsed', () => {
  it('builds the seed 003 Q1 entry that modelSignature takes', async () => {
    const registry = await loadRegistry({ modelsDir: await tmp() });
    const entry = registry.get('ultraface-rfb-320');
    const digest = entry.files[0]!.sha256!;
    const used = modelUsed(entry, { sha256: digest }, { runtime: 'inprocess', precision: 'fp32', device: 'cpu' });
    expect(used).toEqual({
      model_name: 'Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB',
      model_version: 'dffdddda9794a50607cba8f318507a28c1c27cab',
      weights_digest: `sha256:${digest}`,
      runtime: 'inprocess',
      engine: 'onnx',
      precision: 'fp32',
      device: 'cpu',
    });
    expect(Object.keys(used).sort()).toEqual([...MODEL_USED_KEYS].sort());
    expect(modelUsed(entry, `sha256:${digest}`, { runtime: 'inprocess', precision: 'fp32', device: 'cpu' })).toEqual(used);
    const onGpu = modelUsed(entry, digest, { runtime: 'triton-gpu', engine: 'onnx', precision: 'fp16', device: 'cuda:0' });
    expect(modelSignature([used])).not.toBe(modelSignature([onGpu]));
    const vocab = registry.get('clip-bpe-vocab');
    expect(modelUsed(vocab, vocab.files[0]!.sha256!, { runtime: 'inprocess', precision: 'fp32', device: 'cpu' }).engine).toBe('vocab');
    expect(() => modelUsed(entry, 'abc', { runtime: 'inprocess', precision: 'fp32', device: 'cpu' })).toThrow(/not a sha256 digest/);
  });
});
