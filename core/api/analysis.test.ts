/**
 * analysis.* through the API (browser mode): profiles and videos offered, inputs refused outside the video folders,
 * a real analysis in a worker process (the built dist/core/api/analysis-worker.js running the orchestrator with
 * core_clip on the generated CLIP-contract models) streaming progress to completion, a cancelled one ending
 * `cancelled` in its manifest, and a worker that dies.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../contracts/manifest.js';
import { PROFILE_FORMAT } from '../pipeline/profile.js';
import { manifestPath, runDir, storeDir } from '../store/index.js';
import { prepareClipModelsDir, TEST_CLIP_IMAGE_ID, TEST_CLIP_TEXT_ID } from '../../test/helpers/clip-models.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { VideoFixtures } from '../../test/helpers/video-fixtures.js';
import { createWorkstationApi, type WorkstationApi } from './api.js';
import { defaultVideoDirs } from './analysis.js';
import type { AnalysisJob, ApiEvent, ApiMethod, ApiParams, ApiResult } from './contract.js';
import { ApiEventHub } from './events.js';
import { AnalysisJobs, analysisWorkerEntry, forkAnalysisWorker, type AnalysisWorkerSpawner, type FromWorker } from './jobs.js';
import { DEFAULT_SETTINGS } from './settings.js';
import { getMeta, readNpzFile } from '../npz/index.js';
import { readRunRequest } from '../pipeline/request.js';
import { cudaProviderInstalled } from '../runtime/onnx/sessions.js';

const tmp = useTempDirs('api-analysis-');
let fixtures: VideoFixtures;
let workspace: string;
let modelsDir: string;
let api: WorkstationApi;
let video: string;
const events: ApiEvent[] = [];

async function call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<M>> {
  const response = await api.invoke(method, params);
  if (!response.ok) throw new Error(`${method}: ${response.error.code}: ${response.error.message}`);
  return response.value as ApiResult<M>;
}

async function codeOf(method: string, params: unknown): Promise<string | null> {
  const response = await api.invoke(method, params);
  return response.ok ? null : response.error.code;
}

/** The job's snapshots as published, until it ended. */
async function untilEnded(jobId: string, timeoutMs = 60_000): Promise<AnalysisJob> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = [...events].reverse().find((e) => e.type === 'analysis.progress' && e.job.job_id === jobId);
    if (last?.type === 'analysis.progress' && ['finished', 'cancelled', 'failed'].includes(last.job.state)) return last.job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not end: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const snapshots = (jobId: string): AnalysisJob[] => events.flatMap((e) => (e.type === 'analysis.progress' && e.job.job_id === jobId ? [e.job] : []));

beforeAll(async () => {
  if (!existsSync(analysisWorkerEntry())) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  const work = await tmp();
  fixtures = await VideoFixtures.create();
  video = await fixtures.tone128x72();
  workspace = path.join(work, 'workspace');
  ({ modelsDir } = await prepareClipModelsDir(work));
  // a workspace profile: quick, with core_clip pointed at the generated CLIP-contract models
  await fs.mkdir(path.join(workspace, 'profiles'), { recursive: true });
  await fs.writeFile(
    path.join(workspace, 'profiles', 'quick-test-models.json'),
    JSON.stringify({ format: PROFILE_FORMAT, name: 'quick-test-models', description: 'quick with the test CLIP models', extends: 'quick', components: { core_clip: { params: { image_model: TEST_CLIP_IMAGE_ID, text_model: TEST_CLIP_TEXT_ID } } } }),
  );
  await fs.writeFile(path.join(workspace, 'profiles', 'broken.json'), '{"format": "trendflow_profile_v1"');
  api = createWorkstationApi({ workspace, mode: 'browser', modelsDir, videoDirs: [fixtures.dir] });
  api.events.subscribe((event) => events.push(event));
}, 60_000);

afterAll(async () => {
  api?.close();
  await fixtures?.cleanup();
});

