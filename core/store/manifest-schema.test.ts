import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMPONENT_KINDS, COMPONENT_NAMES } from '../contracts/components.js';
import { ERROR_CODES } from '../contracts/errors.js';
import {
  COMPONENT_METRIC_KEYS,
  LEGACY_MANIFEST_VERSION,
  MANIFEST_VERSION,
  type ComponentMetrics,
  type Manifest,
  type ManifestArtifact,
  type ManifestComponent,
  type ManifestError,
  type ManifestRun,
} from '../contracts/manifest.js';
import { MODEL_USED_KEYS, type ModelUsed } from '../contracts/meta.js';
import { EMPTY_REASONS, RUN_STATUSES, STATUSES } from '../contracts/status.js';
import { SAMPLE_COMPUTED, sampleComponent, sampleManifest, toManifestV1 } from '../../test/helpers/manifest.js';
import { ID_PATTERN } from './identity.js';
import { checkStoredManifest, validateManifest } from './manifest-schema.js';

interface ObjectSchema {
  required: string[];
  properties: Record<string, { enum?: string[] }>;
  additionalProperties: boolean;
}
const schema = JSON.parse(readFileSync(new URL('../../schemas/manifest.json', import.meta.url), 'utf8')) as {
  'x-schema-version': string;
  properties: Record<string, { enum?: string[] }>;
  then: { properties: { components: { items: { required: string[] } } } };
  $defs: Record<string, { enum?: readonly string[]; pattern?: string } & Partial<ObjectSchema>>;
} & ObjectSchema;
const def = (name: string) => schema.$defs[name] as ObjectSchema & { enum: string[]; pattern: string };

/**
 * Every key of each TS type, listed once. The `satisfies` and the `AllListed` checks make `tsc` fail when a key
 * is added to or removed from a type without updating this list; the tests below then compare the lists with the
 * schema, so the TS types and schemas/manifest.json cannot drift apart.
 */
type AllListed<T, L extends readonly (keyof T)[]> = Exclude<keyof T, L[number]> extends never ? true : false;
const manifestKeys = ['manifest_version', 'run', 'components'] as const satisfies readonly (keyof Manifest)[];
const runRequired = [
  'platform_id',
  'video_id',
  'run_id',
  'config_hash',
  'sampling_policy_version',
  'dataprocessor_version',
  'status',
  'error',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof ManifestRun)[];
const runOptional = ['source_path', 'source_bytes', 'source_sha256'] as const satisfies readonly (keyof ManifestRun)[];
const componentKeys = [
  'name',
  'kind',
  'status',
  'empty_reason',
  'artifacts',
  'producer_version',
  'schema_version',
  'started_at',
  'finished_at',
  'duration_ms',
  'device_used',
  'error',
  'notes',
  'models_used',
  'model_signature',
  'cache_hit',
  'cache_source_run_id',
  'cache_key',
  'metrics',
] as const satisfies readonly (keyof ManifestComponent)[];
/** The component fields manifest_v2 added: required there (the schema's top-level `then`), absent from manifest_v1. */
const componentV2Keys = ['cache_key', 'metrics'] as const satisfies readonly (typeof componentKeys)[number][];
const artifactKeys = ['path', 'bytes', 'sha256'] as const satisfies readonly (keyof ManifestArtifact)[];
const errorKeys = ['error_code', 'message'] as const satisfies readonly (keyof ManifestError)[];
const everyKeyListed: [
  AllListed<Manifest, typeof manifestKeys>,
  AllListed<ManifestRun, [...typeof runRequired, ...typeof runOptional]>,
  AllListed<ManifestComponent, typeof componentKeys>,
  AllListed<ManifestArtifact, typeof artifactKeys>,
  AllListed<ManifestError, typeof errorKeys>,
  AllListed<ModelUsed, typeof MODEL_USED_KEYS>,
  AllListed<ComponentMetrics, typeof COMPONENT_METRIC_KEYS>,
] = [true, true, true, true, true, true, true];

