/**
 * `models add FILE --id ID`: registers a local ONNX file. The file is copied into `<modelsDir>/<id>/`, its sha256
 * and size are recorded, and its input/output names, dtypes and shapes are read by opening it with
 * onnxruntime-node. The entry goes to `<modelsDir>/local-registry.json`; it is pinned by its digest.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { TrendflowError } from '../../contracts/errors.js';
import { writeFileAtomic } from '../../store/atomic.js';
import { localRegistryPath, modelFilePath, PART_SUFFIX } from './paths.js';
import { readRegistryFile, type ModelRegistry } from './registry.js';
import { FILE_NAME_PATTERN, MODEL_ID_PATTERN, validateRegistryJson } from './schema.js';
import type { ModelSpec, RegistryFile, TensorSpec } from './types.js';
import { writeStamp } from './verify.js';

export interface AddModelOptions {
  /** Registry id (folder name): lower case letters, digits, `.`, `_`, `-`. */
  id: string;
  /** model_name recorded in models_used (default: the id). */
  name?: string;
  /** model_version (default: `sha256-` + the first 12 hex digits of the file's digest). */
  version?: string;
  /** Licence (default: `unknown`). */
  license?: string;
  /** Task (default: `custom`). */
  task?: string;
  description?: string;
}

export interface AddModelResult {
  id: string;
  /** `added`, or `unchanged` when the same file was already added under this id. */
  status: 'added' | 'unchanged';
  path: string;
  sha256: string;
  bytes: number;
  spec: ModelSpec;
  localRegistryFile: string;
}

/** A minimal valid entry, to check one user-given field on its own. */
const PROBE: ModelSpec = {
  model_name: 'probe',
  model_version: 'probe',
  license: 'unknown',
  task: 'custom',
  engine: 'onnx',
  files: [{ name: 'model.onnx', url: null, sha256: '0'.repeat(64), bytes: 0 }],
  inputs: [{ name: 'x', dtype: 'float32', shape: [1] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [1] }],
  preprocessing: null,
};

const LOCAL_COMMENT = 'Models added with `trendflow models add`; each is pinned by the sha256 of the file copied here.';

function tensorSpecs(metadata: readonly unknown[], names: readonly string[]): TensorSpec[] {
  return names.map((name, index) => {
    const meta = (metadata[index] ?? {}) as { isTensor?: boolean; type?: unknown; shape?: readonly (number | string)[] };
    const dtype = meta.isTensor === false ? 'nontensor' : typeof meta.type === 'string' && /^[a-z][a-z0-9]*$/.test(meta.type) ? meta.type : 'unknown';
    const shape = (meta.shape ?? []).map((dim, axis) =>
      typeof dim === 'number' && dim >= 0 ? dim : typeof dim === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(dim) ? dim : `dim${axis}`,
    );
    return { name, dtype, shape };
  });
}

