/**
 * The engine of an externally trained ONNX model (v1, v2): float32 [batch, F] in, float32 [batch, T, Q] out, on
 * onnxruntime through the shared session registry (core/runtime/onnx/sessions.ts, CPU).
 * Values and quantile order are checked for every engine in load.ts.
 */
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { TrendflowError } from '../../contracts/errors.js';
import type { OnnxModel, OnnxSessionRegistry } from '../../runtime/onnx/sessions.js';
import type { EngineSpec, PredictionEngine, PredictionModelSidecar } from './contract.js';

type OnnxEngineSpec = Extract<EngineSpec, { kind: 'onnx' }>;

/** A declared dimension that is a number must equal the expected size; symbolic ones are checked on each output. */
function checkDim(declared: number | string | undefined, expected: number): boolean {
  return typeof declared !== 'number' || declared < 0 || declared === expected;
}

export class OnnxPredictionEngine implements PredictionEngine {
  private constructor(
    private readonly model: OnnxModel,
    private readonly spec: OnnxEngineSpec,
    private readonly features: number,
    private readonly targets: number,
    private readonly quantiles: number,
  ) {}

  /** Loads the session and checks the graph's declared input and output against the sidecar. */
  static async load(dir: string, sidecar: PredictionModelSidecar, sessions: OnnxSessionRegistry): Promise<OnnxPredictionEngine> {
    if (sidecar.engine.kind !== 'onnx') throw new TrendflowError('internal_error', `not an onnx engine: ${sidecar.engine.kind}`);
    const spec = sidecar.engine;
    const file = path.join(dir, spec.file);
    // intra-op 1: one row per run, and the pipeline's other components share the cores
    const model = await sessions.get(file, { device: 'cpu', intraOpThreads: 1 });
    const F = sidecar.feature_names.length;
    const T = sidecar.targets.length;
    const Q = sidecar.quantiles.length;
    const input = model.inputs.find((i) => i.name === spec.input);
    const output = model.outputs.find((o) => o.name === spec.output);
    const invalid = (message: string): TrendflowError => new TrendflowError('prediction_model_invalid', message, { path: file });
    if (model.inputs.length !== 1 || !input) throw invalid(`the graph must take one input named ${JSON.stringify(spec.input)}; it takes ${model.inputs.map((i) => i.name).join(', ')}`);
    if (!output) throw invalid(`the graph has no output ${JSON.stringify(spec.output)} (outputs: ${model.outputs.map((o) => o.name).join(', ')})`);
    if (input.type !== 'float32' || input.shape.length !== 2 || !checkDim(input.shape[1], F)) {
      throw invalid(`input ${spec.input} is ${input.type} [${input.shape.join(', ')}], expected float32 [batch, ${F}]`);
    }
    if (output.type !== 'float32' || output.shape.length !== 3 || !checkDim(output.shape[1], T) || !checkDim(output.shape[2], Q)) {
      throw invalid(`output ${spec.output} is ${output.type} [${output.shape.join(', ')}], expected float32 [batch, ${T}, ${Q}]`);
    }
    return new OnnxPredictionEngine(model, spec, F, T, Q);
  }

  async predict(x: Float32Array, rows: number): Promise<Float32Array> {
    const { features: F, targets: T, quantiles: Q } = this;
    if (x.length !== rows * F) throw new TrendflowError('internal_error', `predict got ${x.length} values for ${rows} rows of ${F} features`);
    const input = this.spec.imputation === null ? x : imputed(x, this.spec.imputation);
    const result = await this.model.run({ [this.spec.input]: new ort.Tensor('float32', input, [rows, F]) }, [this.spec.output]);
    const tensor = result[this.spec.output]!;
    const invalid = (message: string): TrendflowError => new TrendflowError('prediction_model_invalid', message, { path: this.model.path });
    if (tensor.type !== 'float32' || tensor.dims.join(',') !== [rows, T, Q].join(',')) {
      throw invalid(`output ${this.spec.output} is ${tensor.type} [${tensor.dims.join(', ')}], expected float32 [${rows}, ${T}, ${Q}]`);
    }
    return Float32Array.from(tensor.data as Float32Array);
  }

  // the session belongs to the shared registry, which releases it at the end of the run
  async close(): Promise<void> {}
}

/** NaN → the training value of each column (the sidecar's imputation), for models that cannot take NaN. */
function imputed(x: Float32Array, values: readonly number[]): Float32Array {
  const out = Float32Array.from(x);
  for (let i = 0; i < out.length; i++) if (Number.isNaN(out[i]!)) out[i] = values[i % values.length]!;
  return out;
}
