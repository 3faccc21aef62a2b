import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTrendflowError } from '../../contracts/errors.js';
import { getArray, getMeta, readNpzFile } from '../../npz/index.js';
import { componentDefinition } from '../../pipeline/registry.js';
import { validateNpzFile } from '../../schema/index.js';
import { sampleIdentity } from '../../../test/helpers/manifest.js';
import { numpyAvailableOrCi, runPython } from '../../../test/helpers/python.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { runTargetsBuilder } from './run.js';

const tmp = useTempDirs('targets-');

/** t0 and the snapshot times as offsets in hours from 2024-03-03T12:00:00Z. */
function at(hours: number): string {
  return new Date(Date.parse('2024-03-03T12:00:00Z') + hours * 3_600_000).toISOString();
}

async function targetsOf(snapshots: Record<string, { hours: number; views: number | null; likes: number | null }>, config?: Parameters<typeof runTargetsBuilder>[1]) {
  const dir = await tmp();
  const snapshotsDir = path.join(dir, 'snapshots');
  await fs.mkdir(snapshotsDir);
  for (const [name, s] of Object.entries(snapshots)) {
    await fs.writeFile(path.join(snapshotsDir, name), JSON.stringify({ collected_at: at(s.hours), viewCount: s.views, likeCount: s.likes, subscriberCount: 100 }));
  }
  const runDir = path.join(dir, 'run');
  const outcome = await runTargetsBuilder({ identity: sampleIdentity(), runDir, snapshotsDir }, config);
  const file = path.join(runDir, outcome.artifacts[0]!.path);
  const npz = await readNpzFile(file);
  const list = (key: string) => Array.from(npz.get(key)!.data as ArrayLike<number>, Number);
  const flags = (key: string) => Array.from(getArray(npz, key, 'bool').data, (v) => v === 1);
  return {
    outcome,
    file,
    horizons: list('horizons_days'),
    has: flags('has_horizon'),
    elapsed: list('elapsed_days'),
    yViews: list('y_views'),
    yLikes: list('y_likes'),
    viewsPresent: flags('y_views_present'),
    likesPresent: flags('y_likes_present'),
    deltaViews: list('delta_views'),
    deltaLikes: list('delta_likes'),
    viewsNegative: flags('views_delta_negative'),
    likesNegative: flags('likes_delta_negative'),
    meta: getMeta(npz),
  };
}

const f = Math.fround;
const FULL = {
  't0.json': { hours: 0, views: 12000, likes: 600 },
  't7.json': { hours: 7 * 24 + 0.5, views: 20000, likes: 900 },
  't14.json': { hours: 14 * 24 - 1, views: 26000, likes: 1000 },
  't21.json': { hours: 21 * 24 + 2, views: 30000, likes: 1100 },
};