/** Opens the file with onnxruntime-node and reads its inputs and outputs; `model_load_failed` when it cannot. */
export async function inspectOnnx(file: string): Promise<{ inputs: TensorSpec[]; outputs: TensorSpec[] }> {
  const ort = await import('onnxruntime-node');
  let session;
  try {
    session = await ort.InferenceSession.create(file, { logSeverityLevel: 3 });
  } catch (error) {
    throw new TrendflowError('model_load_failed', `onnxruntime cannot load this file as an ONNX model: ${(error as Error).message}`, {
      path: file,
      cause: error,
    });
  }
  try {
    const withMeta = session as unknown as { inputMetadata?: readonly unknown[]; outputMetadata?: readonly unknown[] };
    return {
      inputs: tensorSpecs(withMeta.inputMetadata ?? [], session.inputNames),
      outputs: tensorSpecs(withMeta.outputMetadata ?? [], session.outputNames),
    };
  } finally {
    await session.release().catch(() => undefined);
  }
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Copies `source` to `target` through `target.part` (hashing what is written), fsyncs and renames it into place. */
async function copyHashed(source: string, target: string): Promise<{ sha256: string; bytes: number }> {
  const part = `${target}${PART_SUFFIX}`;
  const hash = createHash('sha256');
  let bytes = 0;
  const handle = await fs.open(part, 'w');
  try {
    for await (const chunk of createReadStream(source, { highWaterMark: 1024 * 1024 })) {
      const buffer = chunk as Buffer;
      hash.update(buffer);
      bytes += buffer.length;
      let offset = 0;
      while (offset < buffer.length) offset += (await handle.write(buffer, offset, buffer.length - offset)).bytesWritten;
    }
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.rm(part, { force: true });
    throw new TrendflowError('store_io_failed', `cannot copy the model into the models dir: ${(error as Error).message}`, { path: target, cause: error });
  }
  await handle.close();
  await fs.rename(part, target);
  return { sha256: hash.digest('hex'), bytes };
}

function definedOnly<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function fileNameFor(source: string): string {
  const base = path.basename(source).replace(/[^A-Za-z0-9._+-]/g, '_').replace(/^[._+-]+/, '');
  const name = base === '' ? 'model.onnx' : base;
  return new RegExp(FILE_NAME_PATTERN).test(name) && !name.endsWith(PART_SUFFIX) ? name : 'model.onnx';
}

/**
 * Registers a local ONNX file under `opts.id`. Refuses ids of built-in models and, for an id already added
 * locally, a file with other content (adding the same file again is a no-op). Throws `invalid_argument`,
 * `file_read_failed` (no such FILE) or `model_load_failed` (not an ONNX model onnxruntime can open).
 */
export async function addModel(registry: ModelRegistry, modelsDir: string, file: string, opts: AddModelOptions): Promise<AddModelResult> {
  const id = opts.id;
  if (!new RegExp(MODEL_ID_PATTERN).test(id)) {
    throw new TrendflowError('invalid_argument', `model id ${JSON.stringify(id)} is not valid: use lower case letters, digits, '.', '_' and '-'`);
  }
  const source = path.resolve(file);
  const stat = await fs.stat(source).catch(() => null);
  if (!stat?.isFile()) throw new TrendflowError('file_read_failed', 'no such file', { path: source });

  const localFile = localRegistryPath(modelsDir);
  const existing = registry.has(id) ? registry.get(id) : null;
  if (existing?.source === 'builtin') {
    throw new TrendflowError('invalid_argument', `${id} is a built-in model id: choose another id for a local model`);
  }
  const fileName = fileNameFor(source);
  if (existing) {
    const sha256 = await sha256Of(source);
    const same = existing.files.length === 1 && existing.files[0]!.name === fileName && existing.files[0]!.sha256 === sha256;
    if (!same) {
      throw new TrendflowError('invalid_argument', `model ${id} was already added with another file: choose another id`, { path: localFile });
    }
    const target = modelFilePath(modelsDir, id, fileName);
    if (!existsSync(target)) await copyHashed(source, target).then((copied) => writeStamp(target, copied.sha256));
    const { id: _id, source: _source, companions, files, ...rest } = existing;
    const spec: ModelSpec = { ...rest, companions, files: files.map(({ pinned_by: _pinned, ...spec }) => spec) };
    return { id, status: 'unchanged', path: target, sha256, bytes: stat.size, spec, localRegistryFile: localFile };
  }

  // check the fields given by the user before copying anything
  const given = { ...PROBE, ...definedOnly({ model_name: opts.name, model_version: opts.version, license: opts.license, task: opts.task }) };
  const fieldProblems = validateRegistryJson({ registry_version: 1, models: { [id]: given } });
  if (fieldProblems.length > 0) {
    throw new TrendflowError(
      'invalid_argument',
      `cannot add model ${id}: ${fieldProblems.join('; ')} (the version must be pinned: a commit, a tag or a semver, not latest/main)`,
    );
  }
  const contract = await inspectOnnx(source);
  const target = modelFilePath(modelsDir, id, fileName);
  await fs.mkdir(path.dirname(target), { recursive: true });
  const copied = await copyHashed(source, target);
  await writeStamp(target, copied.sha256);

  const spec: ModelSpec = {
    model_name: opts.name ?? id,
    model_version: opts.version ?? `sha256-${copied.sha256.slice(0, 12)}`,
    license: opts.license ?? 'unknown',
    task: opts.task ?? 'custom',
    engine: 'onnx',
    description: opts.description ?? `added with \`trendflow models add\` from ${source}`,
    files: [{ name: fileName, url: null, sha256: copied.sha256, bytes: copied.bytes, digest_source: 'sha256 of the file copied by models add' }],
    inputs: contract.inputs,
    outputs: contract.outputs,
    preprocessing: null,
  };
  const current: RegistryFile = existsSync(localFile) ? await readRegistryFile(localFile, 'local') : { registry_version: 1, models: {} };
  const next: RegistryFile = { $comment: LOCAL_COMMENT, registry_version: 1, models: { ...current.models, [id]: spec } };
  const problems = validateRegistryJson(next);
  if (problems.length > 0) throw new TrendflowError('invalid_argument', `cannot add model ${id}: ${problems.join('; ')}`);
  await writeFileAtomic(localFile, `${JSON.stringify(next, null, 2)}\n`);
  return { id, status: 'added', path: target, sha256: copied.sha256, bytes: copied.bytes, spec, localRegistryFile: localFile };
}
