import { isTrendflowError } from '../contracts/errors.js';
import { MODEL_USED_KEYS, REQUIRED_META_KEYS, type ModelUsed } from '../contracts/meta.js';
import { EMPTY_REASONS, STATUSES, isStatus } from '../contracts/status.js';
import { readNpzFile, type AnyNdArray, type NpzContents, type PyValue } from '../npz/index.js';
import { asList, type ArtifactSchema, type KeySpec } from './format.js';
import type { Problem, ProblemCode } from './problems.js';
import {
  elementAt,
  formatIndex,
  formatShape,
  isPyDict,
  matchesKind,
  pyTypeName,
  reprOf,
  scalarOf,
  type PyDict,
} from './pyvalues.js';
import { loadSchema } from './registry.js';

export interface ValidateNpzOptions {
  /** The schema to check against (a loaded schema or a component name); by default the one meta.producer names. */
  schema?: ArtifactSchema | string;
  /**
   * The meta keys to require. By default the full set: REQUIRED_META_KEYS plus the schema's `meta.required`.
   * A shorter list relaxes the check for legacy files; keys that are present are still checked.
   */
  requiredMetaKeys?: readonly string[];
  /** The file the contents came from, put on every problem. */
  path?: string;
}

export interface NpzValidation {
  ok: boolean;
  problems: Problem[];
  /** The schema the contents were checked against (null when none could be chosen). */
  schema: ArtifactSchema | null;
  /** The meta dict (null when meta is missing or malformed). */
  meta: PyDict | null;
}

/** The runtimes seed 000 fixes for `models_used[].runtime`; typed against the contract so both stay in step. */
const MODEL_RUNTIMES: ReadonlyArray<ModelUsed['runtime']> = ['inprocess', 'triton-gpu'];

const STRING_META_KEYS = [
  'producer',
  'producer_version',
  'schema_version',
  'platform_id',
  'video_id',
  'run_id',
  'config_hash',
  'sampling_policy_version',
  'dataprocessor_version',
  'model_signature',
];

// ISO 8601 with a time zone: a timestamp without one cannot be ordered against other machines' runs.
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

class Reporter {
  readonly problems: Problem[] = [];
  constructor(private readonly path: string | undefined) {}

  add(code: ProblemCode, message: string, key?: string): void {
    this.problems.push({
      ...(this.path === undefined ? {} : { path: this.path }),
      ...(key === undefined ? {} : { key }),
      code,
      message,
    });
  }
}

interface Context {
  contents: NpzContents;
  schema: ArtifactSchema;
  meta: PyDict | null;
  report: Reporter;
  /** Keys present with the right dtype and shape: only these get value checks. */
  valid: Set<string>;
}

function describeArray(array: AnyNdArray): string {
  return `${array.dtype} (${array.descr}) of shape ${formatShape(array.shape)}`;
}

function readMeta(contents: NpzContents, report: Reporter): PyDict | null {
  const array = contents.get('meta');
  const expected = 'meta must be a 0-d object array holding a dict (np.array(meta_dict, dtype=object))';
  if (!array) {
    report.add('meta_invalid', `no meta array; ${expected}`, 'meta');
    return null;
  }
  if (array.dtype !== 'object' || array.shape.length !== 0) {
    report.add('meta_invalid', `${expected}, got ${describeArray(array)}`, 'meta');
    return null;
  }
  const value = array.data[0];
  if (!isPyDict(value)) {
    report.add('meta_invalid', `${expected}, but it holds ${pyTypeName(value)}`, 'meta');
    return null;
  }
  return value;
}

function resolveSchema(option: ArtifactSchema | string | undefined, meta: PyDict | null, report: Reporter): ArtifactSchema | null {
  if (typeof option === 'object') return option;
  const producer = meta?.producer;
  const component = option ?? (typeof producer === 'string' ? producer : undefined);
  if (component === undefined) {
    report.add('schema_not_found', 'no schema chosen (meta.producer is missing), so keys were not checked; name one explicitly');
    return null;
  }
  try {
    return loadSchema(component);
  } catch (error) {
    // a missing schema is a finding about this artifact; a broken schema file is not and must fail loudly
    if (isTrendflowError(error) && error.code === 'schema_not_found') {
      report.add('schema_not_found', `${error.message}, so keys were not checked`, option === undefined ? 'meta.producer' : undefined);
      return null;
    }
    throw error;
  }
}

