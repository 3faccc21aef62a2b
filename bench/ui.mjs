// @ts-check
/**
 * Time to first render of the workstation's run overview and timeline (browser mode, Chromium through
 * playwright-core, as test/e2e-ui does it) for a large run: 1500 stored frames and 256 shots. The baseline, measured
 * in the same run, is the runs list (an almost empty view), so the ratios stay comparable across machines.
 *
 * The run is written with the real writers over dist/: the Segmenter's frames_dir of a generated 125 s video at
 * 12 fps (its metadata, signals and cut candidates are real), whose union is then widened to every analysis frame
 * (FramesWriter + the patched metadata: 1500 stored frames); core_clip (1500×512 unit vectors, synthetic: the
 * benchmark measures the UI, not CLIP) and cut_detection (256 shots with thumbnails of the stored frames) through
 * writeArtifact (schema-validated), the manifest through ManifestWriter. `trendflow serve` (dist) serves it; each
 * view is opened in a fresh browser context N times, timed from navigation start to the first animation frame in
 * which the view's data-bearing element (the e2e's data-testid) is laid out.
 *
 *   node bench/ui.mjs [--reps N] [--no-write]   (npm run bench runs it last)
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { fmt, machineInfo, median, min, writeSection } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (/** @type {string} */ p) => import(path.join(root, 'dist', p));
const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '9' },
    'no-write': { type: 'boolean', default: false },
  },
});
const reps = Number(values.reps);
const log = (/** @type {string} */ line) => console.error(`bench ui: ${line}`);
const CHROMIUM = process.env.TRENDFLOW_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const FPS = 12;
const FRAMES = 1500;
const SHOTS = 256;
const WIDTH = 160;
const HEIGHT = 90;
const EMBEDDING_DIM = 512;

const { segmentVideo, FramesWriter, readFramesMetadata, METADATA_FILE, FRAMES_FILE } = await dist('core/segmenter/index.js');
const { framesDir, ManifestWriter, resolveRunIdentity, runDir, storeDir } = await dist('core/store/index.js');
const { artifactMeta, writeArtifact } = await dist('core/pipeline/artifact.js');
const { ndarray } = await dist('core/npz/index.js');
const { framesDirSignatures } = await dist('core/modules/common/frames-dir.js');
const { SHOT_QUALITY_PROMPTS } = await dist('core/providers/core_clip/prompts.js');
const { CORE_CLIP_SCHEMA_VERSION } = await dist('core/providers/core_clip/index.js');
const { CUT_DETECTION_SCHEMA_VERSION, DEFAULT_CUT_DETECTION_PARAMS } = await dist('core/modules/cut_detection/index.js');
const { locateFfmpeg } = await dist('core/video/tools.js');
// deterministic, so every run of the benchmark shows the same data
const { seededRandom } = await dist('core/predict/baseline/gbt.js');

/** Unit vector near `base` (or a random one without it). */
function unitVector(/** @type {() => number} */ rand, /** @type {Float32Array | null} */ base, noise = 0.3) {
  const v = new Float32Array(EMBEDDING_DIM);
  let norm = 0;
  for (let k = 0; k < EMBEDDING_DIM; k++) {
    v[k] = (base ? base[k] : 0) + noise * (rand() * 2 - 1);
    norm += v[k] * v[k];
  }
  norm = Math.sqrt(norm);
  for (let k = 0; k < EMBEDDING_DIM; k++) v[k] /= norm;
  return v;
}

/** @param {string} name @param {string} kind @param {object[]} artifacts @param {object} fields */
function manifestEntry(name, kind, artifacts, fields) {
  const now = new Date().toISOString();
  return {
    name,
    kind,
    status: 'ok',
    empty_reason: null,
    error: null,
    artifacts,
    producer_version: '1.0.0',
    schema_version: `${name}_npz_v1`,
    started_at: now,
    finished_at: now,
    duration_ms: 0,
    device_used: null,
    notes: [],
    models_used: [],
    model_signature: null,
    cache_hit: false,
    cache_source_run_id: null,
    // manifest_v2: written by hand, not by the orchestrator, so no cache key and nothing measured
    cache_key: null,
    metrics: null,
    ...fields,
  };
}

