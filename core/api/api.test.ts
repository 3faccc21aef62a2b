import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getArray, readNpzFile } from '../npz/index.js';
import { FrameManager } from '../segmenter/index.js';
import { ManifestWriter, framesDir, runDir } from '../store/index.js';
import { sampleIdentity } from '../../test/helpers/manifest.js';
import { numpyAvailableOrCi, runPython } from '../../test/helpers/python.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { buildWorkstationStore, type WorkstationStore } from '../../test/e2e-ui/workstation-store.js';
import { createWorkstationApi, type WorkstationApi } from './api.js';
import type { ApiMethod, ApiParams, ApiResult, ClipData, FacesData, Maybe, RunRef } from './contract.js';
import { ApiEventHub } from './events.js';

const tmp = useTempDirs('api-');
let fixture: WorkstationStore;
let api: WorkstationApi;

beforeAll(async () => {
  fixture = await buildWorkstationStore(await tmp());
  api = createWorkstationApi({ workspace: fixture.workspace, mode: 'browser', modelsDir: fixture.modelsDir });
});

afterAll(() => api?.close());

async function call<M extends ApiMethod>(method: M, params: ApiParams<M>, on: WorkstationApi = api): Promise<ApiResult<M>> {
  const response = await on.invoke(method, params);
  if (!response.ok) throw new Error(`${method} failed: ${response.error.code}: ${response.error.message}`);
  return response.value as ApiResult<M>;
}

async function codeOf(method: string, params: unknown, on: WorkstationApi = api): Promise<string> {
  const response = await on.invoke(method, params);
  if (response.ok) throw new Error(`${method} unexpectedly succeeded`);
  return response.error.code;
}

function available<T>(value: Maybe<T>): T {
  if (!value.available) throw new Error(`unavailable: ${value.why}: ${value.message}`);
  return value;
}

/** A copy of the fixture workspace for tests that break things. */
async function copyWorkspace(): Promise<{ workspace: string; api: WorkstationApi }> {
  const workspace = path.join(await tmp(), 'workspace');
  await fs.cp(fixture.workspace, workspace, { recursive: true });
  return { workspace, api: createWorkstationApi({ workspace, mode: 'browser' }) };
}

describe('runs.list', () => {
  it('lists every run of the store, newest first, with status and component counts', async () => {
    const result = await call('runs.list', {});
    expect(result.total).toBe(2);
    expect(result.runs.map((r) => [r.run_id, r.status, r.components])).toEqual([
      [fixture.b.run_id, 'partial', { ok: 3, empty: 1, error: 1 }],
      [fixture.a.run_id, 'ok', { ok: 4, empty: 0, error: 0 }],
    ]);
    expect(result.runs[0]!.source_name).toBe('four_shots.mp4');
    expect(result.runs[1]!.compute_ms).toBeGreaterThan(0);
  });

  it('filters by text, status and limit', async () => {
    expect((await call('runs.list', { query: '0000000A' })).runs.map((r) => r.run_id)).toEqual([fixture.a.run_id]);
    expect((await call('runs.list', { query: 'four_shots' })).runs).toHaveLength(2);
    expect((await call('runs.list', { status: ['partial'] })).runs.map((r) => r.run_id)).toEqual([fixture.b.run_id]);
    expect((await call('runs.list', { limit: 1 })).runs).toHaveLength(1);
  });

  it('shows an unreadable manifest as a run with its problem, and a missing store as no runs', async () => {
    const copy = await copyWorkspace();
    await fs.writeFile(path.join(runDir(path.join(copy.workspace, 'result_store'), fixture.a), 'manifest.json'), '{ not json');
    const runs = (await call('runs.list', {}, copy.api)).runs;
    const broken = runs.find((r) => r.run_id === fixture.a.run_id)!;
    expect(broken.status).toBeNull();
    expect(broken.problem?.code).toBe('manifest_invalid');
    expect(await codeOf('runs.overview', { run: fixture.a }, copy.api)).toBe('manifest_invalid');
    const empty = createWorkstationApi({ workspace: path.join(await tmp(), 'nothing'), mode: 'browser' });
    expect(await call('runs.list', {}, empty)).toMatchObject({ runs: [], total: 0 });
  });
});

