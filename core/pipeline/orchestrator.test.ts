/**
 * The orchestrator on a generated video: the real core_clip (generated CLIP-contract models) plus test components
 * with canonical names that write artifacts valid under their real schemas (test/helpers/artifacts.ts), fail, or
 * wait, so that every path of the DAG is exercised: dependencies, cache, fail-fast, best-effort, dependency_missing,
 * invalid artifacts, cancellation, resume and bad inputs.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareClipModelsDir, TEST_CLIP_IMAGE_ID, TEST_CLIP_TEXT_ID } from '../../test/helpers/clip-models.js';
import { rewriteAsManifestV1 } from '../../test/helpers/manifest.js';
import { numpyAvailableOrCi, runPython } from '../../test/helpers/python.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { VideoFixtures } from '../../test/helpers/video-fixtures.js';
import { fake, table } from '../../test/e2e/fake-components.js';
import type { ComponentName } from '../contracts/components.js';
import type { Manifest, ManifestComponent } from '../contracts/manifest.js';
import { RunIndex } from '../index/db.js';
import { rebuildIndex } from '../index/sync.js';
import { coreClipComponent } from '../providers/core_clip/index.js';
import { OnnxSessionRegistry } from '../runtime/onnx/sessions.js';
import type { MemorySnapshot } from '../runtime/planner/planner.js';
import type { ModelRegistry } from '../runtime/registry/index.js';
import { validateRunDir } from '../schema/index.js';
import { readManifest } from '../store/manifest.js';
import { framesDir } from '../store/paths.js';
import type { AnalysisEvent } from './events.js';
import { analyzeVideo, resumeRun, type AnalyzeInput, type OrchestratorOptions, type RunOutcome } from './orchestrator.js';
import type { Profile } from './profile.js';
import type { ComponentTable } from './run-config.js';
import { codeOf } from '../../test/helpers/errors.js';

const tmp = useTempDirs('orchestrator-');
let fixtures: VideoFixtures;
let video: string;
let modelsDir: string;
let registry: ModelRegistry;
const sessions = new OnnxSessionRegistry();
/** A fixed memory snapshot: the planner's choice is then deterministic (16 GiB free → core_clip's max batch 16). */
const MEMORY: MemorySnapshot = { ram_available_bytes: 16 * 2 ** 30, ram_total_bytes: 32 * 2 ** 30, gpus: null };

const CLIP_PARAMS = { image_model: TEST_CLIP_IMAGE_ID, text_model: TEST_CLIP_TEXT_ID };

function profile(components: Partial<Record<ComponentName, { required: boolean; params?: Record<string, unknown> }>>): Profile {
  return {
    name: 'test',
    description: 'orchestrator test',
    file: '/dev/null',
    segmenter: { analysis_fps: 6, analysis_short_side: 48 },
    components: new Map(Object.entries(components).map(([name, c]) => [name as ComponentName, { required: c.required, params: c.params ?? {} }])),
  };
}

interface Harness {
  workspace: string;
  index: RunIndex;
  options(extra?: Partial<OrchestratorOptions>): OrchestratorOptions;
  events: AnalysisEvent[];
}

async function harness(components: ComponentTable): Promise<Harness> {
  const workspace = await tmp();
  const index = RunIndex.open(path.join(workspace, 'index.sqlite'));
  const events: AnalysisEvent[] = [];
  return {
    workspace,
    index,
    events,
    options: (extra = {}) => ({ workspace, modelsDir, registry, components, index, sessions, memory: async () => MEMORY, onEvent: (e) => events.push(e), ...extra }),
  };
}

function entry(manifest: Manifest, name: ComponentName): ManifestComponent {
  const found = manifest.components.find((c) => c.name === name);
  if (!found) throw new Error(`${name} is not in the manifest (has ${manifest.components.map((c) => c.name).join(', ')})`);
  return found;
}

beforeAll(async () => {
  fixtures = await VideoFixtures.create();
  video = await fixtures.colors();
  ({ modelsDir, registry } = await prepareClipModelsDir(await tmp()));
});

