/**
 * The baseline end to end on generated bundles with known structure (test/helpers/synthetic-dataset.ts): accuracy
 * against predict-the-mean, interval coverage, monotone quantiles, the model folder, the report, determinism and
 * the bundle errors. Fresh samples of the generator (new channels, never seen in training) are the held-out rows
 * the engine is judged on, besides the report's own test split.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_COLUMNS, TARGET_HORIZONS_DAYS, TARGET_NAMES } from '../feature-spec.js';
import { PREDICTION_MODEL_FORMAT, PREDICTION_QUANTILES, type PredictionModelSidecar } from '../model/contract.js';
import { syntheticDataset, writeSyntheticBundle, type SyntheticDataset } from '../../../test/helpers/synthetic-dataset.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { ndarray, readNpzFile, writeNpzFile } from '../../npz/index.js';
import { loadBaselineEngine } from './engine.js';
import type { TrainingReport } from './report.js';
import { trainBaseline, type TrainBaselineOptions } from './train.js';

const tmp = useTempDirs('baseline-');
/** Small enough to train in about a second, large enough for ±4 % coverage checks. */
const FAST: TrainBaselineOptions = { seed: 3, params: { trees: 40, maxDepth: 4, bins: 32 } };
const T = TARGET_NAMES.length;
const Q = PREDICTION_QUANTILES.length;
const q = (level: number) => PREDICTION_QUANTILES.indexOf(level as (typeof PREDICTION_QUANTILES)[number]);

async function bundleOf(data: SyntheticDataset): Promise<string> {
  const dir = await tmp();
  await writeSyntheticBundle(dir, data);
  return dir;
}

async function readSidecar(dir: string): Promise<PredictionModelSidecar> {
  return JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8')) as PredictionModelSidecar;
}

