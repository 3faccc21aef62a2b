import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTrendflowError } from '../../contracts/errors.js';
import { getArray, getMeta, getStringList, readNpzFile, type NpzContents } from '../../npz/index.js';
import { validateNpzFile } from '../../schema/index.js';
import { FrameManager } from '../../segmenter/frame-manager.js';
import { segmentVideo } from '../../segmenter/segment.js';
import { sampleIdentity } from '../../../test/helpers/manifest.js';
import { numpyAvailableOrCi, runPython } from '../../../test/helpers/python.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { meanAbsDiff, VideoFixtures } from '../../../test/helpers/video-fixtures.js';
import { DEFAULT_CUT_DETECTION_PARAMS } from './detect.js';
import { cutDetectionComponent } from './index.js';
import { runCutDetection, THUMBNAIL_HEIGHT, THUMBNAIL_WIDTH } from './run.js';

const tmp = useTempDirs('cut-detection-');
let fixtures: VideoFixtures;

/** The suite's boundaries on the 12 fps analysis timeline (VideoFixtures.cutSuite). */
const SUITE = { hardCuts: [24, 42, 66, 96, 162], flash: 78, pan: [66, 95], fade: 114, dissolve: 138, frames: 180 };

interface Detected {
  framesDir: string;
  runDir: string;
  npz: NpzContents;
  file: string;
}

async function detect(video: string, components: Parameters<typeof segmentVideo>[1]['components'] = ['cut_detection']): Promise<Detected> {
  const work = await tmp();
  const framesDir = path.join(work, 'frames');
  await segmentVideo(video, { outDir: framesDir, components, durable: false });
  const runDir = path.join(work, 'run');
  await runCutDetection({ identity: sampleIdentity(), runDir, framesDir }, DEFAULT_CUT_DETECTION_PARAMS);
  const file = path.join(runDir, 'cut_detection', 'shots.npz');
  return { framesDir, runDir, npz: await readNpzFile(file), file };
}

function boundaries(npz: NpzContents): Array<{ index: number; type: string }> {
  const starts = Array.from(getArray(npz, 'shot_start_index', 'int32').data);
  const types = getStringList(npz, 'transition_type');
  return starts.slice(1).map((index, k) => ({ index, type: types[k + 1]! }));
}

/** Precision, recall and F1 of detected hard cuts against the truth, a match within ±tolerance frames (one-to-one). */
function score(found: number[], truth: number[], tolerance = 1): { precision: number; recall: number; f1: number; matched: number } {
  const free = [...truth];
  let matched = 0;
  for (const f of found) {
    const k = free.findIndex((t) => Math.abs(t - f) <= tolerance);
    if (k >= 0) {
      free.splice(k, 1);
      matched++;
    }
  }
  const precision = found.length ? matched / found.length : 1;
  const recall = truth.length ? matched / truth.length : 1;
  return { precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0, matched };
}

beforeAll(async () => {
  fixtures = await VideoFixtures.create();
});

afterAll(async () => {
  await fixtures?.cleanup();
});

