/**
 * End to end: the real renderer build in Chromium (playwright-core + Debian's chromium) against browser mode on a
 * store made by `trendflow analyze` (workstation-store.ts). Every view is checked on its content, read back from
 * the runs' artifacts where it shows their numbers; screenshots of each view at
 * 1280x800 (and the dense ones at 1920x1080) are written to test/.generated/e2e-ui/.
 */
import { existsSync, promises as fs, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkstationApi, startWorkstationServer, type WorkstationApi, type WorkstationServer } from '../../core/api/index.js';
import { FrameManager } from '../../core/segmenter/index.js';
import { framesDir, ManifestWriter, runDir } from '../../core/store/index.js';
import { sampleIdentity } from '../helpers/manifest.js';
import { TEST_CLIP_IMAGE_ID, TEST_CLIP_TEXT_ID } from '../helpers/clip-models.js';
import { useTempDirs } from '../helpers/tmp.js';
import { VideoFixtures } from '../helpers/video-fixtures.js';
import { PROFILE_FORMAT } from '../../core/pipeline/profile.js';
import { getArray, readNpzFile } from '../../core/npz/index.js';
import { FEATURE_COLUMNS } from '../../core/predict/feature-spec.js';
import { buildWorkstationStore, RUN_A_FPS, type WorkstationStore } from './workstation-store.js';
import { enqueueVideos } from '../../core/queue/enqueue.js';
import { readQueueStatus } from '../../core/queue/status.js';
import { startWorker, type QueueWorker } from '../../core/queue/worker.js';
import { redisAvailableOrCi, startRedis } from '../helpers/redis.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const rendererBuild = path.join(repoRoot, 'dist', 'renderer');
const SHOTS = path.join(repoRoot, 'test', '.generated', 'e2e-ui');
const CHROMIUM = process.env.TRENDFLOW_CHROMIUM ?? '/usr/bin/chromium';
// CI installs chromium (.ci/run); elsewhere a machine without it skips, as the NumPy tests do
const chromiumAvailable = existsSync(CHROMIUM) || process.env.CI === 'true';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const tmp = useTempDirs('e2e-');
let fixture: WorkstationStore;
/** The server's video folder for new analyses, and the two videos in it. */
let videos: VideoFixtures;
let shortVideo: string;
let api: WorkstationApi;
let server: WorkstationServer;
let context: BrowserContext;
let page: Page;
const problems: string[] = [];
/** Responses with an error status the page received. */
const refused: string[] = [];

/** Builds the renderer when a source is newer than the build (`npm test` has just built it; a lone run may not have). */
async function ensureRendererBuilt(): Promise<void> {
  const built = path.join(rendererBuild, 'index.html');
  const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0;
  const sources = [path.join(repoRoot, 'vite.config.ts'), path.join(repoRoot, 'renderer', 'index.html')];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) await walk(path.join(dir, entry.name));
      else sources.push(path.join(dir, entry.name));
    }
  };
  await walk(path.join(repoRoot, 'renderer', 'src'));
  if (sources.every((file) => statSync(file).mtimeMs <= builtAt)) return;
  const { build } = await import('vite');
  await build({ configFile: path.join(repoRoot, 'vite.config.ts'), root: path.join(repoRoot, 'renderer'), logLevel: 'warn' });
}

/**
 * `<name>.png`: what the analyst sees at the current viewport, scrolled to the top; with `whole`, also
 * `<name>-whole.png`: the window made as tall as the view's content (the page scrolls inside the app, so
 * Playwright's fullPage cannot capture it), then restored.
 */
async function shot(name: string, whole = false): Promise<void> {
  await page.locator('main.page').evaluate((element) => element.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  if (!whole) return;
  const viewport = page.viewportSize()!;
  const height = await page.locator('main.page').evaluate((element) => element.scrollHeight);
  await page.setViewportSize({ width: viewport.width, height: Math.max(viewport.height, height) });
  await page.screenshot({ path: path.join(SHOTS, `${name}-whole.png`) });
  await page.setViewportSize(viewport);
}

const byTest = (id: string) => page.getByTestId(id);

/** What the in-page functions below touch (the test program has no DOM types). */
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}

/** RGBA bytes of a canvas region, read in the page. */
function pixels(locator: ReturnType<Page['getByTestId']>, region: 'all' | [number, number]): Promise<number[]> {
  return locator.evaluate((element, where) => {
    const canvas = element as unknown as CanvasLike;
    const [x, y, w, h] = where === 'all' ? [0, 0, canvas.width, canvas.height] : [where[0], where[1], 1, 1];
    return Array.from(canvas.getContext('2d').getImageData(x, y, w, h).data);
  }, region);
}