/** Writes the large run into `workspace`; returns its ref. */
async function buildRun(/** @type {string} */ work, /** @type {string} */ workspace) {
  const ffmpeg = await locateFfmpeg();
  const video = path.join(work, 'long.mp4');
  execFileSync(ffmpeg.path, ['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=s=${WIDTH}x${HEIGHT}:r=${FPS}:d=${FRAMES / FPS}`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', video]);
  const { identity, source } = await resolveRunIdentity({ videoPath: video, runId: '20260301T120000Z-00000b1a', config: { profile: 'bench-ui', analysis_fps: FPS } });
  const frames = framesDir(workspace, identity);
  await segmentVideo(video, { outDir: frames, analysisFps: FPS, analysisShortSide: HEIGHT, components: ['core_clip', 'cut_detection'], durable: false });
  const metadata = await readFramesMetadata(frames);
  if (metadata.analysis_frame_count !== FRAMES || metadata.analysis_width !== WIDTH || metadata.analysis_height !== HEIGHT) {
    throw new Error(`segmenter gave ${metadata.analysis_frame_count} analysis frames of ${metadata.analysis_width}x${metadata.analysis_height}, expected ${FRAMES} of ${WIDTH}x${HEIGHT}`);
  }

  // widen the union to every analysis frame: decode them at the analysis size and store them with FramesWriter
  const rgb = execFileSync(ffmpeg.path, ['-v', 'error', '-i', video, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: FRAMES * WIDTH * HEIGHT * 3 + 1024 });
  const frameBytes = WIDTH * HEIGHT * 3;
  if (rgb.length !== FRAMES * frameBytes) throw new Error(`ffmpeg decoded ${rgb.length / frameBytes} frames, expected ${FRAMES}`);
  const framesFile = path.join(frames, FRAMES_FILE);
  await fs.rm(framesFile);
  const writer = await FramesWriter.create(framesFile, HEIGHT, WIDTH, { durable: false });
  for (let i = 0; i < FRAMES; i++) await writer.append(rgb.subarray(i * frameBytes, (i + 1) * frameBytes));
  await writer.finish();
  const all = Array.from({ length: FRAMES }, (_, i) => i);
  metadata.frame_count = FRAMES;
  metadata.frame_shape = [FRAMES, HEIGHT, WIDTH, 3];
  metadata.union_timestamps_sec = all.map((i) => i / FPS);
  metadata.union_frame_indices_source = all; // the source runs at the analysis rate
  for (const component of ['core_clip', 'cut_detection']) {
    const plan = metadata[component];
    plan.frame_indices = all;
    plan.counts = { ...plan.counts, total: FRAMES };
  }
  await fs.writeFile(path.join(frames, METADATA_FILE), `${JSON.stringify(metadata, null, 2)}\n`);

  const dir = runDir(storeDir(workspace), identity);
  const manifest = await ManifestWriter.create(dir, { identity, source });
  try {
    const rand = seededRandom(1500);
    // shot k covers analysis frames [starts[k], starts[k+1]); every frame is stored, so union index = analysis index
    const starts = Array.from({ length: SHOTS }, (_, k) => Math.round((k * FRAMES) / SHOTS));
    const ends = starts.map((s, k) => (k + 1 < SHOTS ? /** @type {number} */ (starts[k + 1]) - 1 : FRAMES - 1));

    // core_clip: per shot a direction, frames near it
    const embeddings = new Float32Array(FRAMES * EMBEDDING_DIM);
    for (let k = 0; k < SHOTS; k++) {
      const direction = unitVector(rand, null, 1);
      for (let i = /** @type {number} */ (starts[k]); i <= /** @type {number} */ (ends[k]); i++) embeddings.set(unitVector(rand, direction), i * EMBEDDING_DIM);
    }
    const prompts = [...SHOT_QUALITY_PROMPTS];
    const text = new Float32Array(prompts.length * EMBEDDING_DIM);
    prompts.forEach((_, p) => text.set(unitVector(rand, null, 1), p * EMBEDDING_DIM));
    const model = { model_name: 'bench-synthetic-clip', model_version: 'bench', weights_digest: `sha256:${'0'.repeat(64)}`, runtime: 'inprocess', engine: 'onnxruntime', precision: 'fp32', device: 'cpu' };
    const signature = `msig1:${'b'.repeat(64)}`;
    const clip = await writeArtifact(
      dir,
      'core_clip',
      'embeddings.npz',
      {
        frame_indices: ndarray.int32(all),
        frame_embeddings: ndarray.float32(embeddings, [FRAMES, EMBEDDING_DIM]),
        shot_quality_prompts: ndarray.objectArray(prompts),
        shot_quality_text_embeddings: ndarray.float32(text, [prompts.length, EMBEDDING_DIM]),
      },
      artifactMeta({
        identity,
        producer: 'core_clip',
        producerVersion: '1.0.0',
        schemaVersion: CORE_CLIP_SCHEMA_VERSION,
        status: 'ok',
        extra: { models_used: [model], model_signature: signature, batch_size: 16, embedding_dim: EMBEDDING_DIM, l2_normalized: true, frame_count: FRAMES },
      }),
    );
    await manifest.upsertComponent(manifestEntry('core_clip', 'core', [clip], { schema_version: CORE_CLIP_SCHEMA_VERSION, device_used: 'cpu', models_used: [model], model_signature: signature }));

    // cut_detection: 256 hard cuts, each shot's thumbnail its first stored frame (160x90, the thumbnail size)
    const thumbnails = new Uint8Array(SHOTS * frameBytes);
    starts.forEach((s, k) => thumbnails.set(rgb.subarray(s * frameBytes, (s + 1) * frameBytes), k * frameBytes));
    const present = starts.map((_, k) => k > 0);
    const nanUnless = (/** @type {(number)[]} */ v) => v.map((x, k) => (present[k] ? x : Number.NaN));
    const cuts = await writeArtifact(
      dir,
      'cut_detection',
      'shots.npz',
      {
        shot_start_index: ndarray.int32(starts),
        shot_end_index: ndarray.int32(ends),
        shot_start_sec: ndarray.float64(starts.map((s) => s / FPS)),
        shot_end_sec: ndarray.float64(ends.map((e) => (e + 1) / FPS)),
        shot_first_union_index: ndarray.int32(starts),
        shot_last_union_index: ndarray.int32(ends),
        shot_has_union_frames: ndarray.bool(starts.map(() => true)),
        transition_type: ndarray.objectArray(starts.map((_, k) => (k === 0 ? 'video_start' : 'hard_cut'))),
        transition_present: ndarray.bool(present),
        transition_confidence: ndarray.float32(nanUnless(starts.map(() => 0.5 + 0.5 * rand()))),
        transition_start_sec: ndarray.float64(nanUnless(starts.map((s) => (s - 1) / FPS))),
        transition_end_sec: ndarray.float64(nanUnless(starts.map((s) => s / FPS))),
        transition_verified: ndarray.bool(present),
        thumbnails: ndarray.uint8(thumbnails, [SHOTS, HEIGHT, WIDTH, 3]),
        thumbnail_union_index: ndarray.int32(starts),
        thumbnail_present: ndarray.bool(starts.map(() => true)),
        rejected_candidate_indices: ndarray.int32([]),
        rejected_candidate_reasons: ndarray.objectArray([]),
      },
      artifactMeta({
        identity,
        producer: 'cut_detection',
        producerVersion: '1.0.0',
        schemaVersion: CUT_DETECTION_SCHEMA_VERSION,
        status: 'ok',
        extra: {
          dependencies: await framesDirSignatures(frames),
          parameters: { ...DEFAULT_CUT_DETECTION_PARAMS },
          analysis_fps: FPS,
          analysis_frame_count: FRAMES,
          duration_sec: FRAMES / FPS,
          shot_count: SHOTS,
          thumbnail_size: [HEIGHT, WIDTH],
        },
      }),
    );
    await manifest.upsertComponent(manifestEntry('cut_detection', 'module', [cuts], { schema_version: CUT_DETECTION_SCHEMA_VERSION }));
    await manifest.setRunStatus('ok');
  } finally {
    await manifest.close();
  }
  return { platform_id: identity.platform_id, video_id: identity.video_id, run_id: identity.run_id };
}

