import type { ComponentKind, ComponentName } from './components.js';
import type { ErrorCode } from './errors.js';
import type { ModelUsed, RunIdentity } from './meta.js';
import type { EmptyReason, RunStatus } from './status.js';

/**
 * The manifest.json of one run (DESIGN.md §5, seed 001 §3): the source of truth for what a run produced.
 * schemas/manifest.json is the machine-readable form of these types; a test keeps the two in step.
 */
export const MANIFEST_VERSION = 'manifest_v2';
export type ManifestVersion = typeof MANIFEST_VERSION;

/**
 * The older version readers still accept: manifest_v1 kept the cache key and the metrics as `cache_key <hex>` and
 * `metrics {json}` notes. core/store's readManifest upgrades it to MANIFEST_VERSION in memory; nothing writes it.
 */
export const LEGACY_MANIFEST_VERSION = 'manifest_v1';

/** The file name of the manifest inside a run folder. */
export const MANIFEST_FILE_NAME = 'manifest.json';

/** A failure as stored in the manifest: a stable code plus the one human line. */
export interface ManifestError {
  error_code: ErrorCode;
  message: string;
}

/** One file a component wrote (an `.npz`, or an `.npy` sub-artifact). */
export interface ManifestArtifact {
  /** Relative to the run folder, forward slashes, e.g. `core_clip/core_clip.npz`. */
  path: string;
  bytes: number;
  /** Lower-case hex sha256 of the file's bytes. */
  sha256: string;
}

/**
 * The `run` section: identity plus lifecycle. `error` is set exactly when `status` is `error` (e.g. a bad input
 * that stopped the run before any component, DESIGN.md §13); the schema enforces it.
 */
export interface ManifestRun extends RunIdentity {
  status: RunStatus;
  error: ManifestError | null;
  /** ISO 8601 UTC timestamps. */
  created_at: string;
  updated_at: string;
  /** The analysed file as given (absolute path), its size and sha256, when the run came from a local file. */
  source_path?: string;
  source_bytes?: number;
  source_sha256?: string;
}

interface ManifestComponentFields {
  name: ComponentName;
  kind: ComponentKind;
  artifacts: ManifestArtifact[];
  producer_version: string;
  schema_version: string;
  /** ISO 8601 UTC timestamps of this component's execution (or of the cache reuse). */
  started_at: string;
  finished_at: string;
  duration_ms: number;
  /** e.g. `cpu`, `cuda:0`; null for components that use no compute device worth naming. */
  device_used: string | null;
  /** Free-form observations (validation warnings, fallbacks taken); empty when there are none. */
  notes: string[];
  /** Empty for components that call no model. */
  models_used: ModelUsed[];
  model_signature: string | null;
  /** True when the artifacts were reused from another run with the same cache key (DESIGN.md §9). */
  cache_hit: boolean;
  /** The run the reused artifacts came from; set exactly when `cache_hit` is true (the schema enforces it). */
  cache_source_run_id: string | null;
  /**
   * The component cache key (hex sha256, DESIGN.md §9) this result is filed under; null where nothing may be
   * reused: errors, `dependency_missing` entries, and results a gc redaction changed after they were computed.
   */
  cache_key: string | null;
  /** What computing the result took (seed 003 Q33–Q34); null where nothing was computed (cache hit, error, missing input). */
  metrics: ComponentMetrics | null;
}

/** The metric names a component entry may record, each optional (a component without batching has no batch_size). */
export const COMPONENT_METRIC_KEYS = ['batch_size', 'peak_rss_bytes', 'units_done', 'throughput_per_s'] as const;

export interface ComponentMetrics {
  /** Frames (or other units) per inference call, as planned. */
  batch_size?: number;
  /** The process's peak resident memory while the component ran (other components running beside it included). */
  peak_rss_bytes?: number;
  /** Units the component reported as done through its progress events (frames, prompts, windows…). */
  units_done?: number;
  /** units_done per second of the component's duration. */
  throughput_per_s?: number;
}

/** A component entry; its status decides which of `empty_reason` and `error` is set. */
export type ManifestComponent =
  | (ManifestComponentFields & { status: 'ok'; empty_reason: null; error: null })
  | (ManifestComponentFields & { status: 'empty'; empty_reason: EmptyReason; error: null })
  | (ManifestComponentFields & { status: 'error'; empty_reason: null; error: ManifestError });

export interface Manifest {
  manifest_version: ManifestVersion;
  run: ManifestRun;
  /** In the order the components were first recorded; names are unique. */
  components: ManifestComponent[];
}

/** A component entry as manifest_v1 stored it: without `cache_key` and `metrics` (read only, see LEGACY_MANIFEST_VERSION). */
export type LegacyManifestComponent = WithoutV2Fields<ManifestComponent>;
// distributes over the status variants, so each keeps its own empty_reason/error pairing
type WithoutV2Fields<C> = C extends unknown ? Omit<C, 'cache_key' | 'metrics'> : never;

/** A manifest_v1 file as read from disk, before readManifest upgrades it. */
export interface LegacyManifest {
  manifest_version: typeof LEGACY_MANIFEST_VERSION;
  run: ManifestRun;
  components: LegacyManifestComponent[];
}

/** Either version as found on disk. */
export type StoredManifest = Manifest | LegacyManifest;
