import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { COMPONENT_KINDS, COMPONENT_NAMES, type ComponentKind, type ComponentName } from '../contracts/components.js';
import { TrendflowError } from '../contracts/errors.js';
import { REQUIRED_META_KEYS } from '../contracts/meta.js';
import { EMPTY_REASONS, STATUSES, type Status } from '../contracts/status.js';
import type { DType } from '../npz/index.js';

/**
 * The format of the artifact schema files in `schemas/` (one per component, documented in schemas/README.md).
 * A file is checked twice when loaded: structurally by the JSON Schema below (compiled with ajv) and then
 * semantically (every dim declared and used, cross-key references resolvable, …), so a broken schema file fails
 * loudly at load time instead of silently passing or failing artifacts.
 */
export const SCHEMA_FORMAT = 'trendflow_artifact_schema_v1';

// A Record over DType so that a dtype added to core/npz/types.ts fails to compile until it is listed here.
const DTYPE_NAMES: Record<DType, true> = {
  float16: true,
  float32: true,
  float64: true,
  int8: true,
  int16: true,
  int32: true,
  int64: true,
  uint8: true,
  uint16: true,
  uint32: true,
  uint64: true,
  bool: true,
  str: true,
  object: true,
};
const DTYPES = Object.keys(DTYPE_NAMES) as DType[];

const FLOAT_DTYPES: readonly DType[] = ['float16', 'float32', 'float64'];
const INTEGER_DTYPES: readonly DType[] = ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64'];

/** What the elements of an `object` array may be (Python value kinds). */
const ELEMENT_KINDS = ['str', 'int', 'float', 'bool', 'null', 'dict', 'list'] as const;
export type ElementKind = (typeof ELEMENT_KINDS)[number];

/** A JSON scalar used in `values` lists and rules. */
export type Literal = string | number | boolean | null;

export interface DimSpec {
  min: number;
  max?: number;
  description: string;
}

export interface KeySpec {
  /** One dtype, or the alternatives the contract allows (e.g. `["object", "str"]`). */
  dtype: DType | DType[];
  /** Symbolic dims (declared in `dims`) and literal sizes; `[]` is a 0-d scalar. */
  shape: Array<string | number>;
  required: boolean;
  description: string;
  /** For `object` arrays: the Python kinds the elements may have. */
  elements?: ElementKind | ElementKind[];
  /** `frame_indices`: sorted strictly increasing, non-negative frame indices (union domain). */
  role?: 'frame_indices';
  /** No NaN or ±Inf anywhere. */
  finite?: boolean;
  order?: 'strictly_increasing';
  /** No element occurs twice. */
  unique?: boolean;
  /** Every element is one of these values. */
  values?: Literal[];
  /** A bool key whose shape prefixes this one: where it is false, this key's entries must be NaN. */
  present_mask?: string;
  /** A bool key: this 0-d bool must equal any() over it. */
  equals_any?: string;
  /** A meta field: this 0-d value must equal it. */
  equals_meta?: string;
}

export interface RuleSpec {
  description: string;
  /** Conditions, all of which must hold (a ref is a 0-d key or `meta.<field>`). */
  if: Record<string, Literal>;
  /** What must then hold. */
  then: Record<string, Literal>;
}

export interface ArtifactSchema {
  format: typeof SCHEMA_FORMAT;
  schema_version: string;
  component: ComponentName;
  kind: ComponentKind;
  artifact: string;
  description: string;
  statuses: Status[];
  extra_empty_reasons: string[];
  dims: Record<string, DimSpec>;
  keys: Record<string, KeySpec>;
  additional_keys: boolean;
  key_groups: Record<string, string[]>;
  meta: { required: string[] };
  rules: RuleSpec[];
}