function checkKeys(ctx: Context): void {
  const { contents, schema, report, valid } = ctx;
  // where each symbolic dim was first seen, so a mismatch names both keys
  const bound = new Map<string, { size: number; key: string; axis: number }>();

  for (const [name, spec] of Object.entries(schema.keys)) {
    const array = contents.get(name);
    if (!array) {
      if (spec.required) {
        report.add('missing_key', `required ${asList(spec.dtype).join('|')} ${formatShape(spec.shape)} is missing`, name);
      }
      continue;
    }
    let ok = true;
    const dtypes = asList(spec.dtype);
    if (!dtypes.includes(array.dtype)) {
      ok = false;
      report.add('bad_dtype', `expected ${dtypes.join(' or ')}, got ${array.dtype} (${array.descr})`, name);
    }
    if (array.shape.length !== spec.shape.length) {
      report.add('bad_shape', `expected shape ${formatShape(spec.shape)}, got ${formatShape(array.shape)}`, name);
      continue;
    }
    spec.shape.forEach((dim, axis) => {
      const size = array.shape[axis] ?? 0;
      if (typeof dim === 'number') {
        if (size !== dim) {
          ok = false;
          report.add('bad_shape', `expected shape ${formatShape(spec.shape)}, got ${formatShape(array.shape)} (axis ${axis} must be ${dim})`, name);
        }
        return;
      }
      const first = bound.get(dim);
      if (!first) {
        bound.set(dim, { size, key: name, axis });
      } else if (first.size !== size) {
        ok = false;
        report.add(
          'dim_mismatch',
          `dim ${dim} is ${size} in ${name} (axis ${axis}) but ${first.size} in ${first.key} (axis ${first.axis})`,
          name,
        );
      }
    });
    if (ok) valid.add(name);
  }

  for (const [dim, { size, key, axis }] of bound) {
    const spec = schema.dims[dim];
    if (!spec) continue;
    if (size < spec.min || (spec.max !== undefined && size > spec.max)) {
      const range = spec.max === undefined ? `at least ${spec.min}` : `${spec.min}..${spec.max}`;
      report.add('dim_out_of_range', `dim ${dim} (${spec.description}) is ${size} (axis ${axis}) but must be ${range}`, key);
    }
  }

  if (!schema.additional_keys) {
    for (const name of contents.keys()) {
      if (name !== 'meta' && !Object.hasOwn(schema.keys, name)) {
        report.add('unknown_key', `${schema.schema_version} has no key ${name} (a new key needs a schema change)`, name);
      }
    }
  }

  for (const [group, members] of Object.entries(schema.key_groups)) {
    const missing = members.filter((member) => !contents.has(member));
    if (missing.length > 0 && missing.length < members.length) {
      report.add(
        'key_group_incomplete',
        `the ${group} keys (${members.join(', ')}) come together, but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing`,
        missing[0],
      );
    }
  }
}

/** Counts the flat indices where `bad` holds and reports them once with the first example. */
function reportWhere(
  array: AnyNdArray,
  bad: (index: number) => boolean,
  emit: (count: number, first: number) => void,
): void {
  let count = 0;
  let first = -1;
  for (let index = 0; index < array.data.length; index += 1) {
    if (bad(index)) {
      if (count === 0) first = index;
      count += 1;
    }
  }
  if (count > 0) emit(count, first);
}

function plural(count: number, word: string, words = `${word}s`): string {
  return `${count} ${count === 1 ? word : words}`;
}

/** "1 element is not" / "3 elements are not". */
function areNot(count: number, word: string, words = `${word}s`): string {
  return `${plural(count, word, words)} ${count === 1 ? 'is' : 'are'} not`;
}

function checkFrameIndices(name: string, array: AnyNdArray, report: Reporter): void {
  const value = (index: number) => Number(array.data[index]);
  reportWhere(
    array,
    (i) => value(i) < 0,
    (count, first) => {
      const found = plural(count, 'negative index', 'negative indices');
      report.add('frame_indices_negative', `frame indices must be non-negative: ${found} (first: [${first}] = ${value(first)})`, name);
    },
  );
  reportWhere(
    array,
    (i) => i > 0 && value(i) === value(i - 1),
    (count, first) => {
      const example = `[${first}] = ${value(first)} repeats [${first - 1}]`;
      report.add('frame_indices_duplicate', `frame indices must be unique: ${plural(count, 'repeat')} (first: ${example})`, name);
    },
  );
  reportWhere(
    array,
    (i) => i > 0 && value(i) < value(i - 1),
    (count, first) => {
      const example = `[${first}] = ${value(first)} after [${first - 1}] = ${value(first - 1)}`;
      report.add('frame_indices_unsorted', `frame indices must be sorted increasing: ${plural(count, 'step')} down (first: ${example})`, name);
    },
  );
}