const sorted = (values: readonly string[]) => [...values].sort();

describe('schemas/manifest.json stays equal to core/contracts', () => {
  it('has the manifest version of the contracts', () => {
    expect(schema['x-schema-version']).toBe(MANIFEST_VERSION);
    expect(schema.properties.manifest_version?.enum).toEqual([LEGACY_MANIFEST_VERSION, MANIFEST_VERSION]);
  });

  it('uses the contract enums', () => {
    const cases: [string, readonly string[]][] = [
      ['componentName', COMPONENT_NAMES],
      ['componentKind', COMPONENT_KINDS],
      ['status', STATUSES],
      ['runStatus', RUN_STATUSES],
      ['emptyReason', EMPTY_REASONS],
      ['errorCode', ERROR_CODES],
    ];
    for (const [name, values] of cases) {
      expect(def(name).enum, `update $defs.${name}.enum in schemas/manifest.json to the list in core/contracts`).toEqual([
        ...values,
      ]);
    }
  });

  it('uses the id pattern of core/store/identity.ts', () => {
    expect(def('id').pattern).toBe(ID_PATTERN.source);
  });

  it('has exactly the fields of the TS types, all closed', () => {
    expect(everyKeyListed.every(Boolean)).toBe(true);
    const cases: [ObjectSchema, readonly string[], readonly string[]][] = [
      [schema, manifestKeys, []],
      [def('run'), runRequired, runOptional],
      // the v2 fields are optional in $defs.component and required by the top-level `then` (manifest_v2)
      [def('component'), componentKeys.filter((key) => !(componentV2Keys as readonly string[]).includes(key)), componentV2Keys],
      [def('artifact'), artifactKeys, []],
      [def('error'), errorKeys, []],
      [def('modelUsed'), MODEL_USED_KEYS, []],
      [def('metrics'), [], COMPONENT_METRIC_KEYS],
    ];
    for (const [objectSchema, required, optional] of cases) {
      expect(objectSchema.additionalProperties).toBe(false);
      expect(sorted(objectSchema.required ?? [])).toEqual(sorted(required));
      expect(sorted(Object.keys(objectSchema.properties))).toEqual(sorted([...required, ...optional]));
    }
    expect(sorted(schema.then.properties.components.items.required)).toEqual(sorted(componentV2Keys));
  });
});

