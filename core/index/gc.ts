/**
 * Retention (DESIGN.md §9, seed 003 Round 2 Q3). Runs are grouped by key — platform_id, video_id, config_hash,
 * sampling_policy_version; the config hash covers the resolved model mapping, so a different model set is a
 * different key — and within a group, newest first:
 *
 * - kept: every run newer than the last successful (`ok`) run, that run, and the `keepEarlier` (2) runs before it;
 *   a group without a successful run keeps its `keepEarlier + 1` newest runs;
 * - removed: the rest, and any run created more than `maxAgeDays` (60) ago (the hard cap wins over the above);
 * - never removed: a run in progress (status running, or its lock held when the removal comes);
 * - frames_dir (intermediate) removed after `framesTtlDays` (7), or with its run; run requests go with their run
 *   (or, without a run, after an hour).
 *
 * `planGc` only reads; `applyGc` removes what a plan lists, taking each run's lock first.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, type Dirent } from 'node:fs';
import path from 'node:path';
import { isTrendflowError } from '../contracts/errors.js';
import type { Manifest } from '../contracts/manifest.js';
import { RUN_REQUESTS_DIR } from '../pipeline/request.js';
import { ID_PATTERN } from '../store/identity.js';
import { acquireRunLock } from '../store/lock.js';
import { readManifest } from '../store/manifest.js';
import { FRAMES_DIR, storeDir } from '../store/paths.js';
import { listRuns } from '../store/runs.js';
import type { RunIndex } from './db.js';

export interface RetentionPolicy {
  /** Runs kept before the last successful one of each key. */
  keepEarlier: number;
  /** Hard cap: nothing older is kept. */
  maxAgeDays: number;
  /** frames_dir lifetime. */
  framesTtlDays: number;
}

export const DEFAULT_RETENTION: Readonly<RetentionPolicy> = { keepEarlier: 2, maxAgeDays: 60, framesTtlDays: 7 };

export interface GcItem {
  kind: 'run' | 'frames' | 'request';
  path: string;
  platform_id: string;
  video_id: string;
  run_id: string;
  reason: string;
}