describe('cut_detection on generated shots with known boundaries', () => {
  let suite: Detected;

  beforeAll(async () => {
    suite = await detect(await fixtures.cutSuite());
  });

  it('writes shots.npz that validates against cut_detection_npz_v1, with dependencies and parameters in meta', async () => {
    expect((await validateNpzFile(suite.file)).problems).toEqual([]);
    const meta = getMeta(suite.npz);
    expect(meta).toMatchObject({ producer: 'cut_detection', schema_version: 'cut_detection_npz_v1', status: 'ok', analysis_fps: 12, analysis_frame_count: SUITE.frames });
    expect(Object.keys(meta.dependencies as object).sort()).toEqual(['segmenter/metadata.json', 'segmenter/signals.npz']);
    expect(Object.values(meta.dependencies as object).every((v) => /^sha256:[0-9a-f]{64}$/.test(String(v)))).toBe(true);
    expect(meta.parameters).toEqual({ ...DEFAULT_CUT_DETECTION_PARAMS });
  });

  it('finds the hard cuts with F1 ≥ 0.95 at ±1 analysis frame', () => {
    const hard = boundaries(suite.npz).filter((b) => b.type === 'hard_cut').map((b) => b.index);
    const { f1 } = score(hard, SUITE.hardCuts);
    expect(f1).toBeGreaterThanOrEqual(0.95);
  });

  it('does not cut at the flash or inside the fast pan, and says why the flash is no cut', () => {
    const all = boundaries(suite.npz).map((b) => b.index);
    expect(all.filter((i) => Math.abs(i - SUITE.flash) <= 2)).toEqual([]);
    expect(all.filter((i) => i > SUITE.pan[0]! + 1 && i <= SUITE.pan[1]!)).toEqual([]);
    const rejected = Array.from(getArray(suite.npz, 'rejected_candidate_indices', 'int32').data);
    const reasons = getStringList(suite.npz, 'rejected_candidate_reasons');
    expect(reasons[rejected.indexOf(SUITE.flash)]).toBe('flash');
  });

  it('reports the fade through black as one fade and the cross-dissolve as one dissolve, at their middles', () => {
    const gradual = boundaries(suite.npz).filter((b) => b.type !== 'hard_cut');
    expect(gradual.map((b) => b.type)).toEqual(['fade', 'dissolve']);
    expect(Math.abs(gradual[0]!.index - SUITE.fade)).toBeLessThanOrEqual(1);
    expect(Math.abs(gradual[1]!.index - SUITE.dissolve)).toBeLessThanOrEqual(2);
    // the Segmenter's candidates inside them are absorbed, not reported as cuts
    const reasons = getStringList(suite.npz, 'rejected_candidate_reasons');
    expect(reasons.filter((r) => r === 'inside_transition').length).toBeGreaterThanOrEqual(3);
    const start = getArray(suite.npz, 'transition_start_sec', 'float64').data;
    const end = getArray(suite.npz, 'transition_end_sec', 'float64').data;
    const fadeShot = Array.from(getArray(suite.npz, 'shot_start_index', 'int32').data).indexOf(gradual[0]!.index);
    // fade-out 9.0–9.5 s, fade-in 9.5–10.0 s
    expect(start[fadeShot]).toBeGreaterThanOrEqual(8.9);
    expect(start[fadeShot]).toBeLessThanOrEqual(9.1);
    expect(end[fadeShot]).toBeGreaterThanOrEqual(9.9);
    expect(end[fadeShot]).toBeLessThanOrEqual(10.2);
  });

  it('covers the whole timeline with contiguous shots; the first has no transition (NaN + mask)', () => {
    const start = Array.from(getArray(suite.npz, 'shot_start_index', 'int32').data);
    const end = Array.from(getArray(suite.npz, 'shot_end_index', 'int32').data);
    const startSec = getArray(suite.npz, 'shot_start_sec', 'float64').data;
    const endSec = getArray(suite.npz, 'shot_end_sec', 'float64').data;
    expect(start[0]).toBe(0);
    expect(end[end.length - 1]).toBe(SUITE.frames - 1);
    for (let k = 1; k < start.length; k++) {
      expect(start[k]).toBe(end[k - 1]! + 1);
      expect(startSec[k]).toBeCloseTo(endSec[k - 1]!, 9);
    }
    expect(endSec[endSec.length - 1]).toBeCloseTo(15, 9);
    expect(getStringList(suite.npz, 'transition_type')[0]).toBe('video_start');
    expect(getArray(suite.npz, 'transition_present', 'bool').data[0]).toBe(0);
    expect(getArray(suite.npz, 'transition_confidence', 'float32').data[0]).toBeNaN();
    const confidence = Array.from(getArray(suite.npz, 'transition_confidence', 'float32').data).slice(1);
    expect(confidence.every((c) => c > 0 && c <= 1)).toBe(true);
  });

  it('gives each shot a 160x90 thumbnail of a frame inside it', async () => {
    const thumbs = getArray(suite.npz, 'thumbnails', 'uint8');
    const union = Array.from(getArray(suite.npz, 'thumbnail_union_index', 'int32').data);
    const start = Array.from(getArray(suite.npz, 'shot_start_index', 'int32').data);
    const end = Array.from(getArray(suite.npz, 'shot_end_index', 'int32').data);
    expect(thumbs.shape).toEqual([start.length, THUMBNAIL_HEIGHT, THUMBNAIL_WIDTH, 3]);
    expect(Array.from(getArray(suite.npz, 'thumbnail_present', 'bool').data).every(Boolean)).toBe(true);
    const frames = await FrameManager.open(suite.framesDir);
    const size = THUMBNAIL_HEIGHT * THUMBNAIL_WIDTH * 3;
    const halvings: Uint8Array[] = [];
    try {
      for (let k = 0; k < start.length; k++) {
        const source = frames.metadata.union_frame_indices_source[union[k]!]!;
        expect(source).toBeGreaterThanOrEqual(start[k]!);
        expect(source).toBeLessThanOrEqual(end[k]!);
        // 320x180 → 160x90 halves the frame: compare with its 2x2 average
        const frame = (await frames.get(union[k]!)).data;
        const halved = new Uint8Array(size);
        for (let y = 0; y < THUMBNAIL_HEIGHT; y++) {
          for (let x = 0; x < THUMBNAIL_WIDTH; x++) {
            for (let c = 0; c < 3; c++) {
              const at = (yy: number, xx: number) => frame[(yy * 320 + xx) * 3 + c]!;
              halved[(y * THUMBNAIL_WIDTH + x) * 3 + c] = (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1)) / 4;
            }
          }
        }
        halvings.push(halved);
      }
    } finally {
      await frames.close();
    }
    // each thumbnail shows its own frame: nearer to it than to any other shot's (lanczos rings on the test patterns)
    for (let k = 0; k < start.length; k++) {
      const picture = thumbs.data.subarray(k * size, (k + 1) * size);
      const own = meanAbsDiff(picture, halvings[k]!);
      expect(own).toBeLessThan(25);
      halvings.forEach((other, j) => j !== k && expect(own).toBeLessThan(meanAbsDiff(picture, other)));
    }
  });

  it.skipIf(!numpyAvailableOrCi)('loads in NumPy: shots, str transition types, uint8 thumbnails, meta dict', () => {
    const out = runPython(
      `import sys, json, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
m = z['meta'].item()
print(json.dumps({'types': [str(t) for t in z['transition_type']], 'thumbs': [str(z['thumbnails'].dtype), list(z['thumbnails'].shape)],
  'first_conf_nan': bool(np.isnan(z['transition_confidence'][0])), 'cover': float(z['shot_end_sec'][-1] - z['shot_start_sec'][0]),
  'producer': m['producer'], 'deps': sorted(m['dependencies'])}))`,
      [suite.file],
    );
    const parsed = JSON.parse(out) as { types: string[]; thumbs: [string, number[]]; first_conf_nan: boolean; cover: number; producer: string; deps: string[] };
    expect(parsed.types).toEqual(getStringList(suite.npz, 'transition_type'));
    expect(parsed.thumbs).toEqual(['uint8', [parsed.types.length, 90, 160, 3]]);
    expect(parsed.first_conf_nan).toBe(true);
    expect(parsed.cover).toBeCloseTo(15, 9);
    expect(parsed).toMatchObject({ producer: 'cut_detection', deps: ['segmenter/metadata.json', 'segmenter/signals.npz'] });
  });
});

