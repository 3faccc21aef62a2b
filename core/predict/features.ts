/**
 * One run's artifacts → one feature row of the feature spec (feature-spec.ts). The single implementation shared by
 * the training-bundle export (core/export) and the `prediction` component, so that training and inference never
 * build a row two ways (seed 003 Q22, Q27).
 */
import type { ComponentName } from '../contracts/components.js';
import { TrendflowError } from '../contracts/errors.js';
import { getArray, getMeta, getStringList, readNpzFile, type NpzContents, type PyValue } from '../npz/index.js';
import { FEATURE_COLUMNS, FEATURE_SCHEMA_VERSION, FEATURE_SOURCES, type FeatureSource } from './feature-spec.js';

export interface FeatureRow {
  /** FEATURE_COLUMNS.length values, NaN where missing. */
  features: Float32Array;
  /** Every required source was found (ran ok or empty). */
  complete: boolean;
  /** Sources whose artifact was not found, in the spec's order. */
  missingRequired: ComponentName[];
  missingOptional: ComponentName[];
  /** From snapshot 1 (temporal_snapshot_features); null when unknown or that source is missing. */
  ageBucket: string | null;
  /** The metadata's channel id (temporal_snapshot_features v2); null when unknown or the artifact is v1. */
  channelId: string | null;
  publishedAt: string | null;
  snapshot1CollectedAt: string | null;
}

/** Where a source's artifact is: an absolute file, or null when the component did not run (or failed). */
export type LocateSource = (source: FeatureSource) => string | null;

const stringOrNull = (value: PyValue | undefined): string | null => (typeof value === 'string' ? value : null);

/**
 * Builds the row. Values are read by name, so a producer that reorders its list still fills the right column; a
 * found artifact that lacks a feature of the spec is `artifact_invalid` (another producer version), never a NaN.
 */
export async function buildFeatureRow(locate: LocateSource): Promise<FeatureRow> {
  const row: FeatureRow = {
    features: new Float32Array(FEATURE_COLUMNS.length).fill(Number.NaN),
    complete: true,
    missingRequired: [],
    missingOptional: [],
    ageBucket: null,
    channelId: null,
    publishedAt: null,
    snapshot1CollectedAt: null,
  };
  let offset = 0;
  for (const source of FEATURE_SOURCES) {
    const file = locate(source);
    if (file === null) {
      (source.required ? row.missingRequired : row.missingOptional).push(source.component);
      row.complete &&= !source.required;
    } else {
      const npz = await readNpzFile(file);
      const byName = new Map<string, number>();
      const names = getStringList(npz, source.namesKey, file);
      const values = getArray(npz, source.valuesKey, 'float32', file).data;
      names.forEach((name, i) => byName.set(name, values[i]!));
      source.names.forEach((name, i) => {
        const value = byName.get(name);
        if (value === undefined) {
          throw new TrendflowError('artifact_invalid', `feature '${name}' of ${FEATURE_SCHEMA_VERSION} is missing (another producer version?)`, { path: file });
        }
        row.features[offset + i] = value;
      });
      if (source.component === 'temporal_snapshot_features') Object.assign(row, snapshotContext(npz, file));
    }
    offset += source.names.length;
  }
  return row;
}

function snapshotContext(npz: NpzContents, file: string): Pick<FeatureRow, 'ageBucket' | 'channelId' | 'publishedAt' | 'snapshot1CollectedAt'> {
  const meta = getMeta(npz);
  const snapshot1 = meta.snapshot1;
  // meta dicts decode as plain objects; None (no snapshot) leaves the time unknown
  const collectedAt = snapshot1 !== null && typeof snapshot1 === 'object' && !Array.isArray(snapshot1) && !(snapshot1 instanceof Map) ? (snapshot1 as Record<string, PyValue>).collected_at : undefined;
  // schema v1 has no channel_id key (it never read the channel): unknown
  const channel = npz.get('channel_id');
  if (channel !== undefined && (channel.dtype !== 'object' || channel.shape.length !== 0 || !(channel.data[0] === null || typeof channel.data[0] === 'string'))) {
    throw new TrendflowError('artifact_invalid', 'channel_id is not a str or None scalar', { path: file, key: 'channel_id' });
  }
  return {
    ageBucket: stringOrNull(npz.get('age_bucket')?.data[0] as PyValue | undefined),
    channelId: stringOrNull(channel?.data[0] as PyValue | undefined),
    publishedAt: stringOrNull(meta.published_at),
    snapshot1CollectedAt: stringOrNull(collectedAt),
  };
}