function checkValues(ctx: Context, name: string, spec: KeySpec, array: AnyNdArray): void {
  const { contents, meta, report, valid } = ctx;
  const at = (index: number) => formatIndex(index, array.shape);

  if (spec.elements !== undefined && array.dtype === 'object') {
    const kinds = asList(spec.elements);
    reportWhere(
      array,
      (i) => !kinds.some((kind) => matchesKind(array.data[i], kind)),
      (count, first) => {
        const example = `${at(first)} is ${pyTypeName(array.data[first])}`;
        report.add('bad_element', `elements must be ${kinds.join(' or ')}: ${areNot(count, 'element')} (first: ${example})`, name);
      },
    );
  }

  if (spec.role === 'frame_indices') checkFrameIndices(name, array, report);

  if (spec.finite) {
    reportWhere(
      array,
      (i) => !Number.isFinite(Number(array.data[i])),
      (count, first) => {
        const example = `${at(first)} = ${Number(array.data[first])}`;
        report.add('not_finite', `must hold no NaN or infinity: ${plural(count, 'element')} (first: ${example})`, name);
      },
    );
  }

  if (spec.order === 'strictly_increasing') {
    const value = (index: number) => Number(array.data[index]);
    reportWhere(
      array,
      // written as !(a > b) so that NaN counts as out of order
      (i) => i > 0 && !(value(i) > value(i - 1)),
      (count, first) => {
        const example = `[${first}] = ${value(first)} after ${value(first - 1)}`;
        report.add('order_violation', `must be strictly increasing: ${areNot(count, 'place')} (first: ${example})`, name);
      },
    );
  }

  if (spec.unique) {
    const seen = new Map<string, number>();
    const repeats: string[] = [];
    for (let i = 0; i < array.data.length; i += 1) {
      const scalar = scalarOf(elementAt(array, i));
      if (scalar === undefined) continue;
      const key = JSON.stringify(scalar);
      const earlier = seen.get(key);
      if (earlier === undefined) seen.set(key, i);
      else repeats.push(`[${i}] = ${reprOf(elementAt(array, i))} repeats [${earlier}]`);
    }
    if (repeats.length > 0) {
      report.add('duplicate_value', `elements must be unique: ${plural(repeats.length, 'repeat')} (first: ${repeats[0]})`, name);
    }
  }

  if (spec.values !== undefined) {
    const allowed = spec.values;
    reportWhere(
      array,
      (i) => {
        const scalar = scalarOf(elementAt(array, i));
        return scalar === undefined || !allowed.includes(scalar);
      },
      (count, first) => {
        const example = `${at(first)} = ${reprOf(elementAt(array, first))}`;
        report.add('bad_value', `must be one of ${allowed.map(reprOf).join(', ')}: ${areNot(count, 'element')} (first: ${example})`, name);
      },
    );
  }

  const maskName = spec.present_mask;
  const mask = maskName === undefined ? undefined : contents.get(maskName);
  // a mask whose own shape is wrong has been reported already; its entries cannot be matched to this array's
  const aligned = mask !== undefined && mask.shape.every((size, axis) => size === array.shape[axis]);
  if (maskName !== undefined && mask && valid.has(maskName) && aligned) {
    const block = array.shape.slice(mask.shape.length).reduce((a, b) => a * b, 1);
    reportWhere(
      array,
      (i) => mask.data[Math.floor(i / block)] === 0 && !Number.isNaN(Number(array.data[i])),
      (count, first) => {
        const rule = `where ${maskName} is False the entries must be NaN (missing, never a placeholder)`;
        report.add('mask_violation', `${rule}: ${areNot(count, 'entry', 'entries')} (first: ${at(first)} = ${Number(array.data[first])})`, name);
      },
    );
  }

  const summarised = spec.equals_any;
  const source = summarised === undefined ? undefined : contents.get(summarised);
  if (summarised !== undefined && source && valid.has(summarised)) {
    const actual = array.data[0] !== 0;
    const trueCount = Array.from(source.data as Uint8Array).filter((flag) => flag !== 0).length;
    if (actual !== trueCount > 0) {
      report.add(
        'inconsistent_value',
        `is ${reprOf(actual)} but ${summarised} has ${plural(trueCount, 'True entry', 'True entries')} (it must equal ${summarised}.any())`,
        name,
      );
    }
  }

  const field = spec.equals_meta;
  if (field !== undefined && meta && Object.hasOwn(meta, field)) {
    const actual = elementAt(array, 0);
    if (scalarOf(actual) !== scalarOf(meta[field])) {
      report.add('inconsistent_value', `is ${reprOf(actual)} but meta.${field} is ${reprOf(meta[field])}; they must agree`, name);
    }
  }
}