describe('cut_detection when the Segmenter stores only part of the frames (a 60 s video)', () => {
  it('finds the same boundaries every 15 s, plus the cuts where the loops join', async () => {
    const long = await detect(await fixtures.cutSuiteLong());
    const frames = await FrameManager.open(long.framesDir);
    const stored = frames.frameIndices('cut_detection').length;
    await frames.close();
    expect(stored).toBeLessThan(720);
    const found = boundaries(long.npz);
    const truthHard = [0, 1, 2, 3].flatMap((loop) => [...SUITE.hardCuts.map((c) => c + 180 * loop), ...(loop > 0 ? [180 * loop] : [])]);
    expect(score(found.filter((b) => b.type === 'hard_cut').map((b) => b.index), truthHard).f1).toBeGreaterThanOrEqual(0.95);
    const gradual = found.filter((b) => b.type !== 'hard_cut');
    expect(gradual.map((b) => b.type)).toEqual(['fade', 'dissolve', 'fade', 'dissolve', 'fade', 'dissolve', 'fade', 'dissolve']);
    gradual.forEach((b, k) => expect(Math.abs(b.index - ((k % 2 ? SUITE.dissolve : SUITE.fade) + 180 * Math.floor(k / 2)))).toBeLessThanOrEqual(2));
  });
});

