/**
 * Issue 10's last "must show", as a user gets there with the built CLI (`npm test` builds dist/ first): a generated
 * training bundle → `trendflow train baseline`; a generated video with its metadata and snapshot 1 → `trendflow
 * analyze … --prediction-model MODEL`; the run's prediction artifact checked with `trendflow validate`, NumPy and
 * against the model applied to the run's own feature row; then `trendflow serve` on that workspace, opened in
 * Chromium on the run's Prediction view (screenshot in test/.generated/e2e-ui/prediction-baseline-1280.png).
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../core/contracts/manifest.js';
import { getArray, getStringList, readNpzFile, type NpzContents } from '../../core/npz/index.js';
import { FEATURE_COLUMNS, TARGET_NAMES } from '../../core/predict/feature-spec.js';
import { buildFeatureRow } from '../../core/predict/features.js';
import type { PredictionModelSidecar } from '../../core/predict/model/contract.js';
import { loadPredictionModel } from '../../core/predict/model/load.js';
import { formatCount } from '../../renderer/src/format.js';
import { numpyAvailableOrCi, runPython } from '../helpers/python.js';
import { syntheticDataset, writeSyntheticBundle } from '../helpers/synthetic-dataset.js';
import { useTempDirs } from '../helpers/tmp.js';
import { VideoFixtures } from '../helpers/video-fixtures.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const SHOTS = path.join(repoRoot, 'test', '.generated', 'e2e-ui');
const CHROMIUM = process.env.TRENDFLOW_CHROMIUM ?? '/usr/bin/chromium';
// as in workstation.e2e.test.ts: CI installs chromium; elsewhere a machine without it skips the browser part
const chromiumAvailable = existsSync(CHROMIUM) || process.env.CI === 'true';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** The analysis: prediction's two required inputs, and video_pacing (with its cut_detection) so the aggregates hold values. */
const COMPONENTS = 'video_pacing,video_aggregates,temporal_snapshot_features';
const VIEWS_7D = TARGET_NAMES.indexOf('y_views_7d');

const tmp = useTempDirs('e2e-prediction-');
const env = { ...process.env, TRENDFLOW_WORKSPACE: '', TRENDFLOW_MODELS_DIR: '' };
let fixtures: VideoFixtures;
let work: string;
let workspace: string;
let modelsDir: string;
let modelDir: string;
let trained: { out: string; model: PredictionModelSidecar; report: { model_version: string; heads: Array<{ target: string }> } };
let run: { status: string; run_dir: string; run_id: string; platform_id: string; video_id: string; components: Record<string, { status: string; required: boolean }> };
let artifact: string;
let npz: NpzContents;

