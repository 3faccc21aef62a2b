/**
 * Loading the model registry: the built-in models/registry.json, merged with the models added locally
 * (`<modelsDir>/local-registry.json`) and with the digests that `--allow-unpinned` fetches recorded for unpinned
 * files (`<modelsDir>/models.lock.json`).
 */
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrendflowError } from '../../contracts/errors.js';
import { readLockFile } from './lockfile.js';
import { localRegistryPath, lockFilePath, resolveModelsDir } from './paths.js';
import { validateRegistryJson } from './schema.js';
import type { LockFile, ModelEntry, ModelFile, ModelSpec, RegistryFile, TensorSpec } from './types.js';

let builtinPath: string | undefined;

/**
 * models/registry.json of this package. This module runs from core/runtime/registry/ (sources, vitest) and from
 * dist/core/runtime/registry/ (built CLI), so the package root is three or four levels up: the one whose
 * package.json is trendflow-workstation's.
 */
export function builtinRegistryPath(): string {
  if (builtinPath) return builtinPath;
  for (const up of ['../../../', '../../../../']) {
    const root = fileURLToPath(new URL(up, import.meta.url));
    try {
      const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { name?: string };
      const file = path.join(root, 'models', 'registry.json');
      if (pkg.name === 'trendflow-workstation' && existsSync(file)) {
        builtinPath = file;
        return file;
      }
    } catch {
      // no package.json at this depth; try the next
    }
  }
  throw new TrendflowError('model_registry_invalid', 'models/registry.json of trendflow-workstation was not found');
}

export interface LoadRegistryOptions {
  /** The models dir whose local-registry.json and models.lock.json are merged in (default: resolveModelsDir()). */
  modelsDir?: string;
  /** A registry file to use instead of the built-in models/registry.json. */
  registryFile?: string;
}

/** The loaded registry: every model by id, built-in first, then the local ones. */
export class ModelRegistry {
  readonly #entries: Map<string, ModelEntry>;