function checkMeta(meta: PyDict, schema: ArtifactSchema, required: readonly string[], report: Reporter): void {
  const key = (field: string) => `meta.${field}`;
  for (const field of required) {
    if (!Object.hasOwn(meta, field)) report.add('meta_missing_key', `required meta field ${field} is missing`, key(field));
  }

  for (const field of STRING_META_KEYS) {
    if (!Object.hasOwn(meta, field)) continue;
    const value = meta[field];
    if (typeof value !== 'string' || value === '') {
      report.add('meta_bad_type', `must be a non-empty str, got ${pyTypeName(value)} ${reprOf(value)}`, key(field));
    }
  }

  if (Object.hasOwn(meta, 'created_at')) {
    const value = meta.created_at;
    if (typeof value !== 'string' || !TIMESTAMP.test(value) || Number.isNaN(Date.parse(value))) {
      report.add('meta_bad_type', `must be an ISO 8601 timestamp with a time zone, got ${reprOf(value)}`, key('created_at'));
    }
  }

  if (meta.producer !== undefined && meta.producer !== schema.component) {
    report.add('producer_mismatch', `is ${reprOf(meta.producer)} but the schema is for ${schema.component}`, key('producer'));
  }
  if (meta.schema_version !== undefined && meta.schema_version !== schema.schema_version) {
    report.add(
      'schema_version_mismatch',
      `is ${reprOf(meta.schema_version)} but the schema is ${schema.schema_version}`,
      key('schema_version'),
    );
  }

  const status = meta.status;
  if (status !== undefined) {
    if (!isStatus(status)) {
      report.add('bad_status', `must be one of ${STATUSES.join(', ')}, got ${reprOf(status)}`, key('status'));
    } else if (!schema.statuses.includes(status)) {
      report.add('status_not_allowed', `${schema.component} artifacts may have status ${schema.statuses.join(' or ')}, not ${status}`, key('status'));
    }
  }

  if (Object.hasOwn(meta, 'empty_reason')) {
    const reason = meta.empty_reason;
    const reasons = [...EMPTY_REASONS, ...schema.extra_empty_reasons];
    if (reason !== null && typeof reason !== 'string') {
      report.add('meta_bad_type', `must be a str or None, got ${pyTypeName(reason)}`, key('empty_reason'));
    } else if (status === 'empty' && (reason === null || !reasons.includes(reason))) {
      report.add('bad_empty_reason', `status is empty, so empty_reason must be one of ${reasons.join(', ')}; got ${reprOf(reason)}`, key('empty_reason'));
    } else if (isStatus(status) && status !== 'empty' && reason !== null) {
      report.add('empty_reason_not_null', `status is ${status}, so empty_reason must be None; got ${reprOf(reason)}`, key('empty_reason'));
    }
  }

  if (Object.hasOwn(meta, 'batch_size')) {
    const value = meta.batch_size;
    const positiveInt = (typeof value === 'bigint' && value > 0n) || (typeof value === 'number' && Number.isInteger(value) && value >= 1);
    if (!positiveInt) {
      report.add('meta_bad_type', `must be a positive int, got ${pyTypeName(value)} ${reprOf(value)}`, key('batch_size'));
    }
  }

  if (Object.hasOwn(meta, 'models_used')) {
    // an empty result may have run no model at all; an ok one that needs models must name them
    checkModelsUsed(meta.models_used, required.includes('models_used') && status === 'ok', report);
  }

  if (Object.hasOwn(meta, 'dependencies')) {
    const value = meta.dependencies;
    if (!isPyDict(value) || Object.values(value).some((signature) => typeof signature !== 'string')) {
      report.add('meta_bad_type', 'must be a dict of artifact name to signature str', key('dependencies'));
    }
  }
}