describe('validateManifest', () => {
  it('accepts a complete manifest and the other status variants', () => {
    expect(validateManifest(sampleManifest())).toEqual({ ok: true, errors: [] });
    const manifest = sampleManifest();
    manifest.run = { ...manifest.run, status: 'error', error: { error_code: 'invalid_argument', message: 'bad input' } };
    manifest.components = [
      { ...sampleComponent('core_face_landmarks'), status: 'empty', empty_reason: 'no_faces_in_video', error: null },
      {
        ...sampleComponent('cut_detection', 'module'),
        status: 'error',
        empty_reason: null,
        error: { error_code: 'internal_error', message: 'boom' },
        artifacts: [],
        models_used: [],
        model_signature: null,
        device_used: null,
      },
      { ...sampleComponent('core_clip'), cache_hit: true, cache_source_run_id: '20251231T235959Z-00000000' },
      { ...sampleComponent('text_processor', 'text'), ...SAMPLE_COMPUTED },
      { ...sampleComponent('tempo_extractor', 'audio'), metrics: {} },
    ];
    expect(validateManifest(manifest)).toEqual({ ok: true, errors: [] });
  });

  it('accepts a run without source fields', () => {
    const manifest = sampleManifest();
    const { source_path: _p, source_bytes: _b, source_sha256: _s, ...run } = manifest.run;
    expect(validateManifest({ ...manifest, run }).ok).toBe(true);
  });

  const broken: [string, (m: Record<string, any>) => void, string][] = [
    ['an unknown top-level field', (m) => (m.render = {}), 'must NOT have additional properties (render)'],
    ['another manifest version', (m) => (m.manifest_version = 'manifest_v0'), '/manifest_version'],
    ['a non-canonical component name', (m) => (m.components[0].name = 'clip'), '/components/0/name'],
    ['an unknown component kind', (m) => (m.components[0].kind = 'visual'), '/components/0/kind'],
    ['an unknown run status', (m) => (m.run.status = 'done'), '/run/status'],
    ['a run error without status error', (m) => (m.run.error = { error_code: 'internal_error', message: 'x' }), '/run/error'],
    ['run status error without an error', (m) => (m.run.status = 'error'), '/run/error'],
    ['an unknown error code', (m) => {
      m.run.status = 'error';
      m.run.error = { error_code: 'oops', message: 'x' };
    }, '/run/error/error_code'],
    ['empty without empty_reason', (m) => (m.components[0].status = 'empty'), '/components/0/empty_reason'],
    ['a non-canonical empty_reason', (m) => {
      m.components[0].status = 'empty';
      m.components[0].empty_reason = 'nothing_here';
    }, '/components/0/empty_reason'],
    ['ok with an empty_reason', (m) => (m.components[0].empty_reason = 'no_faces_in_video'), '/components/0/empty_reason'],
    ['error without error', (m) => (m.components[0].status = 'error'), '/components/0/error'],
    ['cache_hit without a source run', (m) => (m.components[0].cache_hit = true), '/components/0/cache_source_run_id'],
    ['a source run without cache_hit', (m) => (m.components[0].cache_source_run_id = 'r1'), '/components/0/cache_source_run_id'],
    ['a missing component field', (m) => delete m.components[0].device_used, "must have required property 'device_used'"],
    ['an unsafe run_id', (m) => (m.run.run_id = '../x'), '/run/run_id'],
    ['an upper-case config_hash', (m) => (m.run.config_hash = 'A'.repeat(64)), '/run/config_hash'],
    ['a timestamp that is not ISO 8601', (m) => (m.run.updated_at = 'yesterday'), '/run/updated_at'],
    ['a fractional duration', (m) => (m.components[0].duration_ms = 1.5), '/components/0/duration_ms'],
    ['an absolute artifact path', (m) => (m.components[0].artifacts[0].path = '/etc/passwd'), '/components/0/artifacts/0/path'],
    ['an artifact path with ..', (m) => (m.components[0].artifacts[0].path = 'core_clip/../../x.npz'), '/components/0/artifacts/0/path'],
    ['an artifact path with a backslash', (m) => (m.components[0].artifacts[0].path = 'core_clip\\a.npz'), '/components/0/artifacts/0/path'],
    ['an artifact path with an empty segment', (m) => (m.components[0].artifacts[0].path = 'core_clip//a.npz'), '/components/0/artifacts/0/path'],
    ['an unknown model runtime', (m) => (m.components[0].models_used[0].runtime = 'cloud'), '/components/0/models_used/0/runtime'],
    ['a duplicate component', (m) => m.components.push(sampleComponent()), '/components/1/name duplicate component core_clip'],
    ['a v2 entry without cache_key', (m) => delete m.components[0].cache_key, "must have required property 'cache_key'"],
    ['a v2 entry without metrics', (m) => delete m.components[0].metrics, "must have required property 'metrics'"],
    ['an upper-case cache_key', (m) => (m.components[0].cache_key = 'F'.repeat(64)), '/components/0/cache_key'],
    ['a short cache_key', (m) => (m.components[0].cache_key = 'f'.repeat(63)), '/components/0/cache_key'],
    ['a cache_key that is not a string', (m) => (m.components[0].cache_key = 42), '/components/0/cache_key'],
    ['an unknown metric', (m) => (m.components[0].metrics.gpu_seconds = 1), 'must NOT have additional properties (gpu_seconds)'],
    ['a metric that is not a number', (m) => (m.components[0].metrics.units_done = '12'), '/components/0/metrics/units_done'],
    ['a fractional batch_size', (m) => (m.components[0].metrics.batch_size = 1.5), '/components/0/metrics/batch_size'],
    ['metrics as a list', (m) => (m.components[0].metrics = [1, 2]), '/components/0/metrics'],
  ];
  it.each(broken)('rejects %s', (_label, breakIt, expected) => {
    const manifest = sampleManifest() as unknown as Record<string, any>;
    manifest.components[0] = { ...manifest.components[0], ...structuredClone(SAMPLE_COMPUTED) };
    breakIt(manifest);
    const result = validateManifest(manifest);
    expect(result.ok).toBe(false);
    expect(result.errors.some((line) => line.includes(expected)), result.errors.join('\n')).toBe(true);
  });

  it('reports non-objects without throwing', () => {
    for (const value of [null, 'manifest', 42, [], undefined]) {
      const result = validateManifest(value);
      expect(result.ok).toBe(false);
      expect(result.errors.length).toBeGreaterThan(0);
    }
  });
});

