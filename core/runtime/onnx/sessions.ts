/**
 * In-process inference on onnxruntime-node (seed 003 Q10–Q14): one session per model file, device and precision,
 * created once and reused by every batch and every component of the process; CPU by default, CUDA only when asked
 * for and installed. Nothing here falls back: a CUDA request on a machine without the CUDA execution provider is
 * an error, never a quiet CPU run (the device is part of model_signature).
 */
import { existsSync, promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { TrendflowError } from '../../contracts/errors.js';

export type OnnxDevice = 'cpu' | 'cuda';
export type OnnxPrecision = 'fp32' | 'fp16';

export interface OnnxSessionOptions {
  device?: OnnxDevice;
  /** CUDA device ordinal (default 0). */
  deviceId?: number;
  /**
   * The precision of the weights in the file (fp16 exports are separate files in the registry). Recorded in
   * models_used; the session does not convert.
   */
  precision?: OnnxPrecision;
  /** Threads inside one operator (default: the machine's available parallelism). */
  intraOpThreads?: number;
  /** Threads across independent operators (default 1: CLIP-like graphs are sequential). */
  interOpThreads?: number;
}

export interface OnnxTensorInfo {
  name: string;
  /** 'float32', 'int64', … (onnxruntime's tensor type names). */
  type: string;
  /** Dimensions; symbolic ones as their names. */
  shape: (number | string)[];
}

/** A loaded model. `run` maps input names to tensors and returns the requested outputs. */
export interface OnnxModel {
  readonly path: string;
  /** `cpu` or `cuda:<n>`, as models_used[].device records it. */
  readonly device: string;
  readonly precision: OnnxPrecision;
  readonly engine: 'onnxruntime';
  readonly inputs: readonly OnnxTensorInfo[];
  readonly outputs: readonly OnnxTensorInfo[];
  run(feeds: Record<string, ort.Tensor>, outputNames?: readonly string[]): Promise<Record<string, ort.Tensor>>;
}

/** The command that installs onnxruntime-node's CUDA execution provider (README, "GPU"). */
export const CUDA_INSTALL_COMMAND = 'ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node';

const require = createRequire(import.meta.url);

/**
 * Whether onnxruntime-node's CUDA provider library is present. The package ships CPU binaries only; its install
 * script fetches the CUDA ones on request (we skip it by default in .npmrc because it needs the network).
 */
export function cudaProviderInstalled(): boolean {
  const packageDir = path.dirname(require.resolve('onnxruntime-node/package.json'));
  const binDir = path.join(packageDir, 'bin', `napi-v6`, process.platform, process.arch);
  const library = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  return existsSync(path.join(binDir, library));
}

// Messages onnxruntime gives when an allocation fails (CPU arena, CUDA allocator, std::bad_alloc).
const OUT_OF_MEMORY = /bad_alloc|Failed to allocate memory|out of memory|CUDNN_STATUS_ALLOC_FAILED|CUBLAS_STATUS_ALLOC_FAILED/i;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function memoryError(device: string, what: string, modelPath: string, error: unknown): TrendflowError {
  const code = device === 'cpu' ? 'insufficient_memory' : 'insufficient_gpu_memory';
  return new TrendflowError(code, `${what} ran out of memory on ${device}: ${describe(error)}`, { path: modelPath, cause: error });
}

class LoadedOnnxModel implements OnnxModel {
  readonly engine = 'onnxruntime' as const;
  readonly inputs: readonly OnnxTensorInfo[];
  readonly outputs: readonly OnnxTensorInfo[];

  constructor(
    readonly path: string,
    readonly device: string,
    readonly precision: OnnxPrecision,
    private readonly session: ort.InferenceSession,
  ) {
    const info = (metadata: readonly ort.InferenceSession.ValueMetadata[]): OnnxTensorInfo[] =>
      metadata.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] }));
    this.inputs = info(session.inputMetadata);
    this.outputs = info(session.outputMetadata);
  }

  async run(feeds: Record<string, ort.Tensor>, outputNames?: readonly string[]): Promise<Record<string, ort.Tensor>> {
    for (const input of this.inputs) {
      if (!(input.name in feeds)) {
        throw new TrendflowError('inference_failed', `input ${JSON.stringify(input.name)} was not given (the model takes ${this.inputs.map((i) => i.name).join(', ')})`, { path: this.path });
      }
    }
    try {
      return await (outputNames ? this.session.run(feeds, [...outputNames]) : this.session.run(feeds));
    } catch (error) {
      if (OUT_OF_MEMORY.test(describe(error))) throw memoryError(this.device, 'inference', this.path, error);
      throw new TrendflowError('inference_failed', `onnxruntime run failed: ${describe(error)}`, { path: this.path, cause: error });
    }
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/**
 * One session per (model file, device, precision, threads), shared. Concurrent `get`s of the same key wait for
 * one load. `releaseAll` frees the native sessions (at the end of a run or a worker's life).
 */
export class OnnxSessionRegistry {
  private readonly sessions = new Map<string, Promise<LoadedOnnxModel>>();

  get(modelPath: string, options: OnnxSessionOptions = {}): Promise<OnnxModel> {
    const resolved = path.resolve(modelPath);
    const device = options.device ?? 'cpu';
    const deviceLabel = device === 'cuda' ? `cuda:${options.deviceId ?? 0}` : 'cpu';
    const precision = options.precision ?? 'fp32';
    const intra = options.intraOpThreads ?? os.availableParallelism();
    const inter = options.interOpThreads ?? 1;
    const key = JSON.stringify([resolved, deviceLabel, precision, intra, inter]);
    let loading = this.sessions.get(key);
    if (!loading) {
      loading = this.load(resolved, device, deviceLabel, precision, intra, inter);
      // a failed load is not cached: the next call (e.g. after `models fetch`) tries again
      loading.catch(() => this.sessions.delete(key));
      this.sessions.set(key, loading);
    }
    return loading;
  }

  get size(): number {
    return this.sessions.size;
  }

  async releaseAll(): Promise<void> {
    const loaded = await Promise.allSettled(this.sessions.values());
    this.sessions.clear();
    await Promise.all(loaded.map((result) => (result.status === 'fulfilled' ? result.value.release() : undefined)));
  }

  private async load(file: string, device: OnnxDevice, deviceLabel: string, precision: OnnxPrecision, intra: number, inter: number): Promise<LoadedOnnxModel> {
    try {
      const stat = await fs.stat(file);
      if (!stat.isFile()) throw new Error('not a file');
    } catch (error) {
      throw new TrendflowError('model_not_found', `model file not found: ${describe(error)}`, { path: file, cause: error });
    }
    if (device === 'cuda' && !cudaProviderInstalled()) {
      throw new TrendflowError(
        'execution_provider_unavailable',
        `device cuda was requested but onnxruntime-node's CUDA execution provider is not installed; install it with \`${CUDA_INSTALL_COMMAND}\` (needs CUDA 12 and cuDNN 9) or run on cpu`,
        { path: file },
      );
    }
    const executionProviders: ort.InferenceSession.ExecutionProviderConfig[] =
      device === 'cuda' ? [{ name: 'cuda', deviceId: Number(deviceLabel.split(':')[1]) }] : ['cpu'];
    try {
      const session = await ort.InferenceSession.create(file, {
        executionProviders,
        intraOpNumThreads: intra,
        interOpNumThreads: inter,
        graphOptimizationLevel: 'all',
        // errors only: graph-cleanup warnings of some exports (unused initializers) would flood every run's stderr
        logSeverityLevel: 3,
      });
      return new LoadedOnnxModel(file, deviceLabel, precision, session);
    } catch (error) {
      if (OUT_OF_MEMORY.test(describe(error))) throw memoryError(deviceLabel, 'loading the model', file, error);
      throw new TrendflowError('model_load_failed', `onnxruntime could not load the model: ${describe(error)}`, { path: file, cause: error });
    }
  }
}