const description = { type: 'string', minLength: 1 };
const keyName = { type: 'string', pattern: '^[a-z][a-z0-9_]*$' };
const dimName = { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' };
const literal = { type: ['string', 'number', 'boolean', 'null'] };
const oneOrMany = (item: object) => ({
  anyOf: [item, { type: 'array', items: item, minItems: 1, uniqueItems: true }],
});
const refMap = {
  type: 'object',
  minProperties: 1,
  propertyNames: { pattern: '^(meta\\.)?[a-z][a-z0-9_]*$' },
  additionalProperties: literal,
};

/** JSON Schema (draft-07) of a schema file; defaults fill the optional members so code sees one shape. */
export const SCHEMA_FORMAT_JSON_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['format', 'schema_version', 'component', 'kind', 'artifact', 'description', 'statuses', 'dims', 'keys'],
  properties: {
    format: { const: SCHEMA_FORMAT },
    schema_version: { type: 'string', pattern: '^[a-z][a-z0-9_]*_v[0-9]+$' },
    component: { enum: [...COMPONENT_NAMES] },
    kind: { enum: [...COMPONENT_KINDS] },
    artifact: { type: 'string', pattern: '^[a-z0-9][a-z0-9_]*\\.npz$' },
    description,
    statuses: { type: 'array', items: { enum: [...STATUSES] }, minItems: 1, uniqueItems: true },
    extra_empty_reasons: { type: 'array', items: keyName, uniqueItems: true, default: [] },
    dims: {
      type: 'object',
      propertyNames: dimName,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['min', 'description'],
        properties: {
          min: { type: 'integer', minimum: 0 },
          max: { type: 'integer', minimum: 0 },
          description,
        },
      },
    },
    keys: {
      type: 'object',
      minProperties: 1,
      // `meta` is implicit: every artifact has it and its checks are fixed by the contract, not the schema
      propertyNames: { ...keyName, not: { const: 'meta' } },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['dtype', 'shape', 'required', 'description'],
        properties: {
          dtype: oneOrMany({ enum: [...DTYPES] }),
          shape: { type: 'array', items: { anyOf: [dimName, { type: 'integer', minimum: 0 }] } },
          required: { type: 'boolean' },
          description,
          elements: oneOrMany({ enum: [...ELEMENT_KINDS] }),
          role: { enum: ['frame_indices'] },
          finite: { type: 'boolean' },
          order: { enum: ['strictly_increasing'] },
          unique: { type: 'boolean' },
          values: { type: 'array', items: literal, minItems: 1, uniqueItems: true },
          present_mask: keyName,
          equals_any: keyName,
          equals_meta: keyName,
        },
      },
    },
    additional_keys: { type: 'boolean', default: false },
    key_groups: {
      type: 'object',
      propertyNames: keyName,
      additionalProperties: { type: 'array', items: keyName, minItems: 2, uniqueItems: true },
      default: {},
    },
    meta: {
      type: 'object',
      additionalProperties: false,
      required: ['required'],
      properties: { required: { type: 'array', items: keyName, uniqueItems: true } },
      default: { required: [] },
    },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['description', 'if', 'then'],
        properties: { description, if: refMap, then: refMap },
      },
      default: [],
    },
  },
} as const;

let compiled: ValidateFunction | undefined;

function formatValidator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true }).compile(SCHEMA_FORMAT_JSON_SCHEMA);
  return compiled;
}

function describeAjvError(error: ErrorObject): string {
  const where = error.instancePath || '(top level)';
  const extra =
    error.keyword === 'additionalProperties'
      ? ` (${String((error.params as { additionalProperty?: unknown }).additionalProperty)})`
      : error.keyword === 'enum'
        ? ` (${JSON.stringify((error.params as { allowedValues?: unknown }).allowedValues)})`
        : '';
  return `${where} ${error.message ?? error.keyword}${extra}`;
}

