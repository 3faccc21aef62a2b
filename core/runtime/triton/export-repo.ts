/**
 * `trendflow triton export-repo DIR`: a Triton model repository made from the model registry's ONNX models.
 *
 *   DIR/<triton_name>/config.pbtxt               platform onnxruntime_onnx, inputs/outputs, batching, instance group
 *   DIR/<triton_name>/<version>/model.onnx       a hard link to the verified file in the models dir (or a copy)
 *
 * The Triton name defaults to the registry id (a valid Triton model name; registry model_names hold a '/'), the
 * version to 1 (Triton versions are integers; the registry's model_version is a pinned upstream revision and goes
 * into a comment of config.pbtxt). Other version folders already in DIR are kept, and `version_policy: { all { } }`
 * serves them side by side (seed 003 Q9: old and new versions in parallel, the mapping picks one).
 *
 * This module needs only the fields below of a registry entry and a function that finds a verified model file, so
 * it does not depend on how the registry is loaded; the CLI passes `loadRegistry` + `locateModelFile`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { TrendflowError } from '../../contracts/errors.js';

/** The part of a registry tensor description export-repo reads. */
export interface ExportTensorSpec {
  name: string;
  /** onnxruntime's element type (float32, int64, …); KServe names (FP32, INT64, …) are accepted too. */
  dtype: string;
  /** A number for a fixed size, a name (or -1/null) for a variable one. */
  shape: (number | string | null)[];
}

/** The part of a registry entry export-repo reads (core/runtime/registry's ModelEntry fits it). */
export interface ExportModelEntry {
  id: string;
  model_name: string;
  model_version: string;
  engine?: string;
  files: { name: string; sha256?: string | null; inputs?: ExportTensorSpec[]; outputs?: ExportTensorSpec[] }[];
  inputs: ExportTensorSpec[];
  outputs: ExportTensorSpec[];
}

export interface LocatedFile {
  path: string;
  sha256: string;
  bytes: number;
}

export interface ExportRepoOptions {
  /** Registry ids to export (default: every ONNX model of `entries`). */
  ids?: string[];
  /** Triton model name per registry id (default: the id). */
  names?: Record<string, string>;
  /** The Triton version folder (a positive integer; default 1). */
  version?: number;
  /** max_batch_size for models whose first dimension is variable on every input and output (default 16). */
  maxBatchSize?: number;
  /** instance_group kind (default gpu: KIND_GPU). */
  kind?: 'gpu' | 'cpu';
  /** Instances per device (default 1). */
  instanceCount?: number;
  /** hardlink (default; falls back to a copy across file systems or where linking is refused) or copy. */
  link?: 'hardlink' | 'copy';
  /**
   * Finds the verified main file of a model. Default: `<modelsDir>/<id>/<file>`, hashed and compared with the
   * entry's sha256 when it has one (model_not_found if missing, model_digest_mismatch if different).
   */
  locate?: (entry: ExportModelEntry, fileName: string) => Promise<LocatedFile>;
}

export interface ExportedModel {
  id: string;
  tritonName: string;
  version: number;
  /** DIR/<name>/<version>/model.onnx */
  modelPath: string;
  configPath: string;
  /** How model.onnx got there; `unchanged` when the same file was already in place. */
  placed: 'hardlink' | 'copy' | 'unchanged';
  maxBatchSize: number;
  sha256: string;
}

export interface ExportRepoResult {
  outDir: string;
  models: ExportedModel[];
  /** Models not exported and why (not ONNX), when no ids were asked for. */
  skipped: { id: string; reason: string }[];
}

const TRITON_TYPES: Record<string, string> = {
  float32: 'TYPE_FP32',
  float: 'TYPE_FP32',
  float16: 'TYPE_FP16',
  float64: 'TYPE_FP64',
  double: 'TYPE_FP64',
  int8: 'TYPE_INT8',
  int16: 'TYPE_INT16',
  int32: 'TYPE_INT32',
  int64: 'TYPE_INT64',
  uint8: 'TYPE_UINT8',
  uint16: 'TYPE_UINT16',
  uint32: 'TYPE_UINT32',
  uint64: 'TYPE_UINT64',
  bool: 'TYPE_BOOL',
  string: 'TYPE_STRING',
  fp32: 'TYPE_FP32',
  fp16: 'TYPE_FP16',
  fp64: 'TYPE_FP64',
  bytes: 'TYPE_STRING',
};

/** onnxruntime (or KServe) element type → Triton's model-config data_type. */
export function tritonDataType(dtype: string): string {
  const found = TRITON_TYPES[dtype.toLowerCase()];
  if (!found) throw new TrendflowError('invalid_argument', `no Triton data type for element type ${JSON.stringify(dtype)}`);
  return found;
}

const TRITON_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

function isVariable(dim: number | string | null): boolean {
  return typeof dim === 'string' || dim === null || dim < 0;
}

