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
 *   (or, without a run, after an hour);
 * - raw text (seed 002 §6.2): a kept run's text_processor artifact whose meta.privacy says raw text is stored is
 *   rewritten without it once meta.created_at + privacy.retention_days has passed (the features stay).
 *
 * `planGc` only reads; `applyGc` removes and rewrites what a plan lists, taking each run's lock first.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, type Dirent } from 'node:fs';
import path from 'node:path';
import { isTrendflowError, TrendflowError } from '../contracts/errors.js';
import type { Manifest, ManifestComponent } from '../contracts/manifest.js';
import { decodeNpz, encodeNpz, getMeta, ndarray, readNpzFile, type NpzContents } from '../npz/index.js';
import { RUN_REQUESTS_DIR } from '../pipeline/request.js';
import { formatProblem, validateNpz } from '../schema/index.js';
import { isPyDict, type PyDict } from '../schema/pyvalues.js';
import { removeAtomicLeftovers, writeFileAtomic } from '../store/atomic.js';
import { hashFile } from '../store/hash.js';
import { ID_PATTERN } from '../store/identity.js';
import { acquireRunLock } from '../store/lock.js';
import { describeArtifact, ManifestWriter, readManifest } from '../store/manifest.js';
import { FRAMES_DIR, storeDir } from '../store/paths.js';
import { listRuns } from '../store/runs.js';
import { RAW_TEXT_HARD_CAP_DAYS } from '../text/text_processor/run.js';
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
  kind: 'run' | 'frames' | 'request' | 'raw_text';
  /** The folder or file removed; for `raw_text`, the artifact rewritten without its raw text. */
  path: string;
  platform_id: string;
  video_id: string;
  run_id: string;
  reason: string;
}

/** A kept run's text_processor artifact whose raw text has outlived its retention. */
export interface GcRedaction extends GcItem {
  kind: 'raw_text';
  run_dir: string;
  /** The artifact's path in the manifest (relative to the run folder). */
  artifact: string;
  /**
   * `expired`: the artifact still holds raw text; `record`: an interrupted gc already rewrote it but the manifest
   * still lists the earlier file.
   */
  action: 'expired' | 'record';
}

export interface GcPlan {
  remove: GcItem[];
  /** Artifacts to rewrite without their raw text (their runs are kept). */
  redact: GcRedaction[];
  /** Runs in progress the policy would otherwise have removed or redacted. */
  in_progress: string[];
  /** Run folders whose manifest (or text_processor artifact) cannot be read: left alone. */
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
  const plan: GcPlan = { remove: [], redact: [], in_progress: [], unreadable: [] };
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

