import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTrendflowError } from '../../contracts/errors.js';
import { getArray, getMeta, getStringList, readNpzFile } from '../../npz/index.js';
import { componentDefinition } from '../../pipeline/registry.js';
import { validateNpzFile } from '../../schema/index.js';
import { sampleIdentity } from '../../../test/helpers/manifest.js';
import { numpyAvailableOrCi, runPython } from '../../../test/helpers/python.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { ageBucket, runTemporalSnapshotFeatures, SNAPSHOT_FEATURES } from './run.js';
import { codeOf } from '../../../test/helpers/errors.js';

const tmp = useTempDirs('snapshot-features-');

/** A snapshots folder with one JSON file per entry, and a metadata JSON. */
async function inputs(snapshots: Record<string, unknown>, metadata: Record<string, unknown> | null = { publishedAt: '2024-03-01T00:00:00Z' }) {
  const dir = await tmp();
  const snapshotsDir = path.join(dir, 'snapshots');
  await fs.mkdir(snapshotsDir);
  for (const [name, content] of Object.entries(snapshots)) {
    await fs.writeFile(path.join(snapshotsDir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  let metadataFile: string | null = null;
  if (metadata) {
    metadataFile = path.join(dir, 'meta.json');
    await fs.writeFile(metadataFile, JSON.stringify(metadata));
  }
  return { snapshotsDir, metadataFile, runDir: path.join(dir, 'run') };
}

async function features(ctx: { snapshotsDir: string | null; metadataFile: string | null; runDir: string }, identity = sampleIdentity()) {
  const outcome = await runTemporalSnapshotFeatures({ identity, ...ctx });
  const file = path.join(ctx.runDir, outcome.artifacts[0]!.path);
  const npz = await readNpzFile(file);
  const names = getStringList(npz, 'feature_names');
  const values = getArray(npz, 'feature_values', 'float32').data;
  const present = getArray(npz, 'feature_present', 'bool').data;
  return {
    outcome,
    file,
    values: Object.fromEntries(names.map((n, i) => [n, values[i]!])),
    present: Object.fromEntries(names.map((n, i) => [n, present[i] === 1])),
    bucket: npz.get('age_bucket')!.data[0],
    channel: npz.get('channel_id')!.data[0],
    meta: getMeta(npz),
  };
}

const T0 = {
  collected_at: '2024-03-03T12:00:00Z',
  viewCount: 12000,
  likeCount: 600,
  commentCount: 48,
  subscriberCount: 4000,
  videoCount: 120,
  viewCount_channel: 2_400_000,
};
const LATER = { ...T0, collected_at: '2024-03-10T12:00:00Z', viewCount: 99999, likeCount: 9999, subscriberCount: 5000 };

describe('temporal_snapshot_features: a hand-computed example', () => {
  it('gives the counters, the age at snapshot 1 (60 h, bucket 1–30 days) and the channel ratios', async () => {
    const result = await features(await inputs({ '1.json': T0, '2.json': LATER }));
    expect((await validateNpzFile(result.file)).problems).toEqual([]);
    expect(result.outcome).toMatchObject({ status: 'ok', empty_reason: null });
    expect(Object.keys(result.values)).toEqual([...SNAPSHOT_FEATURES]);
    const f = (value: number) => Math.fround(value);
    expect(result.values).toEqual({
      view_count: 12000,
      like_count: 600,
      comment_count: 48,
      subscriber_count: 4000,
      channel_video_count: 120,
      channel_view_count: 2_400_000,
      log1p_view_count: f(Math.log1p(12000)),
      log1p_like_count: f(Math.log1p(600)),
      log1p_comment_count: f(Math.log1p(48)),
      log1p_subscriber_count: f(Math.log1p(4000)),
      log1p_channel_video_count: f(Math.log1p(120)),
      log1p_channel_view_count: f(Math.log1p(2_400_000)),
      video_age_hours_at_snapshot1: 60,
      age_bucket_lt_24h: 0,
      age_bucket_1_30d: 1,
      age_bucket_gt_30d: 0,
      views_per_subscriber: 3, // 12000 / 4000
      like_rate: f(0.05), // 600 / 12000
      comment_rate: f(0.004), // 48 / 12000
      views_per_video_channel: 20000, // 2 400 000 / 120
      views_per_hour_since_publish: 200, // 12000 / 60
      likes_per_hour_since_publish: 10,
      comments_per_hour_since_publish: f(0.8),
    });
    expect(Object.values(result.present).every(Boolean)).toBe(true);
    expect(result.bucket).toBe('1_30d');
    expect(result.meta).toMatchObject({ snapshot1: { file: '1.json', collected_at: '2024-03-03T12:00:00.000Z' }, published_at: '2024-03-01T00:00:00.000Z' });
  });

  it('never reads a later snapshot: the features are the same with or without them, whatever they hold', async () => {
    const alone = await features(await inputs({ 'x.json': T0 }));
    const withFuture = await features(await inputs({ 'x.json': T0, 'y.json': LATER, 'z.json': { ...LATER, collected_at: '2024-03-24T12:00:00Z', viewCount: 1 } }));
    expect(withFuture.values).toEqual(alone.values);
  });

  it('orders snapshots by collected_at, not by file name', async () => {
    const result = await features(await inputs({ 'a_later.json': LATER, 'b_first.json': T0 }));
    expect(result.meta.snapshot1).toMatchObject({ file: 'b_first.json' });
    expect(result.values.view_count).toBe(12000);
  });

  it('accepts counters sent as strings of digits (as the YouTube Data API does) and a zone offset', async () => {
    const result = await features(await inputs({ '1.json': { ...T0, viewCount: '12000', collected_at: '2024-03-03T15:00:00+03:00' } }));
    expect(result.values.view_count).toBe(12000);
    expect(result.values.video_age_hours_at_snapshot1).toBe(60);
  });
});

describe('temporal_snapshot_features: age buckets', () => {
  it('are < 24 h, 24 h to 30 days (both ends included), > 30 days', () => {
    expect([5, 23.99, 24, 30 * 24, 30 * 24 + 0.01, Number.NaN].map(ageBucket)).toEqual(['lt_24h', 'lt_24h', '1_30d', '1_30d', 'gt_30d', null]);
  });

  it('a snapshot taken 5 h after publication is cold start (lt_24h)', async () => {
    const result = await features(await inputs({ '1.json': { ...T0, collected_at: '2024-03-01T05:00:00Z' } }));
    expect(result.bucket).toBe('lt_24h');
    expect([result.values.age_bucket_lt_24h, result.values.age_bucket_1_30d, result.values.age_bucket_gt_30d]).toEqual([1, 0, 0]);
    expect(result.values.views_per_hour_since_publish).toBe(12000 / 5);
  });
});

describe('temporal_snapshot_features: missing values are NaN with a mask, never zeros', () => {
  it('hidden likes: like_count, its log and like_rate are NaN and not present; the rest stays', async () => {
    const result = await features(await inputs({ '1.json': { ...T0, likeCount: null } }));
    expect((await validateNpzFile(result.file)).problems).toEqual([]);
    for (const name of ['like_count', 'log1p_like_count', 'like_rate', 'likes_per_hour_since_publish']) {
      expect(result.values[name], name).toBeNaN();
      expect(result.present[name], name).toBe(false);
    }
    expect(result.values.view_count).toBe(12000);
  });

  it('a channel without subscribers divides by max(subscriberCount, 1)', async () => {
    const result = await features(await inputs({ '1.json': { ...T0, subscriberCount: 0 } }));
    expect(result.values.views_per_subscriber).toBe(12000);
  });

  it('without publishedAt the age, its bucket and the per-hour rates are missing, and a note says why', async () => {
    const result = await features(await inputs({ '1.json': T0 }, null));
    expect(result.bucket).toBeNull();
    for (const name of ['video_age_hours_at_snapshot1', 'age_bucket_lt_24h', 'age_bucket_1_30d', 'age_bucket_gt_30d', 'views_per_hour_since_publish']) expect(result.values[name], name).toBeNaN();
    expect(result.outcome.notes).toContain('no metadata JSON (--meta): the age features are missing');
    expect((await validateNpzFile(result.file)).problems).toEqual([]);
  });

  it('no snapshots folder, or one without snapshots, is empty with dependency_missing and all NaN', async () => {
    const dir = await tmp();
    const none = await features({ snapshotsDir: null, metadataFile: null, runDir: path.join(dir, 'a') });
    expect([none.outcome.status, none.outcome.empty_reason]).toEqual(['empty', 'dependency_missing']);
    expect(Object.values(none.values).every(Number.isNaN)).toBe(true);
    expect((await validateNpzFile(none.file)).problems).toEqual([]);
    const emptyDir = await features(await inputs({ 'README.txt': 'not a snapshot' }));
    expect([emptyDir.outcome.status, emptyDir.outcome.empty_reason]).toEqual(['empty', 'dependency_missing']);
    expect(emptyDir.outcome.notes[0]).toBe('not snapshots, ignored: README.txt');
  });

  it.skipIf(!numpyAvailableOrCi)('loads in NumPy: NaN where missing, the bucket as a str or None', async () => {
    const hidden = await features(await inputs({ '1.json': { ...T0, likeCount: null } }));
    const unknownAge = await features(await inputs({ '1.json': T0 }, null));
    const out = runPython(
      `import sys, numpy as np
for f in sys.argv[1:]:
    z = np.load(f, allow_pickle=True)
    v = dict(zip([str(n) for n in z['feature_names']], z['feature_values']))
    print(repr(z['age_bucket'].item()), bool(np.isnan(v['like_rate'])), int(z['feature_present'].sum()), z['feature_values'].dtype)`,
      [hidden.file, unknownAge.file],
    );
    expect(out.trim().split('\n')).toEqual([`'1_30d' True ${SNAPSHOT_FEATURES.length - 4} float32`, `None False ${SNAPSHOT_FEATURES.length - 7} float32`]);
  });
});

describe('temporal_snapshot_features: the channel id', () => {
  it('comes from channelId (YouTube Data API) or channel_id (yt-dlp); None without one, never from uploader_id or the title', async () => {
    const api = await features(await inputs({ '1.json': T0 }, { publishedAt: '2024-03-01T00:00:00Z', channelId: 'UCabc' }));
    expect(api.channel).toBe('UCabc');
    expect((await validateNpzFile(api.file)).problems).toEqual([]);
    const ytDlp = await features(await inputs({ '1.json': T0 }, { channel_id: 'UCdef', uploader_id: '@handle' }));
    expect(ytDlp.channel).toBe('UCdef');
    const both = await features(await inputs({ '1.json': T0 }, { channelId: 'UCsame', channel_id: 'UCsame' }));
    expect(both.channel).toBe('UCsame');
    const unnamed = await features(await inputs({ '1.json': T0 }, { uploader_id: '@handle', channelTitle: 'Cooking' }));
    expect(unnamed.channel).toBeNull();
    expect((await validateNpzFile(unnamed.file)).problems).toEqual([]);
    const noMeta = await features(await inputs({ '1.json': T0 }, null));
    expect(noMeta.channel).toBeNull();
  });

  it('two different ids, or one that is not a non-empty string, is metadata_invalid naming the key', async () => {
    for (const [metadata, key] of [[{ channelId: 'UCa', channel_id: 'UCb' }, 'channel_id'], [{ channelId: 42 }, 'channelId'], [{ channel_id: ' ' }, 'channel_id']] as const) {
      const ctx = await inputs({ 'a.json': T0 }, metadata);
      const error = await runTemporalSnapshotFeatures({ identity: sampleIdentity(), ...ctx }).catch((e: unknown) => e);
      expect(isTrendflowError(error) && [error.code, error.details.key]).toEqual(['metadata_invalid', key]);
    }
  });

  it.skipIf(!numpyAvailableOrCi)('loads in NumPy as a str or None scalar', async () => {
    const named = await features(await inputs({ '1.json': T0 }, { channelId: 'UCabc' }));
    const unnamed = await features(await inputs({ '1.json': T0 }, null));
    const out = runPython(`import sys, numpy as np\nfor f in sys.argv[1:]:\n    print(repr(np.load(f, allow_pickle=True)['channel_id'].item()))`, [named.file, unnamed.file]);
    expect(out.trim().split('\n')).toEqual(["'UCabc'", 'None']);
  });
});

describe('temporal_snapshot_features: bad snapshots are snapshot_invalid, naming the file', () => {
  it.each([
    ['no collected_at', { ...T0, collected_at: undefined }],
    ['a time without a zone', { ...T0, collected_at: '2024-03-03T12:00:00' }],
    ['a negative count', { ...T0, viewCount: -5 }],
    ['a fractional count', { ...T0, likeCount: 1.5 }],
    ['comments that are not a list', { ...T0, comments: 'none' }],
    ['not JSON', '{"collected_at": '],
  ])('%s', async (_, content) => {
    const ctx = await inputs({ 'bad.json': content as Record<string, unknown> });
    const error = await runTemporalSnapshotFeatures({ identity: sampleIdentity(), ...ctx }).catch((e: unknown) => e);
    expect(isTrendflowError(error) && error.code).toBe('snapshot_invalid');
    expect(isTrendflowError(error) && error.details.path).toBe(path.join(ctx.snapshotsDir, 'bad.json'));
  });

  it('two snapshots at the same instant, one taken before publication, one of another video', async () => {
    const same = await inputs({ 'a.json': T0, 'b.json': T0 });
    expect(await codeOf(runTemporalSnapshotFeatures({ identity: sampleIdentity(), ...same }))).toBe('snapshot_invalid');
    const early = await inputs({ 'a.json': { ...T0, collected_at: '2024-02-28T00:00:00Z' } });
    expect(await codeOf(runTemporalSnapshotFeatures({ identity: sampleIdentity(), ...early }))).toBe('snapshot_invalid');
    const other = await inputs({ 'a.json': { ...T0, video_id: 'someone-else' } });
    expect(await codeOf(runTemporalSnapshotFeatures({ identity: sampleIdentity({ platform_id: 'youtube', video_id: 'dQw4w9WgXcQ' }), ...other }))).toBe('snapshot_invalid');
  });

  it('a publishedAt without a zone is metadata_invalid', async () => {
    const ctx = await inputs({ 'a.json': T0 }, { publishedAt: '2024-03-01 00:00' });
    expect(await codeOf(runTemporalSnapshotFeatures({ identity: sampleIdentity(), ...ctx }))).toBe('metadata_invalid');
  });
});

describe('temporal_snapshot_features as a pipeline component', () => {
  it('is registered and reads the metadata JSON and the snapshots, nothing of the video', () => {
    const definition = componentDefinition('temporal_snapshot_features');
    expect(definition).toMatchObject({ kind: 'temporal', schemaVersion: 'temporal_snapshot_features_npz_v2', dependencies: [] });
    expect(definition.uses).toEqual({ frames: false, signals: false, audio: false, metadata: true, snapshots: true });
  });
});