describe('input validation (every method, before any handler runs)', () => {
  it('rejects unknown methods and malformed parameters with invalid_argument', async () => {
    const bad: Array<[string, unknown]> = [
      ['runs.delete', {}],
      ['__proto__', {}],
      [42 as unknown as string, {}],
      ['runs.list', null],
      ['runs.list', []],
      ['runs.list', 'all'],
      ['runs.list', { limit: 0 }],
      ['runs.list', { limit: 1.5 }],
      ['runs.list', { status: ['done'] }],
      ['runs.list', { extra: true }],
      ['runs.overview', {}],
      ['runs.overview', { run: { ...fixture.a, extra: 1 } }],
      ['runs.overview', { run: { ...fixture.a, run_id: '../../../etc' } }],
      ['runs.overview', { run: { ...fixture.a, video_id: 'a/b' } }],
      ['runs.overview', { run: { ...fixture.a, platform_id: '' } }],
      ['runs.overview', { run: { ...fixture.a, platform_id: '..' } }],
      ['views.frames', { run: fixture.a, frames: [], max_width: 160 }],
      ['views.frames', { run: fixture.a, frames: Array.from({ length: 65 }, (_, i) => i), max_width: 160 }],
      ['views.frames', { run: fixture.a, frames: [-1], max_width: 160 }],
      ['views.frames', { run: fixture.a, frames: [0], max_width: 100_000 }],
      ['views.clip', { run: fixture.a, max_frames: 1 }],
      ['settings.update', { patch: {} }],
      ['settings.update', { patch: { runtime: 'gpu' } }],
      ['settings.update', { patch: { batch_sizes: { core_clip: 0 } } }],
      ['settings.update', { patch: { batch_sizes: { not_a_component: 4 } } }],
      ['settings.update', { patch: { triton_url: 'ftp://host' } }],
      ['analysis.start', { video_path: '' }],
      ['analysis.start', { video_path: '/v.mp4', components: ['not_a_component'] }],
      ['analysis.start', { video_path: '/v.mp4', profile: 'a/b' }],
      ['analysis.list', { all: true }],
      ['analysis.cancel', { job_id: '../x' }],
    ];
    for (const [method, params] of bad) expect(await codeOf(method, params), `${String(method)} ${JSON.stringify(params)}`).toBe('invalid_argument');
  });

  it('answers run_not_found for a well-formed run that is not in the store', async () => {
    expect(await codeOf('runs.overview', { run: { ...fixture.a, run_id: '20990101T000000Z-ffffffff' } })).toBe('run_not_found');
    expect(await codeOf('views.frames', { run: { ...fixture.a, video_id: 'file-0000000000000000' }, frames: [0], max_width: 160 })).toBe('run_not_found');
  });

  it('does not follow a symbolic link out of the store', async () => {
    const copy = await copyWorkspace();
    const outside = path.join(await tmp(), 'outside-run');
    await fs.cp(runDir(path.join(copy.workspace, 'result_store'), fixture.a), outside, { recursive: true });
    const linked = { ...fixture.a, run_id: '20260301T120000Z-0000000c' };
    await fs.symlink(outside, runDir(path.join(copy.workspace, 'result_store'), linked));
    expect(await codeOf('runs.overview', { run: linked }, copy.api)).toBe('run_not_found');
    expect((await call('runs.list', {}, copy.api)).runs.map((r) => r.run_id)).not.toContain(linked.run_id);
  });
});

describe('runs.overview', () => {
  it('returns the manifest, a clean validation and the frames_dir facts', async () => {
    const overview = await call('runs.overview', { run: fixture.a });
    expect(overview.manifest.components.map((c) => c.name)).toEqual(['core_clip', 'cut_detection', 'core_face_landmarks', 'loudness_extractor']);
    expect(overview.validation).toEqual({ ok: true, problems: [] });
    const frames = available(overview.frames);
    expect(frames).toMatchObject({ count: 96, width: 320, height: 180, analysis_fps: 12, duration_sec: 8 });
    expect(frames.source).toMatchObject({ name: 'four_shots.mp4', has_audio: true, rotation_deg: 0 });
  });

  it('reports what trendflow validate finds in a tampered run, with paths relative to the run', async () => {
    const copy = await copyWorkspace();
    const file = path.join(runDir(path.join(copy.workspace, 'result_store'), fixture.a), 'core_clip', 'embeddings.npz');
    const bytes = await fs.readFile(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 30) ^ 0xff, bytes.length - 30);
    await fs.writeFile(file, bytes);
    const overview = await call('runs.overview', { run: fixture.a }, copy.api);
    expect(overview.validation.ok).toBe(false);
    expect(overview.validation.problems).toContainEqual(expect.objectContaining({ code: 'artifact_sha256_mismatch', file: 'core_clip/embeddings.npz' }));
  });
});

