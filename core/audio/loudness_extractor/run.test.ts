import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTrendflowError } from '../../contracts/errors.js';
import { getArray, getMeta, getStringList, readNpzFile } from '../../npz/index.js';
import { componentDefinition } from '../../pipeline/registry.js';
import { validateNpzFile } from '../../schema/index.js';
import { locateFfmpeg } from '../../video/tools.js';
import { sampleIdentity } from '../../../test/helpers/manifest.js';
import { numpyAvailableOrCi, runPython } from '../../../test/helpers/python.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { VideoFixtures } from '../../../test/helpers/video-fixtures.js';
import { standaloneRunContext } from '../../../test/helpers/run-context.js';
import { LOUDNESS_FEATURES, runLoudnessExtractor } from './run.js';

const tmp = useTempDirs('loudness-');
const run = promisify(execFile);
const GRID = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/media/grid_bbaf2n.mpg');
let fixtures: VideoFixtures;

beforeAll(async () => {
  fixtures = await VideoFixtures.create();
});
afterAll(async () => fixtures?.cleanup());

interface Result {
  file: string;
  status: string;
  reason: string | null;
  features: Record<string, number>;
  lufsPresent: boolean;
  momentary: Float32Array;
  shortTerm: Float32Array;
  meta: Record<string, unknown>;
  notes: string[];
}

async function loudnessOf(video: string): Promise<Result> {
  const runDir = await tmp();
  const ctx = await standaloneRunContext({ videoPath: video, identity: sampleIdentity(), runDir });
  const outcome = await runLoudnessExtractor(ctx);
  const file = path.join(runDir, outcome.artifacts[0]!.path);
  const npz = await readNpzFile(file);
  const names = getStringList(npz, 'feature_names');
  const values = getArray(npz, 'feature_values', 'float32').data;
  return {
    file,
    status: outcome.status,
    reason: outcome.empty_reason,
    features: Object.fromEntries(names.map((name, i) => [name, values[i]!])),
    lufsPresent: getArray(npz, 'lufs_present', 'bool').data[0] === 1,
    momentary: getArray(npz, 'momentary_lufs', 'float32').data,
    shortTerm: getArray(npz, 'short_term_lufs', 'float32').data,
    meta: getMeta(npz),
    notes: outcome.notes,
  };
}

const sine = (dbfs: number) => `${10 ** (dbfs / 20)}*sin(2*PI*1000*t)`;

describe('loudness_extractor on a video with a −23 dBFS stereo tone', () => {
  let result: Result;
  beforeAll(async () => {
    result = await loudnessOf(await fixtures.synthVideo([sine(-23), sine(-23)], 48_000, 6));
  });

  it('is ok, validates against its schema, and reads −23 LUFS with a 0 LU range', async () => {
    expect((await validateNpzFile(result.file)).problems).toEqual([]);
    expect(result.status).toBe('ok');
    expect(result.lufsPresent).toBe(true);
    expect(Object.keys(result.features)).toEqual([...LOUDNESS_FEATURES]);
    expect(Math.abs(result.features.integrated_lufs! - -23)).toBeLessThan(0.1);
    expect(result.features.relative_gate_lufs).toBeCloseTo(-33, 1);
    expect(result.features.loudness_range_lu).toBeLessThan(0.1);
    expect(result.features.sample_peak_dbfs).toBeCloseTo(-23, 2);
    expect(result.features.rms_dbfs).toBeCloseTo(-26.01, 2); // a sine's RMS is 3.01 dB under its peak
    expect(result.features.crest_factor_db).toBeCloseTo(3.01, 2);
    expect(result.features.silent_fraction).toBe(0);
    expect(result.features.duration_sec).toBeCloseTo(6, 3);
    expect(result.momentary.length).toBe(57);
    expect(result.shortTerm.length).toBe(31);
    expect(result.meta).toMatchObject({ producer: 'loudness_extractor', schema_version: 'audio_npz_v2', status: 'ok', channel_weights: [1, 1], sample_rate: 48_000, silent: false });
  });

  it.skipIf(!numpyAvailableOrCi)('loads in NumPy with the same values', () => {
    const out = JSON.parse(
      runPython(
        `import sys, json, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
names = [str(n) for n in z['feature_names']]
print(json.dumps({'keys': sorted(z.files), 'integrated': float(z['feature_values'][names.index('integrated_lufs')]),
  'present': bool(z['lufs_present']), 'dtype': str(z['momentary_lufs'].dtype), 'm': int(z['momentary_times_sec'].shape[0]),
  'first_time': float(z['momentary_times_sec'][0]), 'producer': z['meta'].item()['producer']}))`,
        [result.file],
      ),
    ) as Record<string, unknown>;
    expect(out).toEqual({
      keys: ['feature_names', 'feature_values', 'lufs_present', 'meta', 'momentary_lufs', 'momentary_times_sec', 'short_term_lufs', 'short_term_times_sec'],
      integrated: result.features.integrated_lufs,
      present: true,
      dtype: 'float32',
      m: 57,
      first_time: Math.fround(0.2),
      producer: 'loudness_extractor',
    });
  });
});

