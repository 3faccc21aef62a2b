/**
 * `trendflow models list|fetch|verify|add`: the model registry (models/registry.json) and the models dir
 * (`--models-dir` / TRENDFLOW_MODELS_DIR / the per-user default). See core/runtime/registry/README.md.
 */
import { existsSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { isTrendflowError, TrendflowError, type ErrorCode } from '../../contracts/errors.js';
import {
  addModel,
  fetchModel,
  loadRegistry,
  modelFilePath,
  resolveModelsDir,
  verifyModels,
  type FetchResult,
  type ModelEntry,
  type ModelRegistry,
} from '../../runtime/registry/index.js';
import { DownloadProgress, formatBytes } from './models-progress.js';

interface CommonOptions {
  modelsDir?: string;
  registry?: string;
  json?: boolean;
}

async function open(options: CommonOptions): Promise<{ registry: ModelRegistry; modelsDir: string }> {
  const modelsDir = resolveModelsDir(options.modelsDir === undefined ? {} : { modelsDir: options.modelsDir });
  const registry = await loadRegistry({ modelsDir, ...(options.registry === undefined ? {} : { registryFile: options.registry }) });
  return { registry, modelsDir };
}

function common(command: Command): Command {
  return command
    .option('--models-dir <dir>', 'models folder (default: $TRENDFLOW_MODELS_DIR, else the per-user data folder + trendflow/models)')
    .option('--registry <file>', 'a registry file to use instead of the built-in models/registry.json');
}

/** `trendflow: <input>: <code>: <message>` for a failure that does not stop the other inputs. */
function reportFailure(input: string, error: unknown): void {
  if (isTrendflowError(error)) process.stderr.write(`trendflow: ${input}: ${error.code}: ${error.message}\n`);
  else process.stderr.write(`trendflow: ${input}: internal_error: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
}

/** `model_unknown` naming the id as the input. */
function knownId(registry: ModelRegistry, id: string): void {
  try {
    registry.get(id);
  } catch (error) {
    if (isTrendflowError(error)) throw new TrendflowError(error.code, error.message, { path: id });
    throw error;
  }
}

function installState(entry: ModelEntry, modelsDir: string): 'installed' | 'partial' | 'missing' {
  const present = entry.files.filter((file) => existsSync(modelFilePath(modelsDir, entry.id, file.name))).length;
  return present === entry.files.length ? 'installed' : present > 0 ? 'partial' : 'missing';
}

function totalBytes(entry: ModelEntry): number | null {
  return entry.files.every((file) => file.bytes !== null) ? entry.files.reduce((sum, file) => sum + file.bytes!, 0) : null;
}

function pinState(entry: ModelEntry): string {
  const pins = new Set(entry.files.map((file) => file.pinned_by ?? 'unpinned'));
  return pins.size === 1 ? [...pins][0]! : [...pins].join('+');
}

function registerList(models: Command): void {
  common(models.command('list'))
    .description('list the registry: id, task, engine, size, licence, pin and whether it is in the models dir')
    .option('--json', 'print one JSON object: {models_dir, registry, models: [...]}')
    .action(async (options: CommonOptions) => {
      const { registry, modelsDir } = await open(options);
      const entries = registry.list();
      if (options.json) {
        const out = {
          models_dir: modelsDir,
          registry: registry.sources,
          models: entries.map((entry) => ({
            ...entry,
            installed: installState(entry, modelsDir),
            files: entry.files.map((file) => ({ ...file, path: modelFilePath(modelsDir, entry.id, file.name), present: existsSync(modelFilePath(modelsDir, entry.id, file.name)) })),
          })),
        };
        process.stdout.write(`${JSON.stringify(out)}\n`);
        return;
      }
      const rows = entries.map((entry) => [
        entry.id,
        entry.task,
        entry.engine,
        totalBytes(entry) === null ? '?' : formatBytes(totalBytes(entry)!),
        entry.license,
        pinState(entry),
        installState(entry, modelsDir),
        `${entry.model_name}@${entry.model_version.length > 12 ? entry.model_version.slice(0, 12) : entry.model_version}`,
      ]);
      const header = ['ID', 'TASK', 'ENGINE', 'SIZE', 'LICENSE', 'PIN', 'STATE', 'SOURCE'];
      const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
      const line = (cells: string[]): string => cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ');
      process.stdout.write(`models dir: ${modelsDir}\n${line(header)}\n${rows.map(line).join('\n')}\n`);
    });
}

interface FetchOptions extends CommonOptions {
  all?: boolean;
  allowUnpinned?: boolean;
}

function registerFetch(models: Command): void {
  common(models.command('fetch'))
    .description('download models into the models dir: resumable, sha256-checked (files already verified are kept)')
    .argument('[ids...]', 'model ids (see `trendflow models list`)')
    .option('--all', 'fetch every model of the registry')
    .option('--allow-unpinned', 'download files the registry does not pin, and record their sha256 in models.lock.json')
    .option('--json', 'print one JSON object per model on stdout')
    .action(async (ids: string[], options: FetchOptions, command: Command) => {
      if (ids.length === 0 && !options.all) command.error('error: give model ids, or --all (see `trendflow models list`)', { exitCode: 2, code: 'trendflow.usage' });
      if (ids.length > 0 && options.all) command.error('error: give model ids or --all, not both', { exitCode: 2, code: 'trendflow.usage' });
      const { registry, modelsDir } = await open(options);
      const wanted = options.all ? registry.list().filter((entry) => entry.files.some((file) => file.url !== null)).map((entry) => entry.id) : ids;
      const progress = new DownloadProgress(process.stderr);
      const controller = new AbortController();
      const stop = (): void => controller.abort();
      process.once('SIGINT', stop);
      try {
        for (const id of wanted) {
          let result: FetchResult;
          try {
            result = await fetchModel(registry, modelsDir, id, { allowUnpinned: Boolean(options.allowUnpinned), onProgress: progress.onProgress, signal: controller.signal });
          } catch (error) {
            reportFailure(id, error);
            if (controller.signal.aborted) break;
            continue;
          }
          if (options.json) {
            process.stdout.write(`${JSON.stringify({ models_dir: modelsDir, ...result })}\n`);
            continue;
          }
          for (const file of result.files) {
            const how = file.status === 'present' ? 'already present' : file.status === 'recorded' ? 'recorded in the lock file' : file.resumed ? 'downloaded (resumed)' : 'downloaded';
            const pin = file.pinned_by === 'lock' ? ', pinned by models.lock.json' : '';
            process.stdout.write(`OK ${id}/${file.name}: ${how}, ${formatBytes(file.bytes)}, sha256 ${file.sha256}${pin}\n`);
          }
        }
      } finally {
        process.removeListener('SIGINT', stop);
      }
    });
}

interface VerifyOptions extends CommonOptions {
  rehash?: boolean;
}

const STATUS_CODE: Record<'missing' | 'mismatch' | 'unpinned', ErrorCode> = {
  missing: 'model_not_found',
  mismatch: 'model_digest_mismatch',
  unpinned: 'model_unpinned',
};

function registerVerify(models: Command): void {
  common(models.command('verify'))
    .description('check model files against the registry (or lock file) sha256; with no ids, every model in the models dir')
    .argument('[ids...]', 'model ids (default: every model that has files in the models dir)')
    .option('--rehash', 'hash every file again instead of trusting verification stamps')
    .option('--json', 'print one JSON object per model on stdout')
    .action(async (ids: string[], options: VerifyOptions) => {
      const { registry, modelsDir } = await open(options);
      for (const id of ids) knownId(registry, id);
      const results = await verifyModels(registry, modelsDir, ids, { rehash: Boolean(options.rehash) });
      const explicit = ids.length > 0;
      let checked = 0;
      for (const result of results) {
        if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        // without ids, models that are not in the models dir are not failures
        if (!result.installed && !explicit) continue;
        checked++;
        for (const file of result.files) {
          if (file.status === 'ok') {
            if (!options.json) process.stdout.write(`OK ${result.id}/${file.file}: sha256 ${file.sha256}\n`);
          } else {
            process.stderr.write(`trendflow: ${file.path}: ${STATUS_CODE[file.status]}: ${file.message}\n`);
            process.exitCode = 1;
          }
        }
      }
      if (!options.json && checked === 0) process.stdout.write(`no models in ${modelsDir} (fetch some with \`trendflow models fetch ID\`)\n`);
    });
}

