/**
 * Test components with canonical names for the orchestrator's tests: they write artifacts valid under their real
 * schemas, fail, or wait for cancellation, so every path of the DAG can be driven without the models and inputs
 * of the real components. Their ok artifacts are generated from the schema itself (`schemaArtifact`), so they stay
 * valid while the component owners evolve their schemas.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ComponentName } from '../../core/contracts/components.js';
import { TrendflowError } from '../../core/contracts/errors.js';
import { ndarray, type AnyNdArray, type NpzContents, type PyValue } from '../../core/npz/index.js';
import { artifactMeta, writeArtifact } from '../../core/pipeline/artifact.js';
import type { ComponentDefinition, ComponentDependency, ComponentOutcome, ComponentRunContext, EmptyContext } from '../../core/pipeline/component.js';
import { configParser } from '../../core/pipeline/config.js';
import type { ComponentTable } from '../../core/pipeline/run-config.js';
import { loadSchema } from '../../core/schema/index.js';
import { describeArtifact } from '../../core/store/manifest.js';
import type { ArtifactSchema, KeySpec, Literal } from '../../core/schema/index.js';
import type { DType } from '../../core/npz/index.js';
import { faceArtifact } from '../helpers/artifacts.js';

export type Behaviour = 'ok' | 'throw' | 'throw-plain' | 'wait-for-abort' | 'bad-artifact';

export interface FakeOptions {
  dependencies?: ComponentDependency[];
  behaviour?: () => Behaviour;
  /** The artifact's arrays and meta; default: generated from the schema (ok), core_face_landmarks' fixture (empty). */
  contents?: (empty: boolean) => NpzContents;
  writeEmpty?: boolean;
  onRun?: (ctx: ComponentRunContext) => void;
}

/** The helper artifact's arrays and meta, re-stamped with this run's identity and the producer fields. */
export async function writeFake(ctx: Pick<ComponentRunContext, 'identity' | 'runDir'>, name: ComponentName, contents: NpzContents, emptyReason: 'dependency_missing' | null = null): Promise<ComponentOutcome> {
  const schema = loadSchema(name);
  const { meta: helperMeta, ...rest } = Object.fromEntries(contents) as Record<string, AnyNdArray>;
  const extra = helperMeta!.data[0] as { [key: string]: PyValue };
  const status = emptyReason ? 'empty' : (extra.status as 'ok' | 'empty');
  const meta = { ...extra, ...artifactMeta({ identity: ctx.identity, producer: name, producerVersion: '1.0.0', schemaVersion: schema.schema_version, status, emptyReason: emptyReason ?? (extra.empty_reason as null) }) };
  if (emptyReason) for (const key of ['empty_reason', 'face_empty_reason']) if (key in rest) rest[key] = ndarray.str([emptyReason], []);
  const artifact = await writeArtifact(ctx.runDir, name, schema.artifact, rest, meta);
  return {
    status,
    empty_reason: meta.empty_reason as never,
    artifacts: [artifact],
    models_used: (extra.models_used as never) ?? [],
    model_signature: (extra.model_signature as string) ?? null,
    device_used: 'cpu',
    notes: [],
  };
}

export function fake(name: ComponentName, options: FakeOptions = {}): ComponentDefinition<{ value: number }> {
  const defaults = { value: 1 };
  return {
    name,
    kind: loadSchemaKind(name),
    producerVersion: '1.0.0',
    schemaVersion: schemaVersionOf(name),
    dependencies: options.dependencies ?? [],
    uses: { frames: false, signals: false, audio: false, metadata: false, snapshots: false },
    defaults,
    parseConfig: configParser(name, { properties: { value: { type: 'integer' } } }, defaults),
    async run(ctx) {
      options.onRun?.(ctx);
      switch (options.behaviour?.() ?? 'ok') {
        case 'throw':
          throw new TrendflowError('inference_failed', `${name} failed on purpose`);
        case 'throw-plain':
          throw new Error('a bug');
        case 'wait-for-abort':
          await new Promise((_, reject) => {
            ctx.signal!.throwIfAborted();
            ctx.signal!.addEventListener('abort', () => reject(ctx.signal!.reason), { once: true });
          });
          throw new Error('unreachable');
        case 'bad-artifact': {
          const file = path.join(ctx.runDir, name, loadSchema(name).artifact);
          await fs.mkdir(path.dirname(file), { recursive: true });
          await fs.writeFile(file, 'not an npz');
          return { status: 'ok', empty_reason: null, artifacts: [await describeArtifact(ctx.runDir, file)], models_used: [], model_signature: null, device_used: null, notes: [] };
        }
        default:
          return writeFake(ctx, name, (options.contents ?? defaultContents(name))(false));
      }
    },
    ...(options.writeEmpty ? { writeEmpty: async (ctx: EmptyContext) => writeFake(ctx, name, (options.contents ?? defaultContents(name))(true), 'dependency_missing') } : {}),
  };
}

function defaultContents(name: ComponentName): (empty: boolean) => NpzContents {
  return (empty) => {
    if (!empty) return schemaArtifact(loadSchema(name));
    if (name === 'core_face_landmarks') return faceArtifact({ empty: true });
    throw new Error(`no empty test artifact for ${name}`);
  };
}

const MODEL = { model_name: 'test-model', model_version: '1', weights_digest: `sha256:${'0'.repeat(64)}`, runtime: 'inprocess', engine: 'onnxruntime', precision: 'fp32', device: 'cpu' };