describe('loudness_extractor without usable audio', () => {
  it('a video without an audio stream is empty with audio_missing_or_extract_failed, NaN features and no series', async () => {
    const result = await loudnessOf(await fixtures.synthVideo(null, 48_000, 2));
    expect((await validateNpzFile(result.file)).problems).toEqual([]);
    expect([result.status, result.reason]).toEqual(['empty', 'audio_missing_or_extract_failed']);
    expect(result.lufsPresent).toBe(false);
    expect(Object.values(result.features).every(Number.isNaN)).toBe(true);
    expect([result.momentary.length, result.shortTerm.length]).toEqual([0, 0]);
    expect(result.notes).toEqual(['the video has no audio stream']);
  });

  it('a silent track (digital zeros) is empty with audio_missing_or_extract_failed: levels −∞, LUFS undefined (NaN)', async () => {
    const result = await loudnessOf(await fixtures.synthVideo(['0', '0'], 48_000, 4));
    expect((await validateNpzFile(result.file)).problems).toEqual([]);
    expect([result.status, result.reason]).toEqual(['empty', 'audio_missing_or_extract_failed']);
    expect(result.meta.silent).toBe(true);
    expect(result.notes.some((note) => note.includes('silent'))).toBe(true);
    expect(result.lufsPresent).toBe(false);
    for (const name of ['integrated_lufs', 'relative_gate_lufs', 'loudness_range_lu', 'rms_p50_dbfs', 'crest_factor_db']) expect(result.features[name], name).toBeNaN();
    for (const name of ['sample_peak_dbfs', 'true_peak_dbtp', 'rms_dbfs', 'momentary_max_lufs', 'short_term_max_lufs']) expect(result.features[name], name).toBe(-Infinity);
    expect(result.features.silent_fraction).toBe(1);
    expect(result.momentary.length).toBe(37);
    expect(Array.from(result.momentary).every((l) => l === -Infinity)).toBe(true);
  });

  it('a track below the absolute gate everywhere (−90 dBFS) is silent too, with its real peak level', async () => {
    const result = await loudnessOf(await fixtures.synthVideo([sine(-90), sine(-90)], 48_000, 3));
    expect([result.status, result.reason]).toEqual(['empty', 'audio_missing_or_extract_failed']);
    expect(result.features.sample_peak_dbfs).toBeCloseTo(-90, 1);
    expect(result.features.momentary_max_lufs).toBeCloseTo(-90, 0);
  });

  it('audio shorter than one 400 ms block is empty with video_too_short', async () => {
    const result = await loudnessOf(await fixtures.synthVideo([sine(-20)], 48_000, 0.3));
    expect((await validateNpzFile(result.file)).problems).toEqual([]);
    expect([result.status, result.reason]).toEqual(['empty', 'video_too_short']);
    expect(result.momentary.length).toBe(0);
    expect(result.features.sample_peak_dbfs).toBeCloseTo(-20, 1);
  });

  it.skipIf(!numpyAvailableOrCi)('the silent artifact keeps −inf and NaN through NumPy', async () => {
    const result = await loudnessOf(await fixtures.synthVideo(['0', '0'], 48_000, 4));
    const out = runPython(
      `import sys, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
v = dict(zip([str(n) for n in z['feature_names']], z['feature_values']))
print(np.isneginf(v['sample_peak_dbfs']), np.isnan(v['integrated_lufs']), bool(np.isneginf(z['momentary_lufs']).all()), bool(z['lufs_present']))`,
      [result.file],
    );
    expect(out.trim()).toBe('True True True False');
  });
});

describe('loudness_extractor on a real clip', () => {
  it('grid_bbaf2n.mpg (MPEG-1 with MP2 stereo speech) agrees with ffmpeg’s ebur128 within 0.2 LU', async () => {
    const result = await loudnessOf(GRID);
    expect(result.status).toBe('ok');
    const ffmpeg = await locateFfmpeg();
    const { stderr } = await run(ffmpeg.path, ['-hide_banner', '-nostats', '-i', GRID, '-map', '0:a:0', '-af', 'ebur128', '-f', 'null', '-']);
    const integrated = Number(/I:\s+(-?[\d.]+) LUFS/.exec(stderr.slice(stderr.lastIndexOf('Summary:')))![1]);
    expect(Math.abs(result.features.integrated_lufs! - integrated)).toBeLessThan(0.2);
  });
});

describe('loudness_extractor as a pipeline component', () => {
  it('is registered, reads audio only, and takes no configuration', () => {
    const definition = componentDefinition('loudness_extractor');
    expect(definition).toMatchObject({ kind: 'audio', schemaVersion: 'audio_npz_v2', dependencies: [] });
    expect(definition.uses).toEqual({ frames: false, signals: false, audio: true, metadata: false, snapshots: false });
    expect(definition.parseConfig(undefined)).toEqual({});
    const error = (() => {
      try {
        definition.parseConfig({ gate: -60 });
      } catch (e) {
        return e;
      }
    })();
    expect(isTrendflowError(error) && error.code).toBe('invalid_argument');
  });
});