  constructor(
    entries: Iterable<ModelEntry>,
    /** The files it was loaded from, for messages. */
    readonly sources: { registryFile: string; modelsDir: string; localRegistryFile: string | null; lockFile: string | null },
  ) {
    this.#entries = new Map([...entries].map((entry) => [entry.id, entry]));
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** The entry for `id`; an unknown id throws `model_unknown` listing the known ones. */
  get(id: string): ModelEntry {
    const entry = this.#entries.get(id);
    if (!entry) {
      throw new TrendflowError('model_unknown', `no model ${JSON.stringify(id)} in the registry; known models: ${this.ids().join(', ')}`);
    }
    return entry;
  }

  list(): ModelEntry[] {
    return [...this.#entries.values()];
  }

  ids(): string[] {
    return [...this.#entries.keys()];
  }
}

/** One file of a model: the named one, or the main (first) file. Unknown names throw `model_unknown`. */
export function modelFile(entry: ModelEntry, fileName?: string): ModelFile {
  if (fileName === undefined) return entry.files[0]!;
  const file = entry.files.find((candidate) => candidate.name === fileName);
  if (!file) {
    throw new TrendflowError(
      'model_unknown',
      `model ${entry.id} has no file ${JSON.stringify(fileName)}; its files: ${entry.files.map((f) => f.name).join(', ')}`,
    );
  }
  return file;
}

/** Inputs and outputs of one file: its own when the registry gives them, else the model's. */
export function fileContract(entry: ModelEntry, fileName?: string): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
  const file = modelFile(entry, fileName);
  return { inputs: file.inputs ?? entry.inputs, outputs: file.outputs ?? entry.outputs };
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new TrendflowError('model_registry_invalid', `cannot read registry file: ${(error as Error).message}`, { path: file, cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TrendflowError('model_registry_invalid', `not valid JSON: ${(error as Error).message}`, { path: file, cause: error });
  }
}

/** Reads and validates one registry file (built-in or local); throws `model_registry_invalid` naming every problem. */
export async function readRegistryFile(file: string, kind: 'builtin' | 'local'): Promise<RegistryFile> {
  const json = await readJson(file);
  const problems = validateRegistryJson(json);
  if (problems.length === 0) problems.push(...semanticProblems(json as RegistryFile, kind));
  if (problems.length > 0) {
    throw new TrendflowError('model_registry_invalid', `invalid model registry: ${problems.join('; ')}`, { path: file });
  }
  return json as RegistryFile;
}

/** What JSON Schema cannot check inside one file. */
function semanticProblems(registry: RegistryFile, kind: 'builtin' | 'local'): string[] {
  const problems: string[] = [];
  for (const [id, spec] of Object.entries(registry.models)) {
    const at = `/models/${id}`;
    const names = spec.files.map((file) => file.name);
    const dup = names.find((name, index) => names.indexOf(name) !== index);
    if (dup) problems.push(`${at}/files names ${dup} twice`);
    spec.files.forEach((file, index) => {
      if (file.url === null && kind === 'builtin') problems.push(`${at}/files/${index} has no url (only models added locally may)`);
      if (file.url === null && file.sha256 === null) problems.push(`${at}/files/${index} has neither a url nor a sha256`);
      if (file.name.endsWith('.part') || file.name.endsWith('.lock')) problems.push(`${at}/files/${index} name must not end in .part or .lock`);
    });
    if (spec.engine === 'onnx') {
      const everyFileHasOwn = spec.files.every((file) => file.inputs && file.outputs);
      if (!everyFileHasOwn && (spec.inputs.length === 0 || spec.outputs.length === 0)) {
        problems.push(`${at} is an onnx model, so it must describe its inputs and outputs`);
      }
    } else if (spec.inputs.length > 0 || spec.outputs.length > 0) {
      problems.push(`${at} has engine ${spec.engine}: inputs and outputs must be empty`);
    }
    if (spec.companions?.includes(id)) problems.push(`${at}/companions names the model itself`);
  }
  return problems;
}

function toEntry(id: string, spec: ModelSpec, source: 'builtin' | 'local', lock: LockFile | null): ModelEntry {
  const files: ModelFile[] = spec.files.map((file) => {
    if (file.sha256 !== null) return { ...file, pinned_by: 'registry' };
    const record = lock?.models[id]?.[file.name];
    // a record applies only to the version and URL it was made for: a registry update makes the file unpinned again
    if (record && record.model_version === spec.model_version && record.url === file.url) {
      return { ...file, sha256: record.sha256, bytes: record.bytes, pinned_by: 'lock' };
    }
    return { ...file, pinned_by: null };
  });
  return { ...spec, id, source, files, companions: spec.companions ?? [] };
}

/**
 * Loads the registry: the built-in models/registry.json (or `registryFile`), the models dir's local-registry.json
 * (models added with `models add`) and its models.lock.json (digests recorded for unpinned files). Every file is
 * validated; any problem throws `model_registry_invalid` naming the file.
 */
export async function loadRegistry(opts: LoadRegistryOptions = {}): Promise<ModelRegistry> {
  const registryFile = path.resolve(opts.registryFile ?? builtinRegistryPath());
  const modelsDir = resolveModelsDir(opts.modelsDir === undefined ? {} : { modelsDir: opts.modelsDir });
  const builtin = await readRegistryFile(registryFile, 'builtin');

  const localFile = localRegistryPath(modelsDir);
  const local = existsSync(localFile) ? await readRegistryFile(localFile, 'local') : null;
  const lockFile = lockFilePath(modelsDir);
  const lock = await readLockFile(modelsDir);

  const entries: ModelEntry[] = Object.entries(builtin.models).map(([id, spec]) => toEntry(id, spec, 'builtin', lock));
  if (local) {
    for (const [id, spec] of Object.entries(local.models)) {
      if (builtin.models[id]) {
        throw new TrendflowError(
          'model_registry_invalid',
          `model ${id} added locally clashes with the built-in model of the same id: remove it from this file`,
          { path: localFile },
        );
      }
      entries.push(toEntry(id, spec, 'local', lock));
    }
  }
  const ids = new Set(entries.map((entry) => entry.id));
  const dangling = entries.flatMap((entry) => entry.companions.filter((companion) => !ids.has(companion)).map((c) => `${entry.id} → ${c}`));
  if (dangling.length > 0) {
    throw new TrendflowError('model_registry_invalid', `invalid model registry: unknown companion models (${dangling.join(', ')})`, {
      path: registryFile,
    });
  }
  return new ModelRegistry(entries, {
    registryFile,
    modelsDir,
    localRegistryFile: local ? localFile : null,
    lockFile: lock ? lockFile : null,
  });
}