describe('views', () => {
  it('timeline: frames, signals and cut_detection shots at the three hard cuts, faces per frame, the loudness curve', async () => {
    const timeline = await call('views.timeline', { run: fixture.a });
    expect(timeline.duration_sec).toBe(8);
    const frames = available(timeline.frames);
    expect(frames.count).toBe(96);
    expect(frames.times).toBeInstanceOf(Float64Array);
    const signals = available(timeline.signals);
    expect(signals.luma).toBeInstanceOf(Float32Array);
    expect(signals.times.length).toBe(signals.motion.length);
    expect(signals.cut_times.length).toBe(3);
    for (const [k, cut] of Array.from(signals.cut_times).entries()) expect(Math.abs(cut - 2 * (k + 1))).toBeLessThanOrEqual(1 / 12 + 1e-9);
    const shots = available(timeline.shots);
    expect(Array.from(shots.start_sec)).toEqual([0, 2, 4, 6]);
    expect(Array.from(shots.end_sec)).toEqual([2, 4, 6, 8]);
    expect(shots.transition).toEqual(['video_start', 'hard_cut', 'hard_cut', 'hard_cut']);
    expect(Number.isNaN(shots.confidence[0]!)).toBe(true);
    expect(Array.from(shots.thumbnail_present)).toEqual([1, 1, 1, 1]);
    const faces = available(timeline.faces);
    const expected = Array.from(faces.times, (t) => (t >= 2 && t < 4 ? 1 : t >= 4 && t < 6 ? 2 : 0));
    expect(Array.from(faces.counts)).toEqual(expected);
    expect(timeline.curves.map((c) => [c.id, c.component, c.unit])).toEqual([['loudness_momentary', 'loudness_extractor', 'LUFS']]);
    const loudness = timeline.curves[0]!;
    expect(loudness.times.length).toBe(loudness.values.length);
    // a steady 440 Hz sine: every full 400 ms window has about the same loudness
    const inner = Array.from(loudness.values).filter((_, i) => loudness.times[i]! > 0.5 && loudness.times[i]! < 7.5);
    expect(Math.max(...inner) - Math.min(...inner)).toBeLessThan(0.5);
  });

  it('shot thumbnails: cut_detection\'s pictures of the shots asked for', async () => {
    const thumbs = await call('views.shot_thumbnails', { run: fixture.a, shots: [3, 0] });
    expect([thumbs.shots, thumbs.width, thumbs.height, thumbs.rgb.length]).toEqual([[3, 0], 160, 90, 2 * 160 * 90 * 3]);
    const npz = await readNpzFile(path.join(runDir(fixture.store, fixture.a), 'cut_detection', 'shots.npz'));
    const stored = getArray(npz, 'thumbnails', 'uint8').data;
    const size = 160 * 90 * 3;
    expect(Buffer.from(thumbs.rgb.subarray(0, size)).equals(Buffer.from(stored.subarray(3 * size, 4 * size)))).toBe(true);
    expect(await codeOf('views.shot_thumbnails', { run: fixture.a, shots: [4] })).toBe('invalid_argument');
  });

  it('frames: the stored pixels at full size, scaled down on request, out-of-range refused', async () => {
    const frames = await FrameManager.open(framesDir(fixture.workspace, fixture.a));
    try {
      const full = await call('views.frames', { run: fixture.a, frames: [30, 5], max_width: 320 });
      expect([full.width, full.height, full.frames]).toEqual([320, 180, [30, 5]]);
      expect(Buffer.from(full.rgb.subarray(0, 320 * 180 * 3)).equals(Buffer.from((await frames.get(30)).data))).toBe(true);
      expect(full.times).toEqual([frames.timestamp(30), frames.timestamp(5)]);
      const small = await call('views.frames', { run: fixture.a, frames: [30], max_width: 160 });
      expect([small.width, small.height, small.rgb.length]).toEqual([160, 90, 160 * 90 * 3]);
      expect(await codeOf('views.frames', { run: fixture.a, frames: [frames.count], max_width: 160 })).toBe('frame_index_out_of_range');
    } finally {
      await frames.close();
    }
  });

  it('clip: cosine similarity with block structure per shot, prompt scores equal to the embeddings dot products', async () => {
    const clip = available(await call('views.clip', { run: fixture.a })) as ClipData;
    const n = clip.rows;
    expect([clip.frame_count, n, clip.embedding_dim, clip.model_name]).toEqual([96, 96, 32, 'test-clip-image']);
    expect([clip.boundaries, clip.boundary_source]).toEqual([[24, 48, 72], 'cut_detection']);
    for (let i = 0; i < n; i++) {
      expect(clip.similarity[i * n + i]).toBeCloseTo(1, 5);
      for (let j = 0; j < i; j++) expect(clip.similarity[i * n + j]).toBe(clip.similarity[j * n + i]);
    }
    // frames of one shot are more alike than frames of different shots
    const shot = (row: number): number => clip.boundaries.filter((b) => b <= row).length;
    let within = 0;
    let across = 0;
    let withinCount = 0;
    let acrossCount = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        if (shot(i) === shot(j)) (within += clip.similarity[i * n + j]!), withinCount++;
        else (across += clip.similarity[i * n + j]!), acrossCount++;
      }
    }
    expect(within / withinCount).toBeGreaterThan(across / acrossCount);

    const npz = await readNpzFile(path.join(runDir(fixture.store, fixture.a), 'core_clip', 'embeddings.npz'));
    const frames = getArray(npz, 'frame_embeddings', 'float32').data;
    const texts = getArray(npz, 'shot_quality_text_embeddings', 'float32').data;
    const d = clip.embedding_dim;
    for (const [p, row] of [[0, 0], [3, 50], [clip.prompts.length - 1, 95]] as const) {
      let dot = 0;
      let nf = 0;
      let nt = 0;
      for (let k = 0; k < d; k++) {
        dot += frames[row * d + k]! * texts[p * d + k]!;
        nf += frames[row * d + k]! ** 2;
        nt += texts[p * d + k]! ** 2;
      }
      expect(clip.prompt_scores[p * n + row]).toBeCloseTo(dot / Math.sqrt(nf * nt), 5);
    }

    const spread = available(await call('views.clip', { run: fixture.a, max_frames: 10 })) as ClipData;
    expect(spread.rows).toBe(10);
    expect(spread.similarity.length).toBe(100);
    expect(spread.frame_indices[0]).toBe(clip.frame_indices[0]);
    expect(spread.frame_indices[9]).toBe(clip.frame_indices[95]);
  });

  it('faces: presence per slot, empty runs say why, landmarks of one frame', async () => {
    const faces = available(await call('views.faces', { run: fixture.a })) as FacesData;
    expect([faces.status, faces.slots, faces.frame_indices.length]).toEqual(['ok', 2, 96]);
    const row = Array.from(faces.times!).findIndex((t) => t >= 4.5);
    expect(Array.from(faces.present.subarray(row * 2, row * 2 + 2))).toEqual([1, 1]);
    const landmarks = await call('views.face_landmarks', { run: fixture.a, row });
    expect(landmarks.landmarks.length).toBe(2 * 468 * 3);
    expect(landmarks.landmarks.every((v) => Number.isFinite(v))).toBe(true);
    const early = await call('views.face_landmarks', { run: fixture.a, row: 0 });
    expect(Array.from(early.present)).toEqual([0, 0]);
    expect(early.landmarks.every((v) => Number.isNaN(v))).toBe(true);
    expect(await codeOf('views.face_landmarks', { run: fixture.a, row: 96 })).toBe('invalid_argument');

    const empty = available(await call('views.faces', { run: fixture.b })) as FacesData;
    expect([empty.status, empty.empty_reason]).toEqual(['empty', 'no_faces_in_video']);
    expect(empty.present.every((v) => v === 0)).toBe(true);
    expect(await call('views.timeline', { run: fixture.b })).toMatchObject({ faces: { available: false, why: 'component_empty' } });
  });

  it('features: every feature table of the run', async () => {
    const { tables } = await call('views.features', { run: fixture.a });
    expect(tables.map((t) => t.component)).toEqual(['loudness_extractor']);
    const loudness = tables[0]!;
    expect(loudness.values.length).toBe(loudness.names.length);
    const integrated = loudness.values[loudness.names.indexOf('integrated_lufs')]!;
    expect(integrated).toBeLessThan(0);
    expect(integrated).toBeGreaterThan(-40);
  });

  it('says which part is missing and why instead of failing the view', async () => {
    const copy = await copyWorkspace();
    await fs.rm(framesDir(copy.workspace, fixture.a), { recursive: true });
    const timeline = await call('views.timeline', { run: fixture.a }, copy.api);
    expect(timeline.frames).toMatchObject({ available: false, why: 'frames_dir_missing' });
    expect(timeline.signals).toMatchObject({ available: false, why: 'frames_dir_missing' });
    expect(timeline.faces).toMatchObject({ available: false, why: 'frames_dir_missing' });
    const clip = available(await call('views.clip', { run: fixture.a }, copy.api)) as ClipData;
    expect([clip.times, clip.boundaries]).toEqual([null, []]);
    expect(await codeOf('views.frames', { run: fixture.a, frames: [0], max_width: 160 }, copy.api)).toBe('frames_dir_invalid');
    expect((await call('runs.overview', { run: fixture.a }, copy.api)).frames).toMatchObject({ available: false, why: 'frames_dir_missing' });

    const withoutClip: RunRef = fixture.b;
    const manifestFile = path.join(runDir(path.join(copy.workspace, 'result_store'), withoutClip), 'manifest.json');
    const manifest = JSON.parse(await fs.readFile(manifestFile, 'utf8')) as { components: Array<{ name: string }> };
    manifest.components = manifest.components.filter((c) => c.name !== 'core_clip');
    await fs.writeFile(manifestFile, JSON.stringify(manifest));
    expect(await call('views.clip', { run: withoutClip }, copy.api)).toMatchObject({ available: false, why: 'component_not_in_run' });
  });
});

