/**
 * JSON Schemas of the registry's files, compiled once with ajv. Structural checks live here; references between
 * entries (companions, duplicate file names) are checked in registry.ts.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/** Model ids are folder names under the models dir: lower case, digits, `.`, `_`, `-`. */
export const MODEL_ID_PATTERN = '^[a-z0-9][a-z0-9._-]{0,127}$';
/** File names live directly in `<modelsDir>/<id>/`: no folders, no leading dot. */
export const FILE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._+-]{0,254}$';
const SHA256_PATTERN = '^[0-9a-f]{64}$';

const tensorSpec = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'dtype', 'shape'],
  properties: {
    name: { type: 'string', minLength: 1 },
    dtype: { type: 'string', pattern: '^[a-z][a-z0-9]*$' },
    shape: {
      type: 'array',
      items: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }] },
    },
    layout: { type: 'string', enum: ['NCHW', 'NHWC', 'NC', 'NLC'] },
    description: { type: 'string' },
  },
} as const;

const tensorList = { type: 'array', items: tensorSpec } as const;

const fileSpec = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'url', 'sha256', 'bytes'],
  properties: {
    name: { type: 'string', pattern: FILE_NAME_PATTERN },
    url: { anyOf: [{ type: 'string', pattern: '^(https?)://' }, { type: 'null' }] },
    sha256: { anyOf: [{ type: 'string', pattern: SHA256_PATTERN }, { type: 'null' }] },
    bytes: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }] },
    digest_source: { type: 'string' },
    inputs: tensorList,
    outputs: tensorList,
  },
} as const;

const modelSpec = {
  type: 'object',
  additionalProperties: false,
  required: ['model_name', 'model_version', 'license', 'task', 'engine', 'files', 'inputs', 'outputs', 'preprocessing'],
  properties: {
    model_name: { type: 'string', minLength: 1 },
    model_version: { type: 'string', minLength: 1, not: { enum: ['latest', 'main', 'master', 'HEAD'] } },
    license: { type: 'string', minLength: 1 },
    task: { type: 'string', pattern: '^[a-z][a-z0-9_]*$' },
    engine: { type: 'string', enum: ['onnx', 'vocab'] },
    description: { type: 'string' },
    homepage: { type: 'string' },
    files: { type: 'array', minItems: 1, items: fileSpec },
    inputs: tensorList,
    outputs: tensorList,
    preprocessing: {
      anyOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['preset', 'params'],
          properties: { preset: { type: 'string', pattern: '^[a-z][a-z0-9_]*$' }, params: { type: 'object' } },
        },
        { type: 'null' },
      ],
    },
    companions: { type: 'array', items: { type: 'string', pattern: MODEL_ID_PATTERN } },
  },
} as const;

export const REGISTRY_JSON_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['registry_version', 'models'],
  properties: {
    $comment: { type: 'string' },
    registry_version: { const: 1 },
    models: {
      type: 'object',
      propertyNames: { pattern: MODEL_ID_PATTERN },
      additionalProperties: modelSpec,
    },
  },
} as const;

export const LOCK_JSON_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['lock_version', 'models'],
  properties: {
    $comment: { type: 'string' },
    lock_version: { const: 1 },
    models: {
      type: 'object',
      propertyNames: { pattern: MODEL_ID_PATTERN },
      additionalProperties: {
        type: 'object',
        propertyNames: { pattern: FILE_NAME_PATTERN },
        additionalProperties: {
          type: 'object',
          additionalProperties: false,
          required: ['model_version', 'url', 'sha256', 'bytes', 'recorded_at'],
          properties: {
            model_version: { type: 'string' },
            url: { anyOf: [{ type: 'string' }, { type: 'null' }] },
            sha256: { type: 'string', pattern: SHA256_PATTERN },
            bytes: { type: 'integer', minimum: 0 },
            recorded_at: { type: 'string' },
          },
        },
      },
    },
  },
} as const;

let registryValidator: ValidateFunction | undefined;
let lockValidator: ValidateFunction | undefined;

function ajv(): Ajv {
  return new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
}

export function validateRegistryJson(value: unknown): string[] {
  registryValidator ??= ajv().compile(REGISTRY_JSON_SCHEMA);
  return registryValidator(value) ? [] : (registryValidator.errors ?? []).map(describeAjvError);
}

export function validateLockJson(value: unknown): string[] {
  lockValidator ??= ajv().compile(LOCK_JSON_SCHEMA);
  return lockValidator(value) ? [] : (lockValidator.errors ?? []).map(describeAjvError);
}

function describeAjvError(error: ErrorObject): string {
  const where = error.instancePath || '(top level)';
  const params = error.params as { additionalProperty?: unknown; allowedValues?: unknown; propertyName?: unknown };
  const extra =
    error.keyword === 'additionalProperties'
      ? ` (${String(params.additionalProperty)})`
      : error.keyword === 'enum'
        ? ` (${JSON.stringify(params.allowedValues)})`
        : error.keyword === 'propertyNames'
          ? ` (${String(params.propertyName)})`
          : '';
  return `${where} ${error.message ?? error.keyword}${extra}`;
}
