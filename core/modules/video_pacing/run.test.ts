import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTrendflowError } from '../../contracts/errors.js';
import { getArray, getMeta, getStringList, ndarray, readNpzFile, writeNpzFile, type NpzContents } from '../../npz/index.js';
import type { ComponentInput } from '../../pipeline/component.js';
import { validateNpzFile } from '../../schema/index.js';
import { segmentVideo } from '../../segmenter/segment.js';
import { sampleMeta } from '../../../test/helpers/artifacts.js';
import { sampleIdentity } from '../../../test/helpers/manifest.js';
import { numpyAvailableOrCi, runPython } from '../../../test/helpers/python.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { VideoFixtures } from '../../../test/helpers/video-fixtures.js';
import { inputFromArtifact } from '../common/inputs.js';
import { DEFAULT_CUT_DETECTION_PARAMS, runCutDetection } from '../cut_detection/index.js';
import { videoPacingComponent } from './index.js';
import { DEFAULT_VIDEO_PACING_CONFIG, PACING_FEATURE_NAMES, runVideoPacing } from './run.js';

const tmp = useTempDirs('video-pacing-');
let fixtures: VideoFixtures;
let framesDir: string;
let runDir: string;
let cut: ComponentInput;
let starts: number[];

async function pacing(inputs: ComponentInput[]): Promise<{ npz: NpzContents; file: string }> {
  const out = path.join(await tmp(), 'run');
  const result = await runVideoPacing({ identity: sampleIdentity(), runDir: out, framesDir, inputs: Object.fromEntries(inputs.map((i) => [i.component, i])) }, DEFAULT_VIDEO_PACING_CONFIG);
  expect(result.status).toBe('ok');
  const file = path.join(out, 'video_pacing', 'pacing.npz');
  expect((await validateNpzFile(file)).problems).toEqual([]);
  return { npz: await readNpzFile(file), file };
}

function feature(npz: NpzContents, name: (typeof PACING_FEATURE_NAMES)[number]): number {
  return getArray(npz, 'feature_values', 'float32').data[getStringList(npz, 'feature_names').indexOf(name)]!;
}

/** A loudness_extractor artifact (audio_npz_v2) whose momentary loudness is −23 LUFS before 7.5 s and silent after. */
async function loudnessArtifact(): Promise<ComponentInput> {
  const times = Array.from({ length: 148 }, (_, i) => 0.2 + 0.1 * i);
  const lufs = times.map((t) => (t < 7.5 ? -23 : Number.NEGATIVE_INFINITY));
  const file = path.join(runDir, 'loudness_extractor', 'loudness.npz');
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeNpzFile(
    file,
    {
      feature_names: ndarray.objectArray(['integrated_lufs']),
      feature_values: ndarray.float32([-23]),
      lufs_present: ndarray.bool([true], []),
      momentary_times_sec: ndarray.float32(times),
      momentary_lufs: ndarray.float32(lufs),
      short_term_times_sec: ndarray.float32([1.5]),
      short_term_lufs: ndarray.float32([-23]),
      meta: ndarray.objectScalar({ ...sampleMeta('loudness_extractor'), schema_version: 'audio_npz_v2' }),
    },
    { compress: true },
  );
  expect((await validateNpzFile(file)).problems).toEqual([]);
  return inputFromArtifact(runDir, 'loudness_extractor', 'ok', file);
}

beforeAll(async () => {
  fixtures = await VideoFixtures.create();
  const work = await tmp();
  framesDir = path.join(work, 'frames');
  await segmentVideo(await fixtures.cutSuite(), { outDir: framesDir, components: ['cut_detection'], durable: false });
  runDir = path.join(work, 'run');
  const detected = await runCutDetection({ identity: sampleIdentity(), runDir, framesDir }, DEFAULT_CUT_DETECTION_PARAMS);
  starts = detected.shots.map((s) => s.startSec);
  cut = await inputFromArtifact(runDir, 'cut_detection', 'ok', detected.artifact.path);
});

afterAll(async () => {
  await fixtures?.cleanup();
});

