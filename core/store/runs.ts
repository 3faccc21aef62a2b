import { promises as fs, type Dirent } from 'node:fs';
import path from 'node:path';
import { TrendflowError } from '../contracts/errors.js';
import { MANIFEST_FILE_NAME } from '../contracts/manifest.js';
import { ID_PATTERN } from './identity.js';
import type { RunKey } from './paths.js';

export interface RunLocation extends RunKey {
  /** Absolute path of the run folder (the one holding manifest.json). */
  run_dir: string;
}

/**
 * The runs in a result_store: every `<platform_id>/<video_id>/<run_id>/` folder that holds a manifest.json,
 * sorted by platform, video and run_id (run_ids sort by creation time). Folders whose names are not valid ids
 * (temp or foreign folders) are skipped; the manifests are not read. A missing store has no runs.
 */
export async function listRuns(store: string): Promise<RunLocation[]> {
  const root = path.resolve(store);
  const runs: RunLocation[] = [];
  for (const platform of await idFolders(root)) {
    for (const video of await idFolders(path.join(root, platform))) {
      for (const run of await idFolders(path.join(root, platform, video))) {
        const dir = path.join(root, platform, video, run);
        if (await isFile(path.join(dir, MANIFEST_FILE_NAME))) {
          runs.push({ platform_id: platform, video_id: video, run_id: run, run_dir: dir });
        }
      }
    }
  }
  return runs;
}

async function idFolders(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new TrendflowError('store_io_failed', `cannot list folder: ${(error as Error).message}`, { path: dir, cause: error });
  }
  return entries
    .filter((entry) => entry.isDirectory() && ID_PATTERN.test(entry.name))
    .map((entry) => entry.name)
    .sort();
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}
