/**
 * The prediction component on a real run: a generated video analysed by the orchestrator with --meta and
 * --snapshots (video_aggregates, temporal_snapshot_features) and prediction enabled by a profile file, with
 * generated ONNX models whose weights make the forecast computable by hand; then the fallback chain on the same
 * run's artifacts, and the config errors.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failureOf } from '../../../test/helpers/errors.js';
import { writeOnnxPredictionFolder } from '../../../test/helpers/onnx-models.js';
import { numpyAvailableOrCi, runPython } from '../../../test/helpers/python.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { VideoFixtures } from '../../../test/helpers/video-fixtures.js';
import type { ComponentName } from '../../contracts/components.js';
import type { Manifest } from '../../contracts/manifest.js';
import { getArray, getMeta, readNpzFile } from '../../npz/index.js';
import { inputFromArtifact } from '../../modules/common/inputs.js';
import type { ComponentInput } from '../../pipeline/component.js';
import { openIndex } from '../../index/sync.js';
import { analyzeVideo } from '../../pipeline/orchestrator.js';
import { loadProfile } from '../../pipeline/profile.js';
import { OnnxSessionRegistry } from '../../runtime/onnx/sessions.js';
import { validateRunDir } from '../../schema/index.js';
import { readManifest } from '../../store/manifest.js';
import { FEATURE_COLUMNS, TARGET_NAMES } from '../feature-spec.js';
import { syntheticDataset, writeSyntheticBundle } from '../../../test/helpers/synthetic-dataset.js';
import { trainBaseline } from '../baseline/train.js';
import { loadPredictionModel } from '../model/load.js';
import { confidenceFromWidth, predictionComponent, resolveModelDir, runPrediction, ZERO_CONFIDENCE_WIDTH, type PredictionContext } from './index.js';

const tmp = useTempDirs('prediction-');
const sessions = new OnnxSessionRegistry();
afterAll(() => sessions.releaseAll());

const F = FEATURE_COLUMNS.length;
const T = TARGET_NAMES.length;
const VIEWS = FEATURE_COLUMNS.findIndex((c) => c.name === 'temporal_snapshot_features.log1p_view_count');
const LIKES = FEATURE_COLUMNS.findIndex((c) => c.name === 'temporal_snapshot_features.log1p_like_count');
/** Views heads forecast log1p(views at t0), likes heads log1p(likes at t0): a gain equal to the count so far. */
const weights = Float32Array.from({ length: F * T }, (_, i) => {
  const [feature, head] = [Math.floor(i / T), i % T];
  return (head < 3 && feature === VIEWS) || (head >= 3 && feature === LIKES) ? 1 : 0;
});
const bias = new Array<number>(T).fill(0);

let work: string;
let modelsDir: string;
let runDir: string;
let manifest: Manifest;
let v1: string;

let video: string;
let metaFile: string;
let snapshots: string;

beforeAll(async () => {
  work = await tmp();
  modelsDir = path.join(work, 'models');
  // the primary by name under <models dir>/prediction/, the fallback by absolute path
  await writeOnnxPredictionFolder(path.join(modelsDir, 'prediction', 'v2'), 'v2', { weights, bias, offsets: [-0.5, 0, 0.5] });
  v1 = await writeOnnxPredictionFolder(path.join(work, 'elsewhere', 'v1'), 'v1', { weights, bias, offsets: [-2, 0, 1], quantiles: [0.1, 0.5, 0.9] });
  const profileFile = path.join(work, 'predict.json');
  await fs.writeFile(
    profileFile,
    JSON.stringify({ format: 'trendflow_profile_v1', name: 'predict', description: 'tier0 and a forecast', extends: 'tier0', components: { prediction: { required: true, params: { models: ['v2', v1] } } } }),
  );
  metaFile = path.join(work, 'meta.json');
  await fs.writeFile(metaFile, JSON.stringify({ platform_id: 'youtube', video_id: 'predicted', publishedAt: '2024-03-01T00:00:00Z' }));
  snapshots = path.join(work, 'snapshots');
  await fs.mkdir(snapshots);
  await fs.writeFile(path.join(snapshots, 's0.json'), JSON.stringify({ collected_at: '2024-03-03T12:00:00Z', viewCount: 1000, likeCount: 40, commentCount: 5, subscriberCount: 100 }));
  video = await (await VideoFixtures.create()).tone128x72();
  const outcome = await analyzeVideo(
    { video, profile: await loadProfile(profileFile), only: ['video_aggregates', 'video_pacing', 'temporal_snapshot_features', 'prediction'], metadataFile: metaFile, snapshotsDir: snapshots },
    { workspace: path.join(work, 'store'), modelsDir, sessions, index: null },
  );
  expect(outcome.status, JSON.stringify(outcome.components)).toBe('ok');
  runDir = outcome.run_dir;
  manifest = await readManifest(runDir);
}, 120_000);

