/**
 * Loading a model folder (contract.ts): the sidecar, checked; the engine its `engine.kind` names; and the folder's
 * identity for models_used / model_signature (core/runtime/signature.ts).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isTrendflowError, TrendflowError } from '../../contracts/errors.js';
import type { ModelUsed } from '../../contracts/meta.js';
import { OnnxSessionRegistry } from '../../runtime/onnx/sessions.js';
import { hashFile } from '../../store/hash.js';
import { loadBaselineEngine } from '../baseline/engine.js';
import { MODEL_SIDECAR_FILE, type PredictionEngine, type PredictionModelSidecar } from './contract.js';
import { OnnxPredictionEngine } from './onnx-engine.js';
import { readSidecar } from './sidecar.js';

export interface LoadedPredictionModel {
  /** The folder, absolute. */
  dir: string;
  sidecar: PredictionModelSidecar;
  engine: PredictionEngine;
  /** The models_used entry: name `prediction_<type>`, the sidecar's version, the folder's digest. */
  modelUsed: ModelUsed;
}

export interface LoadOptions {
  /** The run's shared ONNX sessions; without one the model gets its own, released by `engine.close()`. */
  sessions?: OnnxSessionRegistry;
}

/**
 * `sha256:` over the sidecar's and the engine file's digests: the two files that decide every number the model
 * gives (a report or README beside them does not).
 */
async function folderDigest(dir: string, sidecar: PredictionModelSidecar): Promise<string> {
  const lines: string[] = [];
  for (const file of [MODEL_SIDECAR_FILE, sidecar.engine.file]) {
    const absolute = path.join(dir, file);
    const stat = await fs.stat(absolute).catch(() => null);
    if (!stat?.isFile()) throw new TrendflowError('prediction_model_missing', `the model folder lacks ${file}, which its ${MODEL_SIDECAR_FILE} names`, { path: absolute });
    lines.push(`${(await hashFile(absolute)).sha256}  ${file}`);
  }
  return `sha256:${createHash('sha256').update(lines.join('\n'), 'utf8').digest('hex')}`;
}

/**
 * The folder's digest for the prediction component's cache key, or what makes it unusable (the run then reports
 * that problem itself and falls back): retraining into the same folder is a new key, never a stale cache hit.
 */
export async function modelFolderDigest(dir: string): Promise<string> {
  try {
    return await folderDigest(dir, await readSidecar(dir));
  } catch (error) {
    if (isTrendflowError(error)) return `unusable: ${error.code}`;
    throw error;
  }
}

async function loadEngine(dir: string, sidecar: PredictionModelSidecar, options: LoadOptions): Promise<PredictionEngine> {
  switch (sidecar.engine.kind) {
    case 'gbt_json':
      return loadBaselineEngine(dir, sidecar);
    case 'onnx': {
      if (options.sessions) return OnnxPredictionEngine.load(dir, sidecar, options.sessions);
      const own = new OnnxSessionRegistry();
      try {
        const engine = await OnnxPredictionEngine.load(dir, sidecar, own);
        return { predict: (x, rows) => engine.predict(x, rows), close: () => own.releaseAll() };
      } catch (error) {
        await own.releaseAll();
        throw error;
      }
    }
  }
}

/**
 * Every engine's output is checked here, whoever wrote the engine: rows × targets × quantiles finite values that
 * never decrease along the quantile axis. A crossing is an error (`prediction_model_invalid`), not rearranged:
 * sorting would hide a broken export or a mis-ordered output, and the prediction component then falls back to
 * the next configured model with the reason recorded.
 */
function checkedEngine(engine: PredictionEngine, sidecar: PredictionModelSidecar, file: string): PredictionEngine {
  const T = sidecar.targets.length;
  const Q = sidecar.quantiles.length;
  return {
    async predict(x, rows, ageBuckets) {
      const out = await engine.predict(x, rows, ageBuckets);
      const invalid = (message: string): TrendflowError => new TrendflowError('prediction_model_invalid', message, { path: file });
      if (out.length !== rows * T * Q) throw invalid(`the engine returned ${out.length} values for ${rows} rows × ${T} targets × ${Q} quantiles`);
      for (let i = 0; i < out.length; i++) {
        if (!Number.isFinite(out[i]!)) throw invalid(`the engine returned a non-finite value (${out[i]}) for ${sidecar.targets[Math.floor(i / Q) % T]} q${sidecar.quantiles[i % Q]}`);
        if (i % Q > 0 && out[i]! < out[i - 1]!) {
          throw invalid(`quantiles cross for ${sidecar.targets[Math.floor(i / Q) % T]}: q${sidecar.quantiles[(i % Q) - 1]} = ${out[i - 1]} > q${sidecar.quantiles[i % Q]} = ${out[i]}`);
        }
      }
      return out;
    },
    close: () => engine.close(),
  };
}

/** Loads `<dir>`: `prediction_model_missing`, `prediction_model_invalid`, `feature_schema_mismatch` or the engine's error. */
export async function loadPredictionModel(dir: string, options: LoadOptions = {}): Promise<LoadedPredictionModel> {
  const absolute = path.resolve(dir);
  const sidecar = await readSidecar(absolute);
  const digest = await folderDigest(absolute, sidecar);
  const engine = checkedEngine(await loadEngine(absolute, sidecar, options), sidecar, path.join(absolute, sidecar.engine.file));
  return {
    dir: absolute,
    sidecar,
    engine,
    modelUsed: {
      model_name: `prediction_${sidecar.type}`,
      model_version: sidecar.version,
      weights_digest: digest,
      runtime: 'inprocess',
      engine: sidecar.engine.kind === 'onnx' ? 'onnxruntime' : 'trendflow_gbt',
      precision: 'fp32',
      device: 'cpu',
    },
  };
}
