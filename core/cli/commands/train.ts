/**
 * `trendflow train baseline --bundle DIR --out MODEL_DIR [--seed N] [--json]`: the in-house baseline on a training
 * bundle (core/predict/baseline/README.md). --out must be new or empty; the model folder appears whole or not at all.
 */
import type { Command } from 'commander';
import { TrendflowError } from '../../contracts/errors.js';
import { DEFAULT_SEED, trainBaseline } from '../../predict/baseline/train.js';

interface TrainBaselineCliOptions {
  bundle: string;
  out: string;
  seed: string;
  json?: boolean;
}

function parseSeed(text: string): number {
  const seed = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(seed) || seed > 0xffffffff) {
    throw new TrendflowError('invalid_argument', `--seed must be an integer in 0..4294967295, got '${text}'`);
  }
  return seed;
}

const fmt = (v: number | null) => (v === null ? '–' : v.toFixed(3));

export function registerTrainCommand(program: Command): void {
  const train = program.command('train').description('train prediction models on a training bundle (trendflow export)');
  train
    .command('baseline')
    .description('boosted trees per target with split-conformal intervals; writes model.json, trees.json and a report')
    .requiredOption('--bundle <dir>', 'a training bundle folder (holding dataset.npz)')
    .requiredOption('--out <dir>', 'the model folder: new or empty')
    .option('--seed <n>', 'seed of the split tie-breaks and the row subsampling', String(DEFAULT_SEED))
    .option('--json', 'one JSON object on stdout (the folder, model.json and the report)')
    .action(async (options: TrainBaselineCliOptions) => {
      const result = await trainBaseline(options.bundle, options.out, { seed: parseSeed(options.seed) });
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ out: result.out, model: result.sidecar, report: result.report })}\n`);
        return;
      }
      const { split } = result.report;
      process.stdout.write(
        `baseline ${result.sidecar.version} written to ${result.out}\n` +
          `rows: ${split.rows.train} train, ${split.rows.calibration} calibration, ${split.rows.test} test\n`,
      );
      for (const head of result.report.heads) {
        const m = head.test.all;
        process.stdout.write(
          `${head.target}: MAE ${fmt(m.mae)} (train mean ${fmt(m.mean_baseline_mae)}), Spearman ${fmt(m.spearman)}, p10–p90 coverage ${fmt(m.coverage.p10_p90)} on ${m.rows} test rows\n`,
        );
      }
    });
}
