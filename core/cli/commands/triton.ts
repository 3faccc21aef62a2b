/**
 * `trendflow triton export-repo DIR`: a Triton model repository from the model registry's ONNX models.
 * `trendflow triton status`: whether a Triton server (and given models) is ready, with the models' inputs/outputs.
 * See core/runtime/triton/README.md.
 */
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { isTrendflowError, TrendflowError } from '../../contracts/errors.js';
import { loadRegistry, locateModelFile, resolveModelsDir } from '../../runtime/registry/index.js';
import { TritonClient } from '../../runtime/triton/client.js';
import { exportTritonRepo } from '../../runtime/triton/export-repo.js';

export const TRITON_URL_ENV = 'TRENDFLOW_TRITON_URL';
const DEFAULT_TRITON_URL = 'http://127.0.0.1:8000';

interface ExportOptions {
  modelsDir?: string;
  registry?: string;
  models?: string[];
  name: Record<string, string>;
  tritonVersion: number;
  maxBatchSize: number;
  kind: 'gpu' | 'cpu';
  copy?: boolean;
  json?: boolean;
}

interface StatusOptions {
  url?: string;
  model: string[];
  timeout: number;
  json?: boolean;
}

function integer(min: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) < min) throw new InvalidArgumentError(`must be an integer ≥ ${min}`);
    return Number(value);
  };
}

function idList(value: string): string[] {
  const ids = value.split(',').map((id) => id.trim()).filter(Boolean);
  if (ids.length === 0) throw new InvalidArgumentError('give at least one model id, e.g. clip-vit-b32-image,clip-vit-b32-text');
  return ids;
}

function nameOverride(value: string, previous: Record<string, string>): Record<string, string> {
  const match = /^([^=]+)=([^=]+)$/.exec(value);
  if (!match) throw new InvalidArgumentError('use ID=TRITON_NAME, e.g. clip-vit-b32-image=clip_image');
  return { ...previous, [match[1]!.trim()]: match[2]!.trim() };
}

