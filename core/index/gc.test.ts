import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sampleIdentity } from '../../test/helpers/manifest.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import type { RunStatus } from '../contracts/status.js';
import { runRequestPath } from '../pipeline/request.js';
import { ManifestWriter, readManifest } from '../store/manifest.js';
import { framesDir, runDir, storeDir } from '../store/paths.js';
import { listRuns } from '../store/runs.js';
import { RunIndex } from './db.js';
import { applyGc, planGc } from './gc.js';
import { rebuildIndex } from './sync.js';

const tmp = useTempDirs('gc-');
const DAY = 24 * 60 * 60 * 1000;
const NOW = new Date('2026-06-01T12:00:00.000Z');

interface Made {
  run_id: string;
  dir: string;
  writer?: ManifestWriter;
}

async function makeRun(workspace: string, spec: { video: string; config: string; run: string; status: RunStatus | 'live'; daysAgo: number }): Promise<Made> {
  const identity = sampleIdentity({ video_id: spec.video, run_id: spec.run, config_hash: spec.config.repeat(64) });
  const dir = runDir(storeDir(workspace), identity);
  const when = new Date(NOW.getTime() - spec.daysAgo * DAY);
  const writer = await ManifestWriter.create(dir, { identity }, { now: () => when });
  if (spec.status === 'live') return { run_id: spec.run, dir, writer };
  if (spec.status !== 'running') await writer.setRunStatus(spec.status, spec.status === 'error' ? { error_code: 'inference_failed', message: 'failed' } : null);
  await writer.close();
  return { run_id: spec.run, dir };
}

async function makeFrames(workspace: string, video: string, run: string, daysAgo: number): Promise<string> {
  const dir = framesDir(workspace, sampleIdentity({ video_id: video, run_id: run }));
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'metadata.json'), '{}');
  const when = new Date(NOW.getTime() - daysAgo * DAY);
  await fs.utimes(dir, when, when);
  return dir;
}

async function makeRequest(workspace: string, video: string, run: string, hoursAgo = 0): Promise<string> {
  const file = runRequestPath(workspace, sampleIdentity({ video_id: video, run_id: run }));
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, '{}');
  const when = new Date(NOW.getTime() - hoursAgo * 3600 * 1000);
  await fs.utimes(file, when, when);
  return file;
}

