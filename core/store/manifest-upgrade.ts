import {
  COMPONENT_METRIC_KEYS,
  MANIFEST_VERSION,
  type ComponentMetrics,
  type LegacyManifestComponent,
  type Manifest,
  type ManifestComponent,
  type StoredManifest,
} from '../contracts/manifest.js';

/** The notes manifest_v1 recorded in place of the fields manifest_v2 has (core/pipeline wrote them). */
const V1_CACHE_KEY_NOTE = 'cache_key ';
const V1_METRICS_NOTE = 'metrics ';
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * A schema-valid manifest of either version as the current version: a manifest_v1 entry's `cache_key <hex>` and
 * `metrics {json}` notes become its `cache_key` and `metrics` fields (null without such a note) and leave its
 * notes. A note that does not parse as what it names stays a note: it was never a key or metrics anyone read.
 * A manifest_v2 is returned as it is.
 */
export function upgradeManifest(stored: StoredManifest): Manifest {
  if (stored.manifest_version === MANIFEST_VERSION) return stored;
  return { manifest_version: MANIFEST_VERSION, run: stored.run, components: stored.components.map(upgradeComponent) };
}

function upgradeComponent(entry: LegacyManifestComponent): ManifestComponent {
  let cacheKey: string | null = null;
  let metrics: ComponentMetrics | null = null;
  const notes: string[] = [];
  for (const note of entry.notes) {
    if (cacheKey === null && note.startsWith(V1_CACHE_KEY_NOTE) && SHA256_HEX.test(note.slice(V1_CACHE_KEY_NOTE.length))) {
      cacheKey = note.slice(V1_CACHE_KEY_NOTE.length);
      continue;
    }
    const parsed: ComponentMetrics | null = metrics === null && note.startsWith(V1_METRICS_NOTE) ? parseMetrics(note.slice(V1_METRICS_NOTE.length)) : null;
    if (parsed) {
      metrics = parsed;
      continue;
    }
    notes.push(note);
  }
  return { ...entry, notes, cache_key: cacheKey, metrics } as ManifestComponent;
}

/** The known metrics of a v1 `metrics` note's JSON object (finite numbers only, as the index read them); null if it is no object. */
function parseMetrics(json: string): ComponentMetrics | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  const metrics: ComponentMetrics = {};
  for (const key of COMPONENT_METRIC_KEYS) {
    const number = record[key];
    if (typeof number === 'number' && Number.isFinite(number)) metrics[key] = number;
  }
  return metrics;
}
