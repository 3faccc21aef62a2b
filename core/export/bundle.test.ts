/**
 * A training bundle from real runs: two generated videos analysed by the built CLI (`trendflow analyze` with
 * --meta and --snapshots, the components that make features and targets), then `trendflow export`; the bundle is
 * read back in NumPy. Needs dist/ (npm test builds it first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { numpyAvailableOrCi, runPython } from '../../test/helpers/python.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { VideoFixtures } from '../../test/helpers/video-fixtures.js';
import { getArray, getStringList, ndarray, readNpzFile, writeNpzFile } from '../npz/index.js';
import { exportBundle } from './bundle.js';
import { FEATURE_COLUMNS, TARGET_NAMES } from '../predict/feature-spec.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const tmp = useTempDirs('export-');
const COMPONENTS = 'video_aggregates,video_pacing,temporal_snapshot_features,targets_builder_multi_horizon';
let work: string;
let store: string;
let env: NodeJS.ProcessEnv;

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/trendflow.js', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000, env });
}

/** Writes a snapshots folder: one JSON file per snapshot. */
async function snapshots(name: string, list: Record<string, unknown>[]): Promise<string> {
  const dir = path.join(work, name);
  await fs.mkdir(dir);
  await Promise.all(list.map((snapshot, i) => fs.writeFile(path.join(dir, `s${i}.json`), JSON.stringify(snapshot))));
  return dir;
}

async function analyze(video: string, meta: Record<string, unknown>, snapshotsDir: string): Promise<string> {
  const metaFile = path.join(work, `${String(meta.video_id)}-${path.basename(snapshotsDir)}.json`);
  await fs.writeFile(metaFile, JSON.stringify(meta));
  const result = cli('analyze', video, '--meta', metaFile, '--snapshots', snapshotsDir, '--store', store, '--components', COMPONENTS, '--json');
  expect(result.status, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { run_dir: string }).run_dir;
}

const t0 = { collected_at: '2024-03-03T12:00:00Z', viewCount: 1000, likeCount: null, commentCount: 5, subscriberCount: 100, videoCount: 10, viewCount_channel: 50_000 };
let runA: string;
let runAOtherFuture: string;
let runB: string;

