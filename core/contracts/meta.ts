import type { EmptyReason, Status } from './status.js';

/** The meta keys every NPZ artifact must carry (DESIGN.md §5, seed 001 §4). */
export const REQUIRED_META_KEYS = [
  'producer',
  'producer_version',
  'schema_version',
  'created_at',
  'platform_id',
  'video_id',
  'run_id',
  'config_hash',
  'sampling_policy_version',
  'dataprocessor_version',
  'status',
  'empty_reason',
] as const;
export type RequiredMetaKey = (typeof REQUIRED_META_KEYS)[number];

/** Meta keys that components calling models must add (seed 003 Q1/Q3). */
export const MODEL_META_KEYS = ['models_used', 'model_signature', 'batch_size'] as const;

/** The fields of one `models_used[]` entry (seed 003 Q1). */
export const MODEL_USED_KEYS = [
  'model_name',
  'model_version',
  'weights_digest',
  'runtime',
  'engine',
  'precision',
  'device',
] as const;

export interface ModelUsed {
  model_name: string;
  model_version: string;
  weights_digest: string;
  runtime: 'inprocess' | 'triton-gpu';
  engine: string;
  precision: 'fp32' | 'fp16' | 'int8' | string;
  device: 'cpu' | 'cuda' | string;
}

/** Run identity as it appears in every artifact meta and in `manifest.run` (DESIGN.md §4). */
export interface RunIdentity {
  platform_id: string;
  video_id: string;
  run_id: string;
  config_hash: string;
  sampling_policy_version: string;
  dataprocessor_version: string;
}

export interface ArtifactMeta extends RunIdentity {
  producer: string;
  producer_version: string;
  schema_version: string;
  created_at: string;
  status: Status;
  empty_reason: EmptyReason | string | null;
  models_used?: ModelUsed[];
  model_signature?: string;
  batch_size?: number;
  dependencies?: Record<string, string>;
  [extra: string]: unknown;
}
