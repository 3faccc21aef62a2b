/**
 * temporal_snapshot_features: what was known about the video at its first snapshot (t0), and nothing later
 * (seed 002 §1–§2). See README.md.
 */
import { TrendflowError } from '../../contracts/errors.js';
import type { EmptyReason } from '../../contracts/status.js';
import { ndarray } from '../../npz/index.js';
import { artifactMeta, writeArtifact } from '../../pipeline/artifact.js';
import { outcomeWithoutModels } from '../../pipeline/outcome.js';
import type { ComponentOutcome, ComponentRunContext } from '../../pipeline/component.js';
import { namedVideoId, publishedAtOf, readMetadataJson, readSnapshots, type Snapshot, type SnapshotCounter } from '../snapshots.js';

export const SNAPSHOT_FEATURES_PRODUCER_VERSION = '2.0.0';
// v2 adds channel_id (the metadata's channel, for the trainer's channel-grouped split)
export const SNAPSHOT_FEATURES_SCHEMA_VERSION = 'temporal_snapshot_features_npz_v2';
export const SNAPSHOT_FEATURES_ARTIFACT = 'features.npz';

/** Counter → feature name stem. */
const COUNTERS: [SnapshotCounter, string][] = [
  ['viewCount', 'view_count'],
  ['likeCount', 'like_count'],
  ['commentCount', 'comment_count'],
  ['subscriberCount', 'subscriber_count'],
  ['videoCount', 'channel_video_count'],
  ['viewCount_channel', 'channel_view_count'],
];

export const SNAPSHOT_FEATURES = [
  ...COUNTERS.map(([, name]) => name),
  ...COUNTERS.map(([, name]) => `log1p_${name}`),
  'video_age_hours_at_snapshot1',
  'age_bucket_lt_24h',
  'age_bucket_1_30d',
  'age_bucket_gt_30d',
  'views_per_subscriber',
  'like_rate',
  'comment_rate',
  'views_per_video_channel',
  'views_per_hour_since_publish',
  'likes_per_hour_since_publish',
  'comments_per_hour_since_publish',
] as const;

export type AgeBucket = 'lt_24h' | '1_30d' | 'gt_30d';

/** The stratification of seed 002 §2: cold start < 24 h, warm 1–30 days, older > 30 days. */
export function ageBucket(hours: number): AgeBucket | null {
  if (!Number.isFinite(hours)) return null;
  return hours < 24 ? 'lt_24h' : hours <= 30 * 24 ? '1_30d' : 'gt_30d';
}

/** a / max(b, 1), the seed's guard against empty channels; NaN when either is missing. */
function ratio(a: number | null, b: number | null): number {
  return a === null || b === null ? Number.NaN : a / Math.max(b, 1);
}

/** The features of snapshot 1 given the publication time (null when unknown). */
export function snapshotFeatures(t0: Snapshot, publishedAt: Date | null): { values: Record<string, number>; bucket: AgeBucket | null } {
  const c = t0.counts;
  const ageHours = publishedAt ? (t0.collectedAt.getTime() - publishedAt.getTime()) / 3_600_000 : Number.NaN;
  const bucket = ageBucket(ageHours);
  const oneHot = (b: AgeBucket) => (bucket === null ? Number.NaN : bucket === b ? 1 : 0);
  // growth since publication, per hour; an age under an hour counts as one hour
  const perHour = (count: number | null) => (count === null || Number.isNaN(ageHours) ? Number.NaN : count / Math.max(ageHours, 1));
  const values: Record<string, number> = {};
  for (const [counter, name] of COUNTERS) {
    const value = c[counter];
    values[name] = value ?? Number.NaN;
    values[`log1p_${name}`] = value === null ? Number.NaN : Math.log1p(value);
  }
  Object.assign(values, {
    video_age_hours_at_snapshot1: ageHours,
    age_bucket_lt_24h: oneHot('lt_24h'),
    age_bucket_1_30d: oneHot('1_30d'),
    age_bucket_gt_30d: oneHot('gt_30d'),
    views_per_subscriber: ratio(c.viewCount, c.subscriberCount),
    like_rate: ratio(c.likeCount, c.viewCount),
    comment_rate: ratio(c.commentCount, c.viewCount),
    views_per_video_channel: ratio(c.viewCount_channel, c.videoCount),
    views_per_hour_since_publish: perHour(c.viewCount),
    likes_per_hour_since_publish: perHour(c.likeCount),
    comments_per_hour_since_publish: perHour(c.commentCount),
  });
  return { values, bucket };
}