export interface GcPlan {
  remove: GcItem[];
  /** Runs in progress the policy would otherwise have removed. */
  in_progress: string[];
  /** Run folders whose manifest cannot be read: left alone. */
  unreadable: { run_dir: string; problem: string }[];
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** A run request without its run is left alone this long (its analysis may be creating the run right now). */
const ORPHAN_REQUEST_GRACE_MS = 60 * 60 * 1000;

interface StoredRun {
  run_dir: string;
  manifest: Manifest;
}

/** What the policy removes now (nothing is touched). */
export async function planGc(workspace: string, policy: RetentionPolicy = DEFAULT_RETENTION, now: Date = new Date()): Promise<GcPlan> {
  const plan: GcPlan = { remove: [], in_progress: [], unreadable: [] };
  const runs: StoredRun[] = [];
  const existing = new Set<string>();
  for (const location of await listRuns(storeDir(workspace))) {
    existing.add(runKey(location));
    try {
      runs.push({ run_dir: location.run_dir, manifest: await readManifest(location.run_dir) });
    } catch (error) {
      if (!isTrendflowError(error)) throw error;
      plan.unreadable.push({ run_dir: location.run_dir, problem: error.toLine() });
    }
  }

  const groups = new Map<string, StoredRun[]>();
  for (const run of runs) {
    const r = run.manifest.run;
    const key = [r.platform_id, r.video_id, r.config_hash, r.sampling_policy_version].join('\u0000');
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  const removed = new Set<string>();
  const inProgress = new Set<string>();
  const cutoff = now.getTime() - policy.maxAgeDays * DAY_MS;
  for (const group of groups.values()) {
    group.sort((a, b) => compareDesc(a.manifest.run.created_at, b.manifest.run.created_at) || compareDesc(a.manifest.run.run_id, b.manifest.run.run_id));
    const lastOk = group.findIndex((run) => run.manifest.run.status === 'ok');
    const keepThrough = (lastOk === -1 ? 0 : lastOk) + policy.keepEarlier;
    group.forEach((run, position) => {
      const r = run.manifest.run;
      let reason: string | null = null;
      if (Date.parse(r.created_at) < cutoff) reason = `created ${r.created_at}, more than ${policy.maxAgeDays} days ago (hard cap)`;
      else if (position > keepThrough) {
        reason =
          lastOk === -1
            ? `no successful run with this key; only the ${policy.keepEarlier + 1} newest are kept`
            : `older than the last successful run with this key (${group[lastOk]!.manifest.run.run_id}) and the ${policy.keepEarlier} runs before it`;
      }
      if (reason === null) return;
      if (r.status === 'running') {
        inProgress.add(runKey(r));
        plan.in_progress.push(run.run_dir);
        return;
      }
      removed.add(runKey(r));
      plan.remove.push({ kind: 'run', path: run.run_dir, platform_id: r.platform_id, video_id: r.video_id, run_id: r.run_id, reason });
    });
  }

  const running = new Set(runs.filter((run) => run.manifest.run.status === 'running').map((run) => runKey(run.manifest.run)));
  const ttlCutoff = now.getTime() - policy.framesTtlDays * DAY_MS;
  for (const frames of await runFolders(path.join(workspace, FRAMES_DIR), '')) {
    const key = runKey(frames);
    if (running.has(key) || inProgress.has(key)) continue;
    let reason: string | null = null;
    if (removed.has(key)) reason = 'its run is removed';
    else if (!existing.has(key)) reason = 'its run does not exist';
    else if ((await fs.stat(frames.path)).mtimeMs < ttlCutoff) reason = `older than ${policy.framesTtlDays} days (frames_dir TTL)`;
    if (reason) plan.remove.push({ kind: 'frames', ...frames, reason });
  }
  for (const request of await runFolders(path.join(workspace, RUN_REQUESTS_DIR), '.json')) {
    const key = runKey(request);
    if (removed.has(key)) plan.remove.push({ kind: 'request', ...request, reason: 'its run is removed' });
    // a request is written just before its run's manifest: a young one may belong to a run being created
    else if (!existing.has(key) && (await fs.stat(request.path)).mtimeMs < now.getTime() - ORPHAN_REQUEST_GRACE_MS) {
      plan.remove.push({ kind: 'request', ...request, reason: 'its run does not exist' });
    }
  }
  return plan;
}

export interface GcResult {
  removed: GcItem[];
  /** Items not removed, and why (a run that started being written meanwhile…). */
  skipped: { item: GcItem; reason: string }[];
}

/**
 * Removes what `plan` lists. A run is removed under its lock (a run a writer holds is skipped) by moving its
 * folder aside (one atomic rename: it is gone for every reader at once) and deleting that; its index rows go in
 * the same step. Empty platform and video folders left behind are removed.
 */
export async function applyGc(workspace: string, plan: GcPlan, index: RunIndex | null): Promise<GcResult> {
  const result: GcResult = { removed: [], skipped: [] };
  const skippedRuns = new Set<string>();
  for (const item of plan.remove.filter((i) => i.kind === 'run')) {
    try {
      const lock = await acquireRunLock(item.path);
      const aside = path.join(path.dirname(item.path), `.gc-${item.run_id}-${process.pid}-${randomBytes(4).toString('hex')}`);
      try {
        await fs.rename(item.path, aside);
      } catch (error) {
        await lock.release();
        throw error;
      }
      await fs.rm(aside, { recursive: true, force: true });
      index?.removeRun(item);
      result.removed.push(item);
    } catch (error) {
      skippedRuns.add(runKey(item));
      const why = isTrendflowError(error) ? error.toLine() : (error as Error).message;
      result.skipped.push({ item, reason: why });
    }
  }
  for (const item of plan.remove.filter((i) => i.kind !== 'run')) {
    // the frames and request of a run that could not be removed stay with it
    if (skippedRuns.has(runKey(item)) && item.reason === 'its run is removed') {
      result.skipped.push({ item, reason: 'its run was not removed' });
      continue;
    }
    await fs.rm(item.path, { recursive: true, force: true });
    result.removed.push(item);
  }
  for (const root of [storeDir(workspace), path.join(workspace, FRAMES_DIR), path.join(workspace, RUN_REQUESTS_DIR)]) await removeEmptyFolders(root, 2);
  return result;
}

type RunPath = { path: string; platform_id: string; video_id: string; run_id: string };

/** `<root>/<platform>/<video>/<run><suffix>` entries (folders when suffix is '', files otherwise). */
async function runFolders(root: string, suffix: string): Promise<RunPath[]> {
  const found: RunPath[] = [];
  for (const platform of await idEntries(root, true)) {
    for (const video of await idEntries(path.join(root, platform), true)) {
      for (const name of await idEntries(path.join(root, platform, video), suffix === '', suffix)) {
        found.push({ path: path.join(root, platform, video, name), platform_id: platform, video_id: video, run_id: suffix ? name.slice(0, -suffix.length) : name });
      }
    }
  }
  return found;
}

async function idEntries(dir: string, folders: boolean, suffix = ''): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((e) => (folders ? e.isDirectory() : e.isFile()) && e.name.endsWith(suffix) && ID_PATTERN.test(e.name.slice(0, e.name.length - suffix.length)))
    .map((e) => e.name);
}

/** Removes empty folders up to `depth` levels below `root` (platform and video folders). */
async function removeEmptyFolders(root: string, depth: number): Promise<void> {
  if (depth === 0) return;
  for (const name of await idEntries(root, true)) {
    const dir = path.join(root, name);
    await removeEmptyFolders(dir, depth - 1);
    // rmdir refuses a folder that is not empty (something appeared meanwhile): that is fine
    await fs.rmdir(dir).catch(() => undefined);
  }
}

function runKey(run: { platform_id: string; video_id: string; run_id: string }): string {
  return `${run.platform_id}/${run.video_id}/${run.run_id}`;
}

function compareDesc(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}