describe('runs.compare', () => {
  it('diffs identity, components (timings, models, statuses) and feature values', async () => {
    const diff = await call('runs.compare', { a: fixture.a, b: fixture.b });
    const field = (name: string) => diff.identity.find((row) => row.field === name)!;
    expect(field('video_id').same).toBe(true);
    expect(field('source_sha256').same).toBe(true);
    expect(field('config_hash').same).toBe(false);
    expect(field('status')).toMatchObject({ a: 'ok', b: 'partial', same: false });
    expect(diff.components.map((c) => [c.name, c.a?.status ?? null, c.b?.status ?? null])).toEqual([
      ['core_clip', 'ok', 'ok'],
      ['cut_detection', 'ok', 'ok'],
      ['core_face_landmarks', 'ok', 'empty'],
      ['loudness_extractor', 'ok', 'ok'],
      ['scene_classification', null, 'error'],
    ]);
    expect(diff.components.map((c) => c.same_models)).toEqual([true, null, true, null, null]);
    expect(diff.components.find((c) => c.name === 'scene_classification')!.b!.error!.code).toBe('model_not_found');
    // the same audio track measured twice: the same loudness
    const integrated = diff.features.find((f) => f.name === 'integrated_lufs')!;
    expect(integrated.component).toBe('loudness_extractor');
    expect(integrated.a).toBe(integrated.b);
    expect(integrated.delta).toBe(0);
    expect(diff.features.every((f) => f.delta === null || (f.a !== null && f.b !== null && f.delta === f.b - f.a))).toBe(true);
  });
});

