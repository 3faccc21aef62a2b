import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getArray, getMeta, getStringList, readNpzFile } from '../../npz/index.js';
import { componentDefinition } from '../../pipeline/registry.js';
import { validateNpzFile } from '../../schema/index.js';
import { sampleIdentity } from '../../../test/helpers/manifest.js';
import { numpyAvailableOrCi, runPython } from '../../../test/helpers/python.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { VideoFixtures } from '../../../test/helpers/video-fixtures.js';
import { standaloneRunContext } from '../../../test/helpers/run-context.js';
import { runTempoExtractor, TEMPO_FEATURES } from './run.js';

const tmp = useTempDirs('tempo-');
let fixtures: VideoFixtures;

beforeAll(async () => {
  fixtures = await VideoFixtures.create();
});
afterAll(async () => fixtures?.cleanup());

async function tempoArtifact(video: string) {
  const runDir = await tmp();
  const outcome = await runTempoExtractor(await standaloneRunContext({ videoPath: video, identity: sampleIdentity(), runDir }));
  const file = path.join(runDir, outcome.artifacts[0]!.path);
  const npz = await readNpzFile(file);
  const names = getStringList(npz, 'feature_names');
  const values = getArray(npz, 'feature_values', 'float32').data;
  return {
    outcome,
    file,
    features: Object.fromEntries(names.map((name, i) => [name, values[i]!])),
    estimates: Array.from(getArray(npz, 'tempo_estimates', 'float32').data),
    windowed: Array.from(getArray(npz, 'windowed_bpm', 'float32').data),
    warnings: getStringList(npz, 'warnings'),
    meta: getMeta(npz),
  };
}

describe('tempo_extractor on a video with a 150 BPM click track', () => {
  let result: Awaited<ReturnType<typeof tempoArtifact>>;
  beforeAll(async () => {
    result = await tempoArtifact(await fixtures.synthVideo(['0.5*sin(2*PI*2000*t)*exp(-80*mod(t,0.4))'], 44_100, 12));
  });

  it('is ok and validates, with the tempo, its confidence and a windowed curve', async () => {
    expect((await validateNpzFile(result.file)).problems).toEqual([]);
    expect(result.outcome).toMatchObject({ status: 'ok', empty_reason: null, notes: [] });
    expect(Object.keys(result.features)).toEqual([...TEMPO_FEATURES]);
    expect(Math.abs(result.features.tempo_bpm! / 150 - 1)).toBeLessThan(0.02);
    expect(result.estimates[0]).toBeCloseTo(result.features.tempo_bpm!, 3);
    expect(result.features.tempo_confidence).toBeGreaterThan(0.6);
    expect(result.features.beat_window_fraction).toBe(1);
    expect(result.windowed.length).toBe(3);
    expect(result.warnings).toEqual([]);
    expect(result.meta).toMatchObject({ producer: 'tempo_extractor', schema_version: 'audio_npz_v1', status: 'ok', audio_stream: { channels: 1, sample_rate: 44_100 } });
  });

  it.skipIf(!numpyAvailableOrCi)('loads in NumPy', () => {
    const out = runPython(
      `import sys, json, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
print(json.dumps({'keys': sorted(z.files), 'bpm': float(z['tempo_estimates'][0]), 'w': list(z['windowed_times_sec'].shape), 'warnings': list(z['warnings'])}))`,
      [result.file],
    );
    expect(JSON.parse(out)).toEqual({
      keys: ['feature_names', 'feature_values', 'meta', 'tempo_estimates', 'warnings', 'windowed_bpm', 'windowed_times_sec'],
      bpm: result.estimates[0],
      w: [3],
      warnings: [],
    });
  });
});

describe('tempo_extractor without usable audio', () => {
  it('a video without audio is empty with audio_missing_or_extract_failed and says why in warnings', async () => {
    const result = await tempoArtifact(await fixtures.synthVideo(null, 22_050, 2));
    expect((await validateNpzFile(result.file)).problems).toEqual([]);
    expect([result.outcome.status, result.outcome.empty_reason]).toEqual(['empty', 'audio_missing_or_extract_failed']);
    expect(result.warnings).toEqual(['the video has no audio stream']);
    expect(Object.values(result.features).every(Number.isNaN)).toBe(true);
    expect([result.estimates.length, result.windowed.length]).toEqual([0, 0]);
  });

  it('a silent video is empty with audio_missing_or_extract_failed and a silence warning', async () => {
    const result = await tempoArtifact(await fixtures.synthVideo(['0', '0'], 48_000, 4));
    expect((await validateNpzFile(result.file)).problems).toEqual([]);
    expect([result.outcome.status, result.outcome.empty_reason]).toEqual(['empty', 'audio_missing_or_extract_failed']);
    expect(result.warnings).toEqual([expect.stringContaining('silent')]);
  });

  it('audio shorter than 2 s is empty with video_too_short', async () => {
    const result = await tempoArtifact(await fixtures.synthVideo(['0.3*sin(2*PI*440*t)'], 22_050, 1.5));
    expect([result.outcome.status, result.outcome.empty_reason]).toEqual(['empty', 'video_too_short']);
  });
});

describe('tempo_extractor as a pipeline component', () => {
  it('is registered and reads audio only', () => {
    const definition = componentDefinition('tempo_extractor');
    expect(definition).toMatchObject({ kind: 'audio', schemaVersion: 'audio_npz_v1', dependencies: [] });
    expect(definition.uses.audio).toBe(true);
    expect(definition.uses.frames).toBe(false);
  });
});