export function asList<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/** Checks what JSON Schema cannot: references between members and the contract vocabularies. */
function semanticProblems(schema: ArtifactSchema): string[] {
  const problems: string[] = [];
  const usedDims = new Set<string>();

  for (const [name, spec] of Object.entries(schema.keys)) {
    const dtypes = asList(spec.dtype);
    const at = `/keys/${name}`;
    for (const dim of spec.shape) {
      if (typeof dim !== 'string') continue;
      usedDims.add(dim);
      if (!(dim in schema.dims)) problems.push(`${at}/shape uses dim ${dim}, which /dims does not declare`);
    }
    if (dtypes.includes('object') !== (spec.elements !== undefined)) {
      problems.push(`${at} must give elements exactly when its dtype includes object`);
    }
    if (spec.role === 'frame_indices' && (!dtypes.every((d) => INTEGER_DTYPES.includes(d)) || spec.shape.length !== 1)) {
      problems.push(`${at} has role frame_indices, so it must be a 1-d integer array`);
    }
    if (spec.finite && !dtypes.every((d) => FLOAT_DTYPES.includes(d))) {
      problems.push(`${at} is marked finite but its dtype is not a float dtype`);
    }
    if (spec.order && (spec.shape.length !== 1 || !dtypes.every((d) => FLOAT_DTYPES.includes(d) || INTEGER_DTYPES.includes(d)))) {
      problems.push(`${at} has an order, so it must be a 1-d numeric array`);
    }
    if (spec.unique && (spec.shape.length !== 1 || !dtypes.every((d) => d === 'str' || d === 'object'))) {
      problems.push(`${at} is marked unique, so it must be a 1-d str or object array`);
    }
    if (spec.present_mask !== undefined) {
      const mask = schema.keys[spec.present_mask];
      if (!mask || asList(mask.dtype).join() !== 'bool') {
        problems.push(`${at}/present_mask names ${spec.present_mask}, which is not a bool key of this schema`);
      } else if (
        mask.shape.length > spec.shape.length ||
        mask.shape.some((dim, axis) => dim !== spec.shape[axis]) ||
        !dtypes.every((d) => FLOAT_DTYPES.includes(d))
      ) {
        problems.push(`${at}/present_mask: ${spec.present_mask}'s shape must prefix this float key's shape`);
      }
    }
    if (spec.equals_any !== undefined) {
      const mask = schema.keys[spec.equals_any];
      if (!mask || asList(mask.dtype).join() !== 'bool' || dtypes.join() !== 'bool' || spec.shape.length !== 0) {
        problems.push(`${at}/equals_any needs a 0-d bool key and a bool key to summarise (${spec.equals_any})`);
      }
    }
    if (spec.equals_meta !== undefined && spec.shape.length !== 0) {
      problems.push(`${at}/equals_meta needs a 0-d key`);
    }
  }

  for (const [dim, spec] of Object.entries(schema.dims)) {
    if (!usedDims.has(dim)) problems.push(`/dims/${dim} is declared but no key uses it`);
    if (spec.max !== undefined && spec.max < spec.min) problems.push(`/dims/${dim} has max below min`);
  }

  for (const [group, members] of Object.entries(schema.key_groups)) {
    for (const member of members) {
      const spec = schema.keys[member];
      if (!spec) problems.push(`/key_groups/${group} names ${member}, which /keys does not declare`);
      else if (spec.required) problems.push(`/key_groups/${group} names ${member}, which is required anyway`);
    }
  }

  for (const key of schema.meta.required) {
    if ((REQUIRED_META_KEYS as readonly string[]).includes(key)) {
      problems.push(`/meta/required lists ${key}, which every artifact requires already`);
    }
  }

  for (const reason of schema.extra_empty_reasons) {
    if ((EMPTY_REASONS as readonly string[]).includes(reason)) {
      problems.push(`/extra_empty_reasons lists ${reason}, which is in the canonical vocabulary already`);
    }
  }
  if (schema.extra_empty_reasons.length > 0 && !schema.statuses.includes('empty')) {
    problems.push('/extra_empty_reasons is given but status empty is not allowed');
  }

  schema.rules.forEach((rule, index) => {
    for (const [part, refs] of [['if', rule.if], ['then', rule.then]] as const) {
      for (const [ref, value] of Object.entries(refs)) {
        const at = `/rules/${index}/${part}/${ref}`;
        if (ref === 'meta.status' && !schema.statuses.includes(value as Status)) {
          problems.push(`${at}: ${JSON.stringify(value)} is not a status this schema allows`);
        } else if (!ref.startsWith('meta.') && schema.keys[ref]?.shape.length !== 0) {
          problems.push(`${at}: ${ref} is not a 0-d key of this schema`);
        }
      }
    }
  });

  return problems;
}

/**
 * Checks a parsed schema file and returns it with defaults filled in. Throws `schema_invalid` naming every
 * problem. `source` names the file in the message; the input is not modified.
 */
export function parseSchema(value: unknown, source: string): ArtifactSchema {
  const candidate: unknown = structuredClone(value);
  const validate = formatValidator();
  if (!validate(candidate)) {
    const lines = (validate.errors ?? []).map(describeAjvError);
    throw new TrendflowError('schema_invalid', `not a ${SCHEMA_FORMAT} schema: ${lines.join('; ')}`, { path: source });
  }
  const schema = candidate as ArtifactSchema;
  const problems = semanticProblems(schema);
  if (problems.length > 0) {
    throw new TrendflowError('schema_invalid', problems.join('; '), { path: source });
  }
  return schema;
}
