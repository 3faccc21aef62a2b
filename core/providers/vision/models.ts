/**
 * Opening a registry model for a vision provider: the file from the models dir (digest-checked by
 * locateModelFile), the shared onnxruntime session, and its `models_used[]` entry. A missing model is
 * `model_not_found` naming the `models fetch` command; no other model is ever substituted.
 */
import type { ModelUsed } from '../../contracts/meta.js';
import { TrendflowError } from '../../contracts/errors.js';
import type { OnnxDevice, OnnxModel, OnnxSessionRegistry } from '../../runtime/onnx/sessions.js';
import { locateModelFile, modelUsed, type ModelRegistry } from '../../runtime/registry/index.js';
import type * as ort from 'onnxruntime-node';

/** What the orchestrator hands a component in `ctx.models`. */
export interface ModelContext {
  registry: ModelRegistry;
  modelsDir: string;
  sessions: OnnxSessionRegistry;
}

export interface OpenedModel {
  id: string;
  model: OnnxModel;
  used: ModelUsed;
}

/** Loads `<modelsDir>/<id>/<file>` (the main file unless named) on `device` and describes it for models_used. */
export async function openModel(models: ModelContext, id: string, device: OnnxDevice, fileName?: string): Promise<OpenedModel> {
  const entry = models.registry.get(id);
  const file = await locateModelFile(models.registry, models.modelsDir, id, fileName);
  const model = await models.sessions.get(file.path, { device, precision: 'fp32' });
  return { id, model, used: modelUsed(entry, file, { runtime: 'inprocess', engine: 'onnxruntime', precision: 'fp32', device: model.device }) };
}

/** The float32 data of one output, checked to have `size` values. */
export function outputData(outputs: Record<string, ort.Tensor>, name: string, size: number, what: string): Float32Array {
  const tensor = outputs[name];
  if (!tensor || !(tensor.data instanceof Float32Array)) {
    throw new TrendflowError('inference_failed', `${what} returned no float32 output ${JSON.stringify(name)} (got ${Object.keys(outputs).join(', ')})`);
  }
  if (tensor.data.length !== size) {
    throw new TrendflowError('inference_failed', `${what} output ${name} has ${tensor.data.length} values, expected ${size}`);
  }
  return tensor.data;
}

/** Checks that a loaded model has the named inputs and outputs (the registry contract); `model_load_failed` otherwise. */
export function requireTensors(opened: OpenedModel, inputs: readonly string[], outputs: readonly string[]): void {
  const have = (list: readonly { name: string }[], name: string) => list.some((t) => t.name === name);
  const missing = [...inputs.filter((n) => !have(opened.model.inputs, n)), ...outputs.filter((n) => !have(opened.model.outputs, n))];
  if (missing.length > 0) {
    throw new TrendflowError(
      'model_load_failed',
      `model ${opened.id} lacks ${missing.join(', ')} (it has inputs ${opened.model.inputs.map((t) => t.name).join(', ')} and outputs ${opened.model.outputs.map((t) => t.name).join(', ')})`,
      { path: opened.model.path },
    );
  }
}
