/** `addModel`: registering a local ONNX file (read with onnxruntime-node) in the models dir's local registry. */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedModel } from '../../../test/helpers/shared-models.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { addModel } from './add.js';
import { fetchModel } from './fetch.js';
import { localRegistryPath } from './paths.js';
import { loadRegistry } from './registry.js';
import { locateModelFile, verifyModels } from './verify.js';
import { modelUsed } from './used.js';

const tmp = useTempDirs('registry-add-');
const ULTRAFACE_SHA = '34cd7e60aeff28744c657de7a3dc64e872d506741de66987f3426f2b79f88017';

async function sourceFile(): Promise<string> {
  // a copy outside the models dir, as a user's own file would be
  const file = path.join(await tmp(), 'my face detector.onnx');
  await fs.copyFile(sharedModel('ultraface-rfb-320', 'version-RFB-320.onnx'), file);
  return file;
}

describe('addModel', () => {
  it('copies the file in, records sha256, size and the input/output contract, and pins it by its digest', async () => {
    const modelsDir = path.join(await tmp(), 'models');
    const source = await sourceFile();
    const result = await addModel(await loadRegistry({ modelsDir }), modelsDir, source, { id: 'my-faces', license: 'MIT', name: 'acme/faces', version: 'v1.2.0' });
    expect(result).toMatchObject({ id: 'my-faces', status: 'added', sha256: ULTRAFACE_SHA, bytes: 1270727, localRegistryFile: localRegistryPath(modelsDir) });
    expect(result.path).toBe(path.join(modelsDir, 'my-faces', 'my_face_detector.onnx'));
    expect(existsSync(`${result.path}.part`)).toBe(false);
    expect(result.spec.inputs).toEqual([{ name: 'input', dtype: 'float32', shape: [1, 3, 240, 320] }]);
    expect(result.spec.outputs.map((o) => o.name)).toEqual(['scores', 'boxes']);

    const registry = await loadRegistry({ modelsDir });
    const entry = registry.get('my-faces');
    expect(entry).toMatchObject({ source: 'local', model_name: 'acme/faces', model_version: 'v1.2.0', license: 'MIT', engine: 'onnx' });
    expect(entry.files).toEqual([expect.objectContaining({ url: null, sha256: ULTRAFACE_SHA, bytes: 1270727, pinned_by: 'registry' })]);
    await expect(locateModelFile(registry, modelsDir, 'my-faces')).resolves.toEqual({ path: result.path, sha256: ULTRAFACE_SHA, bytes: 1270727 });
    expect((await verifyModels(registry, modelsDir, ['my-faces']))[0]!.ok).toBe(true);
    expect(modelUsed(entry, ULTRAFACE_SHA, { runtime: 'inprocess', precision: 'fp32', device: 'cpu' }).weights_digest).toBe(`sha256:${ULTRAFACE_SHA}`);
    await expect(fetchModel(registry, modelsDir, 'my-faces')).resolves.toMatchObject({ files: [{ status: 'present' }] });

    // the same file again is a no-op; other content under the same id is refused
    await expect(addModel(registry, modelsDir, source, { id: 'my-faces' })).resolves.toMatchObject({ status: 'unchanged' });
    const other = path.join(path.dirname(source), 'my face detector.onnx');
    await fs.copyFile(sharedModel('yolox-nano', 'yolox_nano.onnx'), other);
    await expect(addModel(registry, modelsDir, other, { id: 'my-faces' })).rejects.toMatchObject({ code: 'invalid_argument' });

    // a missing copy is reported with the add command, never fetched from anywhere
    await fs.rm(result.path);
    const missing = await locateModelFile(registry, modelsDir, 'my-faces').catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'model_not_found' });
    expect((missing as Error).message).toContain('npx trendflow models add FILE --id my-faces');
    await expect(fetchModel(registry, modelsDir, 'my-faces')).rejects.toMatchObject({ code: 'model_not_found' });
  });

  it('defaults the version to one derived from the digest, and keeps other local models', async () => {
    const modelsDir = path.join(await tmp(), 'models');
    await addModel(await loadRegistry({ modelsDir }), modelsDir, sharedModel('yolox-nano', 'yolox_nano.onnx'), { id: 'objects' });
    await addModel(await loadRegistry({ modelsDir }), modelsDir, sharedModel('yunet-2023mar', 'yunet_s_dynamic.onnx'), { id: 'faces.v2' });
    const registry = await loadRegistry({ modelsDir });
    expect(registry.get('objects')).toMatchObject({ model_name: 'objects', model_version: 'sha256-695e750a5d57', license: 'unknown' });
    expect(registry.get('faces.v2').inputs[0]).toEqual({ name: 'input', dtype: 'float32', shape: ['batch', 3, 'height', 'width'] });
  });

  it('refuses bad ids, built-in ids, unpinned versions, missing files and files that are not ONNX', async () => {
    const modelsDir = path.join(await tmp(), 'models');
    const registry = await loadRegistry({ modelsDir });
    const onnx = sharedModel('ultraface-rfb-320', 'version-RFB-320.onnx');
    await expect(addModel(registry, modelsDir, onnx, { id: 'Bad Id' })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(addModel(registry, modelsDir, onnx, { id: 'yolox-nano' })).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('built-in') });
    await expect(addModel(registry, modelsDir, onnx, { id: 'x', version: 'latest' })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(addModel(registry, modelsDir, '/no/such/file.onnx', { id: 'x' })).rejects.toMatchObject({ code: 'file_read_failed' });
    const junk = path.join(await tmp(), 'junk.onnx');
    await fs.writeFile(junk, 'not a model');
    await expect(addModel(registry, modelsDir, junk, { id: 'x' })).rejects.toMatchObject({ code: 'model_load_failed' });
    expect(existsSync(path.join(modelsDir, 'x'))).toBe(false);
    expect(existsSync(localRegistryPath(modelsDir))).toBe(false);
  });
});