afterAll(async () => {
  await sessions.releaseAll();
  await fixtures?.cleanup();
});

describe('a run of core_clip, a dependant and an independent component', () => {
  const components = table(coreClipComponent, fake('core_face_landmarks', { dependencies: [{ component: 'core_clip', need: 'required' }] }), fake('text_processor'));
  const chosen = profile({ core_clip: { required: true, params: CLIP_PARAMS }, core_face_landmarks: { required: true }, text_processor: { required: false } });
  let h: Harness;
  let first: RunOutcome;
  let manifest: Manifest;

  beforeAll(async () => {
    h = await harness(components);
    first = await analyzeVideo({ video, profile: chosen }, h.options());
    manifest = await readManifest(first.run_dir);
  });
  afterAll(() => h.index.close());

  it('finishes ok with every component recorded: status, timings, device, models, artifacts with sha256', async () => {
    expect(first.status).toBe('ok');
    expect(first.error).toBeNull();
    expect(Object.keys(first.components)).toEqual(['core_clip', 'core_face_landmarks', 'text_processor']);
    expect(manifest.run.status).toBe('ok');
    // dependency order: core_face_landmarks starts only after core_clip is recorded
    const clip = entry(manifest, 'core_clip');
    const face = entry(manifest, 'core_face_landmarks');
    expect(Date.parse(face.started_at)).toBeGreaterThanOrEqual(Date.parse(clip.finished_at));
    expect(clip).toMatchObject({ status: 'ok', kind: 'core', device_used: 'cpu', cache_hit: false, cache_source_run_id: null });
    expect(clip.models_used.map((m) => m.model_name)).toEqual(['test-clip-image', 'test-clip-text', 'openai/CLIP']);
    expect(clip.model_signature).toMatch(/^msig1:[0-9a-f]{64}$/);
    for (const c of manifest.components) {
      expect(c.duration_ms).toBeGreaterThanOrEqual(0);
      expect(Date.parse(c.finished_at)).toBeGreaterThanOrEqual(Date.parse(c.started_at));
      expect(c.artifacts.length).toBe(1);
      expect(c.artifacts[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(c.cache_key).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('writes manifest_v2: cache key and metrics as fields, not as notes', async () => {
    const written = JSON.parse(await fs.readFile(path.join(first.run_dir, 'manifest.json'), 'utf8')) as Manifest;
    expect(written.manifest_version).toBe('manifest_v2');
    for (const c of written.components) {
      expect(c.cache_key).toMatch(/^[0-9a-f]{64}$/);
      expect(c.metrics?.peak_rss_bytes).toBeGreaterThan(0);
      expect(c.notes.filter((n) => n.startsWith('cache_key ') || n.startsWith('metrics '))).toEqual([]);
    }
  });

  it('plans core_clip’s batch before it starts and records it with the peak memory and throughput', async () => {
    const clip = entry(manifest, 'core_clip');
    expect(clip.notes.some((n) => /^batch_size 16: planned for cpu from the checklist/.test(n))).toBe(true);
    const metrics = clip.metrics!;
    expect(metrics.batch_size).toBe(16);
    expect(metrics.peak_rss_bytes).toBeGreaterThan(0);
    expect(metrics.units_done).toBeGreaterThan(0);
    expect(metrics.throughput_per_s).toBeGreaterThan(0);
  });

  it('leaves a run folder that validates: manifest, every artifact against its schema, nothing unlisted', async () => {
    const validation = await validateRunDir(first.run_dir);
    expect(validation.problems).toEqual([]);
    expect(validation.artifacts).toHaveLength(3);
  });

  it.skipIf(!numpyAvailableOrCi)('writes artifacts NumPy loads, with this run in their meta', async () => {
    const files = manifest.components.map((c) => path.join(first.run_dir, c.artifacts[0]!.path));
    const out = runPython(
      'import sys, numpy as np\nfor f in sys.argv[1:]:\n    z = np.load(f, allow_pickle=True)\n    m = z["meta"].item()\n    print(m["producer"], m["run_id"], m["status"], len(z.files))',
      files,
    );
    expect(out.trim().split('\n').map((l) => l.split(' ').slice(0, 3).join(' '))).toEqual(manifest.components.map((c) => `${c.name} ${first.run_id} ok`));
  });

  it('keeps the run index in step: runs, components, artifacts, metrics', () => {
    const [row] = h.index.findRuns(first.run_id);
    expect(row).toMatchObject({ run_dir: first.run_dir, status: 'ok', profile: 'test', config_hash: manifest.run.config_hash });
    // in the order the manifest recorded them: as they finished
    expect(h.index.components(row!).map((c) => [c.name, c.status])).toEqual(manifest.components.map((c) => [c.name, 'ok']));
    expect(h.index.metrics(row!).find((m) => m.component === 'core_clip' && m.name === 'batch_size')?.value).toBe(16);
  });

  it('reports progress: start, frames, per-component progress with an ETA, each finish with done/total, the end', () => {
    const mine = h.events.filter((e) => e.run_id === first.run_id);
    expect(mine[0]).toMatchObject({ type: 'run_started', components: ['core_clip', 'core_face_landmarks', 'text_processor'] });
    expect(mine.some((e) => e.type === 'segmenter_finished' && !e.reused)).toBe(true);
    const progress = mine.filter((e) => e.type === 'component_progress' && e.component === 'core_clip');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ unit: 'frames', eta_ms: 0 });
    const finished = mine.filter((e) => e.type === 'component_finished');
    expect(finished.map((e) => e.type === 'component_finished' && `${e.finished}/${e.total}`)).toEqual(['1/3', '2/3', '3/3']);
    expect(mine.at(-1)).toMatchObject({ type: 'run_finished', status: 'ok' });
  });

  describe('cache', () => {
    let second: RunOutcome;
    let secondManifest: Manifest;
    let secondEvents: AnalysisEvent[];

    beforeAll(async () => {
      second = await analyzeVideo({ video, profile: chosen }, h.options());
      secondManifest = await readManifest(second.run_dir);
      secondEvents = h.events.filter((e) => e.run_id === second.run_id);
    });

    it('reuses every component of an identical run: cache_hit, the source run, hard links, no decoding, no inference', async () => {
      expect(second.status).toBe('ok');
      expect(second.run_id).not.toBe(first.run_id);
      for (const c of secondManifest.components) {
        expect(c).toMatchObject({ cache_hit: true, cache_source_run_id: first.run_id, status: 'ok' });
        expect(c.artifacts).toEqual(entry(manifest, c.name).artifacts);
        const [a, b] = await Promise.all([fs.stat(path.join(first.run_dir, c.artifacts[0]!.path)), fs.stat(path.join(second.run_dir, c.artifacts[0]!.path))]);
        expect(b.ino).toBe(a.ino);
      }
      expect(secondEvents.filter((e) => e.type === 'component_started' || e.type === 'segmenter_finished')).toEqual([]);
      await expect(fs.access(framesDir(h.workspace, secondManifest.run))).rejects.toThrow();
      expect((await validateRunDir(second.run_dir)).problems).toEqual([]);
    });

    it('changing one component’s param recomputes it and its dependants only', async () => {
      const changed = profile({ core_clip: { required: true, params: { ...CLIP_PARAMS, batch_size: 4 } }, core_face_landmarks: { required: true }, text_processor: { required: false } });
      const third = await readManifest((await analyzeVideo({ video, profile: changed }, h.options())).run_dir);
      expect(third.run.config_hash).not.toBe(manifest.run.config_hash);
      expect(Object.fromEntries(third.components.map((c) => [c.name, c.cache_hit]))).toEqual({ core_clip: false, core_face_landmarks: false, text_processor: true });
      expect(entry(third, 'core_clip').metrics?.batch_size).toBe(4);
      expect(entry(third, 'core_clip').cache_key).not.toBe(entry(manifest, 'core_clip').cache_key);
    });

    it('--no-cache recomputes everything', async () => {
      const forced = await readManifest((await analyzeVideo({ video, profile: chosen, noCache: true }, h.options())).run_dir);
      expect(forced.components.map((c) => c.cache_hit)).toEqual([false, false, false]);
      // the roots have the first run's keys (same inputs, only recomputed); core_face_landmarks reads a new core_clip artifact
      for (const name of ['core_clip', 'text_processor'] as const) expect(entry(forced, name).cache_key).toBe(entry(manifest, name).cache_key);
      expect(entry(forced, 'core_face_landmarks').cache_key).not.toBe(entry(manifest, 'core_face_landmarks').cache_key);
    });

    it('skips a cached result whose artifact no longer matches its manifest, and says so', async () => {
      const w = await harness(table(fake('text_processor')));
      const only = profile({ text_processor: { required: true } });
      const source = await analyzeVideo({ video, profile: only }, w.options());
      const file = path.join(source.run_dir, (await readManifest(source.run_dir)).components[0]!.artifacts[0]!.path);
      await fs.appendFile(file, 'tampered');
      const again = await readManifest((await analyzeVideo({ video, profile: only }, w.options())).run_dir);
      expect(again.components[0]).toMatchObject({ status: 'ok', cache_hit: false });
      expect(again.components[0]!.notes).toContain(`cache candidate skipped: run ${source.run_id}: text_processor/features.npz no longer matches its manifest digest`);
      w.index.close();
    });

    it('reuses a result of a run stored as manifest_v1: it validates, a rebuilt index finds its key and metrics, the hit is written as v2', async () => {
      const w = await harness(table(fake('text_processor')));
      const only = profile({ text_processor: { required: true } });
      const source = await analyzeVideo({ video, profile: only }, w.options());
      w.index.close();
      const computed = entry(await readManifest(source.run_dir), 'text_processor');
      const legacy = await rewriteAsManifestV1(source.run_dir);
      expect(legacy.components[0]!.notes).toContain(`cache_key ${computed.cache_key}`);
      expect(await validateRunDir(source.run_dir)).toMatchObject({ ok: true, problems: [], manifest_version: 'manifest_v1' });

      const rebuilt = RunIndex.open(path.join(await tmp(), 'index.sqlite'));
      try {
        expect(await rebuildIndex(rebuilt, w.workspace)).toEqual({ runs: 1, skipped: [] });
        expect(rebuilt.candidates(computed.cache_key!, 'text_processor').map((c) => c.run_id)).toEqual([source.run_id]);
        const metrics = rebuilt.metrics(rebuilt.findRuns(source.run_id)[0]!).filter((m) => m.component === 'text_processor');
        expect(Object.fromEntries(metrics.map((m) => [m.name, m.value]))).toEqual({ duration_ms: computed.duration_ms, ...computed.metrics });

        const reused = await analyzeVideo({ video, profile: only }, w.options({ index: rebuilt }));
        const hit = entry(await readManifest(reused.run_dir), 'text_processor');
        expect(hit).toMatchObject({ cache_hit: true, cache_source_run_id: source.run_id, cache_key: computed.cache_key, metrics: null });
        const written = JSON.parse(await fs.readFile(path.join(reused.run_dir, 'manifest.json'), 'utf8')) as Manifest;
        expect(written.manifest_version).toBe('manifest_v2');
        expect(written.components[0]!.notes.filter((n) => n.startsWith('cache_key ') || n.startsWith('metrics '))).toEqual([]);
      } finally {
        rebuilt.close();
      }
    });
  });
});

describe('required components fail fast, optional ones are best-effort', () => {
  it('a required component that throws stops the run with status error and its code; the rest are cancelled', async () => {
    const waiting: string[] = [];
    const h = await harness(
      table(
        fake('text_processor', { behaviour: () => 'throw' }),
        fake('tempo_extractor', { behaviour: () => 'wait-for-abort', onRun: () => waiting.push('tempo_extractor') }),
        fake('core_face_landmarks', { dependencies: [{ component: 'text_processor', need: 'required' }] }),
      ),
    );
    const outcome = await analyzeVideo(
      { video, profile: profile({ text_processor: { required: true }, tempo_extractor: { required: false }, core_face_landmarks: { required: false } }) },
      h.options(),
    );
    expect(outcome.status).toBe('error');
    expect(outcome.error).toEqual({ error_code: 'inference_failed', message: 'required component text_processor failed: text_processor failed on purpose' });
    expect(outcome.components.text_processor).toMatchObject({ status: 'error', error: { error_code: 'inference_failed' } });
    expect(outcome.components.tempo_extractor!.status).toBe('cancelled');
    expect(outcome.components.core_face_landmarks!.status).toBe('cancelled');
    const manifest = await readManifest(outcome.run_dir);
    expect(manifest.run).toMatchObject({ status: 'error', error: outcome.error });
    expect(manifest.components.map((c) => c.name)).toEqual(['text_processor']);
    expect(h.index.findRuns(outcome.run_id)[0]).toMatchObject({ status: 'error', error_code: 'inference_failed' });
    expect((await validateRunDir(outcome.run_dir)).problems).toEqual([]);
    h.index.close();
  });

  it('an optional component that throws leaves the run ok with that component’s error; required dependants become empty (dependency_missing)', async () => {
    const h = await harness(
      table(
        fake('text_processor', { behaviour: () => 'throw' }),
        fake('core_face_landmarks', { dependencies: [{ component: 'text_processor', need: 'required' }], writeEmpty: true }),
        fake('tempo_extractor', { dependencies: [{ component: 'text_processor', need: 'optional' }] }),
        fake('clap_extractor', { behaviour: () => 'throw-plain' }),
      ),
    );
    const outcome = await analyzeVideo(
      { video, profile: profile({ text_processor: { required: false }, core_face_landmarks: { required: true }, tempo_extractor: { required: true }, clap_extractor: { required: false } }) },
      h.options(),
    );
    expect(outcome.error).toBeNull();
    expect(outcome.status).toBe('ok');
    const manifest = await readManifest(outcome.run_dir);
    expect(entry(manifest, 'text_processor')).toMatchObject({ status: 'error', error: { error_code: 'inference_failed' }, artifacts: [] });
    expect(entry(manifest, 'clap_extractor')).toMatchObject({ status: 'error', error: { error_code: 'internal_error', message: 'a bug' } });
    // required input missing: the component wrote its empty artifact itself
    const face = entry(manifest, 'core_face_landmarks');
    expect(face).toMatchObject({ status: 'empty', empty_reason: 'dependency_missing' });
    expect(face.notes[0]).toBe('required input missing: text_processor (failed with inference_failed)');
    expect(face.artifacts).toHaveLength(1);
    // an optional input missing: it runs without it
    expect(entry(manifest, 'tempo_extractor').status).toBe('ok');
    expect((await validateRunDir(outcome.run_dir)).problems).toEqual([]);
    h.index.close();
  });

  it('a required dependency that is not implemented makes its dependant empty without running it', async () => {
    const ran: string[] = [];
    const h = await harness(table(fake('text_processor', { dependencies: [{ component: 'cut_detection', need: 'required' }], onRun: () => ran.push('text') })));
    const outcome = await analyzeVideo({ video, profile: profile({ text_processor: { required: true } }) }, h.options());
    expect(outcome.status).toBe('ok');
    expect(outcome.not_implemented).toEqual(['cut_detection']);
    const text = entry(await readManifest(outcome.run_dir), 'text_processor');
    expect(text).toMatchObject({ status: 'empty', empty_reason: 'dependency_missing', artifacts: [] });
    expect(text.notes).toEqual(['required input missing: cut_detection (not implemented)', 'text_processor defines no empty artifact, so none was written']);
    expect(ran).toEqual([]);
    h.index.close();
  });

  it('an artifact that breaks its schema is the component’s error (artifact_invalid), and nothing of it is left', async () => {
    const h = await harness(table(fake('text_processor', { behaviour: () => 'bad-artifact' })));
    const outcome = await analyzeVideo({ video, profile: profile({ text_processor: { required: true } }) }, h.options());
    expect(outcome).toMatchObject({ status: 'error', error: { error_code: 'artifact_invalid' } });
    await expect(fs.access(path.join(outcome.run_dir, 'text_processor'))).rejects.toThrow();
    expect((await validateRunDir(outcome.run_dir)).problems).toEqual([]);
    h.index.close();
  });
});

describe('cancellation and resume', () => {
  it('a cancelled run says cancelled; resume finishes it without redoing what was finished', async () => {
    let attempt = 0;
    const h = await harness(
      table(
        coreClipComponent,
        fake('text_processor', { dependencies: [{ component: 'core_clip', need: 'required' }], behaviour: () => (attempt++ === 0 ? 'wait-for-abort' : 'ok') }),
      ),
    );
    const controller = new AbortController();
    const options = h.options({
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'component_finished' && e.component === 'core_clip') setImmediate(() => controller.abort(new Error('user cancelled')));
      },
    });
    const cancelled = await analyzeVideo({ video, profile: profile({ core_clip: { required: true, params: CLIP_PARAMS }, text_processor: { required: true } }) }, options);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.components.text_processor!.status).toBe('cancelled');
    const before = entry(await readManifest(cancelled.run_dir), 'core_clip');

    const resumed = await resumeRun(cancelled.run_dir, h.options());
    expect(resumed).toMatchObject({ status: 'ok', run_id: cancelled.run_id });
    const manifest = await readManifest(cancelled.run_dir);
    expect(entry(manifest, 'core_clip')).toEqual(before);
    expect(entry(manifest, 'text_processor').status).toBe('ok');
    // resuming ran only what was left
    expect(h.events.filter((e) => e.type === 'component_started').map((e) => e.type === 'component_started' && e.component)).toEqual(['text_processor']);
    expect((await validateRunDir(cancelled.run_dir)).problems).toEqual([]);
    h.index.close();
  });

  it('a run cancelled after segmenting resumes from its frames_dir instead of decoding again', async () => {
    const h = await harness(table(coreClipComponent));
    const controller = new AbortController();
    const chosen = profile({ core_clip: { required: true, params: CLIP_PARAMS } });
    const cancelled = await analyzeVideo(
      { video, profile: chosen },
      h.options({ signal: controller.signal, onEvent: (e) => e.type === 'segmenter_finished' && controller.abort(new Error('user cancelled')) }),
    );
    expect(cancelled.status).toBe('cancelled');
    expect((await readManifest(cancelled.run_dir)).components).toEqual([]);
    const resumed = await resumeRun(cancelled.run_dir, h.options());
    expect(resumed.status).toBe('ok');
    expect(h.events.find((e) => e.type === 'segmenter_finished')).toMatchObject({ reused: true });
    expect((await validateRunDir(cancelled.run_dir)).problems).toEqual([]);
    h.index.close();
  });

  it('resume redoes a failed required component and keeps the finished ones', async () => {
    let fail = true;
    const h = await harness(table(fake('text_processor'), fake('core_face_landmarks', { behaviour: () => (fail ? 'throw' : 'ok') })));
    const chosen = profile({ text_processor: { required: true }, core_face_landmarks: { required: true } });
    const failed = await analyzeVideo({ video, profile: chosen }, h.options());
    expect(failed.status).toBe('error');
    const text = entry(await readManifest(failed.run_dir), 'text_processor');
    fail = false;
    const resumed = await resumeRun(failed.run_dir, h.options());
    expect(resumed.status).toBe('ok');
    const manifest = await readManifest(failed.run_dir);
    expect(manifest.run.error).toBeNull();
    expect(entry(manifest, 'text_processor')).toEqual(text);
    expect(entry(manifest, 'core_face_landmarks').status).toBe('ok');
    h.index.close();
  });

  it('refuses to resume a run whose video changed, or that another writer holds', async () => {
    const h = await harness(table(fake('text_processor', { behaviour: () => 'throw' })));
    const copy = path.join(h.workspace, 'copy.mp4');
    await fs.copyFile(video, copy);
    const failed = await analyzeVideo({ video: copy, profile: profile({ text_processor: { required: true } }) }, h.options());
    await fs.appendFile(copy, Buffer.from([0]));
    expect(await codeOf(resumeRun(failed.run_dir, h.options()))).toBe('run_not_resumable');
    const { ManifestWriter } = await import('../store/manifest.js');
    const holder = await ManifestWriter.open(failed.run_dir);
    expect(await codeOf(resumeRun(failed.run_dir, h.options()))).toBe('run_locked');
    await holder.close();
    h.index.close();
  });
});