async function open(hash: string): Promise<void> {
  await page.evaluate((target) => {
    (globalThis as unknown as { location: { hash: string } }).location.hash = target;
  }, hash);
}

/** A count as the prediction view writes it (12.3k, 4.5M, 292.2) back to a number. */
function parseCount(text: string): number {
  const scale = { k: 1e3, M: 1e6, B: 1e9 }[text.slice(-1)] ?? 1;
  return Number.parseFloat(text) * scale;
}

const runHash = (run: { platform_id: string; video_id: string; run_id: string }, tab: string): string => `#/run/${run.platform_id}/${run.video_id}/${run.run_id}/${tab}`;

describe.skipIf(!chromiumAvailable)('the workstation in Chromium (browser mode)', () => {
  beforeAll(async () => {
    await fs.mkdir(SHOTS, { recursive: true });
    const [, built] = await Promise.all([ensureRendererBuilt(), buildWorkstationStore(await tmp())]);
    fixture = built;
    videos = await VideoFixtures.create();
    [shortVideo] = await Promise.all([videos.tone128x72(), videos.moving40s()]);
    // a workspace profile, as an analyst makes one: quick, with core_clip on the generated CLIP-contract models and
    // face landmarks (the real models are in the fixture's models dir; the videos below have no face)
    await fs.mkdir(path.join(fixture.workspace, 'profiles'), { recursive: true });
    await fs.writeFile(
      path.join(fixture.workspace, 'profiles', 'quick-test-models.json'),
      JSON.stringify({
        format: PROFILE_FORMAT,
        name: 'quick-test-models',
        description: 'quick, with the generated CLIP-contract models, and face landmarks',
        extends: 'quick',
        components: { core_clip: { params: { image_model: TEST_CLIP_IMAGE_ID, text_model: TEST_CLIP_TEXT_ID } }, core_face_landmarks: { required: false } },
      }),
    );
    api = createWorkstationApi({ workspace: fixture.workspace, mode: 'browser', modelsDir: fixture.modelsDir, pollMs: 100, videoDirs: [videos.dir] });
    server = await startWorkstationServer({ api, rendererDir: rendererBuild });
    context = await chromium.launchPersistentContext(await fs.mkdtemp(path.join(os.tmpdir(), 'trendflow-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 800 },
      args: CHROMIUM_ARGS,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      // a refused call is logged by Chromium as a failed resource; those are checked by status below
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()}`);
    });
    page.on('response', (response) => {
      if (response.status() >= 400) refused.push(`${response.status()} ${new URL(response.url()).pathname}`);
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    api?.close();
    await videos?.cleanup();
  });

  it('opens with the token, takes it out of the address bar, and lists the runs', async () => {
    await page.goto(server.url);
    await expect.poll(() => byTest('run-row').count()).toBe(2);
    expect(new URL(page.url()).hash).toBe('#/runs');
    const rows = await byTest('run-row').allInnerTexts();
    // run B: clap_extractor (optional, no model) and prediction (required, no model) failed, which ended it
    expect(rows[0]).toContain(fixture.b.run_id);
    expect(await byTest('run-row').nth(0).locator('.badge').allInnerTexts()).toEqual(['error']);
    expect(rows[0]).toContain('2 error');
    expect(rows[1]).toContain('shots_with_max_neutral.mp4');
    expect(rows[1]).toContain('10 ok');
    await byTest('runs-search').fill('0000000a');
    await expect.poll(() => byTest('run-row').count()).toBe(1);
    await byTest('runs-search').fill('');
    await expect.poll(() => byTest('run-row').count()).toBe(2);
    await shot('runs-1280');
    await page.setViewportSize({ width: 1920, height: 1080 });
    await shot('runs-1920');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('a tab opened without the token explains what to open, and gets no data', async () => {
    const other = await context.newPage();
    await other.goto(`${server.origin}/`);
    await expect.poll(() => other.getByTestId('fatal').innerText()).toContain('access token');
    await other.close();
  });

  it('overview: identity, frames, components with timings and models, validation, features', async () => {
    await byTest('run-row').nth(1).click();
    await byTest('view-overview').waitFor();
    expect(await byTest('components-table').locator('tbody tr').count()).toBe(10);
    expect(await byTest('component-core_clip').innerText()).toMatch(/test-clip-image[\s\S]*embeddings\.npz/);
    // what the orchestrator measured (manifest_v2 metrics): the frames it embedded, their rate, the peak memory
    expect(await byTest('component-core_clip').getByTestId('component-metrics').innerText()).toMatch(/^\d+ units · [\d.,]+\/s · peak [\d.]+ [KMG]?B$/);
    expect(await byTest('component-core_face_landmarks').innerText()).toMatch(/libfacedetection[\s\S]*FaceMeshBarracuda[\s\S]*landmarks\.npz/);
    expect(await byTest('validation-panel').innerText()).toContain('valid');
    expect(await byTest('frames-panel').innerText()).toContain(`${8 * RUN_A_FPS} stored frames at 320×180`);
    // loudness, tempo, snapshots, pacing, aggregates and the prediction's feature row
    expect(await page.locator('.feature-table').count()).toBe(6);
    expect(await page.locator('.feature-table', { hasText: 'loudness_extractor' }).innerText()).toMatch(/integrated_lufs\s+-\d/);
    await shot('overview-1280', true);
  });

  it('timeline: shot thumbnails, shots, curves; keyboard navigation, shot selection with CLIP scores', async () => {
    await byTest('tab-timeline').click();
    await byTest('view-timeline').waitFor();
    await expect.poll(() => byTest('thumbnails').locator('canvas').count()).toBe(4);
    expect(await byTest('segment').count()).toBe(4);
    expect(await byTest('segment').nth(2).getAttribute('title')).toMatch(/^shot 3: 0:04\.00–0:06\.00, begins with hard_cut \(confidence \d\.\d\d\)$/);
    for (const chart of ['chart-pacing-cut-rate', 'chart-pacing-motion', 'chart-pacing-loudness', 'chart-motion', 'chart-luma', 'chart-faces', 'chart-loudness_momentary', 'chart-tempo_bpm']) {
      expect(await byTest(chart).locator('canvas').count(), chart).toBeGreaterThan(0);
    }
    // every track has its data: nothing is listed as missing
    expect(await byTest('missing-tracks').innerText()).toBe('');
    // the pacing curves sit right under the shot strip, on the same time axis: the plot area spans the strip's pixels
    const strip = (await byTest('segments').boundingBox())!;
    const ratePlot = (await byTest('chart-pacing-cut-rate').locator('.u-over').boundingBox())!;
    expect(Math.abs(ratePlot.x - strip.x)).toBeLessThanOrEqual(1);
    expect(Math.abs(ratePlot.width - strip.width)).toBeLessThanOrEqual(1);
    expect(await byTest('pacing-tracks').innerText()).toContain('no optical flow: core_optical_flow is not in this run');
    // hover readout: over the bin at 1.25 s the window [0, 6.25) holds the three cuts: 3 × 60 / 6.25 = 28.8 per minute
    await page.mouse.move(ratePlot.x + (ratePlot.width * 1.25) / 8, ratePlot.y + ratePlot.height / 2);
    await expect.poll(() => byTest('chart-pacing-cut-rate').locator('.u-legend').innerText()).toContain('28.8/min');
    const loudnessPlot = (await byTest('chart-pacing-loudness').locator('.u-over').boundingBox())!;
    await page.mouse.move(loudnessPlot.x + (loudnessPlot.width * 3.25) / 8, loudnessPlot.y + loudnessPlot.height / 2);
    await expect.poll(() => byTest('chart-pacing-loudness').locator('.u-legend').innerText()).toMatch(/-\d+\.\d LUFS/);

    await byTest('timeline').focus();
    await page.keyboard.press('Shift+ArrowRight');
    await expect.poll(() => byTest('timeline-cursor').innerText()).toContain('cursor 0:02.00');
    // the preview shows the stored frame under the cursor, pixel for pixel
    const frames = await FrameManager.open(framesDir(fixture.workspace, fixture.a));
    const index = frames.metadata.union_timestamps_sec.indexOf(2);
    const expected = Array.from((await frames.get(index)).data.subarray((10 * 320 + 10) * 3, (10 * 320 + 10) * 3 + 3));
    await frames.close();
    await expect
      .poll(() => byTest('frame-preview').innerText())
      .toContain(`stored frame ${index}`);
    expect((await pixels(byTest('frame-preview').locator('canvas'), [10, 10])).slice(0, 3)).toEqual(expected);

    await page.keyboard.press('End');
    await expect.poll(() => byTest('timeline-cursor').innerText()).toContain('cursor 0:07.92');
    await page.keyboard.press('Shift+ArrowLeft');
    await expect.poll(() => byTest('timeline-cursor').innerText()).toContain('cursor 0:06.00');
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    await expect.poll(() => byTest('timeline-cursor').innerText()).toContain('view 0:04.50–0:06.50');
    await page.keyboard.press('0');
    await expect.poll(() => byTest('timeline-cursor').innerText()).toContain('view 0:00.00–0:08.00');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Enter');
    await expect.poll(() => byTest('shot-details').innerText()).toContain('Shot 3: 0:04.00–0:06.00');
    await expect.poll(() => byTest('shot-details').locator('canvas').count()).toBe(8);
    expect(await byTest('shot-scores').locator('tbody tr').count()).toBe(6);
    await shot('timeline-1280', true);

    await byTest('segment').nth(1).click();
    await expect.poll(() => byTest('shot-details').innerText()).toContain('Shot 2: 0:02.00–0:04.00');
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.keyboard.press('0');
    await expect.poll(() => byTest('thumbnails').locator('canvas').count()).toBe(4);
    await shot('timeline-1920', true);
    await page.setViewportSize({ width: 1280, height: 800 });

    // run B has no video_pacing: the timeline says so instead of drawing the pacing curves
    await open(runHash(fixture.b, 'timeline'));
    await expect.poll(() => byTest('pacing-missing').innerText()).toContain('video_pacing is not in this run');
    expect(await byTest('pacing-tracks').count()).toBe(0);
    await open(runHash(fixture.a, 'timeline'));
    await byTest('pacing-tracks').waitFor();
  });

  it('CLIP: the similarity matrix shows the shots as bright blocks; a click compares two frames', async () => {
    await byTest('tab-clip').click();
    await byTest('similarity-heatmap').waitFor();
    const heatmap = byTest('similarity-heatmap').locator('canvas');
    // the same shot (0–2 s with itself) is brighter than two different shots (0–2 s with 4–6 s)
    const size = await heatmap.evaluate((element) => [(element as unknown as CanvasLike).width, (element as unknown as CanvasLike).height]);
    const brightness = async (fx: number, fy: number): Promise<number> => {
      const [r, g, b] = await pixels(heatmap, [Math.floor(size[0]! * fx), Math.floor(size[1]! * fy)]);
      return r! + g! + b!;
    };
    expect(await brightness(0.1, 0.15)).toBeGreaterThan(await brightness(0.6, 0.15));
    const box = (await heatmap.boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.1, box.y + box.height * 0.6);
    await expect.poll(() => byTest('pair-panel').locator('canvas').count()).toBe(2);
    expect(await byTest('pair-panel').innerText()).toMatch(/cosine similarity -?\d/);
    expect(await byTest('prompt-heatmap').locator('.heatmap-row-label').count()).toBe(19);
    expect(await byTest('prompt-heatmap').innerText()).toContain('a sharp, well-focused photo');
    await shot('clip-1280', true);
    await page.setViewportSize({ width: 1920, height: 1080 });
    await shot('clip-1920', true);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('faces: presence over time per slot, the real FaceMesh drawn over the photo; a run without faces says so', async () => {
    await byTest('tab-faces').click();
    await byTest('faces-heatmap').waitFor();
    expect(await byTest('faces-heatmap').locator('.heatmap-row-label').allInnerTexts()).toEqual(['face slot 0', 'face slot 1']);
    // the panel opens on the first frame with a face: the first of the photo's shot (4–6 s)
    const npz = await readNpzFile(path.join(runDir(fixture.store, fixture.a), 'core_face_landmarks', 'landmarks.npz'));
    const present = getArray(npz, 'face_present', 'bool').data;
    const indices = getArray(npz, 'frame_indices', 'int32').data;
    const first = Math.floor(present.findIndex(Boolean) / 2);
    expect(indices[first]).toBe(4 * RUN_A_FPS);
    await expect.poll(() => byTest('landmarks-panel').innerText()).toContain(`Landmarks on frame #${indices[first]} at 0:04.00`);
    await expect.poll(() => byTest('landmarks-panel').innerText()).toContain('1 face(s)');
    // what the overlay draws (the mesh points and the face box of slot 0) lies on that face, and covers it
    const overlay = byTest('landmarks-overlay');
    const [x0, y0, x1, y1] = Array.from(getArray(npz, 'face_boxes', 'float32').data.subarray(first * 8, first * 8 + 4));
    const drawnPixels = async (): Promise<{ drawn: number; outside: number }> => {
      const [width, height] = await overlay.evaluate((element) => [(element as unknown as CanvasLike).width, (element as unknown as CanvasLike).height]);
      const rgba = await pixels(overlay, 'all');
      let drawn = 0;
      let outside = 0;
      for (let i = 0; i < width! * height!; i++) {
        if (rgba[i * 4 + 3]! === 0) continue;
        drawn++;
        const [x, y] = [(i % width!) / width!, Math.floor(i / width!) / height!];
        if (x < x0! - 0.02 || x > x1! + 0.02 || y < y0! - 0.02 || y > y1! + 0.02) outside++;
      }
      return { drawn, outside };
    };
    await expect.poll(async () => (await drawnPixels()).drawn).toBeGreaterThan(400);
    expect((await drawnPixels()).outside).toBe(0);
    await shot('faces-1280');
    await open(runHash(fixture.b, 'faces'));
    await expect.poll(() => byTest('view-faces').innerText()).toContain('No face landmarks');
    expect(await byTest('view-faces').innerText()).toContain('core_face_landmarks is not in this run');
    await shot('faces-not-in-run-1280');
  });

  it('prediction: intervals per metric and horizon in counts and log1p, the degraded status and why; a failed one says its code', async () => {
    await open(runHash(fixture.a, 'prediction'));
    await byTest('prediction-views').waitFor();
    expect(await byTest('prediction-status').innerText()).toBe('degraded');
    expect(await byTest('prediction-status').getAttribute('class')).toContain('badge-degraded');
    // the forecast run A's baseline wrote, and that model's sidecar
    const npz = await readNpzFile(path.join(runDir(fixture.store, fixture.a), 'prediction', 'prediction.npz'));
    const sidecar = JSON.parse(await fs.readFile(path.join(fixture.baselineDir, 'model.json'), 'utf8')) as { version: string };
    const reason = npz.get('fallback_reason')!.data[0] as string;
    expect(reason).toContain(`${path.join(fixture.missingModelDir, 'model.json')}: prediction_model_missing`);
    expect(await byTest('prediction-fallback').innerText()).toContain(`A fallback model predicted, because the primary model failed: ${reason}`);
    const model = await byTest('prediction-model').innerText();
    expect(model).toContain(`baseline ${sidecar.version} · prediction_baseline`);
    const present = Array.from(getArray(npz, 'feature_present', 'bool').data).filter(Boolean).length;
    expect(model).toContain(`features_v1 · ${present} of ${FEATURE_COLUMNS.length} feature columns present (missing optional sources: text_processor)`);
    expect(model).toContain('p2.5 · p5 · p10 · p50 · p90 · p95 · p97.5');
    // per metric: a fan of the 95/90/80 % intervals over 7/14/21 days, and the numbers
    for (const metric of ['views', 'likes']) {
      const panel = byTest(`prediction-${metric}`);
      expect(await panel.getByTestId('fan-band').count()).toBe(3);
      expect(await panel.locator('.fan-median-point').count()).toBe(3);
      expect(await panel.getByTestId('prediction-row').locator('td:first-child').allInnerTexts()).toEqual(['7 d', '14 d', '21 d']);
    }
    // views at 14 days (head 1; quantiles p2.5 … p97.5, so p10, p50, p90 are 2, 3, 4): the artifact's numbers
    const log1p = getArray(npz, 'pred_log1p', 'float32').data;
    const value = getArray(npz, 'pred_value', 'float64').data;
    const confidence = getArray(npz, 'confidence_score', 'float32').data;
    const views14 = (await byTest('prediction-views').getByTestId('prediction-row').nth(1).innerText()).split('\t');
    expect(parseCount(views14[1]!) / value[7 + 3]!).toBeCloseTo(1, 3);
    expect(views14[5]).toBe([2, 3, 4].map((q) => log1p[7 + q]!.toFixed(2)).join(' / '));
    expect(views14[6]?.trim()).toBe(confidence[1]!.toFixed(2));
    // the counts scale labels the log axis in counts (powers of ten within the views' log1p range); log1p labels it in log1p
    const views = Array.from(log1p.subarray(0, 21));
    const ticks = (await byTest('prediction-views').locator('.fan-tick').allTextContents()).filter((text) => /^[\d.]+[kMB]?$/.test(text)).map(parseCount);
    expect(ticks.length).toBeGreaterThan(0);
    for (const tick of ticks) {
      expect(Number.isInteger(Math.log10(tick))).toBe(true);
      expect(Math.log1p(tick)).toBeGreaterThanOrEqual(Math.floor(Math.min(...views)));
      expect(Math.log1p(tick)).toBeLessThanOrEqual(Math.ceil(Math.max(...views)));
    }
    await shot('prediction-1280', true);
    await page.getByLabel('log1p').check();
    await expect.poll(() => byTest('prediction-views').locator('.fan-tick').allTextContents()).toContain('log1p(views)');
    await page.setViewportSize({ width: 1920, height: 1080 });
    await shot('prediction-log1p-1920', true);
    await page.setViewportSize({ width: 1280, height: 800 });

    await open(runHash(fixture.b, 'prediction'));
    await expect.poll(() => byTest('view-prediction').innerText()).toContain('The prediction failed');
    expect(await byTest('prediction-unavailable').innerText()).toContain(`prediction failed: prediction_model_missing: ${fixture.missingModelDir}`);
    await shot('prediction-failed-1280');
  });

  it('compare: identity and model diff, timings, feature deltas, aligned timelines', async () => {
    await byTest('nav-runs').click();
    await expect.poll(() => byTest('run-row').count()).toBe(2);
    for (const row of await byTest('run-row').all()) await row.getByRole('checkbox').check();
    await byTest('compare-picked').click();
    await byTest('compare-identity').waitFor();
    const configRow = byTest('compare-identity').locator('tr', { hasText: 'config_hash' });
    expect(await configRow.getAttribute('class')).toBe('diff');
    const components = await byTest('compare-components').innerText();
    expect(components).toContain('scene_classification');
    expect(components).toContain('not in run');
    expect(components).toContain('same model signature');
    expect(components).toContain('no model');
    // run A is the earlier run, whichever was ticked first
    expect(await byTest('compare-identity').locator('th').nth(1).innerText()).toBe(`A: ${fixture.a.run_id}`);
    // the same audio measured in both runs: equal loudness, a zero delta
    const integrated = (await byTest('compare-features').locator('tr', { hasText: 'integrated_lufs' }).innerText()).split('\t');
    expect(integrated[0]).toBe('loudness_extractor');
    expect(integrated[2]).toMatch(/^-\d/);
    expect(integrated[3]).toBe(integrated[2]);
    expect(integrated[4]).toBe('0');
    await expect.poll(() => byTest('aligned-timelines').locator('.uplot').count()).toBe(2);
    await shot('compare-1280', true);
    await page.setViewportSize({ width: 1920, height: 1080 });
    await shot('compare-1920', true);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('export: the runs ticked for compare, a bundle under the workspace, rows × features and the skipped run shown', async () => {
    await byTest('nav-export').click();
    // both runs are still ticked from the runs list; unticking one here unticks it there
    const boxes = byTest('export-runs').getByRole('checkbox');
    await expect.poll(() => boxes.count()).toBe(2);
    expect(await Promise.all((await boxes.all()).map((box) => box.isChecked()))).toEqual([true, true]);
    expect(await byTest('view-export').innerText()).toContain(`${fixture.workspace}/exports`);
    await page.getByLabel(`Export ${fixture.a.run_id}`).uncheck();
    expect(await byTest('export-start').innerText()).toBe('Export 1 run');
    await page.getByLabel(`Export ${fixture.a.run_id}`).check();
    await byTest('export-start').click();
    await expect.poll(() => byTest('export-shape').innerText(), { timeout: 20_000 }).toMatch(/^dataset\.npz: 1 row × \d+ features \(features_v1\)$/);
    const out = await byTest('export-out').innerText();
    expect(path.dirname(out)).toBe(path.join(fixture.workspace, 'exports'));
    expect(await byTest('export-exported').innerText()).toBe(`runs/${fixture.a.platform_id}/${fixture.a.video_id}/${fixture.a.run_id}`);
    expect(await byTest('export-skipped').innerText()).toBe(`${fixture.b.platform_id}/${fixture.b.video_id}/${fixture.b.run_id}: run status error`);
    // the folder shown is the bundle written
    expect((await fs.readdir(out)).sort()).toEqual(['README.md', 'SHA256SUMS', 'dataset.npz', 'dataset.parquet', 'export_report.json', 'runs']);
    // every run of the store: the same row and skip, in a new folder of its own
    await byTest('export-all').check();
    expect(await byTest('export-runs').count()).toBe(0);
    expect(await byTest('export-start').innerText()).toBe('Export every run');
    await byTest('export-start').click();
    await expect.poll(() => byTest('export-out').innerText(), { timeout: 20_000 }).not.toBe(out);
    expect(await byTest('export-shape').innerText()).toMatch(/^dataset\.npz: 1 row × \d+ features/);
    expect(await byTest('export-skipped').innerText()).toContain(`${fixture.b.run_id}: run status error`);
    expect(await fs.readdir(path.join(fixture.workspace, 'exports'))).toHaveLength(2);
    await shot('export-1280', true);
  });

  it('settings: models status, a saved change persists, an invalid one is refused', async () => {
    await byTest('nav-settings').click();
    await expect.poll(() => byTest('model-row').count()).toBeGreaterThan(3);
    expect(await byTest('models-panel').locator('tr', { hasText: 'test-clip-image' }).innerText()).toContain('installed');
    await page.getByLabel('Triton URL').fill('http://gpu-box:8000');
    await page.getByLabel('Triton server').check();
    await page.getByLabel('batch size core_clip').fill('16');
    await byTest('settings-save').click();
    await expect.poll(() => byTest('settings-saved').innerText()).toContain('settings.json');
    const saved = JSON.parse(await fs.readFile(path.join(fixture.workspace, 'settings.json'), 'utf8')) as Record<string, unknown>;
    expect(saved).toMatchObject({ runtime: 'triton', triton_url: 'http://gpu-box:8000', batch_sizes: { core_clip: 16 } });
    await page.reload();
    await expect.poll(() => page.getByLabel('Triton URL').inputValue()).toBe('http://gpu-box:8000');
    await page.getByLabel('Triton URL').fill('');
    await byTest('settings-save').click();
    await expect.poll(() => byTest('error').innerText()).toContain('runtime triton needs a triton_url');
    await shot('settings-1280', true);
    // back to in-process inference, keeping core_clip's batch of 16: the new analysis below runs with it
    await page.getByLabel('Triton URL').fill('http://gpu-box:8000');
    await page.getByLabel('in process (onnxruntime)').check();
    await byTest('settings-save').click();
    await expect.poll(async () => JSON.parse(await fs.readFile(path.join(fixture.workspace, 'settings.json'), 'utf8')) as Record<string, unknown>).toMatchObject({ runtime: 'inprocess', batch_sizes: { core_clip: 16 } });
  });

  it('the runs list follows the store: a run written meanwhile appears', async () => {
    await byTest('nav-runs').click();
    await expect.poll(() => byTest('run-row').count()).toBe(2);
    const identity = sampleIdentity({ run_id: '20260304T000000Z-000000cc' });
    const writer = await ManifestWriter.create(runDir(fixture.store, identity), { identity });
    await writer.close();
    await expect.poll(() => byTest('run-row').count(), { timeout: 10_000 }).toBe(3);
    expect(await byTest('run-row').first().innerText()).toContain('running');
  });

  it('new analysis: pick a video of the server folders, watch it to completion, open its run; cancel another', async () => {
    await byTest('nav-new').click();
    expect(await byTest('video-dirs').innerText()).toContain(videos.dir);
    await expect.poll(() => byTest('video-option').count()).toBe(2);
    await page.getByLabel('Profile').selectOption('quick-test-models');
    expect(await byTest('components').innerText()).toContain('loudness_extractor (optional)');
    await byTest('video-option').filter({ hasText: 'tone_128x72.mp4' }).click();
    expect(await page.getByLabel('Video file').inputValue()).toBe(shortVideo);
    expect(await byTest('analysis-settings').innerText()).toBe('Model components run in process on CPU; batch sizes: core_clip 16 (Settings).');
    await shot('new-analysis-1280');
    await page.getByRole('button', { name: 'Start analysis' }).click();
    const job = byTest('job').first();
    await expect.poll(() => job.getAttribute('data-state'), { timeout: 60_000 }).toBe('finished');
    expect(await job.getByTestId('job-state').innerText()).toBe('finished: ok');
    expect(await job.getByTestId('job-overall').innerText()).toContain('100 %');
    expect(await job.getByTestId('job-component').allInnerTexts()).toEqual([
      expect.stringMatching(/^core_clip\s+ok\s+[\d.]+ m?s$/),
      expect.stringMatching(/^core_face_landmarks\s+empty\s+[\d.]+ m?s$/),
      expect.stringMatching(/^cut_detection\s+ok\s+[\d.]+ m?s$/),
      expect.stringMatching(/^loudness_extractor\s+ok\s+[\d.]+ m?s$/),
    ]);
    await shot('new-analysis-finished-1280', true);
    const runId = (await job.getAttribute('data-run-id'))!;
    expect(await job.innerText()).toContain(`run ${runId}`);
    await job.getByTestId('job-open-run').click();
    await expect.poll(() => byTest('view-overview').innerText()).toContain(runId);
    expect(await byTest('view-overview').innerText()).toContain('core_clip');
    // the batch size saved in the settings is the one core_clip ran with
    expect(await byTest('component-core_clip').getByTestId('batch-note').innerText()).toBe('batch 16, fixed');
    // its profile has no prediction component: the prediction tab says so
    await open(new URL(page.url()).hash.replace(/\/overview$/, '/prediction'));
    await expect.poll(() => byTest('view-prediction').innerText()).toContain('No prediction in this run');
    await shot('new-analysis-run-overview-1280');
    // no face in the test pattern: the real detector ran, and the faces view says why it is empty
    await open(new URL(page.url()).hash.replace(/\/prediction$/, '/faces'));
    await expect.poll(() => byTest('view-faces').innerText()).toContain('The component is empty: no_faces_in_video');
    expect(await byTest('view-faces').innerText()).toContain('No face in any frame');
    await shot('faces-empty-1280');
    await byTest('nav-runs').click();
    await expect.poll(() => byTest('run-row').first().innerText()).toContain('tone_128x72.mp4');

    // a longer video with core_clip only, cancelled while it works
    await byTest('nav-new').click();
    await page.getByLabel('Profile').selectOption('quick-test-models');
    await page.getByLabel('component cut_detection').uncheck();
    await page.getByLabel('component loudness_extractor').uncheck();
    await page.getByLabel('component core_face_landmarks').uncheck();
    await byTest('video-option').filter({ hasText: 'moving_64x36_40s.mp4' }).click();
    await page.getByRole('button', { name: 'Start analysis' }).click();
    const second = byTest('job').first();
    await expect.poll(() => second.innerText()).toContain('moving_64x36_40s.mp4');
    expect(await second.getByTestId('job-component').count()).toBe(1);
    // cancel once frames or CLIP batches are being counted
    await expect.poll(() => second.innerText(), { timeout: 30_000 }).toMatch(/\d+\/\d+ (frames|frame)/);
    await shot('new-analysis-running-1280', true);
    await second.getByTestId('job-cancel').click();
    await expect.poll(() => second.getAttribute('data-state'), { timeout: 30_000 }).toBe('cancelled');
    expect(await second.getByTestId('job-cancel').count()).toBe(0);
    expect(await second.getByTestId('job-component').innerText()).toMatch(/^core_clip\s+cancelled\s+not finished/);
    await shot('new-analysis-cancelled-1280', true);
    await byTest('nav-runs').click();
    await expect.poll(() => byTest('run-row').first().innerText()).toContain('moving_64x36_40s.mp4');
    expect(await byTest('run-row').first().innerText()).toContain('cancelled');

    // settings asking for CUDA, which this build lacks: the start is refused with the code, no job runs on the CPU
    await byTest('nav-settings').click();
    await page.getByLabel('CUDA').check();
    await byTest('settings-save').click();
    await expect.poll(() => byTest('settings-saved').innerText()).toContain('settings.json');
    await byTest('nav-new').click();
    const jobsBefore = await byTest('job').count();
    await page.getByLabel('Profile').selectOption('quick-test-models');
    await byTest('video-option').filter({ hasText: 'tone_128x72.mp4' }).click();
    expect(await byTest('analysis-settings').innerText()).toContain('in process on CUDA');
    await page.getByRole('button', { name: 'Start analysis' }).click();
    await expect.poll(() => byTest('view-new').getByTestId('error').innerText()).toMatch(/^execution_provider_unavailable the workstation settings ask for device cuda \(for core_clip, core_face_landmarks\)/);
    expect(await byTest('job').count()).toBe(jobsBefore);
    await shot('new-analysis-cuda-refused-1280');
    await byTest('nav-settings').click();
    await page.getByLabel('CPU').check();
    await byTest('settings-save').click();
    await expect.poll(async () => (JSON.parse(await fs.readFile(path.join(fixture.workspace, 'settings.json'), 'utf8')) as { device: string }).device).toBe('cpu');
  }, 120_000);

  it.skipIf(!redisAvailableOrCi)('queue: with a Redis URL saved, the Queue view shows the counts, the failure with its code and the throughput', async () => {
    const redis = await startRedis();
    let worker: QueueWorker | null = null;
    try {
      const [good, doomed] = await videos.distinctShorts(2);
      await enqueueVideos({ redisUrl: redis.url, videos: [good!, doomed!], components: ['cut_detection'], modelsDir: fixture.modelsDir, attempts: 1 });
      // the second video is gone before a worker takes it: the job fails with video_not_found
      await fs.rm(doomed!);
      worker = await startWorker({ redisUrl: redis.url, workspace: await tmp(), modelsDir: fixture.modelsDir, concurrency: 1, scratchDir: path.join(await tmp(), 'scratch') });
      await expect.poll(async () => (await readQueueStatus(redis.url)).counts, { timeout: 60_000 }).toMatchObject({ completed: 1, failed: 1 });

      await byTest('nav-settings').click();
      expect(await byTest('nav-queue').count()).toBe(0);
      await page.getByLabel('Queue Redis URL').fill(redis.url);
      await byTest('settings-save').click();
      await byTest('nav-queue').click();
      await expect.poll(() => byTest('queue-count-completed').innerText()).toMatch(/^1\s+completed$/);
      expect(await byTest('queue-count-failed').innerText()).toMatch(/^1\s+failed$/);
      expect(await byTest('queue-count-waiting').innerText()).toMatch(/^0\s+waiting$/);
      expect(await byTest('queue-throughput').innerText()).toMatch(/1 connected[\s\S]*1 completed in the last 10 min \(0\.1 per minute\)/);
      const failure = await byTest('queue-failure').innerText();
      expect(failure).toContain(doomed!);
      expect(failure).toContain('video_not_found');
      await shot('queue-1280', true);
    } finally {
      await worker?.close();
      await redis.stop();
    }
  }, 90_000);

  it('raised no page or console errors, and the only refused calls were the invalid settings and the CUDA analysis', () => {
    expect(problems).toEqual([]);
    expect(refused).toEqual(['400 /api/settings.update', '422 /api/analysis.start']);
  });
});