beforeAll(async () => {
  if (!existsSync(path.join(repoRoot, 'dist/core/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  work = await tmp();
  store = path.join(work, 'store');
  env = { ...process.env, TRENDFLOW_WORKSPACE: '', TRENDFLOW_MODELS_DIR: path.join(work, 'models') };
  const fixtures = await VideoFixtures.create();
  const [videoA, videoB] = await Promise.all([fixtures.tone128x72(), fixtures.leftRight()]);
  // video A: likes hidden at t0, no 7-day snapshot; published 60 h before t0
  const metaA = { platform_id: 'youtube', video_id: 'videoA', publishedAt: '2024-03-01T00:00:00Z', channelId: 'UC_channelA' };
  runA = await analyze(videoA, metaA, await snapshots('snapsA', [t0, { collected_at: '2024-03-17T12:00:00Z', viewCount: 3000, likeCount: 80 }, { collected_at: '2024-03-24T12:00:00Z', viewCount: 5000, likeCount: 90 }]));
  // the same video and snapshot 1 with another future: only the targets may change
  runAOtherFuture = await analyze(videoA, metaA, await snapshots('snapsA2', [t0, { collected_at: '2024-03-10T12:00:00Z', viewCount: 90_000, likeCount: 7000 }, { collected_at: '2024-03-24T12:00:00Z', viewCount: 999_999, likeCount: 1 }]));
  // video B: no publishedAt (age unknown), no channel id, a 7-day snapshot only
  runB = await analyze(videoB, { platform_id: 'youtube', video_id: 'videoB' }, await snapshots('snapsB', [
    { collected_at: '2024-05-01T00:00:00Z', viewCount: 10, likeCount: 1 },
    { collected_at: '2024-05-08T00:00:00Z', viewCount: 110, likeCount: 5 },
  ]));
}, 120_000);

describe.skipIf(!numpyAvailableOrCi)('trendflow export', () => {
  it('writes a bundle NumPy loads with the documented keys, shapes, NaN masks and checksums; features use snapshot 1 only', async () => {
    const out = path.join(work, 'bundle');
    // a run that is not ok (interrupted) is skipped and listed, never exported
    const interrupted = path.join(path.dirname(runB), '20240101T000000Z-deadbeef');
    await fs.cp(runB, interrupted, { recursive: true });
    const manifestFile = path.join(interrupted, 'manifest.json');
    const manifest = JSON.parse(await fs.readFile(manifestFile, 'utf8'));
    manifest.run.status = 'running';
    manifest.run.run_id = '20240101T000000Z-deadbeef';
    await fs.writeFile(manifestFile, JSON.stringify(manifest));
    // an ok run with a damaged artifact is skipped with the reader's error, not exported with holes
    const damaged = path.join(path.dirname(runB), '20240101T000000Z-0badf00d');
    await fs.cp(runB, damaged, { recursive: true });
    await fs.writeFile(path.join(damaged, 'video_aggregates', 'aggregates.npz'), 'not a zip');

    const result = cli('export', '--all', '--store', store, '--out', out, '--json');
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { rows: number; skipped: { run_dir: string; reason: string }[] };
    expect(report.rows).toBe(3);
    expect(report.skipped).toHaveLength(2);
    expect(report.skipped).toContainEqual({ run_dir: interrupted, reason: 'run status running' });
    expect(report.skipped.find((s) => s.run_dir === damaged)?.reason).toMatch(/aggregates\.npz: npz_/);
    const written = JSON.parse(await fs.readFile(path.join(out, 'export_report.json'), 'utf8'));
    expect(written).toMatchObject({ format: 'trendflow_bundle_v1', feature_schema_version: 'features_v1', rows: 3, files_copied: 0 });
    expect(written.files_linked).toBeGreaterThan(10);
    await fs.rm(interrupted, { recursive: true });
    await fs.rm(damaged, { recursive: true });

    const readme = await fs.readFile(path.join(out, 'README.md'), 'utf8');
    const check = JSON.parse(
      runPython(
        `
import hashlib, json, os, sys
import numpy as np
out = sys.argv[1]
d = np.load(os.path.join(out, "dataset.npz"), allow_pickle=True)
rows = {r: i for i, r in enumerate(d["run_path"])}
sums = [line.split("  ", 1) for line in open(os.path.join(out, "SHA256SUMS")).read().splitlines()]
bad = [f for h, f in sums if hashlib.sha256(open(os.path.join(out, f), "rb").read()).hexdigest() != h]
def row(i):
    return {
        "X_nan": np.isnan(d["X"][i]).tolist(), "X": [None if np.isnan(v) else float(v) for v in d["X"][i]],
        "targets": [None if np.isnan(v) else float(v) for v in d["targets"][i]], "masks": d["target_masks"][i].tolist(),
        "age_bucket": d["age_bucket"][i], "published_at": d["published_at"][i], "channel_id": d["channel_id"][i],
        "video_id": d["video_id"][i], "complete": bool(d["row_complete"][i]), "run_path": d["run_path"][i],
    }
print(json.dumps({
    "keys": sorted(d.files), "files": sorted(f for _, f in sums), "bad": bad,
    "dtypes": {k: str(d[k].dtype) for k in d.files}, "shapes": {k: list(d[k].shape) for k in d.files},
    "masks_match": bool((d["target_masks"] == ~np.isnan(d["targets"])).all()),
    "types": sorted({type(v).__name__ for k in ("video_id", "run_id", "feature_names", "target_names") for v in d[k]}),
    "feature_names": d["feature_names"].tolist(), "target_names": d["target_names"].tolist(),
    "version": str(d["feature_schema_version"]), "rows": [row(i) for i in range(len(d["run_id"]))],
}))
`,
        [out],
      ),
    );
    const F = FEATURE_COLUMNS.length;
    expect(check.keys).toEqual(
      ['X', 'age_bucket', 'channel_id', 'feature_imputation', 'feature_names', 'feature_required', 'feature_schema_version', 'platform_id', 'published_at', 'row_complete', 'run_id', 'run_path', 'snapshot1_collected_at', 'target_masks', 'target_names', 'targets', 'video_id'],
    );
    for (const key of check.keys as string[]) expect(readme).toContain(`\`${key}\``);
    expect(check.shapes).toMatchObject({ X: [3, F], targets: [3, 6], target_masks: [3, 6], feature_names: [F], video_id: [3], run_id: [3], channel_id: [3], age_bucket: [3] });
    expect(check.dtypes).toMatchObject({ X: 'float32', targets: 'float32', target_masks: 'bool', video_id: 'object', run_id: 'object', feature_names: 'object' });
    expect(check.types).toEqual(['str']);
    expect(check.version).toBe('features_v1');
    expect(check.feature_names).toEqual(FEATURE_COLUMNS.map((c) => c.name));
    expect(check.masks_match).toBe(true);
    expect(check.bad).toEqual([]);
    // nothing else at the top: the streaming writer's spool folder is gone
    expect((check.files as string[]).filter((f) => !f.startsWith('runs/'))).toEqual(['README.md', 'dataset.npz', 'dataset.parquet', 'export_report.json']);
    expect((await fs.readdir(out)).sort()).toEqual(['README.md', 'SHA256SUMS', 'dataset.npz', 'dataset.parquet', 'export_report.json', 'runs']);
    expect(check.files).toEqual(expect.arrayContaining(['README.md', 'dataset.npz', 'export_report.json', `${path.relative(store, runA).replace(/^result_store\//, 'runs/')}/manifest.json`]));

    type R = { X_nan: boolean[]; X: (number | null)[]; targets: (number | null)[]; masks: boolean[]; age_bucket: string | null; published_at: string | null; channel_id: string | null; video_id: string; complete: boolean; run_path: string };
    const byRun = (dir: string) => (check.rows as R[]).find((r) => dir.endsWith(r.run_path.replace(/^runs\//, '')))!;
    const a = byRun(runA);
    const a2 = byRun(runAOtherFuture);
    const b = byRun(runB);
    const column = (name: string) => FEATURE_COLUMNS.findIndex((c) => c.name === name);
    const value = (r: R, name: string) => r.X[column(`temporal_snapshot_features.${name}`)];

    // no leakage: another future changes the targets, never a feature
    expect(a2.X).toEqual(a.X);
    expect(a2.targets).not.toEqual(a.targets);
    // targets: log1p of the gain after t0, 7-day horizon missing for A (NaN, mask False), likes unknown at t0
    expect(a.masks).toEqual([false, true, true, false, false, false]);
    expect(a.targets[1]).toBeCloseTo(Math.log1p(2000), 5);
    expect(a.targets[2]).toBeCloseTo(Math.log1p(4000), 5);
    expect(a2.masks).toEqual([true, false, true, false, false, false]);
    expect(b.masks).toEqual([true, false, false, true, false, false]);
    expect(b.targets[0]).toBeCloseTo(Math.log1p(100), 5);
    expect(b.targets[3]).toBeCloseTo(Math.log1p(4), 5);

    // features: snapshot-1 values, NaN (never 0) for what is missing
    expect(value(a, 'view_count')).toBe(1000);
    expect(value(a, 'video_age_hours_at_snapshot1')).toBe(60);
    expect(value(a, 'like_count')).toBeNull();
    expect(a.age_bucket).toBe('1_30d');
    expect(a.published_at).toBe('2024-03-01T00:00:00.000Z');
    expect(value(b, 'video_age_hours_at_snapshot1')).toBeNull();
    expect(value(b, 'subscriber_count')).toBeNull();
    expect(b.age_bucket).toBeNull();
    expect(b.published_at).toBeNull();
    // the channel from the metadata (through temporal_snapshot_features), None when it names none
    expect([a.channel_id, a2.channel_id, b.channel_id]).toEqual(['UC_channelA', 'UC_channelA', null]);
    for (const r of [a, b]) {
      // text_processor did not run: its columns are all NaN; the row is still complete (it is optional)
      expect(FEATURE_COLUMNS.map((c, i) => (c.component === 'text_processor' ? r.X_nan[i] : true)).every(Boolean)).toBe(true);
      expect(r.complete).toBe(true);
      expect(r.X[column('video_aggregates.duration_sec')]).toBeGreaterThan(0);
    }

    // dataset.parquet holds the same rows as dataset.npz, column for column (NaN kept, None as null)
    const npz = await readNpzFile(path.join(out, 'dataset.npz'));
    const table = (await parquetReadObjects({ file: await asyncBufferFromFile(path.join(out, 'dataset.parquet')) })) as Record<string, unknown>[];
    const X = getArray(npz, 'X', 'float32').data;
    const targets = getArray(npz, 'targets', 'float32').data;
    const masks = getArray(npz, 'target_masks', 'bool').data;
    expect(table).toHaveLength(3);
    table.forEach((row, i) => {
      for (const key of ['video_id', 'run_id', 'platform_id', 'run_path', 'age_bucket', 'channel_id', 'published_at', 'snapshot1_collected_at']) {
        expect(row[key], key).toEqual(npz.get(key)!.data[i]);
      }
      expect(row.row_complete).toBe(npz.get('row_complete')!.data[i] === 1);
      expect(FEATURE_COLUMNS.map((c) => row[c.name])).toEqual(Array.from(X.subarray(i * F, (i + 1) * F)));
      expect(TARGET_NAMES.map((n) => row[n])).toEqual(Array.from(targets.subarray(i * 6, (i + 1) * 6)));
      expect(TARGET_NAMES.map((n) => row[`${n}_present`])).toEqual(Array.from(masks.subarray(i * 6, (i + 1) * 6), (m) => m === 1));
    });

    // the runs are copied whole: their artifacts validate in the bundle
    const validate = cli('validate', path.join(out, a.run_path));
    expect(validate.status, validate.stdout + validate.stderr).toBe(0);
  }, 60_000);

  it('reads features by name; skips a run whose artifact lacks a feature of the spec, and a copy of a run', async () => {
    // copies of run A outside the store, given as run folders; their snapshot features rewritten in reverse order
    const reordered = path.join(work, 'copies', 'reordered');
    const truncated = path.join(work, 'copies', 'truncated');
    const duplicate = path.join(work, 'copies', 'duplicate');
    await fs.cp(runA, duplicate, { recursive: true });
    for (const [dir, drop, runId] of [[reordered, 0, '20240101T000000Z-00000001'], [truncated, 1, '20240101T000000Z-00000002']] as const) {
      await fs.cp(runA, dir, { recursive: true });
      const manifestFile = path.join(dir, 'manifest.json');
      const manifest = JSON.parse(await fs.readFile(manifestFile, 'utf8'));
      manifest.run.run_id = runId;
      await fs.writeFile(manifestFile, JSON.stringify(manifest));
      const file = path.join(dir, 'temporal_snapshot_features', 'features.npz');
      const npz = await readNpzFile(file);
      const names = getStringList(npz, 'feature_names').reverse().slice(drop);
      const values = Array.from(getArray(npz, 'feature_values', 'float32').data).reverse().slice(drop);
      const present = Array.from(getArray(npz, 'feature_present', 'bool').data).reverse().slice(drop);
      await writeNpzFile(
        file,
        new Map([...npz, ['feature_names', ndarray.objectArray(names)], ['feature_values', ndarray.float32(values)], ['feature_present', ndarray.bool(present)]]),
        { compress: false },
      );
    }
    const out = path.join(work, 'bundle-copies');
    const result = cli('export', runA, reordered, truncated, duplicate, '--store', store, '--out', out, '--json');
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { rows: number; skipped: { run_dir: string; reason: string }[] };
    expect(report.rows).toBe(2);
    expect(report.skipped).toEqual([
      { run_dir: truncated, reason: expect.stringMatching(/features\.npz: artifact_invalid: feature 'comments_per_hour_since_publish' of features_v1 is missing/) },
      { run_dir: duplicate, reason: `the same run (youtube/videoA/${path.basename(runA)}) as ${runA}` },
    ]);
    const same = runPython(
      `
import sys, numpy as np
d = np.load(sys.argv[1], allow_pickle=True)
print(np.array_equal(d["X"][0], d["X"][1], equal_nan=True))
`,
      [path.join(out, 'dataset.npz')],
    );
    expect(same.trim()).toBe('True');
  });

  it('a failure mid-export leaves no bundle and no staging folder: the bundle appears whole or not at all', async () => {
    const parent = path.join(work, 'failing');
    const out = path.join(parent, 'bundle');
    // the second file of the first run cannot be linked (an I/O error, not a cross-device link)
    const link = fs.link;
    let calls = 0;
    const spy = vi.spyOn(fs, 'link').mockImplementation(async (from, to) => {
      if (++calls === 2) throw Object.assign(new Error('EIO: i/o error, link'), { code: 'EIO' });
      return link(from, to);
    });
    try {
      await expect(exportBundle([runA, runB], out)).rejects.toThrow(/EIO/);
    } finally {
      spy.mockRestore();
    }
    expect(await fs.readdir(parent)).toEqual([]);
    // and an empty --out folder that exists is filled by the same rename
    await fs.mkdir(out);
    const result = await exportBundle([runA], out);
    expect(result).toMatchObject({ out, rows: 1 });
    expect((await fs.readdir(parent))).toEqual(['bundle']);
    expect((await fs.readdir(out)).sort()).toEqual(['README.md', 'SHA256SUMS', 'dataset.npz', 'dataset.parquet', 'export_report.json', 'runs']);
  });

  it('exports the runs named by run_id', async () => {
    const out = path.join(work, 'bundle-b');
    const result = cli('export', path.basename(runB), '--store', store, '--out', out, '--json');
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ rows: 1, exported: [{ video_id: 'videoB', run_dir: runB }], skipped: [] });
  });
});