describe('targets: hand-computed examples', () => {
  it('all four snapshots: y = log1p(Δ) at 7/14/21 days, with the real elapsed days', async () => {
    const r = await targetsOf(FULL);
    expect((await validateNpzFile(r.file)).problems).toEqual([]);
    expect(r.outcome).toMatchObject({ status: 'ok', empty_reason: null, notes: [] });
    expect(r.horizons).toEqual([7, 14, 21]);
    expect(r.has).toEqual([true, true, true]);
    expect(r.elapsed).toEqual([f(7 + 0.5 / 24), f(14 - 1 / 24), f(21 + 2 / 24)]);
    expect(r.deltaViews).toEqual([8000, 14000, 18000]);
    expect(r.deltaLikes).toEqual([300, 400, 500]);
    expect(r.yViews).toEqual([f(Math.log1p(8000)), f(Math.log1p(14000)), f(Math.log1p(18000))]);
    expect(r.yLikes).toEqual([f(Math.log1p(300)), f(Math.log1p(400)), f(Math.log1p(500))]);
    expect(r.viewsNegative).toEqual([false, false, false]);
    expect(r.meta).toMatchObject({
      snapshot1: { file: 't0.json' },
      horizon_snapshots: [{ file: 't7.json' }, { file: 't14.json' }, { file: 't21.json' }],
      tolerance_days: 1,
    });
  });

  it('the 7-day snapshot missing: has_horizon [F, T, T], NaN for 7 days (never 0), the others unchanged', async () => {
    const { 't7.json': _, ...withoutSeven } = FULL;
    const r = await targetsOf(withoutSeven);
    expect((await validateNpzFile(r.file)).problems).toEqual([]);
    expect(r.has).toEqual([false, true, true]);
    expect(r.viewsPresent).toEqual([false, true, true]);
    expect(r.yViews[0]).toBeNaN();
    expect(r.yLikes[0]).toBeNaN();
    expect(r.elapsed[0]).toBeNaN();
    expect(r.yViews.slice(1)).toEqual([f(Math.log1p(14000)), f(Math.log1p(18000))]);
    expect(r.meta.horizon_snapshots).toEqual([null, expect.objectContaining({ file: 't14.json' }), expect.objectContaining({ file: 't21.json' })]);
    expect(r.outcome.notes).toEqual(['no snapshot within 1 day(s) of 7 days']);
  });

  it('uneven intervals: a 6.2-day snapshot serves 7 days (elapsed kept), a 15.5-day one is outside the tolerance, a 10-day one serves nothing', async () => {
    const r = await targetsOf({
      'a.json': { hours: 0, views: 1000, likes: 10 },
      'b.json': { hours: 6.2 * 24, views: 1500, likes: 20 },
      'c.json': { hours: 10 * 24, views: 1700, likes: 25 },
      'd.json': { hours: 15.5 * 24, views: 2000, likes: 30 },
      'e.json': { hours: 20.9 * 24, views: 2600, likes: 40 },
    });
    expect(r.has).toEqual([true, false, true]);
    expect(r.elapsed[0]).toBeCloseTo(6.2, 5);
    expect(r.elapsed[2]).toBeCloseTo(20.9, 5);
    expect(r.deltaViews).toEqual([500, Number.NaN, 1600]);
    expect(r.outcome.notes).toEqual(['c.json (10.00 days after t0) matches no horizon', 'd.json (15.50 days after t0) matches no horizon', 'no snapshot within 1 day(s) of 14 days']);
  });

  it('with two candidates for one horizon, the nearer one serves it', async () => {
    const r = await targetsOf({
      'a.json': { hours: 0, views: 100, likes: 1 },
      'b.json': { hours: 6.5 * 24, views: 150, likes: 2 },
      'c.json': { hours: 7.1 * 24, views: 170, likes: 3 },
    });
    expect(r.deltaViews[0]).toBe(70);
    expect(r.outcome.notes[0]).toBe('b.json (6.50 days after t0) matches no horizon');
  });

  it('negative deltas (views removed, likes withdrawn) are clipped to log1p(0) = 0 and flagged; the raw delta is kept', async () => {
    const r = await targetsOf({
      't0.json': { hours: 0, views: 12000, likes: 600 },
      't7.json': { hours: 7 * 24, views: 11950, likes: 580 },
      't14.json': { hours: 14 * 24, views: 12000, likes: 600 },
      't21.json': { hours: 21 * 24, views: 12500, likes: null },
    });
    expect((await validateNpzFile(r.file)).problems).toEqual([]);
    expect(r.deltaViews).toEqual([-50, 0, 500]);
    expect(r.yViews).toEqual([0, 0, f(Math.log1p(500))]);
    expect(r.viewsNegative).toEqual([true, false, false]);
    expect(r.deltaLikes.slice(0, 2)).toEqual([-20, 0]);
    expect(r.likesNegative).toEqual([true, false, false]);
    // likes hidden at 21 days: that target is missing, not 0, while the horizon exists
    expect(r.has[2]).toBe(true);
    expect(r.likesPresent).toEqual([true, true, false]);
    expect(r.yLikes[2]).toBeNaN();
    expect(r.yViews.every((y) => !Number.isNaN(y))).toBe(true);
  });

  it('snapshot 1 alone is ok with every horizon missing', async () => {
    const r = await targetsOf({ 'only.json': { hours: 0, views: 5, likes: 1 } });
    expect(r.outcome.status).toBe('ok');
    expect(r.has).toEqual([false, false, false]);
    expect(r.yViews.every(Number.isNaN)).toBe(true);
    expect((await validateNpzFile(r.file)).problems).toEqual([]);
  });

  it('other horizons and tolerances come from the config', async () => {
    const r = await targetsOf(FULL, { horizons_days: [14, 21], tolerance_days: 0.25 });
    expect(r.horizons).toEqual([14, 21]);
    expect(r.has).toEqual([true, true]);
    expect(r.outcome.notes).toEqual(['t7.json (7.02 days after t0) matches no horizon']);
  });

  it.skipIf(!numpyAvailableOrCi)('loads in NumPy with the masks and the float64 deltas', async () => {
    const { 't7.json': _, ...withoutSeven } = FULL;
    const r = await targetsOf(withoutSeven);
    const out = runPython(
      `import sys, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
print(z['horizons_days'].tolist(), z['has_horizon'].tolist(), bool(np.isnan(z['y_views'][0])), z['delta_views'].dtype, z['delta_views'][1:].tolist(), round(float(z['y_views'][2]), 4))`,
      [r.file],
    );
    expect(out.trim()).toBe(`[7, 14, 21] [False, True, True] True float64 [14000.0, 18000.0] ${Math.log1p(18000).toFixed(4)}`);
  });
});

describe('targets without snapshots', () => {
  it('is empty with dependency_missing, every target missing', async () => {
    const runDir = path.join(await tmp(), 'run');
    const outcome = await runTargetsBuilder({ identity: sampleIdentity(), runDir, snapshotsDir: null });
    expect([outcome.status, outcome.empty_reason]).toEqual(['empty', 'dependency_missing']);
    const file = path.join(runDir, outcome.artifacts[0]!.path);
    expect((await validateNpzFile(file)).problems).toEqual([]);
    expect(Array.from(getArray(await readNpzFile(file), 'has_horizon', 'bool').data)).toEqual([0, 0, 0]);
  });
});

describe('targets_builder_multi_horizon as a pipeline component', () => {
  it('is registered, reads snapshots only, and checks its config', () => {
    const definition = componentDefinition('targets_builder_multi_horizon');
    expect(definition).toMatchObject({ kind: 'temporal', schemaVersion: 'targets_builder_multi_horizon_npz_v1' });
    expect(definition.uses).toEqual({ frames: false, signals: false, audio: false, metadata: false, snapshots: true });
    expect(definition.parseConfig(undefined)).toEqual({ horizons_days: [7, 14, 21], tolerance_days: 1 });
    const code = (value: unknown) => {
      try {
        definition.parseConfig(value);
        return 'ok';
      } catch (error) {
        return isTrendflowError(error) ? error.code : 'other';
      }
    };
    expect(code({ tolerance_days: 4 })).toBe('invalid_argument'); // 7 and 14 would share a snapshot
    expect(code({ horizons_days: [14, 7] })).toBe('invalid_argument');
    expect(code({ horizon: [7] })).toBe('invalid_argument');
    expect(code({ horizons_days: [30], tolerance_days: 3 })).toBe('ok');
  });
});
