/**
 * model_signature and models_used[] (seed 003 Q1/Q3, DESIGN.md §8).
 *
 * `models_used[]` lists every model a component really called (image encoder, text encoder, tokenizer vocabulary…),
 * each with name, pinned version, weights digest, runtime, engine, precision and device. `model_signature` is what
 * the cache key uses: any change of a model's name, version, weights, engine, precision or device type is a new
 * signature. The runtime is left out on purpose: the same ONNX weights on CUDA in-process and on Triton's GPU give
 * the same numbers, so they share cached artifacts; a device type change (cpu → cuda) does not.
 */
import { createHash } from 'node:crypto';
import type { ModelUsed } from '../contracts/meta.js';
import { canonicalJson } from '../store/identity.js';

export const MODEL_SIGNATURE_PREFIX = 'msig1:';

/** `cuda:0` → `cuda`: the signature names the device type, not which card a job happened to get. */
export function deviceType(device: string): string {
  return device.split(':', 1)[0]!.toLowerCase();
}

/** One entry's part of the signature. */
function signatureFields(model: ModelUsed): Record<string, string> {
  return {
    model_name: model.model_name,
    model_version: model.model_version,
    weights_digest: model.weights_digest,
    engine: model.engine,
    precision: model.precision,
    device: deviceType(model.device),
  };
}

/**
 * The signature of a component's models: sha256 over the canonical JSON of the entries' signature fields, sorted
 * so that the order in which a component happened to load its models does not matter.
 */
export function modelSignature(models: readonly ModelUsed[]): string {
  if (models.length === 0) throw new TypeError('modelSignature needs at least one model');
  const parts = models.map((model) => canonicalJson(signatureFields(model))).sort();
  return MODEL_SIGNATURE_PREFIX + createHash('sha256').update(`[${parts.join(',')}]`, 'utf8').digest('hex');
}
