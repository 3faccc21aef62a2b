/**
 * The training bundle (issue 10): the runs' folders, copied, plus `dataset.npz` built by the feature spec
 * (core/predict/feature-spec.ts), a README describing every key, and sha256 checksums. See core/export/README.md.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TrendflowError, isTrendflowError } from '../contracts/errors.js';
import type { Manifest, ManifestComponent } from '../contracts/manifest.js';
import { type AnyNdArray, getArray, ndarray, NpzStreamWriter, readNpzFile, type RowColumn } from '../npz/index.js';
import { syncDirectory, writeFileAtomic } from '../store/atomic.js';
import { hashFile } from '../store/hash.js';
import { readManifest } from '../store/manifest.js';
import { FEATURE_COLUMNS, FEATURE_SCHEMA_VERSION, TARGET_HORIZONS_DAYS, TARGET_METRICS, TARGET_NAMES } from '../predict/feature-spec.js';
import { buildFeatureRow } from '../predict/features.js';
import { ParquetRowWriter } from './parquet.js';
import { bundleReadme } from './readme.js';

export const BUNDLE_FORMAT = 'trendflow_bundle_v1';
export const DATASET_FILE = 'dataset.npz';
export const PARQUET_FILE = 'dataset.parquet';
export const CHECKSUMS_FILE = 'SHA256SUMS';
export const REPORT_FILE = 'export_report.json';
export const RUNS_FOLDER = 'runs';

export interface ExportedRun {
  run_id: string;
  video_id: string;
  run_dir: string;
  /** The run's folder inside the bundle, relative to it. */
  bundle_path: string;
}

export interface SkippedRun {
  run_dir: string;
  reason: string;
}

export interface ExportResult {
  out: string;
  rows: number;
  exported: ExportedRun[];
  skipped: SkippedRun[];
}

/** One run's row of dataset.npz, built from its artifacts alone. */
interface Row {
  features: Float32Array;
  targets: Float32Array;
  targetMasks: boolean[];
  complete: boolean;
  ageBucket: string | null;
  channelId: string | null;
  publishedAt: string | null;
  snapshot1CollectedAt: string | null;
}

/** Refuses an --out that exists and holds anything: a bundle is never merged into, nor written over, another. */
async function checkOut(out: string): Promise<void> {
  try {
    const entries = await fs.readdir(out);
    if (entries.length > 0) throw new TrendflowError('invalid_argument', 'the output folder is not empty', { path: out });
  } catch (error) {
    if (isTrendflowError(error)) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new TrendflowError('store_io_failed', `cannot read the output folder: ${(error as Error).message}`, { path: out, cause: error });
    }
  }
}

/**
 * The folder the bundle is built in, beside `out` (same filesystem: the hard links and the final rename work):
 * `out` appears whole or not at all. A process killed mid-export leaves only this `.partial-…` folder.
 */