function checkModelsUsed(value: PyValue | undefined, mustBeNonEmpty: boolean, report: Reporter): void {
  const key = 'meta.models_used';
  if (!Array.isArray(value)) {
    report.add('meta_bad_type', `must be a list of dicts, got ${pyTypeName(value)}`, key);
    return;
  }
  if (value.length === 0 && mustBeNonEmpty) {
    report.add('models_used_incomplete', 'is empty; an ok artifact of a component that calls models lists every model it used', key);
  }
  value.forEach((entry, index) => {
    if (!isPyDict(entry)) {
      report.add('models_used_incomplete', `models_used[${index}] is ${pyTypeName(entry)}, not a dict`, key);
      return;
    }
    const missing = MODEL_USED_KEYS.filter((field) => typeof entry[field] !== 'string' || entry[field] === '');
    if (missing.length > 0) {
      report.add(
        'models_used_incomplete',
        `models_used[${index}] lacks ${missing.join(', ')} (every entry has non-empty str ${MODEL_USED_KEYS.join(', ')})`,
        key,
      );
    } else if (!(MODEL_RUNTIMES as readonly string[]).includes(entry.runtime as string)) {
      report.add('bad_value', `models_used[${index}].runtime must be ${MODEL_RUNTIMES.join(' or ')}, got ${reprOf(entry.runtime)}`, key);
    }
  });
}

/** The value a rule reference points at: a 0-d key (when valid) or a meta field; undefined when absent. */
function resolveRef(ref: string, ctx: Context): { value: PyValue | undefined } | undefined {
  if (ref.startsWith('meta.')) {
    const field = ref.slice('meta.'.length);
    return ctx.meta && Object.hasOwn(ctx.meta, field) ? { value: ctx.meta[field] } : undefined;
  }
  const array = ctx.contents.get(ref);
  return array && ctx.valid.has(ref) ? { value: elementAt(array, 0) } : undefined;
}

function checkRules(ctx: Context): void {
  for (const rule of ctx.schema.rules) {
    const applies = Object.entries(rule.if).every(([ref, expected]) => {
      const found = resolveRef(ref, ctx);
      return found !== undefined && scalarOf(found.value) === expected;
    });
    if (!applies) continue;
    const condition = Object.entries(rule.if)
      .map(([ref, expected]) => `${ref} is ${reprOf(expected)}`)
      .join(' and ');
    for (const [ref, expected] of Object.entries(rule.then)) {
      const found = resolveRef(ref, ctx);
      if (found && scalarOf(found.value) !== expected) {
        ctx.report.add('rule_violation', `must be ${reprOf(expected)} when ${condition}, got ${reprOf(found.value)} (${rule.description})`, ref);
      }
    }
  }
}

/**
 * Validates the contents of one NPZ artifact against its schema and the meta contract (DESIGN.md §5): keys,
 * dtypes, shapes and symbolic dims, frame_indices, masks and value rules, meta completeness, status and
 * empty_reason. Reports every problem found rather than stopping at the first. Throws only when a schema file
 * itself is broken (`schema_invalid`).
 */
export function validateNpz(contents: NpzContents, options: ValidateNpzOptions = {}): NpzValidation {
  const report = new Reporter(options.path);
  const meta = readMeta(contents, report);
  const schema = resolveSchema(options.schema, meta, report);
  if (schema) {
    const ctx: Context = { contents, schema, meta, report, valid: new Set() };
    checkKeys(ctx);
    for (const name of ctx.valid) {
      const spec = schema.keys[name];
      const array = contents.get(name);
      if (spec && array) checkValues(ctx, name, spec, array);
    }
    if (meta) checkMeta(meta, schema, options.requiredMetaKeys ?? [...REQUIRED_META_KEYS, ...schema.meta.required], report);
    checkRules(ctx);
  }
  return { ok: report.problems.length === 0, problems: report.problems, schema, meta };
}

/**
 * Reads an NPZ file with core/npz and validates it. A file that cannot be read (missing, not a zip, truncated,
 * a forbidden pickle global, too large) is one problem carrying the reader's error code.
 */
export async function validateNpzFile(file: string, options: Omit<ValidateNpzOptions, 'path'> = {}): Promise<NpzValidation> {
  let contents: NpzContents;
  try {
    // keep integral Python floats as PyFloat so that e.g. batch_size=16.0 is told apart from an int
    contents = await readNpzFile(file, { preserveFloats: true });
  } catch (error) {
    if (!isTrendflowError(error)) throw error;
    const { key } = error.details;
    const problem: Problem = { path: file, ...(key === undefined ? {} : { key }), code: error.code, message: error.message };
    return { ok: false, problems: [problem], schema: null, meta: null };
  }
  return validateNpz(contents, { ...options, path: file });
}