describe('video_pacing on the generated shots (15 s, 8 shots: 5 hard cuts, a fade, a dissolve)', () => {
  let npz: NpzContents;
  let file: string;

  beforeAll(async () => {
    ({ npz, file } = await pacing([cut]));
  });

  it('puts the series on a 0.5 s grid covering the 15 s', () => {
    const grid = Array.from(getArray(npz, 'grid_time_sec', 'float64').data);
    expect(grid).toHaveLength(30);
    expect(grid[0]).toBe(0.25);
    expect(grid[29]).toBe(14.75);
  });

  it('counts boundaries per minute in a 10 s window clipped to the video', () => {
    expect(starts.length).toBe(8);
    const cuts = starts.slice(1);
    const rate = getArray(npz, 'cut_rate_per_min', 'float32').data;
    const grid = getArray(npz, 'grid_time_sec', 'float64').data;
    grid.forEach((t, k) => {
      const from = Math.max(0, t - 5);
      const to = Math.min(15, t + 5);
      expect(rate[k]).toBeCloseTo((cuts.filter((c) => c >= from && c < to).length * 60) / (to - from), 4);
    });
  });

  it('gives the shot-length statistics of the shots cut_detection found', () => {
    const durations = starts.map((s, k) => (k + 1 < starts.length ? starts[k + 1]! : 15) - s);
    expect(feature(npz, 'shot_count')).toBe(8);
    expect(feature(npz, 'duration_sec')).toBeCloseTo(15, 5);
    expect(feature(npz, 'cuts_per_min')).toBeCloseTo(28, 4);
    expect(feature(npz, 'hard_cut_share')).toBeCloseTo(5 / 7, 5);
    expect(feature(npz, 'gradual_transition_share')).toBeCloseTo(2 / 7, 5);
    expect(feature(npz, 'shot_duration_mean_sec')).toBeCloseTo(15 / 8, 5);
    expect(feature(npz, 'shot_duration_min_sec')).toBeCloseTo(Math.min(...durations), 5);
    expect(feature(npz, 'shot_duration_max_sec')).toBeCloseTo(Math.max(...durations), 5);
    expect(feature(npz, 'short_shot_share')).toBeCloseTo(durations.filter((d) => d < 1).length / 8, 5);
    expect(feature(npz, 'long_shot_share')).toBe(0);
  });

  it('has more motion in the fast pan (5.5–8 s) than on the still colour bars (2–3.5 s)', () => {
    const motion = getArray(npz, 'motion_energy', 'float32').data;
    const grid = getArray(npz, 'grid_time_sec', 'float64').data;
    const over = (from: number, to: number) => {
      const inside = Array.from(motion).filter((_, k) => grid[k]! > from && grid[k]! < to);
      return inside.reduce((a, b) => a + b, 0) / inside.length;
    };
    expect(over(6, 7.5)).toBeGreaterThan(5 * over(2.25, 3.25));
    expect(Array.from(getArray(npz, 'motion_present', 'bool').data).every(Boolean)).toBe(true);
  });

  it('without loudness and optical flow those curves are NaN with masks False, never zeros', () => {
    for (const [values, mask] of [
      ['loudness_lufs', 'loudness_present'],
      ['flow_motion_energy', 'flow_present'],
    ] as const) {
      expect(Array.from(getArray(npz, values, 'float32').data).every(Number.isNaN)).toBe(true);
      expect(Array.from(getArray(npz, mask, 'bool').data).some(Boolean)).toBe(false);
    }
    expect(getMeta(npz)).toMatchObject({ loudness_source: null, flow_source: null, feature_set_version: 'pacing_features_v1' });
    expect(Object.keys(getMeta(npz).dependencies as object).sort()).toEqual(['cut_detection', 'segmenter/metadata.json', 'segmenter/signals.npz']);
  });

  it.skipIf(!numpyAvailableOrCi)('loads in NumPy', () => {
    const out = runPython(
      `import sys, json, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
f = dict(zip([str(n) for n in z['feature_names']], z['feature_values'].tolist()))
print(json.dumps({'grid': len(z['grid_time_sec']), 'shots': f['shot_count'], 'nan': bool(np.isnan(z['loudness_lufs']).all())}))`,
      [file],
    );
    expect(JSON.parse(out)).toEqual({ grid: 30, shots: 8, nan: true });
  });
});

describe('video_pacing with loudness', () => {
  it('puts the momentary loudness on the grid as the energy mean per bin, −inf where silent', async () => {
    const { npz } = await pacing([cut, await loudnessArtifact()]);
    const lufs = getArray(npz, 'loudness_lufs', 'float32').data;
    const present = getArray(npz, 'loudness_present', 'bool').data;
    const grid = getArray(npz, 'grid_time_sec', 'float64').data;
    grid.forEach((t, k) => {
      expect(present[k]).toBe(1);
      if (t < 7.5) expect(lufs[k]).toBeCloseTo(-23, 4);
      else expect(lufs[k]).toBe(Number.NEGATIVE_INFINITY);
    });
    expect(getMeta(npz).loudness_source).toMatchObject({ status: 'ok' });
  });
});

describe('video_pacing refuses to guess', () => {
  it('without cut_detection it writes nothing and reports empty', async () => {
    const out = await tmp();
    expect(await runVideoPacing({ identity: sampleIdentity(), runDir: out, framesDir, inputs: {} }, DEFAULT_VIDEO_PACING_CONFIG)).toEqual({ status: 'empty', artifact: null });
    await expect(fs.readdir(out)).resolves.toEqual([]);
  });

  it('a config with an unknown key or a bad value is invalid_argument', () => {
    expect(videoPacingComponent.parseConfig({ grid_step_sec: 1 })).toEqual({ ...DEFAULT_VIDEO_PACING_CONFIG, grid_step_sec: 1 });
    for (const bad of [{ grid_step: 1 }, { grid_step_sec: 0 }]) {
      let error: unknown = null;
      try {
        videoPacingComponent.parseConfig(bad);
      } catch (e) {
        error = e;
      }
      expect(isTrendflowError(error) && error.code).toBe('invalid_argument');
    }
  });
});