/** A context over this run's upstream artifacts that writes into a fresh folder. */
async function contextOnRun(): Promise<PredictionContext> {
  const inputs: Partial<Record<ComponentName, ComponentInput>> = {};
  for (const entry of manifest.components) {
    if (entry.name === 'video_aggregates' || entry.name === 'temporal_snapshot_features') {
      inputs[entry.name] = await inputFromArtifact(runDir, entry.name, entry.status as 'ok' | 'empty', entry.artifacts[0]!.path);
    }
  }
  const { platform_id, video_id, run_id, config_hash, sampling_policy_version, dataprocessor_version } = manifest.run;
  const identity = { platform_id, video_id, run_id, config_hash, sampling_policy_version, dataprocessor_version };
  return { identity, runDir: await tmp(), inputs, models: { modelsDir, sessions } };
}

describe('prediction in a run', () => {
  it('forecasts with the primary model: the artifact validates, the manifest records the model', async () => {
    const entry = manifest.components.find((c) => c.name === 'prediction')!;
    expect(entry).toMatchObject({ status: 'ok', device_used: 'cpu', artifacts: [{ path: 'prediction/prediction.npz' }] });
    expect(entry.models_used).toEqual([expect.objectContaining({ model_name: 'prediction_v2', model_version: 'v2.0.1', engine: 'onnxruntime', weights_digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) })]);
    expect(entry.model_signature).toMatch(/^msig1:[0-9a-f]{64}$/);
    expect(entry.notes).toContain('optional feature sources missing (their columns are NaN): text_processor');
    const validation = await validateRunDir(runDir);
    expect(validation.problems).toEqual([]);

    const npz = await readNpzFile(path.join(runDir, 'prediction', 'prediction.npz'));
    const log1p = getArray(npz, 'pred_log1p', 'float32').data;
    // views heads: log1p(1000) + offset, likes heads: log1p(40) + offset
    TARGET_NAMES.forEach((_, t) => {
      const point = Math.log1p(t < 3 ? 1000 : 40);
      expect(Array.from(log1p.subarray(t * 3, t * 3 + 3))).toEqual([point - 0.5, point, point + 0.5].map((v) => expect.closeTo(v, 4)));
    });
    expect(Array.from(getArray(npz, 'point_value', 'float64').data).map(Math.round)).toEqual([1000, 1000, 1000, 40, 40, 40]);
    expect(Array.from(getArray(npz, 'confidence_score', 'float32').data)).toEqual(new Array(T).fill(expect.closeTo(1 - 1 / ZERO_CONFIDENCE_WIDTH, 5)));
    const meta = getMeta(npz);
    expect(meta).toMatchObject({
      producer: 'prediction',
      status: 'ok',
      model_signature: entry.model_signature,
      batch_size: 1,
      feature_schema_version: 'features_v1',
      model_dir: path.join(modelsDir, 'prediction', 'v2'),
      optional_sources_missing: ['text_processor'],
      dependencies: {
        video_aggregates: `sha256:${manifest.components.find((c) => c.name === 'video_aggregates')!.artifacts[0]!.sha256}`,
        temporal_snapshot_features: `sha256:${manifest.components.find((c) => c.name === 'temporal_snapshot_features')!.artifacts[0]!.sha256}`,
      },
    });
    expect(meta.models_tried).toEqual([
      { model_dir: path.join(modelsDir, 'prediction', 'v2'), outcome: 'used', error_code: null, message: null },
      { model_dir: v1, outcome: 'not_tried', error_code: null, message: null },
    ]);
  });

  it.skipIf(!numpyAvailableOrCi)('loads in NumPy with the documented keys, shapes and values', async () => {
    const result = await runPython(
      `
import json, math, sys
import numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
meta = z['meta'].item()
print(json.dumps({
  'keys': sorted(k for k in z.files if k != 'meta'),
  'targets': list(z['target_names']), 'quantiles': z['quantiles'].tolist(),
  'shape': list(z['pred_log1p'].shape), 'value_dtype': str(z['pred_value'].dtype),
  'expm1_ok': bool(np.allclose(np.expm1(z['pred_log1p'].astype(np.float64)), z['pred_value'], rtol=1e-6)),
  'monotone': bool((np.diff(z['pred_log1p'], axis=1) >= 0).all()),
  'interval': [float(z['interval_low_value'][0]), float(z['interval_high_value'][0])],
  'status': str(z['prediction_status']), 'model': [str(z['model_type']), str(z['model_version']), str(z['feature_schema_version'])],
  'fallback': z['fallback_reason'].item(), 'age': z['age_bucket'].item(),
  'features': [int(z['feature_present'].sum()), int(np.isnan(z['feature_values']).sum()), z['feature_values'].shape[0]],
  'views_feature': float(z['feature_values'][list(z['feature_names']).index('temporal_snapshot_features.log1p_view_count')]),
  'models_used': [u['model_name'] for u in meta['models_used']],
}))
`,
      [path.join(runDir, 'prediction', 'prediction.npz')],
    );
    const out = JSON.parse(result);
    expect(out.keys).toEqual([
      'age_bucket', 'confidence_score', 'fallback_reason', 'feature_names', 'feature_present', 'feature_schema_version', 'feature_values', 'interval_high_value',
      'interval_low_value', 'interval_width_log1p', 'model_type', 'model_version', 'point_value', 'pred_log1p', 'pred_value', 'prediction_status', 'primary_error_code', 'quantiles', 'target_names',
    ]);
    expect(out).toMatchObject({ targets: [...TARGET_NAMES], shape: [6, 3], value_dtype: 'float64', expm1_ok: true, monotone: true, status: 'ok', model: ['v2', 'v2.0.1', 'features_v1'], fallback: null, age: '1_30d', models_used: ['prediction_v2'] });
    expect(out.quantiles).toEqual([expect.closeTo(0.1, 6), 0.5, expect.closeTo(0.9, 6)]);
    expect(out.interval[0]).toBeCloseTo(Math.expm1(Math.log1p(1000) - 0.5), 0);
    expect(out.interval[1]).toBeCloseTo(Math.expm1(Math.log1p(1000) + 0.5), 0);
    expect(out.views_feature).toBeCloseTo(Math.log1p(1000), 4);
    // text_processor did not run: its 44 columns are NaN, with feature_present False
    expect(out.features[1]).toBeGreaterThanOrEqual(44);
    expect(out.features[0] + out.features[1]).toBe(F);
  });
});