describe('what a new analysis can be made of', () => {
  it('app.info says analysis works and which folders inputs come from', async () => {
    expect(await call('app.info', {})).toMatchObject({ features: { analysis: true, export: true }, video_dirs: [fixtures.dir] });
    expect(defaultVideoDirs('/ws', {})).toEqual(['/ws/videos']);
    expect(defaultVideoDirs('/ws', { TRENDFLOW_VIDEO_DIRS: `/a${path.delimiter}/b` })).toEqual(['/a', '/b']);
  });

  it('profiles: built-in and workspace ones with their components; a broken file is listed with why', async () => {
    const { profiles, problems, default_profile } = await call('analysis.profiles', {});
    expect(default_profile).toBe('tier0');
    expect(profiles.map((p) => `${p.source}:${p.name}`)).toEqual(['builtin:full', 'builtin:quick', 'builtin:tier0', 'workspace:quick-test-models']);
    const own = profiles.find((p) => p.name === 'quick-test-models')!;
    expect(own.components).toEqual([
      { name: 'core_clip', required: true, implemented: true },
      { name: 'cut_detection', required: false, implemented: true },
      { name: 'loudness_extractor', required: false, implemented: true },
    ]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: path.join(workspace, 'profiles', 'broken.json'), error: { code: 'invalid_argument' } });
  });

  it('videos: the video files under the folders, to pick from', async () => {
    const { video_dirs, videos } = await call('analysis.videos', {});
    expect(video_dirs).toEqual([fixtures.dir]);
    expect(videos.map((v) => v.path)).toContain(video);
    expect(videos.find((v) => v.path === video)!.bytes).toBeGreaterThan(1000);
  });

  it('refuses inputs outside the video folders (also through a symbolic link), relative paths, unknown profiles', async () => {
    const outside = path.join(await tmp(), 'outside.mp4');
    await fs.copyFile(video, outside);
    expect(await codeOf('analysis.start', { video_path: outside })).toBe('access_denied');
    await fs.symlink(outside, fixtures.path('link.mp4'));
    expect(await codeOf('analysis.start', { video_path: fixtures.path('link.mp4') })).toBe('access_denied');
    expect(await codeOf('analysis.start', { video_path: `${fixtures.dir}/../outside.mp4` })).toBe('access_denied');
    expect(await codeOf('analysis.start', { video_path: 'tone_128x72.mp4' })).toBe('invalid_argument');
    expect(await codeOf('analysis.start', { video_path: video, metadata_path: outside })).toBe('access_denied');
    expect(await codeOf('analysis.start', { video_path: video, profile: 'nope' })).toBe('invalid_argument');
    expect(await codeOf('analysis.start', { video_path: video, profile: '../x' })).toBe('invalid_argument');
    expect(await codeOf('analysis.start', { video_path: fixtures.path('missing.mp4') })).toBe('access_denied');
    expect(await codeOf('analysis.cancel', { job_id: 'job-unknown' })).toBe('invalid_argument');
    expect((await call('analysis.list', {})).jobs).toEqual([]);
  });

  it('refuses a profile whose required model is not in the models dir, naming the fetch command, before a worker starts', async () => {
    // the built-in quick profile: core_clip (required) on the real CLIP towers, which the test models dir lacks
    const response = await api.invoke('analysis.start', { video_path: video, profile: 'quick' });
    expect(response.ok).toBe(false);
    if (response.ok) return;
    expect(response.error.code).toBe('model_not_found');
    expect(response.error.message).toContain(`core_clip (required): model clip-vit-b32-image file vision_model.onnx is not in ${modelsDir}: run \`npx trendflow models fetch clip-vit-b32-image --models-dir ${modelsDir}\``);
    expect((await call('analysis.list', {})).jobs).toEqual([]);
  });
});

