/**
 * The training report (report.json + report.md beside the model): the test split's measures per head and per age
 * bucket, next to the predict-the-train-mean baseline. Values are log1p; a measure of an empty group is null.
 */
import { coverage, meanAbsoluteError, rootMeanSquaredError, spearman } from './metrics.js';
import type { SplitResult } from './split.js';
import type { GbtParams } from './gbt.js';
import type { GroupCalibration } from './trees-file.js';

export const REPORT_FORMAT = 'trendflow_baseline_report_v1';
export const REPORT_JSON = 'report.json';
export const REPORT_MD = 'report.md';

/** The central intervals the report checks, by their quantile levels. */
export const INTERVALS = [
  { name: 'p10_p90', lower: 0.1, upper: 0.9 },
  { name: 'p05_p95', lower: 0.05, upper: 0.95 },
  { name: 'p025_p975', lower: 0.025, upper: 0.975 },
] as const;

export interface GroupMetrics {
  rows: number;
  /** Of the median (p50) prediction. */
  mae: number | null;
  rmse: number | null;
  spearman: number | null;
  /** MAE and RMSE of predicting every row the head's training mean. */
  mean_baseline_mae: number | null;
  mean_baseline_rmse: number | null;
  /** Share of rows inside each central interval (nominal 0.8, 0.9, 0.95). */
  coverage: Record<(typeof INTERVALS)[number]['name'], number | null>;
}

export interface HeadReport {
  target: string;
  rows: { train: number; calibration: number; test: number };
  train_mean: number;
  calibration: { pooled: Omit<GroupCalibration, 'offsets'>; age_buckets: Record<string, Omit<GroupCalibration, 'offsets'>> };
  test: { all: GroupMetrics; age_buckets: Record<string, GroupMetrics> };
}

export interface TrainingReport {
  format: typeof REPORT_FORMAT;
  model_version: string;
  created_at: string;
  bundle: string;
  feature_schema_version: string;
  seed: number;
  params: GbtParams;
  split: Omit<SplitResult, 'assignment'> & { shares: { train: number; calibration: number; test: number } };
  calibration: { method: 'split_conformal'; groups: ['target', 'age_bucket']; min_group_rows: number };
  quantiles: number[];
  heads: HeadReport[];
}

/** One test group's measures; `quantiles[q]` per row holds the prediction at level `levels[q]`. */
export function groupMetrics(actual: number[], quantiles: number[][], levels: readonly number[], trainMean: number): GroupMetrics {
  const at = (level: number) => {
    const q = levels.indexOf(level);
    return quantiles.map((row) => row[q]!);
  };
  const median = at(0.5);
  const mean = actual.map(() => trainMean);
  return {
    rows: actual.length,
    mae: meanAbsoluteError(median, actual),
    rmse: rootMeanSquaredError(median, actual),
    spearman: spearman(median, actual),
    mean_baseline_mae: meanAbsoluteError(mean, actual),
    mean_baseline_rmse: rootMeanSquaredError(mean, actual),
    coverage: Object.fromEntries(INTERVALS.map((i) => [i.name, coverage(at(i.lower), at(i.upper), actual)])) as GroupMetrics['coverage'],
  };
}

const fmt = (v: number | null) => (v === null ? '–' : v.toFixed(3));

export function reportMarkdown(report: TrainingReport): string {
  const lines = [
    `# Baseline ${report.model_version}`,
    '',
    `Trained ${report.created_at} on \`${report.bundle}\` (${report.feature_schema_version}), seed ${report.seed}: ` +
      `${report.params.trees} trees per head, depth ${report.params.maxDepth}, learning rate ${report.params.learningRate}, ${report.params.bins} bins.`,
    '',
    `Split (channel-grouped, by time): ${report.split.rows.train} train / ${report.split.rows.calibration} calibration / ${report.split.rows.test} test rows ` +
      `in ${report.split.groups.train} / ${report.split.groups.calibration} / ${report.split.groups.test} groups ` +
      `(${report.split.grouped_by.channel_id} channels, ${report.split.grouped_by.video_id} videos without a channel, ${report.split.untimed_groups} without a time, in train).`,
    '',
    `Intervals: split-conformal offsets of the residuals per head × age bucket (a bucket with fewer than ${report.calibration.min_group_rows} calibration rows uses the head's pooled offsets).`,
    '',
    'Test split, log1p. MAE / RMSE of p50; "mean" predicts the training mean; coverage of the central intervals (nominal 0.80 / 0.90 / 0.95).',
    '',
    '| head | age bucket | rows | MAE | mean MAE | RMSE | mean RMSE | Spearman | p10–p90 | p05–p95 | p025–p975 | calibration |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const head of report.heads) {
    const groups: Array<[string, GroupMetrics, string]> = [
      ['all', head.test.all, `pooled, ${head.calibration.pooled.rows} rows`],
      ...Object.entries(head.test.age_buckets).map(([bucket, m]): [string, GroupMetrics, string] => {
        const c = head.calibration.age_buckets[bucket]!;
        return [bucket, m, c.source === 'pooled' ? 'pooled (too few rows)' : `own, ${c.rows} rows`];
      }),
    ];
    for (const [bucket, m, calibration] of groups) {
      lines.push(
        `| ${head.target} | ${bucket} | ${m.rows} | ${fmt(m.mae)} | ${fmt(m.mean_baseline_mae)} | ${fmt(m.rmse)} | ${fmt(m.mean_baseline_rmse)} | ${fmt(m.spearman)} | ` +
          `${fmt(m.coverage.p10_p90)} | ${fmt(m.coverage.p05_p95)} | ${fmt(m.coverage.p025_p975)} | ${calibration} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