describe('the cache', () => {
  it('reuses a forecast only while the model folder is unchanged: retraining into it is a new key', async () => {
    const cacheWork = await tmp();
    const folder = await writeOnnxPredictionFolder(path.join(cacheWork, 'model'), 'v1', { weights, bias, offsets: [-1, 0, 1] });
    const profile = await loadProfile('tier0');
    profile.components.set('prediction', { required: true, params: { models: [folder] } });
    const workspace = path.join(cacheWork, 'store');
    const index = await openIndex(workspace);
    const analyse = async () => {
      const own = new OnnxSessionRegistry();
      try {
        const outcome = await analyzeVideo(
          { video, profile, only: ['video_aggregates', 'video_pacing', 'temporal_snapshot_features', 'prediction'], metadataFile: metaFile, snapshotsDir: snapshots },
          { workspace, modelsDir, sessions: own, index },
        );
        expect(outcome.status).toBe('ok');
        const entry = (await readManifest(outcome.run_dir)).components.find((c) => c.name === 'prediction')!;
        const p50 = getArray(await readNpzFile(path.join(outcome.run_dir, 'prediction', 'prediction.npz')), 'pred_log1p', 'float32').data[1]!;
        return { hit: entry.cache_hit, p50 };
      } finally {
        await own.releaseAll();
      }
    };
    try {
      const first = await analyse();
      expect(first.hit).toBe(false);
      expect(await analyse()).toEqual({ hit: true, p50: first.p50 });
      // "retrained" into the same folder: the median moves by 0.25
      await writeOnnxPredictionFolder(folder, 'v1', { weights, bias, offsets: [-1, 0.25, 1] });
      const third = await analyse();
      expect(third.hit).toBe(false);
      expect(third.p50).toBeCloseTo(first.p50 + 0.25, 4);
    } finally {
      index.close();
    }
  }, 120_000);
});

