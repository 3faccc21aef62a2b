import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getArray, readNpzFile } from '../npz/index.js';
import { FEATURE_COLUMNS } from '../predict/feature-spec.js';
import { FrameManager } from '../segmenter/index.js';
import { ManifestWriter, framesDir, runDir } from '../store/index.js';
import { sampleIdentity } from '../../test/helpers/manifest.js';
import { numpyAvailableOrCi, runPython } from '../../test/helpers/python.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { buildWorkstationStore, RUN_A_FPS, type WorkstationStore } from '../../test/e2e-ui/workstation-store.js';
import { createWorkstationApi, type WorkstationApi } from './api.js';
import type { ApiMethod, ApiParams, ApiResult, ClipData, FacesData, Maybe, PacingData, PredictionData, RunRef } from './contract.js';
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
    // run A: its ten components ok; run B: clap_extractor (optional) and prediction (required) failed, ending it
    expect(result.runs.map((r) => [r.run_id, r.status, r.components])).toEqual([
      [fixture.b.run_id, 'error', { ok: 8, empty: 0, error: 2 }],
      [fixture.a.run_id, 'ok', { ok: 10, empty: 0, error: 0 }],
    ]);
    expect(result.runs[0]!.source_name).toBe('shots_with_max_neutral.mp4');
    expect(result.runs[1]!.compute_ms).toBeGreaterThan(0);
  });

  it('filters by text, status and limit', async () => {
    expect((await call('runs.list', { query: '0000000A' })).runs.map((r) => r.run_id)).toEqual([fixture.a.run_id]);
    expect((await call('runs.list', { query: 'shots_with' })).runs).toHaveLength(2);
    expect((await call('runs.list', { status: ['error'] })).runs.map((r) => r.run_id)).toEqual([fixture.b.run_id]);
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
    // in the order they finished, which concurrency decides
    expect(overview.manifest.components.map((c) => c.name).sort()).toEqual(
      ['core_clip', 'core_face_landmarks', 'cut_detection', 'loudness_extractor', 'prediction', 'shot_quality', 'tempo_extractor', 'temporal_snapshot_features', 'video_aggregates', 'video_pacing'],
    );
    expect(overview.validation).toEqual({ ok: true, problems: [] });
    const frames = available(overview.frames);
    expect(frames).toMatchObject({ count: 8 * RUN_A_FPS, width: 320, height: 180, analysis_fps: RUN_A_FPS, duration_sec: 8 });
    expect(frames.source).toMatchObject({ name: 'shots_with_max_neutral.mp4', has_audio: true, rotation_deg: 0 });
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
  it('timeline: frames, signals and cut_detection shots at the three hard cuts, faces per frame, loudness and tempo curves', async () => {
    const timeline = await call('views.timeline', { run: fixture.a });
    expect(timeline.duration_sec).toBe(8);
    const frames = available(timeline.frames);
    expect(frames.count).toBe(8 * RUN_A_FPS);
    expect(frames.times).toBeInstanceOf(Float64Array);
    const signals = available(timeline.signals);
    expect(signals.luma).toBeInstanceOf(Float32Array);
    expect(signals.times.length).toBe(signals.motion.length);
    expect(signals.cut_times.length).toBe(3);
    for (const [k, cut] of Array.from(signals.cut_times).entries()) expect(Math.abs(cut - 2 * (k + 1))).toBeLessThanOrEqual(1 / RUN_A_FPS + 1e-9);
    const shots = available(timeline.shots);
    expect(Array.from(shots.start_sec)).toEqual([0, 2, 4, 6]);
    expect(Array.from(shots.end_sec)).toEqual([2, 4, 6, 8]);
    expect(shots.transition).toEqual(['video_start', 'hard_cut', 'hard_cut', 'hard_cut']);
    expect(Number.isNaN(shots.confidence[0]!)).toBe(true);
    expect(Array.from(shots.thumbnail_present)).toEqual([1, 1, 1, 1]);
    // the face photo is shot 3 (4–6 s): one face on each of its frames, none elsewhere
    const faces = available(timeline.faces);
    expect(Array.from(faces.counts)).toEqual(Array.from(faces.times, (t) => (t >= 4 && t < 6 ? 1 : 0)));
    expect(timeline.curves.map((c) => [c.id, c.component, c.unit])).toEqual([
      ['loudness_momentary', 'loudness_extractor', 'LUFS'],
      ['tempo_bpm', 'tempo_extractor', 'BPM'],
    ]);
    const loudness = timeline.curves[0]!;
    expect(loudness.times.length).toBe(loudness.values.length);
    // the sine doubles its amplitude at 4 s: the momentary loudness of the second half is about 6 dB higher
    const mean = (from: number, to: number): number => {
      const inside = Array.from(loudness.values).filter((_, i) => loudness.times[i]! > from && loudness.times[i]! < to);
      return inside.reduce((sum, v) => sum + v, 0) / inside.length;
    };
    expect(mean(4.5, 7.5) - mean(0.5, 3.5)).toBeGreaterThan(4);
    // the click every 0.5 s: 120 BPM
    expect(Array.from(timeline.curves[1]!.values).every((bpm) => Math.abs(bpm - 120) < 2)).toBe(true);
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
    expect([clip.frame_count, n, clip.embedding_dim, clip.model_name]).toEqual([8 * RUN_A_FPS, 8 * RUN_A_FPS, 32, 'test-clip-image']);
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

  it('faces: presence per slot, landmarks of one frame on the face; a run without faces says so', async () => {
    const faces = available(await call('views.faces', { run: fixture.a })) as FacesData;
    expect([faces.status, faces.slots, faces.frame_indices.length]).toEqual(['ok', 2, 8 * RUN_A_FPS]);
    const row = Array.from(faces.times!).findIndex((t) => t >= 4.5);
    // one face in the photo: slot 0 present, slot 1 not
    expect(Array.from(faces.present.subarray(row * 2, row * 2 + 2))).toEqual([1, 0]);
    const landmarks = await call('views.face_landmarks', { run: fixture.a, row });
    expect(landmarks.landmarks.length).toBe(2 * 468 * 3);
    const mesh = landmarks.landmarks.subarray(0, 468 * 3);
    expect(mesh.every((v) => Number.isFinite(v))).toBe(true);
    expect(landmarks.landmarks.subarray(468 * 3).every((v) => Number.isNaN(v))).toBe(true);
    // the mesh lies in its face box, and the photo is centred: so is the face
    const [x0, y0, x1, y1] = Array.from(landmarks.boxes!.subarray(0, 4));
    for (let p = 0; p < 468; p++) {
      expect(mesh[p * 3]!).toBeGreaterThanOrEqual(x0! - 0.02);
      expect(mesh[p * 3]!).toBeLessThanOrEqual(x1! + 0.02);
      expect(mesh[p * 3 + 1]!).toBeGreaterThanOrEqual(y0! - 0.02);
      expect(mesh[p * 3 + 1]!).toBeLessThanOrEqual(y1! + 0.02);
    }
    expect(Math.abs((x0! + x1!) / 2 - 0.5)).toBeLessThan(0.1);
    const early = await call('views.face_landmarks', { run: fixture.a, row: 0 });
    expect(Array.from(early.present)).toEqual([0, 0]);
    expect(early.landmarks.every((v) => Number.isNaN(v))).toBe(true);
    expect(await codeOf('views.face_landmarks', { run: fixture.a, row: 8 * RUN_A_FPS })).toBe('invalid_argument');

    const none = { available: false, why: 'component_not_in_run', message: 'core_face_landmarks is not in this run' };
    expect(await call('views.faces', { run: fixture.b })).toEqual(none);
    expect(await call('views.timeline', { run: fixture.b })).toMatchObject({ faces: none });
  });

  it('features: every feature table of the run', async () => {
    const { tables } = await call('views.features', { run: fixture.a });
    expect(tables.map((t) => t.component).sort()).toEqual(['loudness_extractor', 'prediction', 'tempo_extractor', 'temporal_snapshot_features', 'video_aggregates', 'video_pacing']);
    const loudness = tables.find((t) => t.component === 'loudness_extractor')!;
    expect(loudness.values.length).toBe(loudness.names.length);
    const integrated = loudness.values[loudness.names.indexOf('integrated_lufs')]!;
    expect(integrated).toBeLessThan(0);
    expect(integrated).toBeGreaterThan(-40);
  });

  it('pacing: video_pacing\'s curves on its grid with NaN where a mask is False, loadable by NumPy', async () => {
    const pacing = available(await call('views.pacing', { run: fixture.a })) as PacingData;
    const file = path.join(runDir(fixture.store, fixture.a), 'video_pacing', 'pacing.npz');
    const npz = await readNpzFile(file);
    // the 8 s video on 0.5 s bins: 16 bin centres, the same grid as the artifact
    expect([pacing.grid_step_sec, pacing.cut_rate_window_sec]).toEqual([0.5, 10]);
    expect(Array.from(pacing.times)).toEqual(Array.from({ length: 16 }, (_, k) => 0.25 + 0.5 * k));
    expect(pacing.times).toBeInstanceOf(Float64Array);
    // cuts at 2, 4 and 6 s, a 10 s window clipped to the video: at 0.25 s it holds [0, 5.25) with two cuts, at
    // 1.25 s [0, 6.25) with all three — the highest rate of the video
    expect(pacing.cut_rate_per_min[0]).toBeCloseTo((2 * 60) / 5.25, 3);
    expect(pacing.cut_rate_per_min[2]).toBeCloseTo((3 * 60) / 6.25, 3);
    expect(Math.max(...pacing.cut_rate_per_min)).toBe(pacing.cut_rate_per_min[2]);
    expect(Array.from(pacing.cut_rate_per_min)).toEqual(Array.from(getArray(npz, 'cut_rate_per_min', 'float32').data));
    expect(Array.from(pacing.motion_present)).toEqual(new Array(16).fill(1));
    expect(pacing.motion_energy.every((v) => Number.isFinite(v) && v >= 0 && v <= 1)).toBe(true);
    // no core_optical_flow in the run: the flow mask is False everywhere, and the series is NaN there
    expect(pacing.flow_present.every((v) => v === 0)).toBe(true);
    expect(pacing.flow_motion_energy.every((v) => Number.isNaN(v))).toBe(true);
    // the sine's amplitude doubles at 4 s: every bin after it (that holds a momentary window) is louder than every bin before
    const loud = (from: number, to: number) => Array.from(pacing.loudness_lufs).filter((_, i) => pacing.loudness_present[i] && pacing.times[i]! > from && pacing.times[i]! < to);
    expect(loud(0, 8).length).toBeGreaterThan(12);
    expect(Math.min(...loud(4.5, 8))).toBeGreaterThan(Math.max(...loud(0, 3.5)));
    pacing.loudness_present.forEach((present, i) => expect(Number.isNaN(pacing.loudness_lufs[i]!)).toBe(!present));
    // a run without video_pacing says so
    expect(await call('views.pacing', { run: fixture.b })).toEqual({ available: false, why: 'component_not_in_run', message: 'video_pacing is not in this run' });
    expect(await codeOf('views.pacing', { run: { ...fixture.a, run_id: '..' } })).toBe('invalid_argument');
  });

  it('prediction: quantiles per head in log1p and counts, status, model and fallback reason; a failed one says its code', async () => {
    const prediction = available(await call('views.prediction', { run: fixture.a })) as PredictionData;
    const npz = await readNpzFile(path.join(runDir(fixture.store, fixture.a), 'prediction', 'prediction.npz'));
    const sidecar = JSON.parse(await fs.readFile(path.join(fixture.baselineDir, 'model.json'), 'utf8')) as { version: string; quantiles: number[] };
    const present = Array.from(getArray(npz, 'feature_present', 'bool').data).filter(Boolean).length;
    // the primary folder is missing, so the trained baseline predicted: degraded, with the primary's failure as the reason
    expect(prediction).toMatchObject({
      status: 'degraded',
      fallback_reason: expect.stringContaining(`${path.join(fixture.missingModelDir, 'model.json')}: prediction_model_missing: `),
      primary_error_code: 'prediction_model_missing',
      model_type: 'baseline',
      model_version: sidecar.version,
      model_name: 'prediction_baseline',
      feature_schema_version: 'features_v1',
      // published 5 days before snapshot 1 (the fixture's --meta and --snapshots)
      age_bucket: '1_30d',
      features: { total: FEATURE_COLUMNS.length, present },
      optional_sources_missing: ['text_processor'],
    });
    expect(present).toBeGreaterThan(0);
    expect(present).toBeLessThan(FEATURE_COLUMNS.length);
    expect(prediction.targets.map((t) => `${t.metric}:${t.horizon_days}`)).toEqual(['views:7', 'views:14', 'views:21', 'likes:7', 'likes:14', 'likes:21']);
    expect(Array.from(prediction.quantiles)).toEqual(sidecar.quantiles.map((q) => Math.fround(q)));
    expect(prediction.pred_log1p).toBeInstanceOf(Float32Array);
    expect(prediction.pred_value).toBeInstanceOf(Float64Array);
    // the artifact's numbers, unchanged: log1p, counts its expm1, quantiles non-decreasing per head
    expect(Array.from(prediction.pred_log1p)).toEqual(Array.from(getArray(npz, 'pred_log1p', 'float32').data));
    expect(Array.from(prediction.pred_value)).toEqual(Array.from(getArray(npz, 'pred_value', 'float64').data));
    const Q = sidecar.quantiles.length;
    const level = (q: number) => sidecar.quantiles.indexOf(q);
    for (let t = 0; t < 6; t++) {
      for (let k = 1; k < Q; k++) expect(prediction.pred_log1p[t * Q + k]!).toBeGreaterThanOrEqual(prediction.pred_log1p[t * Q + k - 1]!);
      expect(prediction.pred_value[t * Q + level(0.5)]).toBeCloseTo(Math.expm1(prediction.pred_log1p[t * Q + level(0.5)]!), 6);
      // confidence from the 80 % interval: clip(1 − (p90 − p10) / ln 100, 0, 1)
      const width = prediction.pred_log1p[t * Q + level(0.9)]! - prediction.pred_log1p[t * Q + level(0.1)]!;
      expect(prediction.confidence_score[t]).toBeCloseTo(Math.min(1, Math.max(0, 1 - width / Math.log(100))), 5);
    }
    const failed = (await call('runs.overview', { run: fixture.b })).manifest.components.find((c) => c.name === 'prediction')!;
    expect(failed.error!.message).toContain(fixture.missingModelDir);
    expect(await call('views.prediction', { run: fixture.b })).toEqual({ available: false, why: 'component_error', message: `prediction failed: prediction_model_missing: ${failed.error!.message}` });
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
    expect(field('status')).toMatchObject({ a: 'ok', b: 'error', same: false });
    // [name, status in A, status in B, same models]; the rows come in the order the components finished
    const rows = diff.components.map((c) => [c.name, c.a?.status ?? null, c.b?.status ?? null, c.same_models]);
    expect(rows.sort((x, y) => String(x[0]).localeCompare(String(y[0])))).toEqual([
      ['clap_extractor', null, 'error', null],
      // the same CLIP-contract encoders in both runs
      ['core_clip', 'ok', 'ok', true],
      ['core_face_landmarks', 'ok', null, null],
      ['cut_detection', 'ok', 'ok', null],
      ['loudness_extractor', 'ok', 'ok', null],
      // a model in run A, a failure before any model in run B
      ['prediction', 'ok', 'error', false],
      ['scene_classification', null, 'ok', null],
      ['shot_quality', 'ok', 'ok', null],
      ['tempo_extractor', 'ok', 'ok', null],
      ['temporal_snapshot_features', 'ok', 'ok', null],
      ['video_aggregates', 'ok', 'ok', null],
      ['video_pacing', 'ok', null, null],
    ]);
    expect(diff.components.find((c) => c.name === 'clap_extractor')!.b!.error!.code).toBe('model_not_found');
    // the same audio track measured twice: the same loudness
    const integrated = diff.features.find((f) => f.name === 'integrated_lufs')!;
    expect(integrated.component).toBe('loudness_extractor');
    expect(integrated.a).toBe(integrated.b);
    expect(integrated.delta).toBe(0);
    expect(diff.features.every((f) => f.delta === null || (f.a !== null && f.b !== null && f.delta === f.b - f.a))).toBe(true);
  });
});

describe('export.create', () => {
  it('exports every run into a new folder under <workspace>/exports: the ok run as a row, the failed one skipped with its reason', async () => {
    expect(await call('app.info', {})).toMatchObject({ mode: 'browser', store: fixture.store, features: { analysis: true, export: true } });
    const result = await call('export.create', { all: true });
    expect(path.dirname(result.out)).toBe(path.join(fixture.workspace, 'exports'));
    expect(path.basename(result.out)).toMatch(/^export-\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    expect(result).toMatchObject({ rows: 1, feature_schema_version: 'features_v1' });
    expect(result.exported).toEqual([{ ...fixture.a, bundle_path: `runs/${fixture.a.platform_id}/${fixture.a.video_id}/${fixture.a.run_id}` }]);
    expect(result.skipped).toEqual([{ run: fixture.b, reason: 'run status error' }]);
  });

  it('exports the runs named, each export in its own new folder', async () => {
    const first = await call('export.create', { runs: [fixture.a] });
    const second = await call('export.create', { runs: [fixture.a] });
    expect(second.out).not.toBe(first.out);
    expect([first.rows, first.skipped, second.rows]).toEqual([1, [], 1]);
    expect((await fs.readdir(first.out)).sort()).toEqual(['README.md', 'SHA256SUMS', 'dataset.npz', 'dataset.parquet', 'export_report.json', 'runs']);
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
    expect(await call('settings.get', {}, own)).toMatchObject({ saved: false, file, settings: { runtime: 'inprocess', device: 'cpu', models_dir: null, triton_url: null, batch_sizes: {}, redis_url: null } });
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

    // a file saved before redis_url existed reads with none; a Redis URL is saved, a URL of another scheme refused
    const { redis_url: _none, ...older } = saved.settings;
    await fs.writeFile(file, JSON.stringify(older));
    expect((await call('settings.get', {}, own)).settings.redis_url).toBeNull();
    // the password is kept in the file and never shown; the form's unchanged (redacted) URL keeps it
    expect((await call('settings.update', { patch: { redis_url: 'redis://:secret@queue-host:6379/2' } }, own)).settings.redis_url).toBe('redis://:***@queue-host:6379/2');
    expect((await call('settings.get', {}, own)).settings.redis_url).toBe('redis://:***@queue-host:6379/2');
    expect(JSON.parse(await fs.readFile(file, 'utf8')).redis_url).toBe('redis://:secret@queue-host:6379/2');
    await call('settings.update', { patch: { redis_url: 'redis://:***@queue-host:6379/2', device: 'cpu' } }, own);
    expect(JSON.parse(await fs.readFile(file, 'utf8')).redis_url).toBe('redis://:secret@queue-host:6379/2');
    expect((await call('settings.update', { patch: { redis_url: 'redis://other-host:6379' } }, own)).settings.redis_url).toBe('redis://other-host:6379');
    expect(await codeOf('settings.update', { patch: { redis_url: 'https://queue-host' } }, own)).toBe('invalid_argument');
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

  it('loads the face artifact with its NaN-filled landmarks and masks', async () => {
    const file = path.join(runDir(fixture.store, fixture.a), 'core_face_landmarks', 'landmarks.npz');
    const out = runPython(
      `import sys, json, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
lm, pr = z['face_landmarks'], z['face_present']
print(json.dumps({'shape': list(lm.shape), 'present': int(pr.sum()), 'nan_where_absent': bool(np.isnan(lm[~pr]).all()), 'finite_where_present': bool(np.isfinite(lm[pr]).all()), 'status': z['meta'].item()['status']}))`,
      [file],
    );
    const facts = JSON.parse(out) as { shape: number[]; present: number; nan_where_absent: boolean; finite_where_present: boolean; status: string };
    expect(facts.shape).toEqual([8 * RUN_A_FPS, 2, 468, 3]);
    expect(facts.present).toBeGreaterThan(0);
    expect(facts).toMatchObject({ nan_where_absent: true, finite_where_present: true, status: 'ok' });
  });

  it('loads the prediction artifact views.prediction reads: heads × quantiles, status and fallback reason', async () => {
    const prediction = available(await call('views.prediction', { run: fixture.a })) as PredictionData;
    const file = path.join(runDir(fixture.store, fixture.a), 'prediction', 'prediction.npz');
    const out = runPython(
      `import sys, json, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
print(json.dumps({'targets': list(z['target_names']), 'shape': list(z['pred_value'].shape), 'expm1': bool(np.allclose(np.expm1(z['pred_log1p'].astype(np.float64)), z['pred_value'])), 'status': str(z['prediction_status']), 'reason': z['fallback_reason'].item(), 'p50': z['pred_log1p'][:, 3].astype(float).tolist()}))`,
      [file],
    );
    const facts = JSON.parse(out) as { targets: string[]; shape: number[]; expm1: boolean; status: string; reason: string; p50: number[] };
    expect(facts).toMatchObject({ targets: prediction.targets.map((t) => t.name), shape: [6, 7], expm1: true, status: 'degraded', reason: prediction.fallback_reason });
    expect(facts.p50).toEqual(Array.from({ length: 6 }, (_, t) => prediction.pred_log1p[t * 7 + 3]));
  });

  it('loads the video_pacing artifact views.pacing reads, with the same grid, cut rate and masks', async () => {
    const pacing = available(await call('views.pacing', { run: fixture.a })) as PacingData;
    const file = path.join(runDir(fixture.store, fixture.a), 'video_pacing', 'pacing.npz');
    const out = runPython(
      `import sys, json, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
print(json.dumps({'grid': z['grid_time_sec'].tolist(), 'rate': z['cut_rate_per_min'].astype(float).tolist(), 'flow_nan': bool(np.isnan(z['flow_motion_energy'][~z['flow_present']]).all()), 'loudness_present': z['loudness_present'].astype(int).tolist()}))`,
      [file],
    );
    const facts = JSON.parse(out) as { grid: number[]; rate: number[]; flow_nan: boolean; loudness_present: number[] };
    expect(facts.grid).toEqual(Array.from(pacing.times));
    expect(facts.rate).toEqual(Array.from(pacing.cut_rate_per_min));
    expect(facts.flow_nan).toBe(true);
    expect(facts.loudness_present).toEqual(Array.from(pacing.loudness_present));
  });
});