describe('inputs', () => {
  const components = table(fake('text_processor'));
  const chosen = profile({ text_processor: { required: true } });

  it('a missing video is an error before any run exists', async () => {
    const h = await harness(components);
    expect(await codeOf(analyzeVideo({ video: path.join(h.workspace, 'nope.mp4'), profile: chosen }, h.options()))).toBe('video_not_found');
    await expect(fs.readdir(path.join(h.workspace, 'result_store'))).rejects.toThrow();
    h.index.close();
  });

  it.each([
    ['an empty file', () => fixtures.empty(), 'video_empty_file'],
    ['a text file named .mp4', () => fixtures.textFile('notes.mp4'), 'video_unreadable'],
    ['an audio-only file', () => fixtures.wav('tone.wav'), 'video_no_video_stream'],
    ['a truncated file', () => fixtures.truncatedFaststart(), 'video_truncated'],
  ])('%s gets a run whose manifest says error with the code', async (_what, make, code) => {
    const h = await harness(components);
    const outcome = await analyzeVideo({ video: await make(), profile: chosen }, h.options());
    expect(outcome.status).toBe('error');
    expect(outcome.error!.error_code).toBe(code);
    const manifest = await readManifest(outcome.run_dir);
    expect(manifest.run).toMatchObject({ status: 'error', error: { error_code: code } });
    expect(manifest.components).toEqual([]);
    h.index.close();
  });

  it('takes platform_id and video_id from the metadata JSON, and refuses a malformed one', async () => {
    const h = await harness(components);
    const meta = path.join(h.workspace, 'meta.json');
    await fs.writeFile(meta, JSON.stringify({ platform_id: 'youtube', video_id: 'dQw4w9WgXcQ', title: 'x' }));
    const outcome = await analyzeVideo({ video, profile: chosen, metadataFile: meta, runId: 'run-1' }, h.options());
    expect(outcome).toMatchObject({ platform_id: 'youtube', video_id: 'dQw4w9WgXcQ', run_id: 'run-1', status: 'ok' });
    expect(outcome.run_dir).toBe(path.join(h.workspace, 'result_store', 'youtube', 'dQw4w9WgXcQ', 'run-1'));
    expect(await codeOf(analyzeVideo({ video, profile: chosen, metadataFile: meta, runId: 'run-1' }, h.options()))).toBe('run_exists');
    await fs.writeFile(meta, '{ not json');
    expect(await codeOf(analyzeVideo({ video, profile: chosen, metadataFile: meta }, h.options()))).toBe('invalid_argument');
    h.index.close();
  });

  it('two analyses of the same video at once both succeed, in their own runs', async () => {
    const h = await harness(table(coreClipComponent, fake('text_processor')));
    const both = profile({ core_clip: { required: true, params: CLIP_PARAMS }, text_processor: { required: true } });
    const input: AnalyzeInput = { video, profile: both, noCache: true };
    const [a, b] = await Promise.all([analyzeVideo(input, h.options()), analyzeVideo(input, h.options())]);
    expect([a.status, b.status]).toEqual(['ok', 'ok']);
    expect(a.run_id).not.toBe(b.run_id);
    for (const run of [a, b]) expect((await validateRunDir(run.run_dir)).problems).toEqual([]);
    expect(h.index.listRuns().length).toBe(2);
    h.index.close();
  });
});
