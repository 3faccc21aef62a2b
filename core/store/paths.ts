import path from 'node:path';
import type { ComponentName } from '../contracts/components.js';
import { TrendflowError } from '../contracts/errors.js';
import { MANIFEST_FILE_NAME } from '../contracts/manifest.js';
import type { RunIdentity } from '../contracts/meta.js';
import { validateId } from './identity.js';

/**
 * The on-disk layout (DESIGN.md §4, seed 001 §2). This module only computes paths; every id is validated as a
 * safe path segment first, so no caller can build a path that escapes the store.
 *
 *   <workspace>/result_store/<platform_id>/<video_id>/<run_id>/manifest.json
 *   <workspace>/result_store/<platform_id>/<video_id>/<run_id>/<component>/<artifact>.npz
 *   <workspace>/frames/<platform_id>/<video_id>/<run_id>/
 */

export const WORKSPACE_ENV = 'TRENDFLOW_WORKSPACE';
/** The CLI's default workspace, relative to the current directory (the desktop app passes its user-data folder). */
export const DEFAULT_WORKSPACE = 'trendflow-data';
export const RESULT_STORE_DIR = 'result_store';
export const FRAMES_DIR = 'frames';

export type RunKey = Pick<RunIdentity, 'platform_id' | 'video_id' | 'run_id'>;

export interface WorkspaceOptions {
  /** An explicit workspace (a CLI flag or the app's setting); wins over the environment. */
  workspace?: string | undefined;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** Absolute workspace folder: explicit option, else `$TRENDFLOW_WORKSPACE`, else `./trendflow-data`. */
export function resolveWorkspace(options: WorkspaceOptions = {}): string {
  const env = options.env ?? process.env;
  const chosen = options.workspace || env[WORKSPACE_ENV] || DEFAULT_WORKSPACE;
  return path.resolve(options.cwd ?? process.cwd(), chosen);
}

/** The result_store root inside a workspace. */
export function storeDir(workspace: string): string {
  return path.join(workspace, RESULT_STORE_DIR);
}

/** The folder of one run in a result_store. */
export function runDir(store: string, run: RunKey): string {
  return path.join(
    store,
    validateId(run.platform_id, 'platform_id'),
    validateId(run.video_id, 'video_id'),
    validateId(run.run_id, 'run_id'),
  );
}

export function manifestPath(runDirectory: string): string {
  return path.join(runDirectory, MANIFEST_FILE_NAME);
}

export function componentDir(runDirectory: string, component: ComponentName): string {
  return path.join(runDirectory, validateId(component, 'component'));
}

/** `<run>/<component>/<fileName>`; `fileName` is one safe segment ending in `.npz` or `.npy` (a sub-artifact). */
export function artifactPath(runDirectory: string, component: ComponentName, fileName: string): string {
  validateId(fileName, 'artifact file name');
  if (!/\.np[yz]$/.test(fileName)) {
    throw new TrendflowError('invalid_id', `artifact file name ${JSON.stringify(fileName)} must end in .npz or .npy`);
  }
  return path.join(componentDir(runDirectory, component), fileName);
}

/** The frames_dir of a run: intermediate data with a short TTL, kept outside result_store. */
export function framesDir(workspace: string, run: RunKey): string {
  return path.join(
    workspace,
    FRAMES_DIR,
    validateId(run.platform_id, 'platform_id'),
    validateId(run.video_id, 'video_id'),
    validateId(run.run_id, 'run_id'),
  );
}
