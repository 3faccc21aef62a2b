/**
 * `trendflow train baseline`: boosted trees per target head on a training bundle, split-conformal intervals per
 * head × age bucket, a report on the held-out test split, written as a model folder (core/predict/baseline/README.md).
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TrendflowError, isTrendflowError } from '../../contracts/errors.js';
import { writeFileAtomic, syncDirectory } from '../../store/atomic.js';
import { FEATURE_COLUMNS, FEATURE_SCHEMA_VERSION, TARGET_NAMES } from '../feature-spec.js';
import { MODEL_SIDECAR_FILE, PREDICTION_MODEL_FORMAT, PREDICTION_QUANTILES, type PredictionModelSidecar } from '../model/contract.js';
import { MIN_GROUP_ROWS, conformalOffsets, minCalibrationRows } from './calibration.js';
import { readTrainingDataset, type TrainingDataset } from './dataset.js';
import { predictQuantiles } from './engine.js';
import { DEFAULT_GBT_PARAMS, binFeatures, fitBoosted, predictBoosted, type GbtParams } from './gbt.js';
import { REPORT_FORMAT, REPORT_JSON, REPORT_MD, groupMetrics, reportMarkdown, type HeadReport, type TrainingReport } from './report.js';
import { DEFAULT_SPLIT_SHARES, channelTimeSplit, type SplitShares } from './split.js';
import { AGE_BUCKETS, TREES_FILE, TREES_FORMAT, type GroupCalibration, type HeadModel, type TreesFile } from './trees-file.js';

export interface TrainBaselineOptions {
  seed?: number;
  params?: Partial<GbtParams>;
  shares?: SplitShares;
}

export interface TrainBaselineResult {
  out: string;
  sidecar: PredictionModelSidecar;
  report: TrainingReport;
}

export const DEFAULT_SEED = 0;
/** The fewest training rows a head is fitted on. */
export const MIN_TRAIN_ROWS = 50;

/** Refuses an --out that exists and is not an empty folder: a model is never written over another. */
async function checkOut(out: string): Promise<void> {
  let entries: string[];
  try {
    entries = await fs.readdir(out);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new TrendflowError('invalid_argument', 'the output path is a file, not a folder', { path: out });
    throw new TrendflowError('store_io_failed', `cannot read the output folder: ${(error as Error).message}`, { path: out, cause: error });
  }
  if (entries.length > 0) throw new TrendflowError('invalid_argument', 'the output folder is not empty', { path: out });
}