interface AddOptions extends CommonOptions {
  id: string;
  name?: string;
  version?: string;
  license?: string;
  task?: string;
}

function parseId(value: string): string {
  if (!/^[a-z0-9][a-z0-9._-]{0,127}$/.test(value)) throw new InvalidArgumentError("use lower case letters, digits, '.', '_' and '-'");
  return value;
}

function registerAdd(models: Command): void {
  common(models.command('add'))
    .description('register a local ONNX file: copies it into the models dir and records its sha256, size and inputs/outputs')
    .argument('<file>', 'an .onnx file')
    .requiredOption('--id <id>', 'registry id for it (a folder name: lower case, digits, . _ -)', parseId)
    .option('--name <name>', 'model_name recorded in models_used (default: the id)')
    .option('--version <version>', 'pinned model_version (default: sha256- and the first 12 hex digits of the digest)')
    .option('--license <license>', 'licence of the weights (default: unknown)')
    .option('--task <task>', 'what it does, e.g. face_detection (default: custom)')
    .option('--json', 'print the added entry as JSON')
    .action(async (file: string, options: AddOptions) => {
      const { registry, modelsDir } = await open(options);
      let result;
      try {
        result = await addModel(registry, modelsDir, file, {
          id: options.id,
          ...(options.name === undefined ? {} : { name: options.name }),
          ...(options.version === undefined ? {} : { version: options.version }),
          ...(options.license === undefined ? {} : { license: options.license }),
          ...(options.task === undefined ? {} : { task: options.task }),
        });
      } catch (error) {
        if (isTrendflowError(error) && !error.details.path) throw new TrendflowError(error.code, error.message, { ...error.details, path: file });
        throw error;
      }
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }
      const io = (list: { name: string; dtype: string; shape: (number | string)[] }[]): string =>
        list.map((t) => `${t.name} ${t.dtype}[${t.shape.join(',')}]`).join(', ');
      process.stdout.write(
        `${result.status === 'added' ? 'added' : 'already added'} ${result.id}: ${result.path} (${formatBytes(result.bytes)}, sha256 ${result.sha256})\n` +
          `  inputs: ${io(result.spec.inputs)}\n  outputs: ${io(result.spec.outputs)}\n  registered in ${result.localRegistryFile}\n`,
      );
    });
}

/** `trendflow models …`. */
export function registerModelsCommand(program: Command): void {
  const models = program.command('models').description('model registry: list, fetch (resumable, sha256-checked), verify, add local ONNX files');
  registerList(models);
  registerFetch(models);
  registerVerify(models);
  registerAdd(models);
}