function kind(value: string): 'gpu' | 'cpu' {
  if (value !== 'gpu' && value !== 'cpu') throw new InvalidArgumentError('must be gpu or cpu');
  return value;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function registerExportRepo(triton: Command): void {
  triton
    .command('export-repo')
    .description('write a Triton model repository (<name>/<version>/model.onnx + <name>/config.pbtxt) for the registry\'s ONNX models')
    .argument('<dir>', 'the model repository folder (created if needed; other models and versions in it are kept)')
    .option('--models-dir <dir>', 'models folder (default: $TRENDFLOW_MODELS_DIR, else the per-user data folder + trendflow/models)')
    .option('--registry <file>', 'a registry file to use instead of the built-in models/registry.json')
    .option('--models <ids>', 'comma-separated registry ids (default: every ONNX model of the registry)', idList)
    .option('--name <id=name>', 'Triton model name for a registry id (repeatable; default: the id), e.g. clip-vit-b32-image=clip_image', nameOverride, {})
    .option('--triton-version <n>', 'the version folder to write', integer(1), 1)
    .option('--max-batch-size <n>', 'max_batch_size of models with a variable batch dimension (0: no batching)', integer(0), 16)
    .option('--kind <gpu|cpu>', 'instance_group kind', kind, 'gpu')
    .option('--copy', 'copy model files instead of hard-linking them')
    .option('--json', 'print one JSON object: {out_dir, models: [...], skipped: [...]}')
    .action(async (dir: string, options: ExportOptions) => {
      const modelsDir = resolveModelsDir(options.modelsDir === undefined ? {} : { modelsDir: options.modelsDir });
      const registry = await loadRegistry({ modelsDir, ...(options.registry === undefined ? {} : { registryFile: options.registry }) });
      for (const id of [...(options.models ?? []), ...Object.keys(options.name)]) registry.get(id);
      const outDir = path.resolve(dir);
      const result = await exportTritonRepo(registry.list(), modelsDir, outDir, {
        ...(options.models ? { ids: options.models } : {}),
        names: options.name,
        version: options.tritonVersion,
        maxBatchSize: options.maxBatchSize,
        kind: options.kind,
        link: options.copy ? 'copy' : 'hardlink',
        locate: (entry, fileName) => locateModelFile(registry, modelsDir, entry.id, fileName),
      });
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ out_dir: result.outDir, models_dir: modelsDir, models: result.models, skipped: result.skipped })}\n`);
        return;
      }
      for (const model of result.models) {
        const batching = model.maxBatchSize > 0 ? `max_batch_size ${model.maxBatchSize}` : 'no batching';
        const relative = path.relative(process.cwd(), model.modelPath);
        const shown = relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : model.modelPath;
        process.stdout.write(`${model.id} -> ${shown} (${model.placed}, ${batching})\n`);
      }
      for (const skipped of result.skipped) process.stdout.write(`skipped ${skipped.id}: ${skipped.reason}\n`);
      process.stdout.write(
        `serve it: docker run --gpus all --rm -p8000:8000 -v ${outDir}:/models nvcr.io/nvidia/tritonserver:<yy.mm>-py3 tritonserver --model-repository=/models\n`,
      );
    });
}

function parseModelRef(value: string): { name: string; version?: string } {
  const [name, version] = value.split(':');
  if (!name) throw new TrendflowError('invalid_argument', `--model ${JSON.stringify(value)}: use NAME or NAME:VERSION`);
  return version ? { name, version } : { name };
}

function registerStatus(triton: Command): void {
  triton
    .command('status')
    .description('check that a Triton server is live and ready, and that the given models are ready (their inputs and outputs)')
    .option('--url <url>', `Triton HTTP URL (default: $${TRITON_URL_ENV}, else ${DEFAULT_TRITON_URL})`)
    .option('--model <name[:version]>', 'a model to check (repeatable)', collect, [])
    .option('--timeout <ms>', 'connect and request timeout', integer(1), 5000)
    .option('--json', 'print one JSON object')
    .action(async (options: StatusOptions) => {
      const url = options.url ?? process.env[TRITON_URL_ENV] ?? DEFAULT_TRITON_URL;
      const client = new TritonClient({ url, connectTimeoutMs: options.timeout, requestTimeoutMs: options.timeout, retries: 1 });
      try {
        const live = await client.serverLive();
        const ready = live && (await client.serverReady());
        const models: Record<string, unknown>[] = [];
        let failed = !ready;
        for (const ref of options.model.map(parseModelRef)) {
          const label = ref.version ? `${ref.name}:${ref.version}` : ref.name;
          try {
            const metadata = await client.ensureModelReady(ref.name, ref.version);
            models.push({ model: label, ready: true, versions: metadata.versions, inputs: metadata.inputs, outputs: metadata.outputs });
          } catch (error) {
            if (!isTrendflowError(error)) throw error;
            failed = true;
            models.push({ model: label, ready: false, error_code: error.code, message: error.message });
          }
        }
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ url: client.url, live, ready, models })}\n`);
        } else {
          process.stdout.write(`${client.url}: ${live ? 'live' : 'not live'}, ${ready ? 'ready' : 'not ready'}\n`);
          for (const model of models) {
            if (model.ready) {
              const tensors = (items: unknown): string =>
                (items as { name: string; datatype: string; shape: number[] }[]).map((item) => `${item.name} ${item.datatype} [${item.shape.join(',')}]`).join(', ');
              process.stdout.write(`${String(model.model)}: ready; inputs ${tensors(model.inputs)}; outputs ${tensors(model.outputs)}\n`);
            } else {
              process.stdout.write(`${String(model.model)}: ${String(model.error_code)}: ${String(model.message)}\n`);
            }
          }
        }
        if (failed) {
          const first = models.find((model) => !model.ready);
          const code = !ready ? 'triton_unavailable' : String(first?.error_code);
          process.stderr.write(`trendflow: ${client.url}: ${code}: ${!ready ? 'the server is not ready' : 'a model is not ready'}\n`);
          process.exitCode = 1;
        }
      } finally {
        client.close();
      }
    });
}

export function registerTritonCommand(program: Command): void {
  const triton = program.command('triton').description('Triton Inference Server: export a model repository, check a server');
  registerExportRepo(triton);
  registerStatus(triton);
}