describe('export.create', () => {
  it('exports every run into a new folder under <workspace>/exports: the ok run as a row, the partial one skipped with its reason', async () => {
    expect(await call('app.info', {})).toMatchObject({ mode: 'browser', store: fixture.store, features: { analysis: true, export: true } });
    const result = await call('export.create', { all: true });
    expect(path.dirname(result.out)).toBe(path.join(fixture.workspace, 'exports'));
    expect(path.basename(result.out)).toMatch(/^export-\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    expect(result).toMatchObject({ rows: 1, feature_schema_version: 'features_v1' });
    expect(result.exported).toEqual([{ ...fixture.a, bundle_path: `runs/${fixture.a.platform_id}/${fixture.a.video_id}/${fixture.a.run_id}` }]);
    expect(result.skipped).toEqual([{ run: fixture.b, reason: 'run status partial' }]);
  });

  it('exports the runs named, each export in its own new folder', async () => {
    const first = await call('export.create', { runs: [fixture.a] });
    const second = await call('export.create', { runs: [fixture.a] });
    expect(second.out).not.toBe(first.out);
    expect([first.rows, first.skipped, second.rows]).toEqual([1, [], 1]);
    expect((await fs.readdir(first.out)).sort()).toEqual(['README.md', 'SHA256SUMS', 'dataset.npz', 'export_report.json', 'runs']);
  });

  it('refuses bad parameters, unknown runs and, in browser mode, any folder chosen by the caller, before writing anything', async () => {
    const own = await copyWorkspace();
    try {
      // the copy holds the bundles of the tests above
      const exports = path.join(own.workspace, 'exports');
      await fs.rm(exports, { recursive: true, force: true });
      expect(await codeOf('export.create', {}, own.api)).toBe('invalid_argument');
      expect(await codeOf('export.create', { all: true, runs: [fixture.a] }, own.api)).toBe('invalid_argument');
      expect(await codeOf('export.create', { all: false }, own.api)).toBe('invalid_argument');
      expect(await codeOf('export.create', { runs: [] }, own.api)).toBe('invalid_argument');
      expect(await codeOf('export.create', { runs: [fixture.a, fixture.a] }, own.api)).toBe('invalid_argument');
      expect(await codeOf('export.create', { all: true, out_dir: '/tmp/x' }, own.api)).toBe('invalid_argument');
      expect(await codeOf('export.create', { runs: [{ ...fixture.a, run_id: '../../etc' }] }, own.api)).toBe('invalid_argument');
      expect(await codeOf('export.create', { runs: [{ ...fixture.a, run_id: 'no_such_run' }] }, own.api)).toBe('run_not_found');
      for (const parent_dir of [own.workspace, path.join(own.workspace, 'exports'), '/tmp', '../x']) {
        expect(await codeOf('export.create', { all: true, parent_dir }, own.api)).toBe('access_denied');
      }
      expect(await fs.readdir(exports).catch(() => 'absent')).toBe('absent');
    } finally {
      own.api.close();
    }
  });

  it('in Electron, creates the bundle inside the folder picked in the dialog, which must be an existing absolute folder', async () => {
    const desktop = createWorkstationApi({ workspace: fixture.workspace, mode: 'electron' });
    try {
      const picked = await tmp();
      await fs.writeFile(path.join(picked, 'unrelated.txt'), 'kept');
      const result = await call('export.create', { runs: [fixture.a, fixture.b], parent_dir: picked }, desktop);
      expect(path.dirname(result.out)).toBe(picked);
      expect([result.rows, result.skipped.map((s) => s.run)]).toEqual([1, [fixture.b]]);
      expect(await fs.readFile(path.join(picked, 'unrelated.txt'), 'utf8')).toBe('kept');
      expect(await codeOf('export.create', { all: true, parent_dir: 'relative/folder' }, desktop)).toBe('invalid_argument');
      expect(await codeOf('export.create', { all: true, parent_dir: path.join(picked, 'unrelated.txt') }, desktop)).toBe('invalid_argument');
      expect(await codeOf('export.create', { all: true, parent_dir: path.join(picked, 'missing') }, desktop)).toBe('invalid_argument');
    } finally {
      desktop.close();
    }
  });
});

describe('settings', () => {
  it('starts from the defaults, saves a validated patch atomically, and refuses a broken file', async () => {
    const workspace = await tmp();
    const own = createWorkstationApi({ workspace, mode: 'browser' });
    const file = path.join(workspace, 'settings.json');
    expect(await call('settings.get', {}, own)).toMatchObject({ saved: false, file, settings: { runtime: 'inprocess', device: 'cpu', models_dir: null, triton_url: null, batch_sizes: {} } });
    const saved = await call('settings.update', { patch: { runtime: 'triton', triton_url: 'http://gpu-box:8000', batch_sizes: { core_clip: 16 } } }, own);
    expect(saved.settings).toMatchObject({ runtime: 'triton', triton_url: 'http://gpu-box:8000', batch_sizes: { core_clip: 16 }, device: 'cpu' });
    expect(JSON.parse(await fs.readFile(file, 'utf8'))).toEqual(saved.settings);
    expect((await call('settings.get', {}, own)).saved).toBe(true);

    expect(await codeOf('settings.update', { patch: { triton_url: null } }, own)).toBe('invalid_argument');
    expect(JSON.parse(await fs.readFile(file, 'utf8'))).toEqual(saved.settings);

    await fs.writeFile(file, '{"runtime": "inprocess"}');
    const response = await own.invoke('settings.get', {});
    expect(response).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    expect(!response.ok && response.error.message).toMatch(/settings lack models_dir/);
  });
});

describe('models.status', () => {
  it('lists the registry with what the models dir holds, and verifies digests on request', async () => {
    const status = await call('models.status', {});
    expect(status.models_dir).toBe(fixture.modelsDir);
    const byId = new Map(status.models.map((m) => [m.id, m]));
    expect(byId.get('test-clip-image')).toMatchObject({ state: 'installed', verified: null });
    expect(byId.get('clip-vit-b32-image')).toMatchObject({ state: 'missing', license: 'MIT' });
    const verified = new Map((await call('models.status', { verify: true })).models.map((m) => [m.id, m.verified]));
    expect(verified.get('clip-bpe-vocab')).toBe('ok');
    expect(verified.get('clip-vit-b32-image')).toBe('missing');
  });
});

describe('events', () => {
  it('announces a new run in the store to every listener while someone listens', async () => {
    const copy = await copyWorkspace();
    const store = path.join(copy.workspace, 'result_store');
    const hub = new ApiEventHub(store, 40);
    const seen: unknown[] = [];
    const unsubscribe = hub.subscribe((event) => seen.push(event));
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(seen).toEqual([]);
    const identity = sampleIdentity({ run_id: '20260302T000000Z-00000abc' });
    const writer = await ManifestWriter.create(runDir(store, identity), { identity });
    await writer.close();
    await expect.poll(() => seen, { timeout: 3000, interval: 40 }).toContainEqual({ type: 'runs.changed', count: 3 });
    unsubscribe();
    expect(hub.listenerCount).toBe(0);
    hub.close();
  });
});

describe.skipIf(!numpyAvailableOrCi)('NumPy', () => {
  it('loads the bundle of export.create as its summary describes it: rows × features', async () => {
    const result = await call('export.create', { all: true });
    const shape = runPython(`import numpy as np, sys; d = np.load(sys.argv[1], allow_pickle=True); print(d['X'].shape, list(d['run_id']), len(d['feature_names']))`, [path.join(result.out, 'dataset.npz')]);
    expect(shape.trim()).toBe(`(1, ${result.features}) ['${fixture.a.run_id}'] ${result.features}`);
  });

  it('loads the fixture face artifact with its NaN-filled landmarks and masks', async () => {
    const file = path.join(runDir(fixture.store, fixture.a), 'core_face_landmarks', 'landmarks.npz');
    const out = runPython(
      `import sys, json, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
lm, pr = z['face_landmarks'], z['face_present']
print(json.dumps({'shape': list(lm.shape), 'present': int(pr.sum()), 'nan_where_absent': bool(np.isnan(lm[~pr]).all()), 'finite_where_present': bool(np.isfinite(lm[pr]).all()), 'status': z['meta'].item()['status']}))`,
      [file],
    );
    const facts = JSON.parse(out) as { shape: number[]; present: number; nan_where_absent: boolean; finite_where_present: boolean; status: string };
    expect(facts.shape).toEqual([96, 2, 468, 3]);
    expect(facts.present).toBeGreaterThan(0);
    expect(facts).toMatchObject({ nan_where_absent: true, finite_where_present: true, status: 'ok' });
  });
});