/** Writes the files into a hidden temp folder beside `out`, then renames it into place (an empty `out` is replaced). */
async function writeFolderAtomic(out: string, files: Record<string, string>): Promise<void> {
  const parent = path.dirname(path.resolve(out));
  const temp = path.join(parent, `.${path.basename(out)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await fs.mkdir(parent, { recursive: true });
    await fs.mkdir(temp);
    for (const [name, text] of Object.entries(files)) await writeFileAtomic(path.join(temp, name), text);
    await fs.rename(temp, out);
    await syncDirectory(parent);
  } catch (error) {
    await fs.rm(temp, { recursive: true, force: true }).catch(() => undefined);
    if (isTrendflowError(error)) throw error;
    throw new TrendflowError('store_io_failed', `cannot write the model folder: ${(error as Error).message}`, { path: out, cause: error });
  }
}

function rowsOf(assignment: readonly string[], split: string, mask: (row: number) => boolean): number[] {
  const rows: number[] = [];
  assignment.forEach((s, r) => {
    if (s === split && mask(r)) rows.push(r);
  });
  return rows;
}

/** Conformal offsets of one head, pooled and per age bucket (pooled where a bucket has too few rows). */
function calibrateHead(residuals: number[], buckets: Array<string | null>): HeadModel['calibration'] {
  const pooled: GroupCalibration = { rows: residuals.length, source: 'age_bucket', offsets: conformalOffsets(residuals, PREDICTION_QUANTILES) };
  const byBucket = Object.fromEntries(
    AGE_BUCKETS.map((bucket) => {
      const own = residuals.filter((_, i) => buckets[i] === bucket);
      const group: GroupCalibration =
        own.length >= MIN_GROUP_ROWS
          ? { rows: own.length, source: 'age_bucket', offsets: conformalOffsets(own, PREDICTION_QUANTILES) }
          : { rows: pooled.rows, source: 'pooled', offsets: pooled.offsets };
      return [bucket, group];
    }),
  ) as HeadModel['calibration']['age_buckets'];
  return { pooled: { ...pooled, source: 'pooled' }, age_buckets: byBucket };
}

function withoutOffsets({ rows, source }: GroupCalibration): Omit<GroupCalibration, 'offsets'> {
  return { rows, source };
}

export async function trainBaseline(bundleDir: string, out: string, options: TrainBaselineOptions = {}): Promise<TrainBaselineResult> {
  await checkOut(out);
  const seed = options.seed ?? DEFAULT_SEED;
  const params: GbtParams = { ...DEFAULT_GBT_PARAMS, ...options.params };
  const shares = options.shares ?? DEFAULT_SPLIT_SHARES;
  const data: TrainingDataset = await readTrainingDataset(bundleDir);
  const F = data.features;
  const T = TARGET_NAMES.length;
  const Q = PREDICTION_QUANTILES.length;

  const split = channelTimeSplit(
    data.videoId.map((videoId, r) => ({
      videoId,
      channelId: data.channelId[r]!,
      publishedAt: data.publishedAt[r]!,
      snapshot1CollectedAt: data.snapshot1CollectedAt[r]!,
    })),
    seed,
    shares,
  );
  const trainRows = rowsOf(split.assignment, 'train', () => true);
  // bins come from the training rows only: the calibration and test rows stay unseen
  const binned = binFeatures(data.X, F, trainRows, params.bins);
  // the binned matrix holds the training rows in trainRows' order: index them by position
  const position = new Map(trainRows.map((r, i) => [r, i]));
  const minCalibration = minCalibrationRows(PREDICTION_QUANTILES);

  const heads: HeadModel[] = [];
  const headRows: Array<{ train: number[]; calibration: number[]; test: number[]; trainMean: number }> = [];
  for (let t = 0; t < T; t++) {
    const target = TARGET_NAMES[t]!;
    const has = (r: number) => data.targetMasks[r * T + t] === 1;
    const rows = { train: rowsOf(split.assignment, 'train', has), calibration: rowsOf(split.assignment, 'calibration', has), test: rowsOf(split.assignment, 'test', has) };
    if (rows.train.length < MIN_TRAIN_ROWS || rows.calibration.length < minCalibration || rows.test.length === 0) {
      throw new TrendflowError(
        'training_data_invalid',
        `too few rows with ${target}: ${rows.train.length} train (at least ${MIN_TRAIN_ROWS}), ${rows.calibration.length} calibration (at least ${minCalibration}), ${rows.test.length} test (at least 1)`,
        { path: data.file },
      );
    }
    const y = new Float64Array(trainRows.length);
    for (const r of rows.train) y[position.get(r)!] = data.targets[r * T + t]!;
    const model = fitBoosted(binned, Int32Array.from(rows.train, (r) => position.get(r)!), y, params, (seed * 31 + t) >>> 0);
    const residuals = rows.calibration.map((r) => data.targets[r * T + t]! - predictBoosted(model, data.X, r * F));
    const calibration = calibrateHead(residuals, rows.calibration.map((r) => data.ageBucket[r]!));
    heads.push({ target, base: model.base, trees: model.trees, calibration });
    headRows.push({ ...rows, trainMean: model.base });
  }

  const treesFile: TreesFile = { format: TREES_FORMAT, feature_count: F, quantiles: [...PREDICTION_QUANTILES], heads };
  const treesText = `${JSON.stringify(treesFile)}\n`;
  const version = `baseline-${createHash('sha256').update(treesText).digest('hex').slice(0, 12)}`;
  const createdAt = new Date().toISOString();

  // the test split, predicted by the same code the engine uses (every head of a row: horizons are rearranged together)
  const H = heads.length;
  const headReports: HeadReport[] = heads.map((head, t) => {
    const { train, calibration, test, trainMean } = headRows[t]!;
    const x = new Float32Array(test.length * F);
    test.forEach((r, i) => x.set(data.X.subarray(r * F, (r + 1) * F), i * F));
    const predicted = predictQuantiles(treesFile, x, test.length, test.map((r) => data.ageBucket[r]!));
    const quantilesOf = (i: number) => Array.from(predicted.subarray((i * H + t) * Q, (i * H + t + 1) * Q));
    const metricsOf = (members: number[]) =>
      groupMetrics(members.map((i) => data.targets[test[i]! * T + t]!), members.map(quantilesOf), PREDICTION_QUANTILES, trainMean);
    return {
      target: head.target,
      rows: { train: train.length, calibration: calibration.length, test: test.length },
      train_mean: trainMean,
      calibration: {
        pooled: withoutOffsets(head.calibration.pooled),
        age_buckets: Object.fromEntries(AGE_BUCKETS.map((b) => [b, withoutOffsets(head.calibration.age_buckets[b])])),
      },
      test: {
        all: metricsOf(test.map((_, i) => i)),
        age_buckets: Object.fromEntries(AGE_BUCKETS.map((b) => [b, metricsOf(test.flatMap((r, i) => (data.ageBucket[r] === b ? [i] : [])))])),
      },
    };
  });

  const { assignment: _assignment, ...splitSummary } = split;
  const report: TrainingReport = {
    format: REPORT_FORMAT,
    model_version: version,
    created_at: createdAt,
    bundle: path.resolve(bundleDir),
    feature_schema_version: FEATURE_SCHEMA_VERSION,
    seed,
    params,
    split: { ...splitSummary, shares },
    calibration: { method: 'split_conformal', groups: ['target', 'age_bucket'], min_group_rows: MIN_GROUP_ROWS },
    quantiles: [...PREDICTION_QUANTILES],
    heads: headReports,
  };
  const sidecar: PredictionModelSidecar = {
    format: PREDICTION_MODEL_FORMAT,
    type: 'baseline',
    version,
    feature_schema_version: FEATURE_SCHEMA_VERSION,
    feature_names: FEATURE_COLUMNS.map((c) => c.name),
    targets: [...TARGET_NAMES],
    quantiles: [...PREDICTION_QUANTILES],
    calibration: { method: 'split_conformal', groups: ['target', 'age_bucket'], calibration_rows: split.rows.calibration },
    engine: { kind: 'gbt_json', file: TREES_FILE },
    created_at: createdAt,
  };
  await writeFolderAtomic(out, {
    [TREES_FILE]: treesText,
    [MODEL_SIDECAR_FILE]: `${JSON.stringify(sidecar, null, 2)}\n`,
    [REPORT_JSON]: `${JSON.stringify(report, null, 2)}\n`,
    [REPORT_MD]: reportMarkdown(report),
  });
  return { out: path.resolve(out), sidecar, report };
}