/**
 * A smallest valid `ok` artifact of a schema: every required key at its smallest non-empty size (1 per dim unless
 * the dim's min is larger), values that satisfy the key's constraints (frame indices and ordered keys increasing,
 * unique strings, masks true over finite values, `values`/`equals_meta`/`equals_any`), then the schema's rules
 * applied to its 0-d keys, and a meta with the schema's extra required fields.
 */
export function schemaArtifact(schema: ArtifactSchema): NpzContents {
  const meta: { [key: string]: PyValue } = { status: 'ok', empty_reason: null, schema_version: schema.schema_version, producer: schema.component };
  for (const field of schema.meta.required) {
    meta[field] =
      field === 'models_used' ? [{ ...MODEL }] : field === 'model_signature' ? `msig1:${'0'.repeat(64)}` : field === 'batch_size' ? 1 : field === 'dependencies' ? {} : 'test';
  }
  const size = (dim: string | number): number => {
    if (typeof dim === 'number') return dim;
    const spec = schema.dims[dim]!;
    return Math.min(Math.max(spec.min, 1), spec.max ?? Infinity);
  };
  const values = new Map<string, AnyNdArray>();
  for (const [name, spec] of Object.entries(schema.keys)) {
    if (spec.required) values.set(name, fill(spec, spec.shape.map(size), meta));
  }
  // 0-d keys the rules constrain, then `equals_any` summaries of the masks
  const scalar = (ref: string): Literal | undefined => {
    if (ref.startsWith('meta.')) return meta[ref.slice(5)] as Literal;
    const array = values.get(ref);
    return array && array.shape.length === 0 ? (array.dtype === 'bool' ? Boolean(array.data[0]) : (array.data[0] as Literal)) : undefined;
  };
  for (let pass = 0; pass < 3; pass++) {
    for (const rule of schema.rules) {
      if (!Object.entries(rule.if).every(([ref, value]) => scalar(ref) === value)) continue;
      for (const [ref, value] of Object.entries(rule.then)) {
        const spec = schema.keys[ref];
        if (spec && values.has(ref)) values.set(ref, literalArray(spec, value));
      }
    }
  }
  for (const [name, spec] of Object.entries(schema.keys)) {
    const mask = spec.equals_any ? values.get(spec.equals_any) : undefined;
    if (mask && values.has(name)) values.set(name, ndarray.bool([Array.from(mask.data as ArrayLike<number>).some(Boolean)], []));
  }
  return new Map([...values, ['meta', ndarray.objectScalar(meta)]]);
}

function dtypes(spec: KeySpec): DType[] {
  return Array.isArray(spec.dtype) ? spec.dtype : [spec.dtype];
}

function literalArray(spec: KeySpec, value: Literal): AnyNdArray {
  const kinds = dtypes(spec);
  if (typeof value === 'boolean' && kinds.includes('bool')) return ndarray.bool([value], []);
  if (typeof value === 'string' && kinds.includes('str')) return ndarray.str([value], []);
  if (typeof value === 'number' && kinds[0] !== 'object' && kinds[0] !== 'str' && kinds[0] !== 'bool') return fill(spec, [], {}, value);
  return ndarray.objectScalar(value);
}

function fill(spec: KeySpec, shape: number[], meta: { [key: string]: PyValue }, constant?: number): AnyNdArray {
  if (spec.equals_meta !== undefined) return literalArray(spec, meta[spec.equals_meta] as Literal);
  if (spec.values && spec.values.length > 0 && shape.length === 0) return literalArray(spec, spec.values[0]!);
  const count = shape.reduce((a, b) => a * b, 1);
  const index = Array.from({ length: count }, (_, i) => i);
  const dtype = dtypes(spec)[0]!;
  if (spec.values && spec.values.length > 0) {
    const pick = (i: number): Literal => spec.values![i % spec.values!.length]!;
    if (dtype === 'str') return ndarray.str(index.map((i) => String(pick(i))), shape);
    if (dtype === 'object') return ndarray.objectArray(index.map(pick), shape);
  }
  switch (dtype) {
    case 'bool':
      return ndarray.bool(index.map(() => true), shape);
    case 'str':
      return ndarray.str(index.map((i) => `v${i}`), shape);
    case 'object': {
      const kinds = spec.elements === undefined ? ['str'] : Array.isArray(spec.elements) ? spec.elements : [spec.elements];
      const element = (i: number): PyValue =>
        kinds.includes('str') ? `v${i}` : kinds.includes('int') ? i : kinds.includes('float') ? i + 0.5 : kinds.includes('dict') ? {} : kinds.includes('list') ? [] : kinds.includes('bool') ? true : null;
      return ndarray.objectArray(index.map(element), shape);
    }
    case 'float16':
    case 'float32':
    case 'float64':
      return ndarray[dtype](index.map((i) => constant ?? i + 0.5), shape);
    case 'int64':
    case 'uint64':
      return ndarray[dtype](index.map((i) => BigInt(constant ?? i)), shape);
    case 'int8':
    case 'uint8':
      // images and small codes: stay inside the 8-bit range
      return ndarray[dtype](index.map((i) => constant ?? i % 100), shape);
    default:
      return ndarray[dtype](index.map((i) => constant ?? i), shape);
  }
}

function loadSchemaKind(name: ComponentName): ComponentDefinition['kind'] {
  try {
    return loadSchema(name).kind as ComponentDefinition['kind'];
  } catch {
    return name.startsWith('core_') ? 'core' : 'module';
  }
}

function schemaVersionOf(name: ComponentName): string {
  try {
    return loadSchema(name).schema_version;
  } catch {
    return `${name}_npz_v1`;
  }
}


export function table(...definitions: ComponentDefinition<any>[]): ComponentTable {
  return new Map(definitions.map((d) => [d.name, d]));
}