describe('trendflow train baseline on a synthetic bundle', () => {
  let modelDir: string;
  let report: TrainingReport;
  /** Fresh rows of the generator and the engine's predictions for them (rows × targets × quantiles). */
  let heldOut: SyntheticDataset;
  let predicted: Float32Array;

  beforeAll(async () => {
    const bundle = await bundleOf(syntheticDataset({ rows: 10_000, seed: 1 }));
    modelDir = path.join(await tmp(), 'model');
    ({ report } = await trainBaseline(bundle, modelDir, FAST));
    heldOut = syntheticDataset({ rows: 4_000, seed: 2 });
    const engine = await loadBaselineEngine(modelDir, await readSidecar(modelDir));
    predicted = await engine.predict(heldOut.X, heldOut.rows, heldOut.ageBucket);
    await engine.close();
  }, 60_000);

  /** Held-out targets of head t and the matching predictions at `level`. */
  function headValues(t: number, level: number): { actual: number[]; predicted: number[] } {
    const actual: number[] = [];
    const values: number[] = [];
    for (let r = 0; r < heldOut.rows; r++) {
      if (heldOut.targetMasks[r * T + t] !== 1) continue;
      actual.push(heldOut.targets[r * T + t]!);
      values.push(predicted[(r * T + t) * Q + q(level)]!);
    }
    return { actual, predicted: values };
  }

  it('beats predict-the-train-mean on MAE by more than 25 % on every head, held-out and in the report', () => {
    TARGET_NAMES.forEach((target, t) => {
      const { actual, predicted: median } = headValues(t, 0.5);
      const trainMean = report.heads[t]!.train_mean;
      const mae = actual.reduce((s, y, i) => s + Math.abs(y - median[i]!), 0) / actual.length;
      const meanMae = actual.reduce((s, y) => s + Math.abs(y - trainMean), 0) / actual.length;
      expect(mae, target).toBeLessThan(0.75 * meanMae);
      const test = report.heads[t]!.test.all;
      expect(test.mae!, target).toBeLessThan(0.75 * test.mean_baseline_mae!);
      expect(test.spearman!, target).toBeGreaterThan(0.8);
    });
  });

  it('p10–p90 covers 80 % ± 4 % of held-out rows per head and per horizon; the outer intervals widen', () => {
    const inside = (t: number, lower: number, upper: number) => {
      const lo = headValues(t, lower).predicted;
      const { actual, predicted: hi } = headValues(t, upper);
      return { n: actual.length, inside: actual.filter((y, i) => lo[i]! <= y && y <= hi[i]!).length };
    };
    TARGET_NAMES.forEach((target, t) => {
      const { n, inside: k } = inside(t, 0.1, 0.9);
      expect(k / n, target).toBeGreaterThan(0.76);
      expect(k / n, target).toBeLessThan(0.84);
      expect(inside(t, 0.05, 0.95).inside, target).toBeGreaterThan(k);
      expect(inside(t, 0.025, 0.975).inside, target).toBeGreaterThan(inside(t, 0.05, 0.95).inside);
      const coverage = report.heads[t]!.test.all.coverage.p10_p90!;
      expect(Math.abs(coverage - 0.8), `${target} report`).toBeLessThan(0.04);
    });
    for (const days of TARGET_HORIZONS_DAYS) {
      const heads = TARGET_NAMES.flatMap((name, t) => (name.endsWith(`_${days}d`) ? [inside(t, 0.1, 0.9)] : []));
      const share = heads.reduce((s, h) => s + h.inside, 0) / heads.reduce((s, h) => s + h.n, 0);
      expect(Math.abs(share - 0.8), `${days}d`).toBeLessThan(0.04);
    }
  });

  it('quantiles never decrease, for known and unknown age buckets', async () => {
    const engine = await loadBaselineEngine(modelDir, await readSidecar(modelDir));
    const unknownAge = await engine.predict(heldOut.X, heldOut.rows, heldOut.ageBucket.map(() => null));
    for (const values of [predicted, unknownAge]) {
      expect(values.length).toBe(heldOut.rows * T * Q);
      let decreasing = 0;
      for (let i = 0; i < values.length; i += Q) {
        for (let j = 1; j < Q; j++) if (values[i + j]! < values[i + j - 1]!) decreasing++;
      }
      expect(decreasing).toBe(0);
    }
    // the unknown bucket takes the pooled offsets: the same point prediction, other intervals
    expect(unknownAge).not.toEqual(predicted);
  });

  it('gains accumulate: every quantile of a later horizon is at least the earlier one, even on rows unlike the training rows', async () => {
    const engine = await loadBaselineEngine(modelDir, await readSidecar(modelDir));
    // the training rows always had the snapshot and aggregate columns: a row without them routes NaN in each head's
    // own trees, where independent heads could disagree about the order of the horizons
    const odd = Float32Array.from(heldOut.X.subarray(0, 200 * heldOut.X.length / heldOut.rows), (v, i) => (i % 3 === 0 ? Number.NaN : v));
    for (const values of [predicted, await engine.predict(odd, 200, heldOut.ageBucket.slice(0, 200))]) {
      let crossings = 0;
      for (let r = 0; r < values.length / (T * Q); r++) {
        for (const metric of [0, 3]) {
          for (let h = 1; h < 3; h++) {
            for (let k = 0; k < Q; k++) if (values[(r * T + metric + h) * Q + k]! < values[(r * T + metric + h - 1) * Q + k]!) crossings++;
          }
        }
      }
      expect(crossings).toBe(0);
    }
    await engine.close();
  });

  it('writes the model folder of the contract', async () => {
    expect((await fs.readdir(modelDir)).sort()).toEqual(['model.json', 'report.json', 'report.md', 'trees.json']);
    const sidecar = await readSidecar(modelDir);
    expect(sidecar).toMatchObject({
      format: PREDICTION_MODEL_FORMAT,
      type: 'baseline',
      feature_schema_version: 'features_v1',
      feature_names: FEATURE_COLUMNS.map((c) => c.name),
      targets: [...TARGET_NAMES],
      quantiles: [...PREDICTION_QUANTILES],
      calibration: { method: 'split_conformal', groups: ['target', 'age_bucket'], calibration_rows: report.split.rows.calibration },
      engine: { kind: 'gbt_json', file: 'trees.json' },
      version: report.model_version,
    });
    expect(sidecar.version).toMatch(/^baseline-[0-9a-f]{12}$/);
    expect(Number.isNaN(Date.parse(sidecar.created_at))).toBe(false);
    // no temp folder left beside it
    expect(await fs.readdir(path.dirname(modelDir))).toEqual(['model']);
  });

  it('report.json holds every measure, finite, per head and age bucket, and report.md shows them', async () => {
    const onDisk = JSON.parse(await fs.readFile(path.join(modelDir, 'report.json'), 'utf8')) as TrainingReport;
    expect(onDisk).toEqual(report);
    expect(report.split.rows.train + report.split.rows.calibration + report.split.rows.test).toBe(10_000);
    expect(report.heads.map((h) => h.target)).toEqual([...TARGET_NAMES]);
    for (const head of report.heads) {
      expect(head.rows.train).toBeGreaterThan(0);
      for (const group of [head.test.all, ...Object.values(head.test.age_buckets)]) {
        const values = [group.mae, group.rmse, group.spearman, group.mean_baseline_mae, group.mean_baseline_rmse, ...Object.values(group.coverage)];
        expect(values.every((v) => typeof v === 'number' && Number.isFinite(v)), head.target).toBe(true);
        expect(group.rows).toBeGreaterThan(0);
      }
      expect(Object.keys(head.test.age_buckets)).toEqual(['lt_24h', '1_30d', 'gt_30d']);
      expect(Object.values(head.calibration.age_buckets).every((c) => c.source === 'age_bucket')).toBe(true);
    }
    const markdown = await fs.readFile(path.join(modelDir, 'report.md'), 'utf8');
    expect(markdown).toContain(`| y_likes_21d | gt_30d | ${report.heads[5]!.test.age_buckets.gt_30d!.rows} |`);
  });

  it('a damaged or missing trees.json is prediction_model_invalid, naming the file', async () => {
    const sidecar = await readSidecar(modelDir);
    const text = await fs.readFile(path.join(modelDir, 'trees.json'), 'utf8');
    const broken = await tmp();
    const file = path.join(broken, 'trees.json');
    const load = () => loadBaselineEngine(broken, sidecar);
    await expect(load()).rejects.toMatchObject({ code: 'prediction_model_invalid', details: { path: file } });
    await fs.writeFile(file, text.slice(0, text.length / 2));
    await expect(load()).rejects.toMatchObject({ code: 'prediction_model_invalid', message: expect.stringContaining('not JSON') });
    const json = JSON.parse(text);
    json.heads[2].trees[0].left[0] = 0; // a cycle back to the root
    await fs.writeFile(file, JSON.stringify(json));
    await expect(load()).rejects.toMatchObject({ code: 'prediction_model_invalid', message: expect.stringContaining('heads[2].trees[0] node 0: child 0') });
    const fewer = JSON.parse(text);
    fewer.heads.pop();
    await fs.writeFile(file, JSON.stringify(fewer));
    await expect(load()).rejects.toMatchObject({ code: 'prediction_model_invalid', message: expect.stringContaining("differ from model.json's targets") });
    await fs.writeFile(file, text);
    await expect(load()).resolves.toBeDefined();
  });
});

