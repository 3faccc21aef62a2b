/**
 * Keeping the index in step with result_store: opening a workspace's index (built from the store when it is new),
 * `index rebuild`, and reconciling it before it answers (runs that never reached it, runs whose writer died).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { isTrendflowError } from '../contracts/errors.js';
import type { Manifest } from '../contracts/manifest.js';
import { markInterrupted } from '../pipeline/interrupted.js';
import { readRunRequest } from '../pipeline/request.js';
import { readManifest } from '../store/manifest.js';
import { storeDir } from '../store/paths.js';
import { listRuns } from '../store/runs.js';
import { INDEX_FILE, RunIndex } from './db.js';

export function indexPath(workspace: string): string {
  return path.join(workspace, INDEX_FILE);
}

/**
 * Opens the workspace's index. A new index (no file yet: first use, or deleted by hand) is filled from
 * result_store at once, so `runs` never shows an empty list beside a store full of runs.
 */
export async function openIndex(workspace: string): Promise<RunIndex> {
  const file = indexPath(workspace);
  const fresh = !existsSync(file);
  const index = RunIndex.open(file);
  try {
    if (fresh) await rebuildIndex(index, workspace);
  } catch (error) {
    index.close();
    throw error;
  }
  return index;
}

export interface RebuildReport {
  runs: number;
  /** Run folders whose manifest could not be read or is invalid: not indexed. */
  skipped: { run_dir: string; problem: string }[];
}

/** Recreates the index from the manifests in result_store (the source of truth), in one transaction. */
export async function rebuildIndex(index: RunIndex, workspace: string): Promise<RebuildReport> {
  const runs: { runDir: string; manifest: Manifest; profile: string | null }[] = [];
  const skipped: RebuildReport['skipped'] = [];
  for (const location of await listRuns(storeDir(workspace))) {
    try {
      const manifest = await readManifest(location.run_dir);
      const request = await readRunRequest(workspace, location).catch(() => null);
      runs.push({ runDir: location.run_dir, manifest, profile: request?.profile.name ?? null });
    } catch (error) {
      if (!isTrendflowError(error)) throw error;
      skipped.push({ run_dir: location.run_dir, problem: error.toLine() });
    }
  }
  index.replaceAll(runs);
  return { runs: runs.length, skipped };
}

/**
 * Brings the index in step with result_store before it answers: runs that appeared on disk without reaching the
 * index (a writer killed before its first index write, a run copied in) are indexed, runs whose folder is gone are
 * dropped, and runs that say `running` but whose writer is gone become interrupted (manifest and index). Folders
 * are listed, but only the new and the running runs' manifests are read. Returns how many became interrupted.
 */
export async function reconcileIndex(index: RunIndex, workspace: string): Promise<number> {
  const onDisk = await listRuns(storeDir(workspace));
  const known = new Map(index.listRuns().map((row) => [row.run_dir, row]));
  for (const location of onDisk) {
    if (known.delete(location.run_dir)) continue;
    try {
      const request = await readRunRequest(workspace, location).catch(() => null);
      index.recordManifest(location.run_dir, await readManifest(location.run_dir), request?.profile.name ?? null);
    } catch (error) {
      // an unreadable manifest is `index rebuild`'s to report; it stays out of the index
      if (!isTrendflowError(error)) throw error;
    }
  }
  for (const gone of known.values()) index.removeRun(gone);

  let interrupted = 0;
  for (const row of index.listRuns({ status: 'running' })) {
    let manifest;
    try {
      manifest = await markInterrupted(row.run_dir);
    } catch (error) {
      // removed or broken meanwhile: the next reconciliation (or `index rebuild`) sees it as it is then
      if (isTrendflowError(error)) continue;
      throw error;
    }
    if (!manifest) continue;
    interrupted++;
    index.recordManifest(row.run_dir, manifest);
  }
  return interrupted;
}