describe('gc', () => {
  it('keeps the last successful run per key and the two before it, applies the 60-day cap and the 7-day frames TTL, never touches a run in progress', async () => {
    const ws = await tmp();
    const V1 = 'file-1111111111111111';
    const V2 = 'file-2222222222222222';
    const runs: Record<string, Made> = {};
    const specs: [string, string, string, RunStatus | 'live', number][] = [
      // key (V1, config a): newest first r7 r6 r5(ok) r4 r3 | r2 r1
      ['r1', V1, 'a', 'ok', 50],
      ['r2', V1, 'a', 'ok', 40],
      ['r3', V1, 'a', 'error', 30],
      ['r4', V1, 'a', 'ok', 20],
      ['r5', V1, 'a', 'ok', 10],
      ['r6', V1, 'a', 'error', 5],
      ['r7', V1, 'a', 'interrupted', 1],
      // key (V1, config b): no successful run → the 3 newest stay
      ['r8', V1, 'b', 'error', 3],
      ['r9', V1, 'b', 'error', 2],
      ['r10', V1, 'b', 'interrupted', 1],
      ['r11', V1, 'b', 'cancelled', 0.5],
      // key (V2, config a): past the hard cap, except the one in progress
      ['r12', V2, 'a', 'ok', 70],
      ['r13', V2, 'a', 'ok', 61],
      ['r14', V2, 'a', 'live', 65],
    ];
    for (const [run, video, config, status, daysAgo] of specs) runs[run] = await makeRun(ws, { video, config, run, status, daysAgo });
    const frames = {
      r1: await makeFrames(ws, V1, 'r1', 0),
      r4: await makeFrames(ws, V1, 'r4', 8),
      r5: await makeFrames(ws, V1, 'r5', 0),
      orphan: await makeFrames(ws, V1, 'gone', 0),
      r14: await makeFrames(ws, V2, 'r14', 30),
    };
    const requests = { r1: await makeRequest(ws, V1, 'r1'), r5: await makeRequest(ws, V1, 'r5'), orphan: await makeRequest(ws, V1, 'gone', 2), starting: await makeRequest(ws, V1, 'starting', 0.5) };
    const index = RunIndex.open(path.join(ws, 'index.sqlite'));
    await rebuildIndex(index, ws);

    const plan = await planGc(ws, undefined, NOW);
    const listed = plan.remove.map((item) => `${item.kind} ${item.run_id}: ${item.reason}`).sort();
    expect(listed).toEqual(
      [
        'run r1: older than the last successful run with this key (r5) and the 2 runs before it',
        'run r2: older than the last successful run with this key (r5) and the 2 runs before it',
        'run r8: no successful run with this key; only the 3 newest are kept',
        'run r12: created 2026-03-23T12:00:00.000Z, more than 60 days ago (hard cap)',
        'run r13: created 2026-04-01T12:00:00.000Z, more than 60 days ago (hard cap)',
        'frames r1: its run is removed',
        'frames r4: older than 7 days (frames_dir TTL)',
        'frames gone: its run does not exist',
        'request r1: its run is removed',
        'request gone: its run does not exist',
      ].sort(),
    );
    expect(plan.in_progress).toEqual([runs.r14!.dir]);
    // a dry run touched nothing
    expect((await listRuns(storeDir(ws))).length).toBe(14);

    const result = await applyGc(ws, plan, index);
    expect(result.skipped).toEqual([]);
    expect(result.removed).toEqual(plan.remove.filter((i) => i.kind === 'run').concat(plan.remove.filter((i) => i.kind !== 'run')));
    const left = (await listRuns(storeDir(ws))).map((r) => r.run_id).sort();
    expect(left).toEqual(['r10', 'r11', 'r14', 'r3', 'r4', 'r5', 'r6', 'r7', 'r9']);
    for (const gone of [frames.r1, frames.r4, frames.orphan, requests.r1, requests.orphan]) await expect(fs.access(gone)).rejects.toThrow();
    // a young request without its run may belong to an analysis creating its run right now
    for (const kept of [frames.r5, frames.r14, requests.r5, requests.starting]) await fs.access(kept);
    // nothing half-deleted is left beside the runs
    expect((await fs.readdir(path.dirname(runs.r1!.dir))).filter((n) => n.startsWith('.'))).toEqual([]);

    // the index says what a rebuild from result_store says
    const indexed = index.listRuns().map((r) => r.run_id).sort();
    expect(indexed).toEqual(left);
    const counts = index.counts();
    await rebuildIndex(index, ws);
    expect(index.counts()).toEqual(counts);
    expect(index.listRuns().map((r) => r.run_id).sort()).toEqual(left);

    // nothing more to do; the run in progress is still written by its writer
    expect((await planGc(ws, undefined, NOW)).remove).toEqual([]);
    await runs.r14!.writer!.setRunStatus('ok');
    await runs.r14!.writer!.close();
    index.close();
  });

  it('skips a run whose lock is taken between the plan and the removal, with its frames_dir and request', async () => {
    const ws = await tmp();
    const V = 'file-3333333333333333';
    const old = await makeRun(ws, { video: V, config: 'a', run: 'old', status: 'ok', daysAgo: 90 });
    const framesOld = await makeFrames(ws, V, 'old', 0);
    await makeRequest(ws, V, 'old');
    const plan = await planGc(ws, undefined, NOW);
    expect(plan.remove.map((i) => i.kind)).toEqual(['run', 'frames', 'request']);
    const resumer = await ManifestWriter.open(old.dir);
    const result = await applyGc(ws, plan, null);
    expect(result.removed).toEqual([]);
    expect(result.skipped.map((s) => s.item.kind)).toEqual(['run', 'frames', 'request']);
    expect(result.skipped[0]!.reason).toMatch(/run_locked: run is being written by another writer in this process/);
    expect(result.skipped.slice(1).map((s) => s.reason)).toEqual(['its run was not removed', 'its run was not removed']);
    await fs.access(framesOld);
    expect((await readManifest(old.dir)).run.status).toBe('ok');
    await resumer.close();
  });
});
