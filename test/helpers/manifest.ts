import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ComponentName, ComponentKind } from '../../core/contracts/components.js';
import {
  LEGACY_MANIFEST_VERSION,
  MANIFEST_FILE_NAME,
  MANIFEST_VERSION,
  type LegacyManifest,
  type LegacyManifestComponent,
  type Manifest,
  type ManifestComponent,
} from '../../core/contracts/manifest.js';
import { canonicalJson } from '../../core/store/identity.js';
import type { RunIdentity } from '../../core/contracts/meta.js';

/** A valid run identity for tests. */
export function sampleIdentity(overrides: Partial<RunIdentity> = {}): RunIdentity {
  return {
    platform_id: 'local',
    video_id: 'file-0123456789abcdef',
    run_id: '20260101T000000Z-0a1b2c3d',
    config_hash: 'a'.repeat(64),
    sampling_policy_version: 'sampling_policy_v1',
    dataprocessor_version: '0.1.0',
    ...overrides,
  };
}

/** A valid `ok` component entry (without cache key and metrics); spread overrides to make other variants. */
export function sampleComponent(
  name: ComponentName = 'core_clip',
  kind: ComponentKind = 'core',
): Extract<ManifestComponent, { status: 'ok' }> {
  return {
    name,
    kind,
    status: 'ok',
    empty_reason: null,
    artifacts: [{ path: `${name}/${name}.npz`, bytes: 1234, sha256: 'b'.repeat(64) }],
    producer_version: '1.0.0',
    schema_version: `${name}_npz_v1`,
    started_at: '2026-01-01T00:00:01.000Z',
    finished_at: '2026-01-01T00:00:02.500Z',
    duration_ms: 1500,
    device_used: 'cpu',
    error: null,
    notes: [],
    models_used: [
      {
        model_name: 'clip-vit-b32',
        model_version: 'rev1',
        weights_digest: 'c'.repeat(64),
        runtime: 'inprocess',
        engine: 'onnxruntime',
        precision: 'fp32',
        device: 'cpu',
      },
    ],
    model_signature: 'd'.repeat(64),
    cache_hit: false,
    cache_source_run_id: null,
    cache_key: null,
    metrics: null,
  };
}

/** The fields of an entry the orchestrator computed: its cache key and what computing it took. */
export const SAMPLE_COMPUTED = {
  cache_key: 'f'.repeat(64),
  metrics: { batch_size: 8, peak_rss_bytes: 1_000_000, units_done: 12, throughput_per_s: 8 },
} as const satisfies Pick<ManifestComponent, 'cache_key' | 'metrics'>;

/** A valid manifest with one component. */
export function sampleManifest(): Manifest {
  return {
    manifest_version: MANIFEST_VERSION,
    run: {
      ...sampleIdentity(),
      status: 'running',
      error: null,
      created_at: '2026-01-01T00:00:00.000Z',
      updated_at: '2026-01-01T00:00:02.500Z',
      source_path: '/videos/clip.mp4',
      source_bytes: 1000,
      source_sha256: 'e'.repeat(64),
    },
    components: [sampleComponent()],
  };
}

/**
 * The manifest_v1 form of a current manifest, as a store written before manifest_v2 holds it: each entry's
 * `cache_key` and `metrics` fields become the `cache_key <hex>` and `metrics {canonical json}` notes v1 kept
 * them in, after the entry's other notes.
 */
export function toManifestV1(manifest: Manifest): LegacyManifest {
  return {
    manifest_version: LEGACY_MANIFEST_VERSION,
    run: manifest.run,
    components: manifest.components.map(({ cache_key, metrics, ...entry }) => ({
      ...entry,
      notes: [
        ...entry.notes,
        ...(cache_key === null ? [] : [`cache_key ${cache_key}`]),
        ...(metrics === null ? [] : [`metrics ${canonicalJson(metrics)}`]),
      ],
    })) as LegacyManifestComponent[],
  };
}

/** Rewrites a run folder's manifest.json back to manifest_v1 (see toManifestV1). */
export async function rewriteAsManifestV1(runDir: string): Promise<LegacyManifest> {
  const file = path.join(runDir, MANIFEST_FILE_NAME);
  const legacy = toManifestV1(JSON.parse(await fs.readFile(file, 'utf8')) as Manifest);
  await fs.writeFile(file, `${JSON.stringify(legacy, null, 2)}\n`);
  return legacy;
}
