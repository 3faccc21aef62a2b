/**
 * `models_used[]` entries (seed 003 Q1): one per model a component really called, built from the registry entry
 * and the digest of the file that was loaded. `model_signature` is computed from these entries by
 * core/runtime/signature.ts (`modelSignature`).
 */
import type { ModelUsed } from '../../contracts/meta.js';
import type { LocatedModelFile, ModelEntry } from './types.js';

export interface ModelUsedOptions {
  runtime: ModelUsed['runtime'];
  /** Default: the registry entry's engine (`onnx`, or `vocab` for a tokenizer vocabulary). */
  engine?: string;
  precision: ModelUsed['precision'];
  /** `cpu`, `cuda`, `cuda:0`… (the signature keeps only the device type). */
  device: ModelUsed['device'];
}

/**
 * The `models_used[]` entry of a model file: model_name and model_version from the registry, weights_digest
 * `sha256:<hex>` of the file actually loaded (`digest` is that hex, `sha256:<hex>`, or what locateModelFile
 * returned), and how it ran.
 */
export function modelUsed(entry: Pick<ModelEntry, 'model_name' | 'model_version' | 'engine'>, digest: string | Pick<LocatedModelFile, 'sha256'>, opts: ModelUsedOptions): ModelUsed {
  const raw = typeof digest === 'string' ? digest : digest.sha256;
  const hex = raw.startsWith('sha256:') ? raw.slice('sha256:'.length) : raw;
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new TypeError(`modelUsed: ${JSON.stringify(raw)} is not a sha256 digest`);
  return {
    model_name: entry.model_name,
    model_version: entry.model_version,
    weights_digest: `sha256:${hex}`,
    runtime: opts.runtime,
    engine: opts.engine ?? entry.engine,
    precision: opts.precision,
    device: opts.device,
  };
}