describe('an analysis in a worker process', () => {
  it('runs to completion with progress per component and overall; the run is in the store and validates', async () => {
    const started = await call('analysis.start', { video_path: video, profile: 'quick-test-models' });
    expect(started).toMatchObject({ state: 'starting', video_path: video, run: null });
    expect(started.components.map((c) => c.name)).toEqual(['core_clip', 'cut_detection', 'loudness_extractor']);
    const job = await untilEnded(started.job_id);
    expect(job.error).toBeNull();
    expect(job).toMatchObject({ state: 'finished', run_status: 'ok', overall: { fraction: 1, eta_sec: null } });
    expect(job.components.map((c) => [c.name, c.state])).toEqual([
      ['core_clip', 'ok'],
      ['cut_detection', 'ok'],
      ['loudness_extractor', 'ok'],
    ]);
    expect(job.segmenter).toMatchObject({ state: 'done', done: 12, total: 12 });
    expect(job.components.every((c) => c.duration_ms !== null && c.duration_ms > 0 && !c.cache_hit)).toBe(true);
    // the snapshots went through running with component progress (done/total) and a growing overall fraction
    const seen = snapshots(started.job_id);
    expect(seen.some((s) => s.state === 'running' && s.components.some((c) => c.state === 'running'))).toBe(true);
    const fractions = seen.map((s) => s.overall.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    const run = job.run!;
    const manifest = JSON.parse(await fs.readFile(manifestPath(runDir(storeDir(workspace), run)), 'utf8')) as Manifest;
    expect(manifest.run.status).toBe('ok');
    expect(manifest.components.map((c) => [c.name, c.status]).sort()).toEqual([
      ['core_clip', 'ok'],
      ['cut_detection', 'ok'],
      ['loudness_extractor', 'ok'],
    ]);
    const overview = await call('runs.overview', { run });
    expect(overview.validation).toMatchObject({ ok: true, problems: [] });
    expect((await call('runs.list', {})).runs.map((r) => r.run_id)).toContain(run.run_id);
    expect((await call('analysis.list', {})).jobs[0]).toMatchObject({ job_id: started.job_id, state: 'finished' });
  }, 90_000);

  it('cancel: the orchestrator stops and the manifest says cancelled', async () => {
    const long = await fixtures.moving40s();
    const started = await call('analysis.start', { video_path: long, profile: 'quick-test-models', components: ['core_clip'] });
    expect(started.components.map((c) => c.name)).toEqual(['core_clip']);
    // cancel once the run exists and is working
    const deadline = Date.now() + 30_000;
    while (!snapshots(started.job_id).some((s) => s.run !== null && (s.segmenter.done > 0 || s.components.some((c) => c.state === 'running')))) {
      if (Date.now() > deadline) throw new Error('the job never started working');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const cancelled = await call('analysis.cancel', { job_id: started.job_id });
    expect(cancelled).toMatchObject({ cancelled: true, job: { state: 'cancelling' } });
    const job = await untilEnded(started.job_id);
    expect(job).toMatchObject({ state: 'cancelled', run_status: 'cancelled', error: null, components: [{ name: 'core_clip', state: 'cancelled' }] });
    const manifest = JSON.parse(await fs.readFile(manifestPath(runDir(storeDir(workspace), job.run!)), 'utf8')) as Manifest;
    expect(manifest.run.status).toBe('cancelled');
    // cancelling an ended job changes nothing
    expect(await call('analysis.cancel', { job_id: started.job_id })).toMatchObject({ cancelled: false, job: { state: 'cancelled' } });
  }, 90_000);

  it('a worker that dies ends its job failed, saying how', async () => {
    const entry = path.join(await tmp(), 'dies.mjs');
    await fs.writeFile(entry, 'process.exit(3);\n');
    const hub = new ApiEventHub(storeDir(workspace));
    const published: ApiEvent[] = [];
    hub.subscribe((event) => published.push(event));
    const jobs = new AnalysisJobs(hub, forkAnalysisWorker, entry);
    const job = jobs.start({ video, profile: 'quick', components: null, metadata: null, workspace, modelsDir, settings: DEFAULT_SETTINGS }, ['core_clip']);
    await expect.poll(() => jobs.list()[0]!.state).toBe('failed');
    expect(jobs.list()[0]!.error).toEqual({ code: 'internal_error', message: 'the analysis worker exited with code 3 before the run ended' });
    expect(published.map((e) => (e.type === 'analysis.progress' ? `${e.job.job_id}:${e.job.state}` : e.type))).toEqual([`${job.job_id}:starting`, `${job.job_id}:failed`]);
    hub.close();
  });
});

describe('workstation settings reach the analysis', () => {
  afterAll(async () => {
    await fs.rm(path.join(workspace, 'settings.json'), { force: true });
  });

  it('a batch size from the settings is the batch core_clip runs with, in the run request, manifest and artifact', async () => {
    await call('settings.update', { patch: { batch_sizes: { core_clip: 3 } } });
    const started = await call('analysis.start', { video_path: video, profile: 'quick-test-models', components: ['core_clip'] });
    const job = await untilEnded(started.job_id);
    expect(job).toMatchObject({ state: 'finished', run_status: 'ok', error: null });
    const run = job.run!;
    const request = (await readRunRequest(workspace, run))!;
    expect(request.config.components.core_clip!.params).toMatchObject({ batch_size: 3, device: 'cpu', runtime: 'inprocess' });
    const dir = runDir(storeDir(workspace), run);
    const manifest = JSON.parse(await fs.readFile(manifestPath(dir), 'utf8')) as Manifest;
    const clip = manifest.components.find((c) => c.name === 'core_clip')!;
    expect(clip.notes).toContain('batch_size 3: fixed by the core_clip config');
    expect(getMeta(await readNpzFile(path.join(dir, 'core_clip', 'embeddings.npz'))).batch_size).toBe(3);
  }, 90_000);

  it.skipIf(cudaProviderInstalled())('device cuda without the CUDA provider is refused at analysis.start, nothing runs on CPU instead', async () => {
    await call('settings.update', { patch: { device: 'cuda', batch_sizes: {} } });
    const before = (await call('analysis.list', {})).jobs.length;
    const response = await api.invoke('analysis.start', { video_path: video, profile: 'quick-test-models' });
    expect(response).toMatchObject({ ok: false, error: { code: 'execution_provider_unavailable' } });
    expect(!response.ok && response.error.message).toMatch(/device cuda \(for core_clip\).*CUDA provider is not installed/);
    // no job was made: nothing runs on the CPU instead (a run without model components needs no device: run-settings.test.ts)
    expect((await call('analysis.list', {})).jobs.length).toBe(before);
  });

  it('runtime triton is refused when it cannot apply: no Triton mapping in the profile, or a component without a Triton runtime', async () => {
    await call('settings.update', { patch: { device: 'cpu', runtime: 'triton', triton_url: 'http://127.0.0.1:9' } });
    const noMapping = await api.invoke('analysis.start', { video_path: video, profile: 'quick-test-models' });
    expect(noMapping).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    expect(!noMapping.ok && noMapping.error.message).toContain('the profile gives core_clip no Triton model mapping');
    const faces = await api.invoke('analysis.start', { video_path: video, profile: 'tier0', components: ['core_face_landmarks'] });
    expect(faces).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    expect(!faces.ok && faces.error.message).toContain('core_face_landmarks has no Triton runtime in this build');
    // a settings file edited by hand into runtime triton without a URL
    await fs.writeFile(path.join(workspace, 'settings.json'), JSON.stringify({ ...DEFAULT_SETTINGS, runtime: 'triton' }));
    const noUrl = await api.invoke('analysis.start', { video_path: video, profile: 'quick-test-models' });
    expect(noUrl).toMatchObject({ ok: false, error: { code: 'invalid_argument', message: 'the workstation settings ask for runtime triton without a triton_url' } });
  });
});

describe('the job queue', () => {
  /** Workers that only record what they were sent; the test plays their messages and exits. */
  function fakeWorkers() {
    const workers: Array<{ sent: string[]; message: (m: FromWorker) => void; exit: (code: number | null) => void }> = [];
    const spawn: AnalysisWorkerSpawner = () => {
      const worker = { sent: [] as string[], message: (_m: FromWorker) => {}, exit: (_code: number | null) => {} };
      workers.push(worker);
      return {
        send: (m) => worker.sent.push(m.type),
        onMessage: (listener) => (worker.message = listener),
        onExit: (listener) => (worker.exit = listener),
        kill: () => worker.exit(null),
      };
    };
    return { workers, spawn };
  }

  it('one job at a time: the next waits queued, starts when the first ends; a queued one cancels without a worker', () => {
    const hub = new ApiEventHub(storeDir(workspace));
    const { workers, spawn } = fakeWorkers();
    const jobs = new AnalysisJobs(hub, spawn, 'unused-entry.js');
    const request = { video, profile: 'quick', components: null, metadata: null, workspace, modelsDir, settings: DEFAULT_SETTINGS };
    const first = jobs.start(request, ['core_clip']);
    const second = jobs.start(request, ['core_clip']);
    const third = jobs.start(request, ['core_clip']);
    expect([first.state, second.state, third.state]).toEqual(['starting', 'queued', 'queued']);
    expect(workers.map((w) => w.sent)).toEqual([['start']]);
    expect(jobs.cancel(third.job_id)).toMatchObject({ cancelled: true, job: { state: 'cancelled', run: null, segmenter: { state: 'skipped' }, components: [{ state: 'cancelled' }] } });
    workers[0]!.message({ type: 'event', event: { type: 'run_started', run_id: 'r1', run_dir: '/s/p/v/r1', video, components: ['core_clip'], resumed: false } });
    expect(jobs.list().find((j) => j.job_id === first.job_id)).toMatchObject({ state: 'running', run: { platform_id: 'p', video_id: 'v', run_id: 'r1' } });
    workers[0]!.message({ type: 'outcome', status: 'ok', error: null, run_dir: '/s/p/v/r1', platform_id: 'p', video_id: 'v', run_id: 'r1' });
    expect(jobs.list().map((j) => j.state)).toEqual(['cancelled', 'starting', 'finished']);
    expect(workers.map((w) => w.sent)).toEqual([['start'], ['start']]);
    jobs.close();
    hub.close();
  });
});

describe('Electron mode', () => {
  it('takes any absolute local path (picked in the native dialog), still not a relative one', async () => {
    const desktop = createWorkstationApi({ workspace, mode: 'electron', modelsDir });
    try {
      const info = await desktop.invoke('app.info', {});
      expect(info).toMatchObject({ ok: true, value: { video_dirs: null } });
      expect(await desktop.invoke('analysis.videos', {})).toMatchObject({ ok: true, value: { video_dirs: null, videos: [] } });
      expect(await desktop.invoke('analysis.start', { video_path: 'relative.mp4' })).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
      expect(await desktop.invoke('analysis.start', { video_path: path.join(workspace, 'missing.mp4') })).toMatchObject({ ok: false, error: { code: 'video_not_found' } });
    } finally {
      desktop.close();
    }
  });
});