describe('baseline training: determinism, calibration groups, bundle errors', () => {
  let small: SyntheticDataset;
  let bundle: string;
  beforeAll(async () => {
    small = syntheticDataset({ rows: 3_000, channels: 300, seed: 7 });
    bundle = await bundleOf(small);
  });

  it('is deterministic given the seed; another seed gives other trees', async () => {
    const train = async (seed: number) => {
      const out = path.join(await tmp(), 'm');
      const { report } = await trainBaseline(bundle, out, { ...FAST, seed });
      return { trees: await fs.readFile(path.join(out, 'trees.json'), 'utf8'), report: { ...report, created_at: '' } };
    };
    const [a, b, c] = [await train(5), await train(5), await train(6)];
    expect(b.trees).toBe(a.trees);
    expect(b.report).toEqual(a.report);
    expect(c.trees).not.toBe(a.trees);
  });

  it('an age bucket with too few calibration rows uses the pooled offsets and says so', async () => {
    // most old videos lose their age: their calibration group shrinks below MIN_GROUP_ROWS
    const data = { ...small, ageBucket: small.ageBucket.map((b, r) => (b === 'gt_30d' && r % 10 !== 0 ? null : b)) };
    const out = path.join(await tmp(), 'm');
    const { report } = await trainBaseline(await bundleOf(data), out, FAST);
    for (const head of report.heads) {
      expect(head.calibration.age_buckets.gt_30d).toEqual({ rows: head.calibration.pooled.rows, source: 'pooled' });
      expect(head.calibration.age_buckets['1_30d']!.source).toBe('age_bucket');
    }
    const trees = JSON.parse(await fs.readFile(path.join(out, 'trees.json'), 'utf8'));
    expect(trees.heads[0].calibration.age_buckets.gt_30d.offsets).toEqual(trees.heads[0].calibration.pooled.offsets);
    expect(await fs.readFile(path.join(out, 'report.md'), 'utf8')).toContain('pooled (too few rows)');
  });

  it('refuses a non-empty --out and leaves it untouched', async () => {
    const out = await tmp();
    await fs.writeFile(path.join(out, 'keep.txt'), 'mine');
    await expect(trainBaseline(bundle, out, FAST)).rejects.toMatchObject({ code: 'invalid_argument', details: { path: out } });
    expect(await fs.readdir(out)).toEqual(['keep.txt']);
  });

  it('a missing bundle, another feature version, other columns and too few rows are clear errors', async () => {
    const out = path.join(await tmp(), 'm');
    await expect(trainBaseline(path.join(bundle, 'nope'), out, FAST)).rejects.toMatchObject({ code: 'npz_not_found' });
    const corrupt = await tmp();
    const bytes = await fs.readFile(path.join(bundle, 'dataset.npz'));
    await fs.writeFile(path.join(corrupt, 'dataset.npz'), bytes.subarray(0, bytes.length / 2));
    await expect(trainBaseline(corrupt, out, FAST)).rejects.toMatchObject({ code: expect.stringMatching(/^npz_/), details: { path: path.join(corrupt, 'dataset.npz') } });

    const rewrite = async (changes: Record<string, ReturnType<typeof ndarray.str>>) => {
      const npz = await readNpzFile(path.join(bundle, 'dataset.npz'));
      const dir = await tmp();
      await writeNpzFile(path.join(dir, 'dataset.npz'), new Map([...npz, ...Object.entries(changes)]), { compress: false });
      return dir;
    };
    await expect(trainBaseline(await rewrite({ feature_schema_version: ndarray.str(['features_v0'], []) }), out, FAST)).rejects.toMatchObject({
      code: 'feature_schema_mismatch',
      message: expect.stringContaining('features_v0'),
    });
    const names = FEATURE_COLUMNS.map((c) => c.name).reverse();
    await expect(trainBaseline(await rewrite({ feature_names: ndarray.str(names) }), out, FAST)).rejects.toMatchObject({ code: 'training_data_invalid', details: { key: 'feature_names' } });

    const tiny = await bundleOf(syntheticDataset({ rows: 150, channels: 30, seed: 8 }));
    await expect(trainBaseline(tiny, out, FAST)).rejects.toMatchObject({ code: 'training_data_invalid', message: expect.stringContaining('too few rows with y_views_7d') });
    await expect(fs.access(out)).rejects.toThrow();
  });

  it('without channel ids each video is its own group', async () => {
    const out = path.join(await tmp(), 'm');
    const { report } = await trainBaseline(await bundleOf({ ...small, channelId: small.channelId.map(() => null) }), out, FAST);
    expect(report.split.grouped_by).toEqual({ channel_id: 0, video_id: 3_000 });
    expect(report.split.groups.train + report.split.groups.calibration + report.split.groups.test).toBe(3_000);
  });
});
