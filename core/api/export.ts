/**
 * `export.create`: a training bundle (core/export) of runs picked in the workstation. The bundle always goes into a
 * new folder with a generated name — under `<workspace>/exports` in browser mode (whoever holds the token must not
 * choose where files are written), or under the folder the user picked in Electron's native dialog — so an export
 * never writes into, or over, an existing folder.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TrendflowError } from '../contracts/errors.js';
import { exportBundle } from '../export/bundle.js';
import { FEATURE_COLUMNS, FEATURE_SCHEMA_VERSION } from '../predict/feature-spec.js';
import type { RunCatalog } from './catalog.js';
import type { ExportParams, ExportSummary, RunRef } from './contract.js';

/** Browser mode's only export location, inside the workspace. */
export const EXPORTS_FOLDER = 'exports';

/** `export-20261130T112800Z-3fa2c1`: sorts by time; the random part keeps two exports in one second apart. */
export function bundleFolderName(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `export-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** The folder the bundle's own folder is created in; `access_denied` for a chosen folder in browser mode. */
async function exportParent(params: ExportParams, workspace: string, mode: 'electron' | 'browser'): Promise<string> {
  if (params.parent_dir === undefined) {
    const dir = path.join(workspace, EXPORTS_FOLDER);
    await fs.mkdir(dir, { recursive: true }).catch((error: Error) => {
      throw new TrendflowError('store_io_failed', `cannot create the exports folder: ${error.message}`, { path: dir });
    });
    return dir;
  }
  if (mode === 'browser') throw new TrendflowError('access_denied', `browser mode writes bundles only under ${path.join(workspace, EXPORTS_FOLDER)}; parent_dir is for the desktop app's folder dialog`);
  if (!path.isAbsolute(params.parent_dir)) throw new TrendflowError('invalid_argument', `parent_dir must be an absolute path: ${params.parent_dir}`);
  const stat = await fs.stat(params.parent_dir).catch(() => null);
  if (!stat?.isDirectory()) throw new TrendflowError('invalid_argument', `parent_dir is not a folder: ${params.parent_dir}`, { path: params.parent_dir });
  return path.resolve(params.parent_dir);
}

/** The run reference of a folder of the store (`<store>/<platform>/<video>/<run>`), null for anything else. */
function refOf(store: string, runDir: string): RunRef | null {
  const parts = path.relative(store, runDir).split(path.sep);
  if (parts.length !== 3 || parts[0] === '..') return null;
  return { platform_id: parts[0]!, video_id: parts[1]!, run_id: parts[2]! };
}

export async function createExport(params: ExportParams, catalog: RunCatalog, workspace: string, mode: 'electron' | 'browser'): Promise<ExportSummary> {
  if ((params.all === true) === (params.runs !== undefined)) throw new TrendflowError('invalid_argument', 'export.create: give runs, or all: true (not both)');
  // every run is resolved before anything is written: an unknown one refuses the whole export
  const runDirs = params.runs ? await Promise.all(params.runs.map((ref) => catalog.locate(ref))) : (await catalog.list()).map((entry) => entry.location.run_dir);
  const out = path.join(await exportParent(params, workspace, mode), bundleFolderName());
  const result = await exportBundle(runDirs, out);
  return {
    out: result.out,
    rows: result.rows,
    features: FEATURE_COLUMNS.length,
    feature_schema_version: FEATURE_SCHEMA_VERSION,
    exported: result.exported.map((run) => {
      // the bundle path is `runs/<platform>/<video>/<run>` of the run's manifest identity
      const [, platform_id = '', video_id = '', run_id = ''] = run.bundle_path.split('/');
      return { platform_id, video_id, run_id, bundle_path: run.bundle_path };
    }),
    skipped: result.skipped.map((skip) => ({ run: refOf(catalog.store, skip.run_dir), reason: skip.reason })),
  };
}
