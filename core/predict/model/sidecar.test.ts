/** Sidecar validation: a valid model.json passes; each defect gets its own code and a message naming it. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeOnnxPredictionFolder } from '../../../test/helpers/onnx-models.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import type { ErrorCode } from '../../contracts/errors.js';
import { FEATURE_COLUMNS, FEATURE_SCHEMA_VERSION } from '../feature-spec.js';
import { readSidecar } from './sidecar.js';
import { failureOf } from '../../../test/helpers/errors.js';

const tmp = useTempDirs('sidecar-');

const names = FEATURE_COLUMNS.map((c) => c.name);

describe('readSidecar', () => {
  it('accepts a model.json that meets the contract', async () => {
    const dir = await writeOnnxPredictionFolder(path.join(await tmp(), 'v1'), 'v1', { quantiles: [0.05, 0.1, 0.5, 0.9, 0.95], offsets: [-1, -0.5, 0, 0.5, 1] });
    const sidecar = await readSidecar(dir);
    expect(sidecar).toMatchObject({ type: 'v1', feature_schema_version: FEATURE_SCHEMA_VERSION, quantiles: [0.05, 0.1, 0.5, 0.9, 0.95], engine: { kind: 'onnx', input: 'features' } });
  });

  it('reports a missing folder or sidecar as prediction_model_missing', async () => {
    const root = await tmp();
    expect((await failureOf(readSidecar(path.join(root, 'nowhere')))).code).toBe('prediction_model_missing');
    await fs.writeFile(path.join(root, 'file'), 'x');
    expect((await failureOf(readSidecar(path.join(root, 'file')))).code).toBe('prediction_model_missing');
  });

  const cases: Array<[string, Record<string, unknown>, ErrorCode, RegExp]> = [
    ['another format', { format: 'trendflow_prediction_model_v0' }, 'prediction_model_invalid', /format is "trendflow_prediction_model_v0"/],
    ['an unknown type', { type: 'v3' }, 'prediction_model_invalid', /\/type/],
    ['a missing version', { version: undefined }, 'prediction_model_invalid', /version/],
    ['an unknown key', { extra: 1 }, 'prediction_model_invalid', /additional properties/],
    ['another feature schema', { feature_schema_version: 'features_v0' }, 'feature_schema_mismatch', /trained on features "features_v0".*retrain/],
    ['feature names in another order', { feature_names: [names[1], names[0], ...names.slice(2)] }, 'feature_schema_mismatch', /position 0/],
    ['a feature missing', { feature_names: names.slice(1) }, 'feature_schema_mismatch', /119 names where 120/],
    ['other targets', { targets: ['y_views_7d'] }, 'prediction_model_invalid', /targets differ/],
    ['quantiles without p50', { quantiles: [0.1, 0.9] }, 'prediction_model_invalid', /lack the required 0.5/],
    ['quantiles out of order', { quantiles: [0.5, 0.1, 0.9] }, 'prediction_model_invalid', /strictly ascending/],
    ['an unknown quantile', { quantiles: [0.1, 0.3, 0.5, 0.9] }, 'prediction_model_invalid', /0.3 are not among/],
    ['an engine file outside the folder', { engine: { kind: 'onnx', file: '../model.onnx', input: 'features', output: 'quantiles', imputation: null } }, 'prediction_model_invalid', /inside the model folder/],
    ['imputation of the wrong length', { engine: { kind: 'onnx', file: 'model.onnx', input: 'features', output: 'quantiles', imputation: [0, 1] } }, 'prediction_model_invalid', /2 values for 120 features/],
    ['an unknown engine kind', { engine: { kind: 'xgboost', file: 'model.bin' } }, 'prediction_model_invalid', /engine/],
    ['an unknown calibration method', { calibration: { method: 'guess', groups: [], calibration_rows: 0 } }, 'prediction_model_invalid', /calibration\/method/],
  ];
  it.each(cases)('refuses %s', async (_what, sidecar, code, message) => {
    const dir = await writeOnnxPredictionFolder(path.join(await tmp(), 'm'), 'v2', { sidecar });
    const failure = await failureOf(readSidecar(dir));
    expect(failure.code).toBe(code);
    expect(failure.message).toMatch(message);
  });

  it('refuses a sidecar that is not JSON', async () => {
    const dir = await writeOnnxPredictionFolder(path.join(await tmp(), 'm'), 'v2');
    await fs.writeFile(path.join(dir, 'model.json'), '{ "format": ');
    expect(await failureOf(readSidecar(dir))).toMatchObject({ code: 'prediction_model_invalid', message: expect.stringMatching(/not JSON/) });
  });
});