describe('cut_detection on a slow dissolve between pictures of the same colours', () => {
  it('reports one dissolve at its middle (2 s, frame 24), not a string of cuts', async () => {
    const mirror = await detect(await fixtures.mirrorDissolve());
    const found = boundaries(mirror.npz);
    expect(found.map((b) => b.type)).toEqual(['dissolve']);
    expect(Math.abs(found[0]!.index - 24)).toBeLessThanOrEqual(2);
  });
});

/** Real clip from ../shared/media (read-only, never copied into the repository). */
const SINTEL = new URL('../../../../shared/media/zwm_clip_03_sintel.mp4', import.meta.url).pathname;

/**
 * Hard cuts of the Sintel clip (10 s, 24 fps) on the 12 fps analysis timeline, annotated by eye for this test: the
 * first frame of each new shot. Checked on a contact sheet of all 120 analysis frames and, at the 24 fps source,
 * on frames 44–51, 72–97, 118–133 and 172–183. Not cuts: analysis frame 24 (a fast tilt up to the jumping
 * attacker), 40 (source 78→79: a whip pan as Sintel leaps at the attacker, same pose and fog around him), 62
 * (source 123→124: the camera swings past her arm) and 90 (source 179→180: both fighters fall into a static shot
 * of the rocks, whose background stays).
 */
const SINTEL_CUTS = [29, 38, 48, 59, 70, 88, 105];

describe.skipIf(!existsSync(SINTEL) && !process.env.CI)('cut_detection on real media', () => {
  it('Sintel (many fast cuts): precision and recall against cuts annotated by eye', async () => {
    const sintel = await detect(SINTEL);
    const hard = boundaries(sintel.npz).filter((b) => b.type === 'hard_cut').map((b) => b.index);
    const result = score(hard, SINTEL_CUTS);
    // measured: recall 7/7; precision 7/9 (the whip pan at 40 and the fall into frame at 90 look like cuts to
    // colour and pixel statistics: whole-frame change in one step, nothing returns)
    console.info(`cut_detection on Sintel: found ${JSON.stringify(hard)}, precision ${result.precision.toFixed(2)}, recall ${result.recall.toFixed(2)}`);
    expect(result.recall).toBe(1);
    expect(result.precision).toBeGreaterThanOrEqual(0.75);
    expect(boundaries(sintel.npz).filter((b) => b.type !== 'hard_cut')).toEqual([]);
  });
});

describe('cut_detection refuses to guess', () => {
  it('a frames_dir without cut_detection frame_indices is sampling_missing', async () => {
    const work = await tmp();
    const framesDir = path.join(work, 'frames');
    await segmentVideo(await fixtures.colors(), { outDir: framesDir, components: ['core_clip'], durable: false });
    const error = await runCutDetection({ identity: sampleIdentity(), runDir: work, framesDir }, DEFAULT_CUT_DETECTION_PARAMS).catch((e: unknown) => e);
    expect(isTrendflowError(error) && error.code).toBe('sampling_missing');
  });

  it('a config with an unknown key or a value out of range is invalid_argument', () => {
    expect(cutDetectionComponent.parseConfig({})).toEqual(DEFAULT_CUT_DETECTION_PARAMS);
    for (const bad of [{ max_transition: 2 }, { hard_cut_share: 2 }, { min_cut_ratio: 0.5 }]) {
      const error = (() => {
        try {
          cutDetectionComponent.parseConfig(bad);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(isTrendflowError(error) && error.code).toBe('invalid_argument');
    }
  });
});
