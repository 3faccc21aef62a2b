/**
 * The training bundle (issue 10): the runs' folders, copied, plus `dataset.npz` built by the feature spec
 * (core/predict/feature-spec.ts), a README describing every key, and sha256 checksums. See core/export/README.md.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TrendflowError, isTrendflowError } from '../contracts/errors.js';
import type { Manifest, ManifestComponent } from '../contracts/manifest.js';
import { getArray, ndarray, readNpzFile, writeNpzFile } from '../npz/index.js';
import { writeFileAtomic } from '../store/atomic.js';
import { hashFile } from '../store/hash.js';
import { readManifest } from '../store/manifest.js';
import { FEATURE_COLUMNS, FEATURE_SCHEMA_VERSION, TARGET_HORIZONS_DAYS, TARGET_METRICS, TARGET_NAMES } from '../predict/feature-spec.js';
import { buildFeatureRow } from '../predict/features.js';
import { bundleReadme } from './readme.js';

export const BUNDLE_FORMAT = 'trendflow_bundle_v1';
export const DATASET_FILE = 'dataset.npz';
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
  publishedAt: string | null;
  snapshot1CollectedAt: string | null;
}

/** Refuses an --out that exists and holds anything: a bundle is never merged into, nor written over, another. */
async function prepareOut(out: string): Promise<void> {
  try {
    const entries = await fs.readdir(out);
    if (entries.length > 0) throw new TrendflowError('invalid_argument', 'the output folder is not empty', { path: out });
  } catch (error) {
    if (isTrendflowError(error)) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new TrendflowError('store_io_failed', `cannot read the output folder: ${(error as Error).message}`, { path: out, cause: error });
    }
  }
  await fs.mkdir(out, { recursive: true });
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
  return { features: row.features, targets, targetMasks, complete: row.complete, ageBucket: row.ageBucket, publishedAt: row.publishedAt, snapshot1CollectedAt: row.snapshot1CollectedAt };
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

/**
 * Exports the runs into a new bundle at `out`. Two passes keep memory bounded by the dataset itself (N × (F + 12)
 * numbers and the id strings), never by the artifacts: the first reads only the manifests to size the arrays, the
 * second reads one run's artifacts at a time into its row. Runs not ok, or whose artifacts cannot be read, are
 * skipped and listed, never silently dropped.
 */
export async function exportBundle(runDirs: readonly string[], out: string): Promise<ExportResult> {
  const outDir = path.resolve(out);
  await prepareOut(outDir);
  const skipped: SkippedRun[] = [];
  // only the folders are kept between the passes: a manifest per run held for 100k runs would not be bounded
  const candidates: string[] = [];
  for (const runDir of [...new Set(runDirs.map((dir) => path.resolve(dir)))]) {
    const manifest = await readOkManifest(runDir);
    if (typeof manifest === 'string') skipped.push({ run_dir: runDir, reason: manifest });
    else candidates.push(runDir);
  }

  const F = FEATURE_COLUMNS.length;
  const T = TARGET_NAMES.length;
  const capacity = candidates.length;
  const X = new Float32Array(capacity * F);
  const targets = new Float32Array(capacity * T);
  const targetMasks = new Uint8Array(capacity * T);
  const complete: boolean[] = [];
  const strings = { video_id: [] as string[], run_id: [] as string[], platform_id: [] as string[], run_path: [] as string[] };
  const optional = { age_bucket: [] as (string | null)[], published_at: [] as (string | null)[], snapshot1_collected_at: [] as (string | null)[] };
  const exported: ExportedRun[] = [];
  const copies = { linked: 0, copied: 0 };
  const exportedFrom = new Map<string, string>();
  for (const runDir of candidates) {
    // the manifest is read again: the run may have changed since the first pass (a resume, gc)
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
    const n = exported.length;
    X.set(row.features, n * F);
    targets.set(row.targets, n * T);
    targetMasks.set(row.targetMasks.map(Number), n * T);
    complete.push(row.complete);
    strings.video_id.push(video_id);
    strings.run_id.push(run_id);
    strings.platform_id.push(platform_id);
    strings.run_path.push(bundlePath);
    optional.age_bucket.push(row.ageBucket);
    optional.published_at.push(row.publishedAt);
    optional.snapshot1_collected_at.push(row.snapshot1CollectedAt);
    exported.push({ run_id, video_id, run_dir: runDir, bundle_path: bundlePath });
  }

  const N = exported.length;
  await writeNpzFile(
    path.join(outDir, DATASET_FILE),
    {
      feature_schema_version: ndarray.str([FEATURE_SCHEMA_VERSION], []),
      video_id: ndarray.objectArray(strings.video_id),
      run_id: ndarray.objectArray(strings.run_id),
      platform_id: ndarray.objectArray(strings.platform_id),
      run_path: ndarray.objectArray(strings.run_path),
      feature_names: ndarray.objectArray(FEATURE_COLUMNS.map((c) => c.name)),
      feature_required: ndarray.bool(FEATURE_COLUMNS.map((c) => c.required)),
      feature_imputation: ndarray.objectArray(FEATURE_COLUMNS.map((c) => c.imputation)),
      X: ndarray.float32(X.subarray(0, N * F), [N, F]),
      row_complete: ndarray.bool(complete),
      target_names: ndarray.objectArray([...TARGET_NAMES]),
      targets: ndarray.float32(targets.subarray(0, N * T), [N, T]),
      target_masks: ndarray.bool(targetMasks.subarray(0, N * T), [N, T]),
      age_bucket: ndarray.objectArray(optional.age_bucket),
      // no artifact records the channel yet (text_processor and the snapshots do not keep it): None until one does
      channel_id: ndarray.objectArray(strings.video_id.map(() => null)),
      published_at: ndarray.objectArray(optional.published_at),
      snapshot1_collected_at: ndarray.objectArray(optional.snapshot1_collected_at),
    },
    { compress: true },
  );
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
