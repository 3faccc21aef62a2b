/**
 * Loading model folders: generated ONNX models with the [batch, F] → [batch, T, Q] contract run on onnxruntime and
 * give the numbers their weights say; imputation, output checks and the folder digest.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeQuantileRegressorModel, writeOnnxPredictionFolder } from '../../../test/helpers/onnx-models.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { OnnxSessionRegistry } from '../../runtime/onnx/sessions.js';
import { FEATURE_COLUMNS } from '../feature-spec.js';
import { loadPredictionModel } from './load.js';
import { failureOf } from '../../../test/helpers/errors.js';

const tmp = useTempDirs('model-load-');
const sessions = new OnnxSessionRegistry();
afterAll(() => sessions.releaseAll());

const F = FEATURE_COLUMNS.length;
const T = 6;

/** Head t reads feature t with weight 0.5 (so each head sees its own column); bias 1 + t. */
const weights = Float32Array.from({ length: F * T }, (_, i) => (Math.floor(i / T) === i % T ? 0.5 : 0));
const bias = Float32Array.from({ length: T }, (_, t) => 1 + t);

describe('loadPredictionModel (onnx)', () => {
  it('predicts rows × targets × quantiles as the graph computes them, imputing NaN with the sidecar values', async () => {
    const imputation = FEATURE_COLUMNS.map((_, j) => (j === 2 ? 4 : 0));
    const dir = await writeOnnxPredictionFolder(path.join(await tmp(), 'v1'), 'v1', {
      weights,
      bias,
      quantiles: [0.05, 0.1, 0.5, 0.9, 0.95],
      offsets: [-1, -0.5, 0, 0.25, 2],
      sidecar: { engine: { kind: 'onnx', file: 'model.onnx', input: 'features', output: 'quantiles', imputation } },
    });
    const model = await loadPredictionModel(dir, { sessions });
    const x = new Float32Array(2 * F).fill(Number.NaN);
    x.set([2, 4, Number.NaN, 8], 0); // row 0: features 0..3; feature 2 missing → 4
    x.set([10, 0, 1, 1], F); // row 1: the rest NaN → 0
    const out = await model.engine.predict(x, 2, ['lt_24h', null]);
    expect(out.length).toBe(2 * T * 5);
    const expected = (row: number[], t: number, q: number): number => 1 + t + 0.5 * (row[t] ?? 0) + [-1, -0.5, 0, 0.25, 2][q]!;
    const rows = [[2, 4, 4, 8], [10, 0, 1, 1]];
    for (let r = 0; r < 2; r++) for (let t = 0; t < T; t++) for (let q = 0; q < 5; q++) expect(out[(r * T + t) * 5 + q]).toBeCloseTo(expected(rows[r]!, t, q), 5);
    expect(model.modelUsed).toMatchObject({ model_name: 'prediction_v1', model_version: 'v1.0.1', runtime: 'inprocess', engine: 'onnxruntime', precision: 'fp32', device: 'cpu' });
    expect(model.modelUsed.weights_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    await model.engine.close();
  });

  it('digests the sidecar and the engine file: a new version changes it, a README beside them does not', async () => {
    const dir = await writeOnnxPredictionFolder(path.join(await tmp(), 'v2'), 'v2');
    const first = (await loadPredictionModel(dir, { sessions })).modelUsed.weights_digest;
    await fs.writeFile(path.join(dir, 'README.md'), 'notes');
    expect((await loadPredictionModel(dir, { sessions })).modelUsed.weights_digest).toBe(first);
    const sidecar = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8'));
    await fs.writeFile(path.join(dir, 'model.json'), JSON.stringify({ ...sidecar, version: 'v2.0.2' }));
    expect((await loadPredictionModel(dir, { sessions })).modelUsed.weights_digest).not.toBe(first);
  });

  it('loads with its own sessions when none are given and releases them on close', async () => {
    const dir = await writeOnnxPredictionFolder(path.join(await tmp(), 'v1'), 'v1', { weights, bias });
    const model = await loadPredictionModel(dir);
    const out = await model.engine.predict(new Float32Array(F).fill(0), 1, [null]);
    expect(Array.from(out.subarray(0, 3))).toEqual([0.5, 1, 1.5]);
    await model.engine.close();
  });

  it('refuses an output that is not finite (NaN given to a model without imputation)', async () => {
    const dir = await writeOnnxPredictionFolder(path.join(await tmp(), 'v1'), 'v1', {
      weights,
      bias,
      sidecar: { engine: { kind: 'onnx', file: 'model.onnx', input: 'features', output: 'quantiles', imputation: null } },
    });
    const model = await loadPredictionModel(dir, { sessions });
    expect(await failureOf(model.engine.predict(new Float32Array(F).fill(Number.NaN), 1, [null]))).toMatchObject({ code: 'prediction_model_invalid', message: expect.stringMatching(/non-finite/) });
  });

  it('refuses quantiles that cross instead of sorting them', async () => {
    const dir = await writeOnnxPredictionFolder(path.join(await tmp(), 'v2'), 'v2', { offsets: [0, -0.1, 0.5] });
    const model = await loadPredictionModel(dir, { sessions });
    expect(await failureOf(model.engine.predict(new Float32Array(F).fill(0), 1, [null]))).toMatchObject({ code: 'prediction_model_invalid', message: expect.stringMatching(/quantiles cross for y_views_7d: q0.1 = .* > q0.5/) });
  });

  it('checks the graph against the sidecar when loading', async () => {
    const narrow = await writeOnnxPredictionFolder(path.join(await tmp(), 'narrow'), 'v1');
    await fs.writeFile(path.join(narrow, 'model.onnx'), makeQuantileRegressorModel({ features: 10, offsets: [-1, 0, 1] }));
    expect(await failureOf(loadPredictionModel(narrow, { sessions }))).toMatchObject({ code: 'prediction_model_invalid', message: expect.stringMatching(/input features is float32 \[batch, 10\], expected float32 \[batch, 120\]/) });

    const fourQuantiles = await writeOnnxPredictionFolder(path.join(await tmp(), 'q4'), 'v1', { offsets: [-1, 0, 1, 2] });
    expect(await failureOf(loadPredictionModel(fourQuantiles, { sessions }))).toMatchObject({ code: 'prediction_model_invalid', message: expect.stringMatching(/expected float32 \[batch, 6, 3\]/) });

    const renamed = await writeOnnxPredictionFolder(path.join(await tmp(), 'renamed'), 'v1', {
      sidecar: { engine: { kind: 'onnx', file: 'model.onnx', input: 'features', output: 'y', imputation: null } },
    });
    expect(await failureOf(loadPredictionModel(renamed, { sessions }))).toMatchObject({ code: 'prediction_model_invalid', message: expect.stringMatching(/no output "y"/) });
  });

  it('reports a missing engine file as prediction_model_missing and a file that is not ONNX as model_load_failed', async () => {
    const dir = await writeOnnxPredictionFolder(path.join(await tmp(), 'v1'), 'v1');
    await fs.writeFile(path.join(dir, 'model.onnx'), 'not a protobuf');
    expect((await failureOf(loadPredictionModel(dir, { sessions }))).code).toBe('model_load_failed');
    await fs.rm(path.join(dir, 'model.onnx'));
    expect(await failureOf(loadPredictionModel(dir, { sessions }))).toMatchObject({ code: 'prediction_model_missing', message: expect.stringMatching(/lacks model.onnx/) });
  });
});
