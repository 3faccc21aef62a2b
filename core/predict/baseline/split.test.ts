import { describe, expect, it } from 'vitest';
import { syntheticDataset } from '../../../test/helpers/synthetic-dataset.js';
import { channelTimeSplit, type SplitName, type SplitRow } from './split.js';

function rowsOf(data: ReturnType<typeof syntheticDataset>): SplitRow[] {
  return data.videoId.map((videoId, r) => ({
    videoId,
    channelId: data.channelId[r]!,
    publishedAt: data.publishedAt[r]!,
    snapshot1CollectedAt: data.snapshot1CollectedAt[r]!,
  }));
}

describe('channelTimeSplit', () => {
  const data = syntheticDataset({ rows: 3_000, channels: 300, seed: 11 });
  const rows = rowsOf(data);

  it('never puts a channel in two splits, and takes groups oldest first', () => {
    const split = channelTimeSplit(rows, 1);
    const splitsOf = new Map<string, Set<SplitName>>();
    const latest = new Map<string, number>();
    rows.forEach((row, r) => {
      const key = row.channelId!;
      splitsOf.set(key, (splitsOf.get(key) ?? new Set()).add(split.assignment[r]!));
      latest.set(key, Math.max(latest.get(key) ?? 0, Date.parse(row.publishedAt!)));
    });
    expect([...splitsOf.values()].every((s) => s.size === 1)).toBe(true);
    const times = (name: SplitName) => [...splitsOf].filter(([, s]) => s.has(name)).map(([key]) => latest.get(key)!);
    expect(Math.max(...times('train'))).toBeLessThanOrEqual(Math.min(...times('calibration')));
    expect(Math.max(...times('calibration'))).toBeLessThanOrEqual(Math.min(...times('test')));
    expect(split.grouped_by).toEqual({ channel_id: splitsOf.size, video_id: 0 });
    // the 60/20/20 shares, as closely as whole channels allow
    expect(split.rows.train + split.rows.calibration + split.rows.test).toBe(3_000);
    expect(Math.abs(split.rows.train / 3_000 - 0.6)).toBeLessThan(0.02);
    expect(Math.abs(split.rows.test / 3_000 - 0.2)).toBeLessThan(0.02);
  });

  it('without a channel each video is a group: its runs stay together; rows without any time go to train', () => {
    const noChannel: SplitRow[] = [
      ...rows.slice(0, 100).map((row) => ({ ...row, channelId: null })),
      // a second run of video 99, analysed later: same group as the first
      { ...rows[99]!, channelId: null, snapshot1CollectedAt: '2026-06-01T00:00:00Z' },
      { videoId: 'untimed', channelId: null, publishedAt: null, snapshot1CollectedAt: null },
      { videoId: 'unpublished', channelId: null, publishedAt: null, snapshot1CollectedAt: '2025-03-01T00:00:00Z' },
    ];
    const split = channelTimeSplit(noChannel, 1);
    expect(split.grouped_by).toEqual({ channel_id: 0, video_id: 102 });
    expect(split.assignment[100]).toBe(split.assignment[99]);
    expect(split.assignment[101]).toBe('train');
    expect(split.untimed_groups).toBe(1);
    expect(split.rows.test).toBeGreaterThan(0);
  });

  it('is deterministic given the seed; the seed only orders groups of equal time', () => {
    expect(channelTimeSplit(rows, 4)).toEqual(channelTimeSplit(rows, 4));
    const sameTime = Array.from({ length: 50 }, (_, i): SplitRow => ({
      videoId: `v${i}`,
      channelId: `c${i}`,
      publishedAt: '2025-05-01T00:00:00Z',
      snapshot1CollectedAt: null,
    }));
    const a = channelTimeSplit(sameTime, 1).assignment;
    expect(channelTimeSplit(sameTime, 1).assignment).toEqual(a);
    expect(channelTimeSplit(sameTime, 2).assignment).not.toEqual(a);
    expect(a.filter((s) => s === 'test')).toHaveLength(10);
  });
});