  for (const run of runs) {
    const r = run.manifest.run;
    if (removed.has(runKey(r))) continue;
    for (const found of await rawTextToRemove(run, now, plan)) {
      if (r.status !== 'running') plan.redact.push({ kind: 'raw_text', platform_id: r.platform_id, video_id: r.video_id, run_id: r.run_id, run_dir: run.run_dir, ...found });
      else if (!plan.in_progress.includes(run.run_dir)) plan.in_progress.push(run.run_dir);
    }
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
  /** Artifacts rewritten without their raw text. */
  redacted: GcRedaction[];
  /** Items not removed or rewritten, and why (a run that started being written meanwhile…). */
  skipped: { item: GcItem; reason: string }[];
}

/**
 * Removes what `plan` lists. A run is removed under its lock (a run a writer holds is skipped) by moving its
 * folder aside (one atomic rename: it is gone for every reader at once) and deleting that; its index rows go in
 * the same step. Empty platform and video folders left behind are removed. Raw text is removed under the run's
 * lock too (`redactRawText`); `now` is the removal time recorded.
 */
export async function applyGc(workspace: string, plan: GcPlan, index: RunIndex | null, now: Date = new Date()): Promise<GcResult> {
  const result: GcResult = { removed: [], redacted: [], skipped: [] };
  for (const item of plan.redact) {
    try {
      await redactRawText(item, index, now);
      result.redacted.push(item);
    } catch (error) {
      result.skipped.push({ item, reason: isTrendflowError(error) ? error.toLine() : (error as Error).message });
    }
  }
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

/** The one component that may keep raw text (seed 002 §6.2); it keeps it only in payload keys named `raw_*`. */
const TEXT_COMPONENT = 'text_processor';
const RAW_PAYLOAD_PREFIX = 'raw_';
/** Starts the manifest note of a redaction, which names the artifact and its digests before and after. */
export const RAW_TEXT_REMOVED_NOTE = 'raw text removed by gc at ';

function rawTextRemovedNote(at: string, artifact: string, before: string, after: string): string {
  return `${RAW_TEXT_REMOVED_NOTE}${at}: ${artifact} sha256 ${before} -> ${after}`;
}

function hasRemovalNote(entry: ManifestComponent, artifact: string): boolean {
  return entry.notes.some((note) => note.startsWith(RAW_TEXT_REMOVED_NOTE) && note.includes(`: ${artifact} sha256 `));
}

function privacyOf(meta: PyDict): PyDict | null {
  return isPyDict(meta.privacy) ? meta.privacy : null;
}

/** When the raw text of an artifact expires: meta.created_at + privacy.retention_days, never past the hard cap. */
function rawTextExpiry(meta: PyDict, privacy: PyDict, file: string): { days: number; at: Date } {
  const created = typeof meta.created_at === 'string' ? Date.parse(meta.created_at) : Number.NaN;
  if (Number.isNaN(created)) {
    throw new TrendflowError('artifact_invalid', 'meta.created_at is not a timestamp, so the raw text retention cannot be measured', { path: file, key: 'meta.created_at' });
  }
  const asked = privacy.retention_days;
  // DESIGN.md §9: raw text is never kept past the hard cap, whatever (or if nothing) the artifact says
  const days = typeof asked === 'number' && asked > 0 ? Math.min(asked, RAW_TEXT_HARD_CAP_DAYS) : RAW_TEXT_HARD_CAP_DAYS;
  return { days, at: new Date(created + days * DAY_MS) };
}

type FoundRawText = Pick<GcRedaction, 'path' | 'artifact' | 'action' | 'reason'>;

/**
 * The run's text_processor artifacts whose raw text has expired by `now`, and those an interrupted gc rewrote
 * without recording them in the manifest. An artifact that cannot be read is reported in `plan.unreadable`.
 */
async function rawTextToRemove(run: StoredRun, now: Date, plan: GcPlan): Promise<FoundRawText[]> {
  const entry = run.manifest.components.find((c) => c.name === TEXT_COMPONENT);
  if (!entry || entry.status === 'error') return [];
  const found: FoundRawText[] = [];
  for (const artifact of entry.artifacts) {
    const file = path.join(run.run_dir, ...artifact.path.split('/'));
    try {
      const meta = getMeta(await readNpzFile(file), file);
      const privacy = privacyOf(meta);
      if (privacy?.raw_text_stored === true) {
        const expiry = rawTextExpiry(meta, privacy, file);
        if (expiry.at.getTime() > now.getTime()) continue;
        const reason = `raw text stored since ${String(meta.created_at)} for retention_days ${expiry.days}: expired ${expiry.at.toISOString()}`;
        found.push({ path: file, artifact: artifact.path, action: 'expired', reason });
      } else if (typeof privacy?.raw_text_removed_at === 'string' && !hasRemovalNote(entry, artifact.path)) {
        const reason = `raw text removed at ${privacy.raw_text_removed_at} by a gc that stopped before recording it: the manifest still lists the earlier file`;
        found.push({ path: file, artifact: artifact.path, action: 'record', reason });
      }
    } catch (error) {
      if (!isTrendflowError(error)) throw error;
      plan.unreadable.push({ run_dir: run.run_dir, problem: error.toLine() });
    }
  }
  return found;
}

/** The artifact without its `raw_*` payload keys; meta.privacy says so and when. Every other array is kept as read. */
function withoutRawText(contents: NpzContents, removedAt: string, file: string): NpzContents {
  const meta = getMeta(contents, file);
  const payload = contents.get('payload')?.data[0];
  const redacted: NpzContents = new Map(contents);
  if (isPyDict(payload)) {
    redacted.set('payload', ndarray.objectScalar(Object.fromEntries(Object.entries(payload).filter(([key]) => !key.startsWith(RAW_PAYLOAD_PREFIX)))));
  }
  redacted.set('meta', ndarray.objectScalar({ ...meta, privacy: { ...privacyOf(meta), raw_text_stored: false, raw_text_removed_at: removedAt } }));
  return redacted;
}

/**
 * Rewrites one artifact without its raw text while holding the run's lock (through its manifest writer, which
 * refuses a run being written). The file must still be the one the manifest lists; the rewritten archive is
 * checked against schemas/text_processor.json before it replaces the old file by an atomic rename — a new file,
 * so runs that share the old one through a cache hard link keep it, unchanged, until their own redaction. Then the
 * manifest entry gets the new size and digest and a note naming both digests (the provenance of anything that
 * read the earlier file), and loses its cache key: the cache must not hand a redacted result to a run that asks
 * for retained text. The index records the manifest.
 */
async function redactRawText(item: GcRedaction, index: RunIndex | null, now: Date): Promise<void> {
  const writer = await ManifestWriter.open(item.run_dir);
  try {
    const entry = writer.manifest.components.find((c) => c.name === TEXT_COMPONENT);
    const listed = entry?.artifacts.find((a) => a.path === item.artifact);
    if (!entry || !listed) throw new TrendflowError('run_invalid', `the manifest no longer lists ${item.artifact}`, { path: item.run_dir });
    // integral Python floats of the payload and meta must stay floats in the rewritten file
    const contents = await readNpzFile(item.path, { preserveFloats: true });
    const privacy = privacyOf(getMeta(contents, item.path));
    let removedAt: string;
    if (item.action === 'expired') {
      if ((await hashFile(item.path)).sha256 !== listed.sha256) throw new TrendflowError('artifact_invalid', 'no longer the file its manifest lists: left alone', { path: item.path });
      if (privacy?.raw_text_stored !== true) throw new TrendflowError('artifact_invalid', 'holds no raw text any more', { path: item.path });
      removedAt = now.toISOString();
      const bytes = await encodeNpz(withoutRawText(contents, removedAt, item.path), { compress: true });
      checkTextArtifact(await decodeNpz(bytes, { path: item.path, preserveFloats: true }), item.path);
      // holding the run lock, a temp file beside the artifact is a crashed gc's
      await removeAtomicLeftovers(item.path);
      await writeFileAtomic(item.path, bytes);
    } else {
      if (privacy?.raw_text_stored !== false || typeof privacy.raw_text_removed_at !== 'string') throw new TrendflowError('artifact_invalid', 'does not say its raw text was removed', { path: item.path });
      checkTextArtifact(contents, item.path);
      removedAt = privacy.raw_text_removed_at;
    }
    const after = await describeArtifact(item.run_dir, item.path);
    const manifest = await writer.upsertComponent({
      ...entry,
      artifacts: entry.artifacts.map((a) => (a.path === item.artifact ? after : a)),
      notes: [...entry.notes, rawTextRemovedNote(removedAt, item.artifact, listed.sha256, after.sha256)],
      // the redacted result is no longer what its cache key computed: nothing may reuse it
      cache_key: null,
    });
    index?.recordManifest(item.run_dir, manifest, null);
  } finally {
    await writer.close();
  }
}

function checkTextArtifact(contents: NpzContents, file: string): void {
  const check = validateNpz(contents, { schema: TEXT_COMPONENT, path: file });
  if (!check.ok) throw new TrendflowError('artifact_invalid', `the artifact without its raw text breaks schemas/text_processor.json; nothing was changed:\n${check.problems.map(formatProblem).join('\n')}`, { path: file });
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