interface Finished {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The built CLI as a process, without blocking this one (training and the video fixture overlap). */
function cli(...args: string[]): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/trendflow.js', ...args], { cwd: repoRoot, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const scalar = (key: string): unknown => npz.get(key)!.data[0];
const quantileIndex = (level: number): number => Array.from(getArray(npz, 'quantiles', 'float32').data).findIndex((q) => Math.abs(q - level) < 1e-6);

beforeAll(async () => {
  for (const built of ['dist/core/cli/main.js', 'dist/renderer/index.html']) {
    if (!existsSync(path.join(repoRoot, built))) throw new Error(`${built} is missing: run \`npm run build\` first (npm test does)`);
  }
  work = await tmp();
  workspace = path.join(work, 'workspace');
  modelsDir = path.join(work, 'models');
  modelDir = path.join(work, 'baseline');
  const bundle = path.join(work, 'bundle');
  await fs.mkdir(bundle);
  await fs.mkdir(modelsDir);
  await writeSyntheticBundle(bundle, syntheticDataset({ rows: 3000, seed: 7 }));

  // metadata and snapshot 1 as the export tests write them: published 60 h before snapshot 1 (age bucket 1_30d)
  const metaFile = path.join(work, 'meta.json');
  await fs.writeFile(metaFile, JSON.stringify({ platform_id: 'youtube', video_id: 'predicted01', publishedAt: '2024-03-01T00:00:00Z', title: 'A forecast end to end' }));
  const snapshots = path.join(work, 'snapshots');
  await fs.mkdir(snapshots);
  await fs.writeFile(
    path.join(snapshots, 's0.json'),
    JSON.stringify({ collected_at: '2024-03-03T12:00:00Z', viewCount: 1000, likeCount: 40, commentCount: 5, subscriberCount: 25_000, videoCount: 10, viewCount_channel: 500_000 }),
  );

  fixtures = await VideoFixtures.create();
  const [training, video] = await Promise.all([cli('train', 'baseline', '--bundle', bundle, '--out', modelDir, '--json'), fixtures.tone128x72()]);
  expect(training.status, training.stderr).toBe(0);
  trained = JSON.parse(training.stdout) as typeof trained;

  const analysis = await cli('analyze', video, '--components', COMPONENTS, '--meta', metaFile, '--snapshots', snapshots, '--prediction-model', modelDir, '--store', workspace, '--models-dir', modelsDir, '--json');
  expect(analysis.status, analysis.stderr).toBe(0);
  run = JSON.parse(analysis.stdout) as typeof run;
  artifact = path.join(run.run_dir, 'prediction', 'prediction.npz');
  npz = await readNpzFile(artifact);
}, 120_000);

afterAll(async () => {
  await fixtures?.cleanup();
});

describe('a run analysed with a trained baseline', () => {
  it('`train baseline` writes the model folder with its sidecar and report', async () => {
    expect(trained.out).toBe(modelDir);
    for (const file of ['model.json', 'trees.json', 'report.json', 'report.md']) expect(existsSync(path.join(modelDir, file)), file).toBe(true);
    const sidecar = JSON.parse(await fs.readFile(path.join(modelDir, 'model.json'), 'utf8')) as PredictionModelSidecar;
    expect(sidecar).toEqual(trained.model);
    expect(sidecar).toMatchObject({ type: 'baseline', feature_schema_version: 'features_v1', engine: { kind: 'gbt_json', file: 'trees.json' } });
    expect(sidecar.version).toMatch(/^baseline-[0-9a-f]{12}$/);
    const report = JSON.parse(await fs.readFile(path.join(modelDir, 'report.json'), 'utf8')) as typeof trained.report;
    expect(report.model_version).toBe(sidecar.version);
    expect(report.heads.map((h) => h.target)).toEqual([...TARGET_NAMES]);
  });

  it('`analyze --prediction-model` runs prediction with the baseline: status ok, the model in the artifact and the manifest', async () => {
    expect(run.status).toBe('ok');
    expect(run.components).toMatchObject({
      prediction: { status: 'ok', required: true },
      video_aggregates: { status: 'ok' },
      temporal_snapshot_features: { status: 'ok' },
      video_pacing: { status: 'ok' },
    });
    expect([scalar('prediction_status'), scalar('model_type'), scalar('model_version'), scalar('feature_schema_version')]).toEqual(['ok', 'baseline', trained.model.version, 'features_v1']);
    expect([scalar('fallback_reason'), scalar('primary_error_code'), scalar('age_bucket')]).toEqual([null, null, '1_30d']);
    const manifest = JSON.parse(await fs.readFile(path.join(run.run_dir, 'manifest.json'), 'utf8')) as Manifest;
    const entry = manifest.components.find((c) => c.name === 'prediction')!;
    expect(entry.models_used).toEqual([expect.objectContaining({ model_name: 'prediction_baseline', model_version: trained.model.version })]);
  });

  it('`trendflow validate` passes the run folder', async () => {
    const result = await cli('validate', run.run_dir);
    expect(result.stdout + result.stderr).toMatch(/OK/);
    expect(result.status).toBe(0);
  });

  it('holds exactly what the model gives on the run’s own feature row', async () => {
    const manifest = JSON.parse(await fs.readFile(path.join(run.run_dir, 'manifest.json'), 'utf8')) as Manifest;
    // each source's artifact as the manifest records it (a component that failed or did not run: none)
    const row = await buildFeatureRow((source) => {
      const entry = manifest.components.find((c) => c.name === source.component && c.status !== 'error');
      const file = entry?.artifacts.find((a) => a.path === `${source.component}/${source.artifact}`);
      return file ? path.join(run.run_dir, file.path) : null;
    });
    expect(row.missingRequired).toEqual([]);
    expect(row.missingOptional).toEqual(['text_processor']);
    expect(row.ageBucket).toBe('1_30d');
    // the row given to the model, NaN where missing (toEqual takes NaN as equal to NaN)
    expect(Array.from(getArray(npz, 'feature_values', 'float32').data)).toEqual(Array.from(row.features));
    expect(getStringList(npz, 'feature_names')).toEqual(FEATURE_COLUMNS.map((c) => c.name));
    // snapshot 1's counters and the video's pacing reached the row
    const column = (name: string): number => row.features[FEATURE_COLUMNS.findIndex((c) => c.name === name)]!;
    expect(column('temporal_snapshot_features.log1p_subscriber_count')).toBeCloseTo(Math.log1p(25_000), 5);
    expect(column('video_aggregates.duration_sec')).toBeGreaterThan(1.5);

    const model = await loadPredictionModel(modelDir);
    const expected = await model.engine.predict(row.features, 1, [row.ageBucket]);
    await model.engine.close();
    const Q = trained.model.quantiles.length;
    expect(Array.from(getArray(npz, 'quantiles', 'float32').data)).toEqual(trained.model.quantiles.map((q) => Math.fround(q)));
    const log1p = getArray(npz, 'pred_log1p', 'float32');
    expect(log1p.shape).toEqual([TARGET_NAMES.length, Q]);
    // the component raises a value below 0 to 0 (a gain is never negative); nothing else changes
    expect(Array.from(log1p.data)).toEqual(Array.from(expected, (v) => Math.max(0, v)));
    const value = getArray(npz, 'pred_value', 'float64').data;
    log1p.data.forEach((v, i) => expect(value[i]).toBeCloseTo(Math.expm1(v), 6));
  });

  it.skipIf(!numpyAvailableOrCi)('loads in NumPy: monotone quantiles per head, p50 and the interval as the counts', () => {
    const out = runPython(
      `
import json, sys
import numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
q = [float(v) for v in z["quantiles"]]
p10, p50, p90 = (q.index(min(q, key=lambda v: abs(v - level))) for level in (0.1, 0.5, 0.9))
log1p, value = z["pred_log1p"], z["pred_value"]
assert log1p.dtype == np.float32 and value.dtype == np.float64 and log1p.shape == (6, len(q))
assert np.all(log1p[:, p10] <= log1p[:, p50]) and np.all(log1p[:, p50] <= log1p[:, p90])
assert np.all(np.diff(log1p, axis=1) >= 0) and np.all(log1p >= 0)
assert np.allclose(np.expm1(log1p.astype(np.float64)), value)
assert np.array_equal(z["point_value"], value[:, p50])
assert np.array_equal(z["interval_low_value"], value[:, p10]) and np.array_equal(z["interval_high_value"], value[:, p90])
assert np.array_equal(z["feature_present"], ~np.isnan(z["feature_values"]))
meta = z["meta"].item()
print(json.dumps({"targets": [str(t) for t in z["target_names"]], "status": str(z["prediction_status"]), "model_type": str(z["model_type"]),
  "model_version": str(z["model_version"]), "views_7d_p50": float(value[0, p50]), "run_id": meta["run_id"], "producer": meta["producer"]}))
`,
      [artifact],
    );
    const p50 = getArray(npz, 'pred_value', 'float64').data[VIEWS_7D * trained.model.quantiles.length + quantileIndex(0.5)]!;
    expect(JSON.parse(out)).toEqual({ targets: [...TARGET_NAMES], status: 'ok', model_type: 'baseline', model_version: trained.model.version, views_7d_p50: p50, run_id: run.run_id, producer: 'prediction' });
  });
});

describe.skipIf(!chromiumAvailable)('the run’s Prediction view in the workstation (`trendflow serve`, Chromium)', () => {
  let server: ReturnType<typeof spawn>;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    server = spawn(process.execPath, ['bin/trendflow.js', 'serve', '--port', '0', '--workspace', workspace, '--models-dir', modelsDir], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    server.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: server.stdout! }).once('line', resolve);
      server.once('exit', (code) => reject(new Error(`trendflow serve exited ${code} before printing its URL: ${stderr}`)));
    });
    await fs.mkdir(SHOTS, { recursive: true });
    context = await chromium.launchPersistentContext(await tmp(), { executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 800 }, args: CHROMIUM_ARGS });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    await page.goto(url);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
  });

  it('shows status ok, the baseline and its version, and the artifact’s p50 of views at 7 days', async () => {
    const byTest = (id: string) => page.getByTestId(id);
    await expect.poll(() => byTest('run-row').count()).toBe(1);
    expect(await byTest('run-row').innerText()).toContain(run.run_id);
    await byTest('run-row').click();
    await byTest('tab-prediction').click();
    await byTest('prediction-views').waitFor();

    expect(await byTest('prediction-status').innerText()).toBe('ok');
    expect(await byTest('prediction-status').getAttribute('class')).toContain('badge-ok');
    expect(await byTest('prediction-fallback').count()).toBe(0);
    const model = await byTest('prediction-model').innerText();
    expect(model).toContain(`baseline ${trained.model.version} · prediction_baseline`);
    const present = getArray(npz, 'feature_present', 'bool').data.reduce((sum, v) => sum + v, 0);
    expect(model).toContain(`features_v1 · ${present} of ${FEATURE_COLUMNS.length} feature columns present (missing optional sources: text_processor)`);
    expect(model).toContain('1_30d');
    expect(model).toContain('p2.5 · p5 · p10 · p50 · p90 · p95 · p97.5');

    const Q = trained.model.quantiles.length;
    const value = getArray(npz, 'pred_value', 'float64').data;
    const log1p = getArray(npz, 'pred_log1p', 'float32').data;
    const at = (head: number, level: number): number => value[head * Q + quantileIndex(level)]!;
    const views7 = (await byTest('prediction-views').getByTestId('prediction-row').first().innerText()).split('\t');
    expect(views7[0]).toBe('7 d');
    expect(views7[1]).toBe(formatCount(at(VIEWS_7D, 0.5)));
    expect(views7[2]).toBe(`${formatCount(at(VIEWS_7D, 0.1))} – ${formatCount(at(VIEWS_7D, 0.9))}`);
    const logs = [0.1, 0.5, 0.9].map((level) => log1p[VIEWS_7D * Q + quantileIndex(level)]!.toFixed(2));
    expect(views7[5]).toBe(logs.join(' / '));
    expect(views7[6]?.trim()).toBe(getArray(npz, 'confidence_score', 'float32').data[VIEWS_7D]!.toFixed(2));

    // what the analyst sees first, and the whole view (the app scrolls inside main.page, so the window is made as tall)
    await page.locator('main.page').evaluate((element) => element.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SHOTS, 'prediction-baseline-1280.png') });
    const height = await page.locator('main.page').evaluate((element) => element.scrollHeight);
    await page.setViewportSize({ width: 1280, height: Math.max(800, height) });
    await page.screenshot({ path: path.join(SHOTS, 'prediction-baseline-1280-whole.png') });
    expect(problems).toEqual([]);
  });
});
