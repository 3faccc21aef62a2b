/**
 * A generated training bundle with known structure, written as the export writes it (core/export/README.md), so
 * the baseline's tests train on a real dataset.npz:
 * - signal features: the channel's subscribers, a quality score, cuts per minute (non-linear), the face-time share
 *   (missing on ~20 % of rows, its effect then absent), the age bucket (one-hot and hours);
 * - noise features with no effect, text_processor's columns missing on ~30 % of rows (an optional source that did
 *   not run), every other column of the spec NaN;
 * - channels with an unobserved channel effect, publication times over a year, the three age buckets with
 *   different noise levels (so per-bucket calibration matters);
 * - targets views/likes × 7/14/21 in log1p with ~25 % of 7-day targets missing and ~5 % of likes hidden.
 */
import path from 'node:path';
import { DATASET_FILE } from '../../core/export/bundle.js';
import type { TrainingDataset } from '../../core/predict/baseline/dataset.js';
import { ndarray, writeNpzFile } from '../../core/npz/index.js';
import { seededRandom } from '../../core/predict/baseline/gbt.js';
import { FEATURE_COLUMNS, FEATURE_SCHEMA_VERSION, TARGET_NAMES } from '../../core/predict/feature-spec.js';

export interface SyntheticDatasetOptions {
  rows?: number;
  channels?: number;
  seed?: number;
  /** false: channel_id None on every row, as the export writes for runs whose metadata names no channel. */
  withChannelIds?: boolean;
}

/** The arrays a bundle's reader gives the trainer (ageBucket null: unknown age; tests blank some out). */
export interface SyntheticDataset extends Omit<TrainingDataset, 'file' | 'features' | 'publishedAt' | 'snapshot1CollectedAt'> {
  publishedAt: string[];
  snapshot1CollectedAt: string[];
}

const AGE_BUCKETS = [
  { name: 'lt_24h', minHours: 1, maxHours: 23, share: 0.3, effect: 1.0, noise: 0.9 },
  { name: '1_30d', minHours: 25, maxHours: 700, share: 0.4, effect: 0, noise: 0.6 },
  { name: 'gt_30d', minHours: 800, maxHours: 8000, share: 0.3, effect: -1.5, noise: 0.4 },
] as const;

const NOISE_FEATURES = [
  'video_aggregates.luma_mean',
  'video_aggregates.noise_sigma_mean',
  'video_aggregates.shot_count',
  'video_aggregates.silent_share',
  'text_processor.title_emoji_count',
];

function column(name: string): number {
  const index = FEATURE_COLUMNS.findIndex((c) => c.name === name);
  if (index < 0) throw new Error(`no feature column ${name}`);
  return index;
}

