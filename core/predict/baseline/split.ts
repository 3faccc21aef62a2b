/**
 * The channel-grouped time split of the training rows: train (oldest), calibration, test (newest).
 *
 * - Groups: rows of one channel form one group, so a channel never straddles two splits (its videos share an
 *   audience the model would otherwise learn from the test rows). Without a channel id each video is its own
 *   group (its runs stay together): the bundle's channel_id is None when the run's metadata named no channel.
 * - Time: a group's time is its latest row's published_at (snapshot1_collected_at when the publication time is
 *   unknown). Groups are taken in time order: the oldest fill train, the next calibration, the newest test, by the
 *   requested row shares. Groups whose rows carry no time at all cannot be placed in time: they go to train.
 * - Ties in time are ordered by a hash of the group key and the seed, so the split is deterministic given the seed.
 */

export type SplitName = 'train' | 'calibration' | 'test';

export interface SplitRow {
  videoId: string;
  channelId: string | null;
  publishedAt: string | null;
  snapshot1CollectedAt: string | null;
}

export interface SplitShares {
  train: number;
  calibration: number;
  test: number;
}

export const DEFAULT_SPLIT_SHARES: SplitShares = { train: 0.6, calibration: 0.2, test: 0.2 };

export interface SplitResult {
  /** Each row's split. */
  assignment: SplitName[];
  groups: Record<SplitName, number>;
  rows: Record<SplitName, number>;
  /** Groups keyed by channel_id / by video_id (rows without a channel). */
  grouped_by: { channel_id: number; video_id: number };
  /** Groups without any time, put in train. */
  untimed_groups: number;
}

/** FNV-1a of the key, mixed with the seed: a stable tie-breaker. */
function tieHash(key: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function rowTime(row: SplitRow): number | null {
  for (const stamp of [row.publishedAt, row.snapshot1CollectedAt]) {
    if (stamp === null) continue;
    const t = Date.parse(stamp);
    if (Number.isFinite(t)) return t;
  }
  return null;
}

export function channelTimeSplit(rows: readonly SplitRow[], seed: number, shares: SplitShares = DEFAULT_SPLIT_SHARES): SplitResult {
  const groups = new Map<string, { rows: number[]; time: number | null; tie: number }>();
  const groupedBy = { channel_id: 0, video_id: 0 };
  rows.forEach((row, i) => {
    const key = row.channelId !== null ? `channel:${row.channelId}` : `video:${row.videoId}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { rows: [], time: null, tie: tieHash(key, seed) };
      groups.set(key, group);
      groupedBy[row.channelId !== null ? 'channel_id' : 'video_id'] += 1;
    }
    group.rows.push(i);
    const t = rowTime(row);
    if (t !== null && (group.time === null || t > group.time)) group.time = t;
  });

  const assignment: SplitName[] = new Array<SplitName>(rows.length).fill('train');
  const count = { train: 0, calibration: 0, test: 0 };
  const groupCount = { train: 0, calibration: 0, test: 0 };
  const timed = [...groups.values()].filter((g) => g.time !== null);
  const untimed = [...groups.values()].filter((g) => g.time === null);
  timed.sort((a, b) => (a.time as number) - (b.time as number) || a.tie - b.tie);
  const total = shares.train + shares.calibration + shares.test;
  const timedRows = timed.reduce((n, g) => n + g.rows.length, 0);
  const trainEnd = (timedRows * shares.train) / total;
  const calibrationEnd = (timedRows * (shares.train + shares.calibration)) / total;
  let seen = 0;
  for (const group of timed) {
    // a group goes where its first row would fall, so the shares are met as closely as whole groups allow
    const split: SplitName = seen < trainEnd ? 'train' : seen < calibrationEnd ? 'calibration' : 'test';
    for (const r of group.rows) assignment[r] = split;
    count[split] += group.rows.length;
    groupCount[split] += 1;
    seen += group.rows.length;
  }
  for (const group of untimed) {
    count.train += group.rows.length;
    groupCount.train += 1;
  }
  return { assignment, groups: groupCount, rows: count, grouped_by: groupedBy, untimed_groups: untimed.length };
}