/**
 * The channel's stable id from the metadata JSON: `channelId` (YouTube Data API's snippet.channelId) or
 * `channel_id` (yt-dlp); null when neither is given. Not `uploader_id` nor `channelTitle`: yt-dlp's uploader_id is
 * the channel's @handle and a title is a display name, both changeable and not unique (seed 002 §1), so grouping
 * by them would split or merge channels. Two different ids, or one that is not a non-empty string, is
 * `metadata_invalid`.
 */
export function channelIdOf(metadata: Record<string, unknown>, file: string): string | null {
  const ids = new Map<string, string>();
  for (const key of ['channelId', 'channel_id']) {
    const value = metadata[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' || value.trim() === '') {
      throw new TrendflowError('metadata_invalid', `${key} must be a non-empty string, got ${JSON.stringify(value)}`, { path: file, key });
    }
    ids.set(key, value);
  }
  const distinct = [...new Set(ids.values())];
  if (distinct.length > 1) {
    throw new TrendflowError('metadata_invalid', `channelId and channel_id name different channels (${distinct.map((id) => JSON.stringify(id)).join(' and ')})`, { path: file, key: 'channel_id' });
  }
  return distinct[0] ?? null;
}

export type SnapshotFeaturesContext = Pick<ComponentRunContext, 'identity' | 'runDir' | 'metadataFile' | 'snapshotsDir'>;

export async function runTemporalSnapshotFeatures(ctx: SnapshotFeaturesContext): Promise<ComponentOutcome> {
  if (!ctx.snapshotsDir) return write(ctx, null, null, 'dependency_missing', ['no snapshots folder was given (--snapshots)'], null);
  const set = await readSnapshots(ctx.snapshotsDir, namedVideoId(ctx.identity.video_id));
  const notes = set.ignored.length > 0 ? [`not snapshots, ignored: ${set.ignored.join(', ')}`] : [];
  const t0 = set.snapshots[0];
  if (!t0) return write(ctx, null, null, 'dependency_missing', [...notes, `${set.dir} holds no snapshot (*.json)`], null);

  let publishedAt: Date | null = null;
  let channelId: string | null = null;
  if (ctx.metadataFile) {
    const metadata = await readMetadataJson(ctx.metadataFile);
    publishedAt = publishedAtOf(metadata, ctx.metadataFile);
    channelId = channelIdOf(metadata, ctx.metadataFile);
  }
  if (!publishedAt) notes.push(ctx.metadataFile ? 'the metadata JSON has no publishedAt: the age features are missing' : 'no metadata JSON (--meta): the age features are missing');
  if (publishedAt && t0.collectedAt < publishedAt) {
    throw new TrendflowError('snapshot_invalid', `snapshot 1 (${t0.file}) was collected at ${t0.collectedAt.toISOString()}, before the video was published (${publishedAt.toISOString()})`, {
      path: `${set.dir}/${t0.file}`,
      key: 'collected_at',
    });
  }
  return write(ctx, t0, publishedAt, null, notes, channelId);
}

async function write(
  ctx: SnapshotFeaturesContext,
  t0: Snapshot | null,
  publishedAt: Date | null,
  emptyReason: EmptyReason | null,
  notes: string[],
  channelId: string | null,
): Promise<ComponentOutcome> {
  const status = emptyReason === null ? 'ok' : 'empty';
  const features = t0 ? snapshotFeatures(t0, publishedAt) : null;
  const values = SNAPSHOT_FEATURES.map((name) => features?.values[name] ?? Number.NaN);
  const meta = artifactMeta({
    identity: ctx.identity,
    producer: 'temporal_snapshot_features',
    producerVersion: SNAPSHOT_FEATURES_PRODUCER_VERSION,
    schemaVersion: SNAPSHOT_FEATURES_SCHEMA_VERSION,
    status,
    emptyReason,
    extra: {
      snapshot1: t0 ? { file: t0.file, collected_at: t0.collectedAt.toISOString() } : null,
      inputs: 'snapshot 1, publishedAt and the channel id only; later snapshots are never read',
      published_at: publishedAt?.toISOString() ?? null,
      notes,
    },
  });
  const artifact = await writeArtifact(
    ctx.runDir,
    'temporal_snapshot_features',
    SNAPSHOT_FEATURES_ARTIFACT,
    {
      feature_names: ndarray.objectArray([...SNAPSHOT_FEATURES]),
      feature_values: ndarray.float32(values, [values.length]),
      feature_present: ndarray.bool(values.map((v) => !Number.isNaN(v)), [values.length]),
      age_bucket: ndarray.objectScalar(features?.bucket ?? null),
      channel_id: ndarray.objectScalar(channelId),
    },
    meta,
  );
  return outcomeWithoutModels(status, emptyReason, [artifact], notes);
}