async function stagingFolder(out: string): Promise<string> {
  await fs.mkdir(path.dirname(out), { recursive: true });
  const staging = `${out}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  await fs.mkdir(staging);
  return staging;
}

/** The manifest's artifact file of a component that ran (ok or empty), or null when it did not run or failed. */
function artifactOf(manifest: Manifest, runDir: string, component: string, artifact: string): { entry: ManifestComponent; file: string } | null {
  const entry = manifest.components.find((c) => c.name === component);
  if (!entry || entry.status === 'error') return null;
  const found = entry.artifacts.find((a) => a.path === `${component}/${artifact}`);
  return found ? { entry, file: path.join(runDir, ...found.path.split('/')) } : null;
}

async function buildRow(manifest: Manifest, runDir: string): Promise<Row> {
  const row = await buildFeatureRow((source) => artifactOf(manifest, runDir, source.component, source.artifact)?.file ?? null);
  const { targets, targetMasks } = await readTargets(manifest, runDir);
  return { features: row.features, targets, targetMasks, complete: row.complete, ageBucket: row.ageBucket, channelId: row.channelId, publishedAt: row.publishedAt, snapshot1CollectedAt: row.snapshot1CollectedAt };
}

/** views/likes × 7/14/21 from targets_builder_multi_horizon; NaN with a False mask wherever a target is missing. */
async function readTargets(manifest: Manifest, runDir: string): Promise<{ targets: Float32Array; targetMasks: boolean[] }> {
  const targets = new Float32Array(TARGET_NAMES.length).fill(Number.NaN);
  const targetMasks = TARGET_NAMES.map(() => false);
  const found = artifactOf(manifest, runDir, 'targets_builder_multi_horizon', 'targets.npz');
  if (!found || found.entry.status !== 'ok') return { targets, targetMasks };
  const npz = await readNpzFile(found.file);
  const horizons = Array.from(getArray(npz, 'horizons_days', 'int32', found.file).data);
  TARGET_METRICS.forEach((metric, m) => {
    const y = getArray(npz, `y_${metric}`, 'float32', found.file).data;
    const present = getArray(npz, `y_${metric}_present`, 'bool', found.file).data;
    TARGET_HORIZONS_DAYS.forEach((days, h) => {
      const k = horizons.indexOf(days);
      const column = m * TARGET_HORIZONS_DAYS.length + h;
      if (k >= 0 && present[k] === 1) {
        targets[column] = y[k]!;
        targetMasks[column] = true;
      }
    });
  });
  return { targets, targetMasks };
}

/**
 * Copies a run folder into the bundle: hard links where the file system allows (same device, no copy of large
 * artifacts), a byte copy where it does not (another device, or a file system without links).
 */
async function copyRun(from: string, to: string, copies: { linked: number; copied: number }): Promise<void> {
  await fs.mkdir(to, { recursive: true });
  for (const entry of await fs.readdir(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) {
      await copyRun(source, target, copies);
    } else if (entry.isFile()) {
      try {
        await fs.link(source, target);
        copies.linked++;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EMLINK') throw error;
        await fs.copyFile(source, target);
        copies.copied++;
      }
    }
  }
}

/** Every file under `dir`, relative with forward slashes, sorted. */
async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of (await fs.readdir(path.join(dir, prefix), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await listFiles(dir, relative)));
    else if (entry.isFile()) files.push(relative);
  }
  return files;
}

/** A coded failure becomes the reason a run is skipped; anything else (a bug) is thrown, never turned into a skip. */
function skipReasonOf(error: unknown): string {
  if (isTrendflowError(error)) return error.toLine();
  throw error;
}

/** The manifest of an ok run, or why the run is skipped (not ok, or its manifest cannot be read). */
async function readOkManifest(runDir: string): Promise<Manifest | string> {
  try {
    const manifest = await readManifest(runDir);
    return manifest.run.status === 'ok' ? manifest : `run status ${manifest.run.status}`;
  } catch (error) {
    return skipReasonOf(error);
  }
}

/** dataset.npz's keys in order: the spec's constants whole, the per-run keys row by row (core/npz NpzStreamWriter). */
function datasetColumns(): Record<string, AnyNdArray | RowColumn> {
  const object: RowColumn = { dtype: 'object' };
  return {
    feature_schema_version: ndarray.str([FEATURE_SCHEMA_VERSION], []),
    video_id: object,
    run_id: object,
    platform_id: object,
    run_path: object,
    feature_names: ndarray.objectArray(FEATURE_COLUMNS.map((c) => c.name)),
    feature_required: ndarray.bool(FEATURE_COLUMNS.map((c) => c.required)),
    feature_imputation: ndarray.objectArray(FEATURE_COLUMNS.map((c) => c.imputation)),
    X: { dtype: 'float32', rowShape: [FEATURE_COLUMNS.length] },
    row_complete: { dtype: 'bool' },
    target_names: ndarray.objectArray([...TARGET_NAMES]),
    targets: { dtype: 'float32', rowShape: [TARGET_NAMES.length] },
    target_masks: { dtype: 'bool', rowShape: [TARGET_NAMES.length] },
    age_bucket: object,
    channel_id: object,
    published_at: object,
    snapshot1_collected_at: object,
  };
}

/**
 * Exports the runs into a new bundle at `out`, one run at a time: its manifest, its artifacts into its row, the
 * row appended to dataset.npz through a streaming writer (each key spooled to a temp file, the archive written at
 * the end), the folder linked into the bundle. Memory is one run's artifacts and row plus the list of exported
 * runs (ids, for the report and to refuse a second copy of a run), never N rows. Runs not ok, or whose artifacts
 * cannot be read, are skipped and listed, never silently dropped.
 */
export async function exportBundle(runDirs: readonly string[], out: string): Promise<ExportResult> {
  const outDir = path.resolve(out);
  await checkOut(outDir);
  const staging = await stagingFolder(outDir);
  try {
    const result = await writeBundle(runDirs, staging);
    // rename replaces `out` only when it is absent or an empty folder (checked above; refused by the OS otherwise)
    await fs.rename(staging, outDir).catch((error: Error) => {
      throw new TrendflowError('store_io_failed', `cannot move the finished bundle into place: ${error.message}`, { path: outDir, cause: error });
    });
    await syncDirectory(path.dirname(outDir));
    return { ...result, out: outDir };
  } catch (error) {
    await fs.rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Writes the whole bundle into `outDir` (the staging folder). */
async function writeBundle(runDirs: readonly string[], outDir: string): Promise<ExportResult> {
  const skipped: SkippedRun[] = [];
  const exported: ExportedRun[] = [];
  const copies = { linked: 0, copied: 0 };
  const exportedFrom = new Map<string, string>();
  const dataset = await NpzStreamWriter.create(path.join(outDir, DATASET_FILE), datasetColumns(), { compress: true });
  let table: ParquetRowWriter | undefined;
  try {
    table = ParquetRowWriter.create(path.join(outDir, PARQUET_FILE));
    for (const runDir of [...new Set(runDirs.map((dir) => path.resolve(dir)))]) {
      const manifest = await readOkManifest(runDir);
      let row: Row | string;
      try {
        row = typeof manifest === 'string' ? manifest : await buildRow(manifest, runDir);
      } catch (error) {
        row = skipReasonOf(error);
      }
      if (typeof manifest === 'string' || typeof row === 'string') {
        skipped.push({ run_dir: runDir, reason: typeof row === 'string' ? row : String(manifest) });
        continue;
      }
      const { platform_id, video_id, run_id } = manifest.run;
      const bundlePath = [RUNS_FOLDER, platform_id, video_id, run_id].join('/');
      // a copied run folder has the same identity: one row per run, the first one given
      const first = exportedFrom.get(bundlePath);
      if (first !== undefined) {
        skipped.push({ run_dir: runDir, reason: `the same run (${platform_id}/${video_id}/${run_id}) as ${first}` });
        continue;
      }
      exportedFrom.set(bundlePath, runDir);
      await copyRun(runDir, path.join(outDir, ...bundlePath.split('/')), copies);
      const ids = { video_id, run_id, platform_id, run_path: bundlePath };
      const known = { age_bucket: row.ageBucket, channel_id: row.channelId, published_at: row.publishedAt, snapshot1_collected_at: row.snapshot1CollectedAt };
      await dataset.append({ ...ids, ...known, X: row.features, row_complete: row.complete, targets: row.targets, target_masks: row.targetMasks });
      await table.append({ ...ids, ...known, row_complete: row.complete, features: row.features, targets: row.targets, targetMasks: row.targetMasks });
      exported.push({ run_id, video_id, run_dir: runDir, bundle_path: bundlePath });
    }
    await dataset.finish();
    await table.finish();
  } catch (error) {
    await dataset.abort();
    await table?.abort();
    throw error;
  }

  const N = exported.length;
  const result: ExportResult = { out: outDir, rows: N, exported, skipped };
  await writeFileAtomic(path.join(outDir, 'README.md'), bundleReadme(N));
  await writeFileAtomic(
    path.join(outDir, REPORT_FILE),
    `${JSON.stringify({ format: BUNDLE_FORMAT, feature_schema_version: FEATURE_SCHEMA_VERSION, rows: N, files_linked: copies.linked, files_copied: copies.copied, exported, skipped }, null, 2)}\n`,
  );
  // last, so it covers every other file of the bundle (`sha256sum -c SHA256SUMS` in the bundle folder)
  const lines: string[] = [];
  for (const file of await listFiles(outDir)) lines.push(`${(await hashFile(path.join(outDir, ...file.split('/')))).sha256}  ${file}`);
  await writeFileAtomic(path.join(outDir, CHECKSUMS_FILE), `${lines.join('\n')}\n`);
  return result;
}