/** Starts `trendflow serve` (dist) on the workspace; resolves with its URL and the child. */
async function serve(/** @type {string} */ workspace, /** @type {string} */ modelsDir) {
  const child = spawn(process.execPath, [path.join(root, 'bin', 'trendflow.js'), 'serve', '--workspace', workspace, '--models-dir', modelsDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk.toString()));
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.on('exit', (code) => reject(new Error(`trendflow serve exited with ${code}: ${stderr.trim().slice(-1500)}`)));
  });
  return { url: new URL(/** @type {string} */ (url)), child };
}

/**
 * Opens `hash` in a fresh context (cold page, token already in the tab's sessionStorage) and returns the ms from
 * navigation start to the first animation frame in which `selector` has a non-empty box, the time of the view's
 * main API call and the sizes of the API responses.
 */
async function firstRender(/** @type {import('playwright-core').Browser} */ browser, /** @type {URL} */ url, /** @type {{ hash: string, selector: string, mainCall: string }} */ view) {
  const { hash, selector, mainCall } = view;
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const token = url.hash.replace(/^#token=/, '');
    await context.addInitScript(
      ({ token, selector }) => {
        sessionStorage.setItem('trendflow.token', token);
        const g = /** @type {any} */ (globalThis);
        const check = () => {
          const element = document.querySelector(selector);
          const box = element?.getBoundingClientRect();
          if (box && box.width > 0 && box.height > 0) g.__firstRenderMs = performance.now();
          else requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
      },
      { token, selector },
    );
    const page = await context.newPage();
    // API calls still in flight: the page is closed only when they are done, or the server would still be working
    // for it (the timeline fetches CLIP data and thumbnails after its first render) while the next view is timed
    let inFlight = 0;
    const isApiCall = (/** @type {import('playwright-core').Request} */ request) => request.url().includes('/api/') && !request.url().endsWith('/api/events');
    page.on('request', (request) => void (isApiCall(request) && inFlight++));
    page.on('requestfinished', (request) => void (isApiCall(request) && inFlight--));
    page.on('requestfailed', (request) => void (isApiCall(request) && inFlight--));
    const settle = async () => {
      for (let quiet = 0; quiet < 3; ) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        quiet = inFlight === 0 ? quiet + 1 : 0;
      }
    };
    /** @type {Record<string, number>} */
    const payloads = {};
    /** @type {Promise<unknown>[]} */
    const pending = [];
    page.on('response', (response) => {
      const name = new URL(response.url()).pathname.replace(/^\/api\//, '');
      if (name === response.url() || name === 'events' || !response.url().includes('/api/')) return;
      pending.push(response.body().then((body) => (payloads[name] = (payloads[name] ?? 0) + body.length)).catch(() => undefined));
    });
    /** @type {string[]} */
    const problems = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${url.origin}/${hash}`);
    const handle = await page.waitForFunction(() => /** @type {any} */ (globalThis).__firstRenderMs, undefined, { timeout: 60_000 });
    const ms = /** @type {number} */ (await handle.jsonValue());
    // how long the view's main API call took, as the page saw it (request start to response end)
    const apiMs = await page.evaluate(
      (name) => {
        const entry = performance.getEntriesByType('resource').find((e) => e.name.endsWith(`/api/${name}`));
        return entry ? /** @type {PerformanceResourceTiming} */ (entry).responseEnd - entry.startTime : null;
      },
      mainCall,
    );
    await settle();
    await Promise.all(pending);
    if (problems.length) throw new Error(`page errors: ${problems.join('; ')}`);
    return { ms, apiMs, payloads, page };
  } catch (error) {
    await context.close();
    throw error;
  }
}

// `npm run bench` compiles core only; the renderer is what `npm run build` last built
if (!existsSync(path.join(root, 'dist', 'renderer', 'index.html'))) throw new Error('dist/renderer is not built: run `npm run build` first');
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'trendflow-bench-ui-'));
/** @type {import('node:child_process').ChildProcess | null} */
let server = null;
/** @type {import('playwright-core').Browser | null} */
let browser = null;
try {
  const workspace = path.join(work, 'workspace');
  const modelsDir = path.join(work, 'models');
  await fs.mkdir(modelsDir, { recursive: true });
  const t0 = performance.now();
  const run = await buildRun(work, workspace);
  log(`run with ${FRAMES} stored frames and ${SHOTS} shots written in ${fmt((performance.now() - t0) / 1000, 1)} s`);
  const started = await serve(workspace, modelsDir);
  server = started.child;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const runPath = `${run.platform_id}/${run.video_id}/${run.run_id}`;
  const views = [
    { name: 'runs list (baseline)', hash: '#/runs', selector: '[data-testid="run-row"]', mainCall: 'runs.list' },
    { name: 'run overview', hash: `#/run/${runPath}/overview`, selector: '[data-testid="view-overview"]', mainCall: 'runs.overview' },
    { name: 'timeline', hash: `#/run/${runPath}/timeline`, selector: '[data-testid="segment"]', mainCall: 'views.timeline' },
  ];

  // the views show what they should (checked once, outside the timings)
  {
    const overview = await firstRender(browser, started.url, /** @type {typeof views[number]} */ (views[1]));
    const text = await overview.page.getByTestId('frames-panel').innerText();
    await overview.page.context().close();
    if (!text.includes(`${FRAMES} stored frames`)) throw new Error(`overview frames panel does not show ${FRAMES} stored frames: ${text}`);
    const timeline = await firstRender(browser, started.url, /** @type {typeof views[number]} */ (views[2]));
    const segments = await timeline.page.getByTestId('segment').count();
    await timeline.page.context().close();
    if (segments !== SHOTS) throw new Error(`timeline shows ${segments} segments, expected ${SHOTS}`);
  }

  /** @type {number[][]} */
  const times = views.map(() => []);
  /** @type {number[][]} */
  const apiTimes = views.map(() => []);
  /** @type {Record<string, number>[]} */
  const payloads = views.map(() => ({}));
  for (let rep = 0; rep < reps; rep++) {
    // rotated order, so drifting load hits every view
    for (let j = 0; j < views.length; j++) {
      const v = (j + rep) % views.length;
      const view = /** @type {typeof views[number]} */ (views[v]);
      const result = await firstRender(browser, started.url, view);
      await result.page.context().close();
      /** @type {number[]} */ (times[v]).push(result.ms);
      if (result.apiMs === null) throw new Error(`${view.name}: the page made no ${view.mainCall} call`);
      /** @type {number[]} */ (apiTimes[v]).push(result.apiMs);
      payloads[v] = result.payloads;
    }
  }
  const baseline = median(/** @type {number[]} */ (times[0]));
  const rows = views.map((view, v) => {
    const t = /** @type {number[]} */ (times[v]);
    const calls = Object.entries(/** @type {Record<string, number>} */ (payloads[v]))
      .sort((a, b) => b[1] - a[1])
      .map(([name, bytes]) => `${name} ${fmt(bytes / 1024, 1)} KiB`)
      .join(', ');
    log(`${view.name}: median ${fmt(median(t), 0)} ms, min ${fmt(min(t), 0)} ms`);
    return `| ${view.name} | \`${view.selector}\` | ${fmt(median(t), 0)} | ${fmt(min(t), 0)} | ${fmt(median(t) / baseline)} | ${view.mainCall} ${fmt(median(/** @type {number[]} */ (apiTimes[v])), 0)} | ${calls} |`;
  });
  const chromiumVersion = browser.version();
  const machine = machineInfo();
  const body = `## Workstation UI: time to first render of a large run

**Run overview ${fmt(median(/** @type {number[]} */ (times[1])) / baseline)}×, timeline ${fmt(median(/** @type {number[]} */ (times[2])) / baseline)}× the runs list** (median times to first render).

| run | |
|---|---|
| date | ${new Date().toISOString()} |
| machine | ${machine.nproc} CPUs, ${machine.cpu_model}, ${machine.memory_gib} GiB RAM, ${machine.os}; load average ${fmt(os.loadavg()[0])} at the end |
| browser | headless Chromium ${chromiumVersion} (playwright-core), 1280x800, \`trendflow serve\` from dist/ on 127.0.0.1 |
| data | one run: ${FRAMES} stored frames at ${WIDTH}×${HEIGHT} (${FRAMES / FPS} s at ${FPS} fps), core_clip ${FRAMES}×${EMBEDDING_DIM} (synthetic unit vectors), cut_detection ${SHOTS} shots with thumbnails |
| repetitions | ${reps} per view, each in a fresh browser context (cold page cache), views in rotated order, after one untimed opening of each run view |

| view | first rendered element | median ms | min ms | ÷ runs list | main API call, median ms | API responses of one opening (until the page is idle) |
|---|---|---:|---:|---:|---|---|
${rows.join('\n')}

How: \`node bench/ui.mjs\` (run by \`npm run bench\`). Time is from navigation start to the first animation frame in
which the view's data-bearing element has a box, so it includes loading the renderer bundle, the API calls the
view makes before it can render, decoding their answers and React's render. The timeline's first render is its
shot segments; the shot thumbnails and the CLIP data it fetches after that are not in the time. "Main API call" is
the request start to response end of the view's data call as the page's resource timing saw it (server work,
transfer); the rest of a view's time is the bundle, the calls every page makes (app.info, runs.list) and rendering.
Each page is closed only once its API calls are done, so no view is timed while the server still works for the
previous one. On a shared machine the times vary a lot between openings; the minimum is the less disturbed figure.`;
  if (!values['no-write']) await writeSection(path.join(root, 'docs', 'BENCHMARKS.md'), 'ui', body, '# Benchmarks');
  else console.log(body);
} finally {
  await browser?.close();
  if (server) {
    const exited = new Promise((resolve) => server?.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  await fs.rm(work, { recursive: true, force: true });
}