describe('the fallback chain', () => {
  it('a broken primary falls back to the next model: degraded, with the primary failure recorded', async () => {
    const broken = await writeOnnxPredictionFolder(path.join(await tmp(), 'v2'), 'v2', { weights, bias, offsets: [0.5, 0, 1] });
    const ctx = await contextOnRun();
    const result = await runPrediction(ctx, { models: [broken, v1] });
    expect(result.status).toBe('degraded');
    expect(result.attempts.map((a) => [a.outcome, a.error_code])).toEqual([['failed', 'prediction_model_invalid'], ['used', null]]);
    expect(result.notes[0]).toMatch(/^prediction degraded: the primary model failed \(.*prediction_model_invalid: quantiles cross.*\); used prediction_v1 v1.0.1 from /);
    const npz = await readNpzFile(path.join(ctx.runDir, 'prediction', 'prediction.npz'));
    expect(npz.get('prediction_status')!.data[0]).toBe('degraded');
    expect(npz.get('model_type')!.data[0]).toBe('v1');
    expect(npz.get('primary_error_code')!.data[0]).toBe('prediction_model_invalid');
    expect(npz.get('fallback_reason')!.data[0]).toMatch(/prediction_model_invalid: quantiles cross/);
    // v1's offsets (-2, 0, 1): a 3-wide interval scores lower than v2's 1-wide one
    expect(getArray(npz, 'confidence_score', 'float32').data[0]).toBeCloseTo(1 - 3 / ZERO_CONFIDENCE_WIDTH, 5);
  });

  it("rearranges a model whose later horizon forecasts a smaller gain, and says so", async () => {
    // views at 21 days one unit below 14 days; likes as they are
    const shrinking = await writeOnnxPredictionFolder(path.join(await tmp(), 'v2'), 'v2', { weights, bias: [0, 0, -1, 0, 0, 0], offsets: [-0.5, 0, 0.5] });
    const ctx = await contextOnRun();
    const result = await runPrediction(ctx, { models: [shrinking] });
    expect(result.status).toBe('ok');
    expect(result.notes).toContain('horizons rearranged: 3 of 18 forecast quantiles were below the same quantile of an earlier horizon and were raised to it (gains accumulate)');
    const log1p = getArray(await readNpzFile(path.join(ctx.runDir, 'prediction', 'prediction.npz')), 'pred_log1p', 'float32').data;
    expect(Array.from(log1p.subarray(6, 9))).toEqual(Array.from(log1p.subarray(3, 6)));
    expect(Array.from(log1p.subarray(15, 18))).toEqual(Array.from(log1p.subarray(12, 15)));
  });

  it('goes past a missing folder and a feature schema mismatch, recording the primary code', async () => {
    const old = await writeOnnxPredictionFolder(path.join(await tmp(), 'old'), 'v2', { sidecar: { feature_schema_version: 'features_v0' } });
    const ctx = await contextOnRun();
    const result = await runPrediction(ctx, { models: ['not-installed', old, v1] });
    expect(result.status).toBe('degraded');
    expect(result.attempts.map((a) => [a.model_dir, a.outcome, a.error_code])).toEqual([
      [path.join(modelsDir, 'prediction', 'not-installed'), 'failed', 'prediction_model_missing'],
      [old, 'failed', 'feature_schema_mismatch'],
      [v1, 'used', null],
    ]);
    const npz = await readNpzFile(path.join(ctx.runDir, 'prediction', 'prediction.npz'));
    expect(npz.get('primary_error_code')!.data[0]).toBe('prediction_model_missing');
  });

  it('fails with the primary code when no model can predict, naming every failure', async () => {
    const broken = await writeOnnxPredictionFolder(path.join(await tmp(), 'v2'), 'v2', { offsets: [0.5, 0, 1] });
    const failure = await failureOf(runPrediction(await contextOnRun(), { models: [broken, path.join(work, 'missing')] }));
    expect(failure.code).toBe('prediction_model_invalid');
    expect(failure.message).toMatch(/no configured prediction model could predict: .*quantiles cross.* \| .*prediction_model_missing/);
  });

  it('refuses to run without the required feature sources', async () => {
    const ctx = { ...(await contextOnRun()), inputs: {} };
    expect(await failureOf(runPrediction(ctx, { models: [v1] }))).toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/video_aggregates and temporal_snapshot_features/) });
  });
});

