/**
 * Reading and checking a model folder's sidecar (`model.json`, contract.ts). Structure is checked with a JSON
 * schema (ajv, as component configs are); the contract's cross-checks against the feature spec follow, each defect
 * with its own code and message so a user knows whether to retrain (feature_schema_mismatch) or fix the export
 * (prediction_model_invalid).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { TrendflowError } from '../../contracts/errors.js';
import { FEATURE_COLUMNS, FEATURE_SCHEMA_VERSION, TARGET_NAMES } from '../feature-spec.js';
import { MODEL_SIDECAR_FILE, PREDICTION_MODEL_FORMAT, PREDICTION_MODEL_TYPES, PREDICTION_QUANTILES, REQUIRED_QUANTILES, type PredictionModelSidecar } from './contract.js';

const NAME_LIST = { type: 'array', items: { type: 'string', minLength: 1 } } as const;
const FILE = { type: 'string', minLength: 1 } as const;

const SIDECAR_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['format', 'type', 'version', 'feature_schema_version', 'feature_names', 'targets', 'quantiles', 'calibration', 'engine', 'created_at'],
  properties: {
    format: { type: 'string' },
    type: { enum: [...PREDICTION_MODEL_TYPES] },
    version: { type: 'string', minLength: 1 },
    feature_schema_version: { type: 'string', minLength: 1 },
    feature_names: NAME_LIST,
    targets: NAME_LIST,
    quantiles: { type: 'array', minItems: 1, items: { type: 'number' } },
    calibration: {
      type: 'object',
      additionalProperties: false,
      required: ['method', 'groups', 'calibration_rows'],
      properties: {
        method: { enum: ['split_conformal', 'quantile_regression', 'quantile_regression+conformal'] },
        groups: { type: 'array', uniqueItems: true, items: { enum: ['target', 'age_bucket'] } },
        calibration_rows: { type: 'integer', minimum: 0 },
      },
    },
    engine: {
      oneOf: [
        { type: 'object', additionalProperties: false, required: ['kind', 'file'], properties: { kind: { const: 'gbt_json' }, file: FILE } },
        {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'file', 'input', 'output', 'imputation'],
          properties: {
            kind: { const: 'onnx' },
            file: FILE,
            input: { type: 'string', minLength: 1 },
            output: { type: 'string', minLength: 1 },
            imputation: { anyOf: [{ type: 'null' }, { type: 'array', items: { type: 'number' } }] },
          },
        },
      ],
    },
    created_at: { type: 'string', minLength: 1 },
  },
} as const;

const validateShape = new Ajv({ allErrors: true, strict: true }).compile<PredictionModelSidecar>(SIDECAR_SCHEMA);

function describe(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
}

/** The first index where two name lists differ, for a message that points at the column. */
function firstDifference(actual: readonly string[], expected: readonly string[]): string {
  if (actual.length !== expected.length) return `${actual.length} names where ${expected.length} are expected`;
  const i = actual.findIndex((name, k) => name !== expected[k]);
  return `position ${i}: ${JSON.stringify(actual[i])} where ${JSON.stringify(expected[i])} is expected`;
}

/**
 * Checks a parsed sidecar against the contract and the current feature spec. `file` names the sidecar in errors.
 */
export function validateSidecar(value: unknown, file: string): PredictionModelSidecar {
  const invalid = (message: string): TrendflowError => new TrendflowError('prediction_model_invalid', message, { path: file });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('the sidecar is not a JSON object');
  const format = (value as { format?: unknown }).format;
  // the format first: a file of another format (or version) is named as such, not as a list of schema problems
  if (format !== PREDICTION_MODEL_FORMAT) throw invalid(`format is ${JSON.stringify(format)}, expected ${JSON.stringify(PREDICTION_MODEL_FORMAT)}`);
  if (!validateShape(value)) throw invalid(describe(validateShape.errors));
  const sidecar = value;

  if (sidecar.feature_schema_version !== FEATURE_SCHEMA_VERSION) {
    throw new TrendflowError(
      'feature_schema_mismatch',
      `the model was trained on features ${JSON.stringify(sidecar.feature_schema_version)}; this build computes ${FEATURE_SCHEMA_VERSION} (retrain the model on a bundle of this version)`,
      { path: file },
    );
  }
  const featureNames = FEATURE_COLUMNS.map((column) => column.name);
  if (sidecar.feature_names.join('\n') !== featureNames.join('\n')) {
    throw new TrendflowError('feature_schema_mismatch', `feature_names differ from ${FEATURE_SCHEMA_VERSION} at ${firstDifference(sidecar.feature_names, featureNames)}`, { path: file });
  }
  if (sidecar.targets.join('\n') !== TARGET_NAMES.join('\n')) throw invalid(`targets differ from ${TARGET_NAMES.join(', ')} at ${firstDifference(sidecar.targets, TARGET_NAMES)}`);

  const allowed: readonly number[] = PREDICTION_QUANTILES;
  const unknown = sidecar.quantiles.filter((q) => !allowed.includes(q));
  if (unknown.length > 0) throw invalid(`quantiles ${unknown.join(', ')} are not among ${PREDICTION_QUANTILES.join(', ')}`);
  if (sidecar.quantiles.some((q, i) => i > 0 && q <= sidecar.quantiles[i - 1]!)) throw invalid(`quantiles must be strictly ascending: ${sidecar.quantiles.join(', ')}`);
  const absent = REQUIRED_QUANTILES.filter((q) => !sidecar.quantiles.includes(q));
  if (absent.length > 0) throw invalid(`quantiles lack the required ${absent.join(', ')}`);

  // the engine file stays inside the folder: a sidecar never points a run at another file on the machine
  const engineFile = sidecar.engine.file;
  if (path.isAbsolute(engineFile) || path.normalize(engineFile).split(/[\\/]/).includes('..')) throw invalid(`engine.file ${JSON.stringify(engineFile)} must be a path inside the model folder`);
  if (sidecar.engine.kind === 'onnx' && sidecar.engine.imputation !== null) {
    const imputation = sidecar.engine.imputation;
    if (imputation.length !== featureNames.length) throw invalid(`engine.imputation has ${imputation.length} values for ${featureNames.length} features`);
    if (!imputation.every(Number.isFinite)) throw invalid('engine.imputation holds a non-finite value');
  }
  return sidecar;
}

/** Reads and checks `<dir>/model.json`. A missing folder or sidecar is `prediction_model_missing`. */
export async function readSidecar(dir: string): Promise<PredictionModelSidecar> {
  const file = path.join(dir, MODEL_SIDECAR_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new TrendflowError('prediction_model_missing', `no model folder with a ${MODEL_SIDECAR_FILE} here`, { path: file, cause: error });
    throw new TrendflowError('file_read_failed', `cannot read the sidecar: ${(error as Error).message}`, { path: file, cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new TrendflowError('prediction_model_invalid', `the sidecar is not JSON: ${(error as Error).message}`, { path: file, cause: error });
  }
  return validateSidecar(parsed, file);
}