export function syntheticDataset(options: SyntheticDatasetOptions = {}): SyntheticDataset {
  const rows = options.rows ?? 10_000;
  const channels = options.channels ?? 1_000;
  const random = seededRandom(options.seed ?? 1);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const F = FEATURE_COLUMNS.length;
  const T = TARGET_NAMES.length;
  const channelLogSubscribers = Array.from({ length: channels }, () => 10 + 2 * normal());
  const channelEffect = Array.from({ length: channels }, () => 0.3 * normal());
  const X = new Float32Array(rows * F).fill(Number.NaN);
  const targets = new Float32Array(rows * T).fill(Number.NaN);
  const targetMasks = new Uint8Array(rows * T);
  const data: SyntheticDataset = { rows, X, targets, targetMasks, videoId: [], channelId: [], ageBucket: [], publishedAt: [], snapshot1CollectedAt: [] };
  const yearStart = Date.parse('2025-01-01T00:00:00Z');
  const set = (r: number, name: string, value: number) => (X[r * F + column(name)] = value);

  for (let r = 0; r < rows; r++) {
    const channel = Math.floor(random() * channels);
    const draw = random();
    const bucket = draw < 0.3 ? AGE_BUCKETS[0] : draw < 0.7 ? AGE_BUCKETS[1] : AGE_BUCKETS[2];
    const ageHours = bucket.minHours + random() * (bucket.maxHours - bucket.minHours);
    const published = yearStart + random() * 365 * 24 * 3600 * 1000;
    const logSubscribers = channelLogSubscribers[channel]!;
    const quality = random();
    const cuts = 30 * random();
    const faceShare = random() < 0.2 ? Number.NaN : random();

    set(r, 'temporal_snapshot_features.log1p_subscriber_count', logSubscribers + 0.1 * normal());
    set(r, 'temporal_snapshot_features.video_age_hours_at_snapshot1', ageHours);
    for (const b of AGE_BUCKETS) set(r, `temporal_snapshot_features.age_bucket_${b.name}`, b === bucket ? 1 : 0);
    set(r, 'video_aggregates.quality_professional_mean', quality);
    set(r, 'video_aggregates.cuts_per_min', cuts);
    set(r, 'video_aggregates.face_time_share', faceShare);
    const textRan = random() >= 0.3;
    for (const name of NOISE_FEATURES) if (textRan || !name.startsWith('text_processor.')) set(r, name, normal());
    if (textRan) set(r, 'text_processor.title_length_chars', Math.round(20 + 60 * random()));

    const mean =
      0.6 * (logSubscribers - 10) + 1.5 * quality + 0.8 * Math.sin(cuts / 5) + (Number.isNaN(faceShare) ? 0 : faceShare) + bucket.effect + channelEffect[channel]! + 4;
    const likesHidden = random() < 0.05;
    const noViews7 = random() < 0.25;
    // gains since snapshot 1 accumulate, as targets_builder_multi_horizon measures them: a video's own luck (the
    // row's noise) carries over its horizons, each adds a little of its own, and no horizon is below the one before
    const luck = bucket.noise * normal();
    const likeShift = -3.5 + 0.5 * quality + 0.2 * normal();
    const last = { views: -Infinity, likes: -Infinity };
    TARGET_NAMES.forEach((name, t) => {
      const days = Number(/_(\d+)d$/.exec(name)![1]);
      const metric = name.startsWith('y_likes') ? 'likes' : 'views';
      const value = mean + 0.5 * Math.log(days / 7) + luck + 0.25 * normal() + (metric === 'likes' ? likeShift : 0);
      last[metric] = Math.max(last[metric], value);
      if ((days === 7 && noViews7) || (metric === 'likes' && likesHidden)) return;
      targets[r * T + t] = last[metric];
      targetMasks[r * T + t] = 1;
    });
    data.videoId.push(`vid${String(r).padStart(6, '0')}`);
    data.channelId.push(options.withChannelIds === false ? null : `UC${String(channel).padStart(5, '0')}`);
    data.ageBucket.push(bucket.name);
    data.publishedAt.push(new Date(published).toISOString());
    data.snapshot1CollectedAt.push(new Date(published + ageHours * 3600 * 1000).toISOString());
  }
  return data;
}

/** Writes `data` as `<dir>/dataset.npz` with every key the export writes. */
export async function writeSyntheticBundle(dir: string, data: SyntheticDataset): Promise<string> {
  const F = FEATURE_COLUMNS.length;
  const T = TARGET_NAMES.length;
  const file = path.join(dir, DATASET_FILE);
  await writeNpzFile(
    file,
    {
      feature_schema_version: ndarray.str([FEATURE_SCHEMA_VERSION], []),
      video_id: ndarray.objectArray(data.videoId),
      run_id: ndarray.objectArray(data.videoId.map((v) => `run_${v}`)),
      platform_id: ndarray.objectArray(data.videoId.map(() => 'youtube')),
      run_path: ndarray.objectArray(data.videoId.map((v) => `runs/youtube/${v}/run_${v}`)),
      feature_names: ndarray.objectArray(FEATURE_COLUMNS.map((c) => c.name)),
      feature_required: ndarray.bool(FEATURE_COLUMNS.map((c) => c.required)),
      feature_imputation: ndarray.objectArray(FEATURE_COLUMNS.map((c) => c.imputation)),
      X: ndarray.float32(data.X, [data.rows, F]),
      row_complete: ndarray.bool(data.videoId.map(() => true)),
      target_names: ndarray.objectArray([...TARGET_NAMES]),
      targets: ndarray.float32(data.targets, [data.rows, T]),
      target_masks: ndarray.bool(data.targetMasks, [data.rows, T]),
      age_bucket: ndarray.objectArray(data.ageBucket),
      channel_id: ndarray.objectArray(data.channelId),
      published_at: ndarray.objectArray(data.publishedAt),
      snapshot1_collected_at: ndarray.objectArray(data.snapshot1CollectedAt),
    },
    { compress: true },
  );
  return file;
}