describe('with a trained baseline', () => {
  let baseline: string;
  beforeAll(async () => {
    const bundle = await tmp();
    await writeSyntheticBundle(bundle, syntheticDataset({ rows: 3000, channels: 300, seed: 7 }));
    baseline = (await trainBaseline(bundle, path.join(bundle, 'baseline'), { params: { trees: 15, maxDepth: 3, bins: 16 } })).out;
  }, 60_000);

  it('forecasts the run with the baseline as the last fallback, its intervals calibrated per age bucket', async () => {
    const ctx = await contextOnRun();
    const result = await runPrediction(ctx, { models: [path.join(work, 'no-v2'), baseline] });
    expect(result.status).toBe('degraded');
    expect(result.modelUsed).toMatchObject({ model_name: 'prediction_baseline', engine: 'trendflow_gbt' });
    const npz = await readNpzFile(path.join(ctx.runDir, 'prediction', 'prediction.npz'));
    expect(npz.get('model_type')!.data[0]).toBe('baseline');
    const quantiles = Array.from(getArray(npz, 'quantiles', 'float32').data);
    expect(quantiles.length).toBeGreaterThanOrEqual(3);
    const log1p = getArray(npz, 'pred_log1p', 'float32').data;
    for (let i = 0; i < log1p.length; i++) if (i % quantiles.length > 0) expect(log1p[i]).toBeGreaterThanOrEqual(log1p[i - 1]!);
    for (const c of getArray(npz, 'confidence_score', 'float32').data) expect(c).toBeGreaterThanOrEqual(0);

    // the synthetic data is noisier for young videos: the same row gets a wider interval, so a lower confidence
    const model = await loadPredictionModel(baseline);
    const row = getArray(npz, 'feature_values', 'float32').data;
    const x = new Float32Array(2 * F);
    x.set(row, 0);
    x.set(row, F);
    const out = await model.engine.predict(x, 2, ['lt_24h', 'gt_30d']);
    await model.engine.close();
    const [p10, p90] = [quantiles.findIndex((q) => Math.abs(q - 0.1) < 1e-6), quantiles.findIndex((q) => Math.abs(q - 0.9) < 1e-6)];
    const Q = quantiles.length;
    const width = (r: number): number => out[(r * T) * Q + p90]! - out[(r * T) * Q + p10]!;
    expect(confidenceFromWidth(width(0))).toBeLessThan(confidenceFromWidth(width(1)));
  });
});

describe('prediction config', () => {
  it('needs at least one model and refuses bad entries', () => {
    expect(() => predictionComponent.parseConfig({})).toThrow(/needs a trained model/);
    expect(() => predictionComponent.parseConfig({ models: [] })).toThrow(/needs a trained model/);
    expect(() => predictionComponent.parseConfig({ models: ['a', 'a'] })).toThrow(/duplicate/);
    expect(() => predictionComponent.parseConfig({ models: [3] })).toThrow(/invalid_argument|must be string/);
    expect(() => predictionComponent.parseConfig({ models: ['a'], model: 'b' })).toThrow(/unknown key "model"/);
    expect(predictionComponent.parseConfig({ models: ['v2', '/abs/v1'] })).toEqual({ models: ['v2', '/abs/v1'] });
  });

  it('resolves a relative entry under <models dir>/prediction and keeps an absolute one', () => {
    expect(resolveModelDir('v2', '/m')).toBe(path.resolve('/m/prediction/v2'));
    expect(resolveModelDir('team/v1', '/m')).toBe(path.resolve('/m/prediction/team/v1'));
    expect(resolveModelDir('/opt/models/v1', '/m')).toBe('/opt/models/v1');
  });

  it('is in no built-in profile: it needs a trained model', async () => {
    for (const name of ['tier0', 'quick', 'full']) expect((await loadProfile(name)).components.has('prediction')).toBe(false);
  });
});

describe('trendflow analyze --prediction-model', () => {
  it('adds prediction with the given folders, primary first, to the components asked for', async () => {
    const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
    if (!existsSync(path.join(repoRoot, 'dist/core/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    const env = { ...process.env, TRENDFLOW_WORKSPACE: '', TRENDFLOW_MODELS_DIR: modelsDir };
    const args = ['analyze', video, '--meta', metaFile, '--snapshots', snapshots, '--store', path.join(work, 'cli-store'), '--components', 'temporal_snapshot_features'];
    const result = spawnSync(process.execPath, ['bin/trendflow.js', ...args, '--prediction-model', path.join(work, 'missing'), '--prediction-model', v1, '--json'], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000, env });
    expect(result.status, result.stderr).toBe(0);
    const outcome = JSON.parse(result.stdout) as { run_dir: string; components: Record<string, { status: string; required: boolean }> };
    // video_aggregates comes in as prediction's required dependency (empty here: none of its inputs ran)
    expect(outcome.components).toMatchObject({ prediction: { status: 'ok', required: true }, video_aggregates: { status: 'empty' }, temporal_snapshot_features: { status: 'ok' } });
    const npz = await readNpzFile(path.join(outcome.run_dir, 'prediction', 'prediction.npz'));
    expect([npz.get('prediction_status')!.data[0], npz.get('model_type')!.data[0], npz.get('primary_error_code')!.data[0]]).toEqual(['degraded', 'v1', 'prediction_model_missing']);
  });
});