describe('manifest_v1 (the version before cache_key and metrics were fields)', () => {
  it('is valid as manifest_v1, and a v1 entry may not have the v2 fields', () => {
    expect(validateManifest(toManifestV1(sampleManifest()))).toEqual({ ok: true, errors: [] });
    const mixed = toManifestV1(sampleManifest()) as unknown as Record<string, any>;
    mixed.components[0].cache_key = 'f'.repeat(64);
    const result = validateManifest(mixed);
    expect(result.ok).toBe(false);
    expect(result.errors.some((line) => line.startsWith('/components/0/cache_key')), result.errors.join('\n')).toBe(true);
  });

  it('upgrades to the current version: the cache_key and metrics notes become the fields, other notes stay in order', () => {
    const manifest = sampleManifest();
    manifest.components[0] = { ...manifest.components[0]!, ...SAMPLE_COMPUTED, notes: ['batch_size 8: planned for cpu', 'cache hit: artifacts hard-linked from run r0'] };
    manifest.components.push(sampleComponent('text_processor', 'text'));
    const legacy = toManifestV1(manifest);
    expect(legacy.components[0]!.notes.slice(2)).toEqual([`cache_key ${'f'.repeat(64)}`, 'metrics {"batch_size":8,"peak_rss_bytes":1000000,"throughput_per_s":8,"units_done":12}']);
    expect(checkStoredManifest(legacy)).toEqual({ ok: true, errors: [], manifest, storedVersion: LEGACY_MANIFEST_VERSION });
  });

  it('keeps notes that do not parse as a key or metrics, with null fields', () => {
    const legacy = toManifestV1(sampleManifest());
    legacy.components[0]!.notes = ['cache_key not-a-key', 'metrics {broken', 'metrics [1]'];
    const { manifest } = checkStoredManifest(legacy);
    expect(manifest?.components[0]).toMatchObject({ cache_key: null, metrics: null, notes: ['cache_key not-a-key', 'metrics {broken', 'metrics [1]'] });
  });

  it('keeps only the known, finite metrics of a v1 note, and refuses one that does not fit manifest_v2', () => {
    const legacy = toManifestV1(sampleManifest());
    legacy.components[0]!.notes.push('metrics {"batch_size":4,"note":"x","units_done":null}');
    expect(checkStoredManifest(legacy).manifest?.components[0]?.metrics).toEqual({ batch_size: 4 });
    legacy.components[0]!.notes = ['metrics {"batch_size":0}'];
    const refused = checkStoredManifest(legacy);
    expect(refused).toMatchObject({ ok: false, manifest: null, storedVersion: LEGACY_MANIFEST_VERSION });
    expect(refused.errors).toContain('/components/0/metrics/batch_size must be >= 1 (after upgrading manifest_v1 to manifest_v2)');
  });

  it('leaves a current manifest as it is', () => {
    const manifest = sampleManifest();
    expect(checkStoredManifest(manifest)).toEqual({ ok: true, errors: [], manifest, storedVersion: MANIFEST_VERSION });
  });
});