function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export interface ModelConfigInput {
  name: string;
  inputs: ExportTensorSpec[];
  outputs: ExportTensorSpec[];
  /** Used when the model batches (variable first dimension everywhere); 0 forces a non-batching config. */
  maxBatchSize: number;
  kind: 'gpu' | 'cpu';
  instanceCount: number;
  /** Comment lines written at the top (provenance). */
  comments?: string[];
}

/** Whether every input and output has a variable first dimension, so Triton can batch along it. */
export function isBatching(inputs: ExportTensorSpec[], outputs: ExportTensorSpec[]): boolean {
  const all = [...inputs, ...outputs];
  return all.length > 0 && all.every((tensor) => tensor.shape.length > 0 && isVariable(tensor.shape[0]!));
}

/**
 * config.pbtxt for an ONNX model (protobuf text format of Triton's ModelConfig). A batching model gets
 * max_batch_size and dims without the batch dimension plus `dynamic_batching { }`; any other gets
 * max_batch_size 0 and full dims. Variable dimensions are -1.
 */
export function modelConfigText(config: ModelConfigInput): string {
  const batching = config.maxBatchSize > 0 && isBatching(config.inputs, config.outputs);
  const tensors = (items: ExportTensorSpec[]): string[] => {
    const lines: string[] = [];
    items.forEach((item, index) => {
      const dims = (batching ? item.shape.slice(1) : item.shape).map((dim) => (isVariable(dim) ? -1 : Number(dim)));
      lines.push('  {');
      lines.push(`    name: ${quote(item.name)}`);
      lines.push(`    data_type: ${tritonDataType(item.dtype)}`);
      if (dims.length === 0) {
        // Triton needs at least one dim: a per-item scalar is [1] reshaped to []
        lines.push('    dims: [ 1 ]');
        lines.push('    reshape: { shape: [ ] }');
      } else {
        lines.push(`    dims: [ ${dims.join(', ')} ]`);
      }
      lines.push(index === items.length - 1 ? '  }' : '  },');
    });
    return lines;
  };
  const lines = [
    ...(config.comments ?? []).map((comment) => `# ${comment}`),
    `name: ${quote(config.name)}`,
    'platform: "onnxruntime_onnx"',
    `max_batch_size: ${batching ? config.maxBatchSize : 0}`,
    'version_policy: { all { } }',
    'input [',
    ...tensors(config.inputs),
    ']',
    'output [',
    ...tensors(config.outputs),
    ']',
    'instance_group [',
    '  {',
    `    count: ${config.instanceCount}`,
    `    kind: ${config.kind === 'gpu' ? 'KIND_GPU' : 'KIND_CPU'}`,
    '  }',
    ']',
  ];
  if (batching) lines.push('dynamic_batching { }');
  return `${lines.join('\n')}\n`;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The default locator: `<modelsDir>/<id>/<file>`, checked against the entry's sha256 when it has one. */
export function locateInModelsDir(modelsDir: string): (entry: ExportModelEntry, fileName: string) => Promise<LocatedFile> {
  return async (entry, fileName) => {
    const file = path.join(modelsDir, entry.id, fileName);
    const stat = await fs.stat(file).catch(() => null);
    if (!stat?.isFile()) {
      throw new TrendflowError('model_not_found', `model ${entry.id}: ${file} is missing; run \`npx trendflow models fetch ${entry.id}\``, { path: file });
    }
    const sha256 = await sha256File(file);
    const expected = entry.files.find((candidate) => candidate.name === fileName)?.sha256;
    if (expected && expected.toLowerCase() !== sha256) {
      throw new TrendflowError('model_digest_mismatch', `model ${entry.id}: ${file} has sha256 ${sha256}, the registry says ${expected}`, { path: file });
    }
    return { path: file, sha256, bytes: stat.size };
  };
}

/** Puts `source` at `target`: a hard link (or a copy), through a temporary name and a rename. */
async function placeFile(source: LocatedFile, target: string, link: 'hardlink' | 'copy'): Promise<ExportedModel['placed']> {
  const [sourceStat, targetStat] = await Promise.all([fs.stat(source.path), fs.stat(target).catch(() => null)]);
  if (targetStat) {
    if (targetStat.ino === sourceStat.ino && targetStat.dev === sourceStat.dev) return 'unchanged';
    if (targetStat.size === source.bytes && (await sha256File(target)) === source.sha256) return 'unchanged';
  }
  const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  let placed: 'hardlink' | 'copy' = 'copy';
  try {
    if (link === 'hardlink') {
      try {
        await fs.link(source.path, temporary);
        placed = 'hardlink';
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // another file system, a file system without links, or a protected file: copy instead
        if (!['EXDEV', 'EPERM', 'EACCES', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK'].includes(code ?? '')) throw error;
      }
    }
    if (placed === 'copy') {
      await fs.copyFile(source.path, temporary);
      await fs.chmod(temporary, 0o644);
    }
    await fs.rename(temporary, target);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
  return placed;
}

/**
 * Writes a Triton model repository for registry entries into `outDir`. Every model file is located and verified
 * before anything is written, so a missing or corrupt model leaves the repository as it was.
 */
export async function exportTritonRepo(
  entries: readonly ExportModelEntry[],
  modelsDir: string,
  outDir: string,
  options: ExportRepoOptions = {},
): Promise<ExportRepoResult> {
  const version = options.version ?? 1;
  if (!Number.isSafeInteger(version) || version < 1) throw new TrendflowError('invalid_argument', `Triton model version must be a positive integer, got ${version}`);
  const maxBatchSize = options.maxBatchSize ?? 16;
  if (!Number.isSafeInteger(maxBatchSize) || maxBatchSize < 0) throw new TrendflowError('invalid_argument', `max batch size must be a non-negative integer, got ${maxBatchSize}`);
  const instanceCount = options.instanceCount ?? 1;
  if (!Number.isSafeInteger(instanceCount) || instanceCount < 1) throw new TrendflowError('invalid_argument', `instance count must be a positive integer, got ${instanceCount}`);
  const kind = options.kind ?? 'gpu';
  const locate = options.locate ?? locateInModelsDir(modelsDir);
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  const isOnnx = (entry: ExportModelEntry): boolean =>
    (entry.engine === undefined || entry.engine === 'onnx') && entry.files.length > 0 && entry.files[0]!.name.toLowerCase().endsWith('.onnx');

  const skipped: ExportRepoResult['skipped'] = [];
  let chosen: ExportModelEntry[];
  if (options.ids && options.ids.length > 0) {
    chosen = options.ids.map((id) => {
      const entry = byId.get(id);
      if (!entry) throw new TrendflowError('model_unknown', `no model ${JSON.stringify(id)} in the registry; known models: ${[...byId.keys()].join(', ')}`);
      if (!isOnnx(entry)) throw new TrendflowError('invalid_argument', `model ${id} is not an ONNX model (engine ${entry.engine ?? 'unknown'}); Triton serves ONNX models only`);
      return entry;
    });
  } else {
    chosen = entries.filter((entry) => {
      if (isOnnx(entry)) return true;
      skipped.push({ id: entry.id, reason: `engine ${entry.engine ?? 'unknown'} is not served by Triton` });
      return false;
    });
  }
  if (chosen.length === 0) throw new TrendflowError('invalid_argument', 'no ONNX models to export');

  const names = new Map<string, string>();
  for (const entry of chosen) {
    const name = options.names?.[entry.id] ?? entry.id;
    if (!TRITON_NAME.test(name)) throw new TrendflowError('invalid_argument', `Triton model name ${JSON.stringify(name)} (for ${entry.id}) must match ${TRITON_NAME.source}`);
    const clash = [...names.entries()].find(([, other]) => other === name);
    if (clash) throw new TrendflowError('invalid_argument', `models ${clash[0]} and ${entry.id} would both be Triton model ${name}`);
    names.set(entry.id, name);
  }

  // locate and verify everything first, and build every config, before writing
  const plans = [];
  for (const entry of chosen) {
    const main = entry.files[0]!;
    const inputs = main.inputs ?? entry.inputs;
    const outputs = main.outputs ?? entry.outputs;
    if (inputs.length === 0 || outputs.length === 0) throw new TrendflowError('invalid_argument', `model ${entry.id} does not describe its inputs and outputs in the registry`);
    const located = await locate(entry, main.name);
    const tritonName = names.get(entry.id)!;
    const config = modelConfigText({
      name: tritonName,
      inputs,
      outputs,
      maxBatchSize,
      kind,
      instanceCount,
      comments: [
        'Written by `trendflow triton export-repo` from the TrendFlow model registry.',
        `registry id: ${entry.id}; model_name: ${entry.model_name}; model_version: ${entry.model_version}`,
        `${main.name} sha256: ${located.sha256} (${located.bytes} bytes) -> ${version}/model.onnx`,
      ],
    });
    plans.push({ entry, tritonName, located, config, batching: maxBatchSize > 0 && isBatching(inputs, outputs) });
  }

  const models: ExportedModel[] = [];
  for (const plan of plans) {
    const modelDir = path.join(outDir, plan.tritonName);
    const versionDir = path.join(modelDir, String(version));
    await fs.mkdir(versionDir, { recursive: true });
    const modelPath = path.join(versionDir, 'model.onnx');
    const placed = await placeFile(plan.located, modelPath, options.link ?? 'hardlink');
    const configPath = path.join(modelDir, 'config.pbtxt');
    const temporary = `${configPath}.${randomBytes(6).toString('hex')}.tmp`;
    await fs.writeFile(temporary, plan.config, 'utf8');
    await fs.rename(temporary, configPath);
    models.push({
      id: plan.entry.id,
      tritonName: plan.tritonName,
      version,
      modelPath,
      configPath,
      placed,
      maxBatchSize: plan.batching ? maxBatchSize : 0,
      sha256: plan.located.sha256,
    });
  }
  return { outDir, models, skipped };
}
