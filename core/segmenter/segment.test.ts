/**
 * segmentVideo end to end on small videos generated with ffmpeg lavfi (test/helpers/video-fixtures.ts): the
 * analysis timeline and size, cut candidates, the union and per-component indices, pixels, caps, bad input and
 * cleanup. Every check of a finished frames_dir goes through `checkFramesDir`.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { dominant, meanAbsDiff, meanRgb, VideoFixtures } from '../../test/helpers/video-fixtures.js';
import { TrendflowError, type ErrorCode } from '../contracts/errors.js';
import { SAMPLING_POLICY_VERSION } from '../contracts/version.js';
import { getArray, readNpzFile } from '../npz/index.js';
import { FrameManager } from './frame-manager.js';
import { readFramesMetadata, type FramesMetadata } from './metadata.js';
import { probeVideo } from '../video/index.js';
import { FRAME_COMPONENTS, planSampling, SAMPLING_REQUIREMENTS } from './policy.js';
import { segmentVideo, type SegmentOptions } from './segment.js';

let fx: VideoFixtures;
beforeAll(async () => {
  fx = await VideoFixtures.create();
});
afterAll(async () => {
  await fx?.cleanup();
});
const tmp = useTempDirs('segment-');

async function segment(file: string, options: Partial<SegmentOptions> = {}) {
  const parent = await tmp();
  const outDir = path.join(parent, 'frames');
  const result = await segmentVideo(file, { outDir, durable: false, ...options });
  expect(result.frames_dir).toBe(outDir);
  const meta = result.metadata;
  await checkFramesDir(outDir, meta);
  return { parent, outDir, meta };
}

function strictlyIncreasing(values: readonly number[]): boolean {
  return values.every((v, k) => k === 0 || v > values[k - 1]!);
}

/** Analysis-timeline indices of a component's frames. */
function sourceIndices(meta: FramesMetadata, component: keyof FramesMetadata & string): number[] {
  const entry = meta[component as 'core_clip'];
  if (!entry) throw new Error(`no ${component}`);
  return entry.frame_indices.map((u) => meta.union_frame_indices_source[u]!);
}

/** The invariants of every finished frames_dir. */
async function checkFramesDir(outDir: string, meta: FramesMetadata): Promise<void> {
  // metadata.json on disk is what segmentVideo returned, and passes the reader's own checks
  expect(await readFramesMetadata(outDir)).toEqual(JSON.parse(JSON.stringify(meta)));
  expect(meta.sampling_policy_version).toBe(SAMPLING_POLICY_VERSION);
  expect((await readdir(outDir)).sort()).toEqual(['frames.npy', 'metadata.json', 'signals.npz']);
  const { frame_count: n, analysis_width: w, analysis_height: h, analysis_frame_count: total } = meta;
  expect(meta.frame_shape).toEqual([n, h, w, 3]);
  expect(n).toBeGreaterThan(0);
  expect(n).toBeLessThanOrEqual(total);
  expect(n).toBeLessThanOrEqual(meta.sampling.union_bound);
  // frames.npy: header + exactly N frames
  const size = (await stat(path.join(outDir, 'frames.npy'))).size;
  expect(meta.ingest.frames_bytes).toBe(size);
  expect((size - n * w * h * 3) % 64).toBe(0);

  // the union: sorted analysis indices in range, real times on the analysis timeline
  const { num, den } = meta.analysis_fps_rational;
  expect(num / den).toBeCloseTo(meta.analysis_fps, 9);
  expect(meta.union_frame_indices_source).toHaveLength(n);
  expect(meta.union_timestamps_sec).toHaveLength(n);
  expect(strictlyIncreasing(meta.union_frame_indices_source)).toBe(true);
  expect(strictlyIncreasing(meta.union_timestamps_sec)).toBe(true);
  meta.union_frame_indices_source.forEach((index, k) => {
    expect(Number.isInteger(index) && index >= 0 && index < total).toBe(true);
    expect(meta.union_timestamps_sec[k]).toBeCloseTo((index * den) / num, 9);
  });

  // per component: sorted, unique, within the union, within its budget; together exactly the union
  const used = new Set<number>();
  expect(meta.components.length).toBeGreaterThan(0);
  for (const name of meta.components) {
    const entry = meta[name]!;
    const indices = entry.frame_indices;
    expect(strictlyIncreasing(indices), name).toBe(true);
    expect(indices.every((u) => Number.isInteger(u) && u >= 0 && u < n), name).toBe(true);
    expect(indices.length, name).toBeGreaterThan(0);
    expect(indices.length, name).toBeLessThanOrEqual(entry.budget.max);
    expect(entry.budget.max, name).toBeLessThanOrEqual(total);
    expect(entry.counts.total).toBe(indices.length);
    for (const u of indices) used.add(u);
  }
  expect(used.size).toBe(n);
  for (const name of Object.keys(meta.sampling.components_without_frames)) expect(meta).not.toHaveProperty(name);

  // cut candidates: sorted, in range, same in metadata.json and signals.npz
  const cuts = meta.cheap_signals.cut_candidates;
  expect(cuts).toHaveLength(meta.cheap_signals.cut_candidate_count);
  expect(strictlyIncreasing(cuts.map((c) => c.index))).toBe(true);
  for (const c of cuts) {
    expect(c.index).toBeGreaterThan(0);
    expect(c.index).toBeLessThan(total);
    expect(c.time_sec).toBeCloseTo((c.index * den) / num, 9);
  }
  const signals = await readNpzFile(path.join(outDir, 'signals.npz'));
  const time = getArray(signals, 'time_sec', 'float64');
  expect(time.shape).toEqual([total]);
  for (const key of ['luma', 'hist_diff', 'motion'] as const) expect(getArray(signals, key, 'float32').shape).toEqual([total]);
  expect(Array.from(getArray(signals, 'cut_candidate_indices', 'int32').data)).toEqual(cuts.map((c) => c.index));
  expect(time.data[total - 1]).toBeCloseTo(((total - 1) * den) / num, 9);
}

/** Frames read back from frames.npy through FrameManager. */
async function storedFrames(outDir: string): Promise<Uint8Array[]> {
  const frames = await FrameManager.open(outDir);
  try {
    const batch = await frames.getBatch(Array.from({ length: frames.count }, (_, k) => k));
    return batch.frames.map((f) => f.data);
  } finally {
    await frames.close();
  }
}

/** Nothing at outDir and no temporary folder beside it. */
async function expectNothingLeft(parent: string): Promise<void> {
  expect(await readdir(parent)).toEqual([]);
}

describe('segmentVideo: timeline, size and cut candidates', () => {
  it('known hard cuts become cut candidates; a one-frame flash does not', async () => {
    const { meta } = await segment(await fx.hardCuts());
    expect(meta.analysis_fps).toBe(12);
    expect(meta.analysis_frame_count).toBe(96);
    expect([meta.analysis_width, meta.analysis_height]).toEqual([160, 90]);
    const times = meta.cheap_signals.cut_candidates.map((c) => c.time_sec);
    // the three cuts (2, 4, 6 s) to the analysis frame, nothing else (the flash at 7.0 s is not a cut)
    expect(times).toHaveLength(3);
    [2, 4, 6].forEach((t, k) => expect(Math.abs(times[k]! - t)).toBeLessThanOrEqual(1 / 12 + 1e-9));
    expect(meta.cheap_signals.cut_candidates.every((c) => c.score > 0.5)).toBe(true);
    // every frame of a short video is stored, and cut_detection has both sides of every cut
    expect(meta.frame_count).toBe(96);
    const cutDetection = new Set(sourceIndices(meta, 'cut_detection'));
    for (const c of meta.cheap_signals.cut_candidates) for (const f of [c.index - 2, c.index - 1, c.index, c.index + 1]) expect(cutDetection.has(f)).toBe(true);
  });

  it('rotation: a 90° display tag yields portrait frames, turned the right way', async () => {
    const { meta, outDir } = await segment(await fx.rotated());
    expect([meta.source.width, meta.source.height]).toEqual([80, 48]);
    expect([meta.source.display_width, meta.source.display_height]).toEqual([48, 80]);
    expect([90, 270]).toContain(meta.source.rotation_deg);
    expect([meta.analysis_width, meta.analysis_height]).toEqual([48, 80]);
    expect(meta.frame_shape).toEqual([meta.frame_count, 80, 48, 3]);
    expect(meta.below_min_resolution).toBe(true);
    const [first] = await storedFrames(outDir);
    const top = dominant(meanRgb(first!, 48, 4, 4, 44, 30));
    const bottom = dominant(meanRgb(first!, 48, 4, 50, 44, 76));
    // stored red-left/blue-right: turned 90° clockwise the left edge goes to the top, 270° to the bottom
    expect(top + bottom).toBe(meta.source.rotation_deg === 90 ? 'RB' : 'BR');
  });

  it('variable frame rate: timestamps are real times, and colours change where the source does', async () => {
    const file = await fx.vfr();
    const { meta, outDir } = await segment(file);
    expect(meta.source.is_variable_frame_rate).toBe(true);
    // not lowered to the (mean) source rate, and not index / mean fps
    expect(meta.analysis_fps).toBe(12);
    expect(meta.source.fps).not.toBeCloseTo(12, 0);
    expect(meta.analysis_frame_count).toBeGreaterThanOrEqual(36);
    expect(meta.analysis_frame_count).toBeLessThanOrEqual(37);
    const frames = await storedFrames(outDir);
    // red to 1.03 s, green to 2.03 s, blue after: each stored frame shows the colour at its timestamp
    meta.union_timestamps_sec.forEach((t, k) => {
      const expected = t < 1.03 ? 'R' : t < 2.03 ? 'G' : 'B';
      expect(dominant(meanRgb(frames[k]!, 32, 0, 0, 32, 24)), `frame at ${t} s`).toBe(expected);
    });
    // the changes are the first analysis instants after 1.03 s and 2.03 s (13/12 and 25/12)
    expect(meta.cheap_signals.cut_candidates.map((c) => c.index)).toEqual([13, 25]);
    const at10 = await segment(file, { analysisFps: 10 });
    expect(at10.meta.analysis_fps).toBe(10);
    expect(at10.meta.cheap_signals.cut_candidates.map((c) => c.time_sec)).toEqual([1.1, 2.1]);
  });

  it('a 128x72 source stays 128x72 (no upscale) and is marked below the minimum resolution', async () => {
    const { meta, outDir } = await segment(await fx.tone128x72());
    expect([meta.analysis_width, meta.analysis_height]).toEqual([128, 72]);
    expect(meta.frame_shape.slice(1)).toEqual([72, 128, 3]);
    expect(meta.below_min_resolution).toBe(true);
    expect(meta.min_short_side).toBe(256);
    expect(meta.source.has_audio).toBe(true);
    expect(meta.analysis_fps).toBe(12); // 25 fps source
    expect(meta.analysis_frame_count).toBe(24);
    const frames = await FrameManager.open(outDir);
    expect([frames.width, frames.height]).toEqual([128, 72]);
    await frames.close();
  });

  it('a 1080x1920 60 fps source is downscaled by its shorter side to the target, at the analysis rate', async () => {
    const { meta } = await segment(await fx.tall60());
    expect([meta.source.width, meta.source.height, meta.source.fps]).toEqual([1080, 1920, 60]);
    expect([meta.analysis_width, meta.analysis_height]).toEqual([360, 640]);
    expect(meta.analysis_short_side_target).toBe(360);
    expect(meta.below_min_resolution).toBe(false);
    expect(meta.analysis_fps).toBe(12);
    expect(meta.analysis_frame_count).toBe(12);
    expect([meta.cheap_signals.width, meta.cheap_signals.height]).toEqual([36, 64]);
    // a smaller target is honoured too
    const small = await segment(await fx.tall60(), { analysisShortSide: 240, analysisFps: 6 });
    expect([small.meta.analysis_width, small.meta.analysis_height]).toEqual([240, 427]);
    expect(small.meta.analysis_frame_count).toBe(6);
  });

  it('the analysis rate is lowered to a constant source rate below it (no duplicated frames)', async () => {
    const { meta } = await segment(await fx.colors());
    expect(meta.source.fps).toBe(10);
    expect(meta.analysis_fps).toBe(10);
    expect(meta.analysis_fps_requested).toBe(12);
    expect(meta.analysis_frame_count).toBe(30);
    expect(meta.cheap_signals.cut_candidates.map((c) => c.index)).toEqual([10, 20]);
  });
});

describe('segmentVideo: stored pixels', () => {
  it('frames in frames.npy equal the source frames decoded independently at their timestamps', async () => {
    // 24 fps source, 12 fps analysis: analysis instant t is source frame 24·t exactly
    const file = await fx.moving40s();
    const { meta, outDir } = await segment(file, { components: ['core_depth_midas', 'core_optical_flow'] });
    expect(meta.analysis_frame_count).toBe(480);
    expect(meta.frame_count).toBeLessThan(300); // a real subset of the timeline
    const source = await fx.decodeAllRgb(file, null, 64, 36);
    expect(source).toHaveLength(960);
    const stored = await storedFrames(outDir);
    meta.union_timestamps_sec.forEach((t, k) => {
      const j = Math.round(t * 24);
      expect(Math.abs(j - t * 24)).toBeLessThan(1e-6);
      const diff = meanAbsDiff(stored[k]!, source[j]!);
      expect(diff, `union frame ${k} at ${t} s`).toBeLessThan(1);
      // the neighbours are clearly different, so the match identifies the frame
      for (const other of [j - 1, j + 1]) {
        if (other >= 0 && other < source.length) expect(meanAbsDiff(stored[k]!, source[other]!)).toBeGreaterThan(diff + 1);
      }
    });
  });

  it('downscaled frames match an independent decode and scale within codec tolerance', async () => {
    const file = await fx.tall60();
    const { meta, outDir } = await segment(file);
    // the segmenter's scaler: area averaging, BT.709 for untagged HD (core/video README)
    const source = await fx.decodeAllRgb(file, 'scale=360:640:flags=area:in_color_matrix=bt709', 360, 640);
    expect(source).toHaveLength(60);
    const stored = await storedFrames(outDir);
    meta.union_timestamps_sec.forEach((t, k) => {
      const j = Math.round(t * 60);
      const diff = meanAbsDiff(stored[k]!, source[j]!);
      expect(diff, `frame at ${t} s`).toBeLessThan(2);
      for (const other of [j - 1, j + 1]) {
        if (other >= 0 && other < source.length) expect(meanAbsDiff(stored[k]!, source[other]!)).toBeGreaterThan(diff);
      }
    });
  });
});

describe('segmentVideo: sampling, budgets and caps', () => {
  it('a 25-minute video stores no more frames than the caps allow; uniform samples cover start, middle and end', async () => {
    const file = await fx.longLowRes();
    const { meta } = await segment(file);
    expect(meta.source.duration_sec).toBeCloseTo(1500, 0);
    expect(meta.analysis_fps).toBe(4);
    const total = meta.analysis_frame_count;
    expect(total).toBe(6000);
    const plan = planSampling(FRAME_COMPONENTS, 1500, 6000);
    expect(meta.sampling.union_bound).toBe(plan.union_bound);
    expect(meta.frame_count).toBeLessThanOrEqual(plan.union_bound);
    expect(plan.union_bound).toBeLessThan(total / 2);
    for (const name of FRAME_COMPONENTS) {
      const requirement = SAMPLING_REQUIREMENTS[name];
      if (requirement.frames !== 'sampled') throw new Error('unreachable');
      const frames = sourceIndices(meta, name);
      expect(frames.length, name).toBeLessThanOrEqual(requirement.budget.max);
      expect(frames.length, name).toBeGreaterThanOrEqual(requirement.budget.min);
      // start, middle and end
      expect(frames[0], name).toBe(0);
      expect(frames[frames.length - 1], name).toBe(total - 1);
      expect(frames.some((f) => Math.abs(f - (total - 1) / 2) <= 1), name).toBe(true);
    }
    // 749 colour changes, and the candidate shots each got a core_clip and a shot_quality frame
    expect(meta.cheap_signals.cut_candidate_count).toBeGreaterThanOrEqual(700);
    expect(meta.cheap_signals.cut_candidate_count).toBeLessThanOrEqual(749);
    const cuts = meta.cheap_signals.cut_candidates.map((c) => c.index);
    for (const name of ['core_clip', 'shot_quality'] as const) {
      const frames = sourceIndices(meta, name);
      const bounds = [0, ...cuts, total];
      let uncovered = 0;
      for (let k = 1; k < bounds.length; k++) {
        const [start, end] = [bounds[k - 1]!, bounds[k]!];
        if (!frames.some((f) => f >= start && f < end)) uncovered++;
      }
      expect(uncovered, name).toBe(meta[name]!.shots_uncovered);
      expect(uncovered, name).toBe(0);
    }
    // cut_detection's dense windows were refused once its allowance was used, not exceeded
    expect(meta.cut_detection!.events_refused).toBeGreaterThan(0);
    expect(meta.cut_detection!.frame_indices.length).toBe(1500);
  });

  it('short videos: never more frames than exist; a single-frame video works', async () => {
    const { meta } = await segment(await fx.colors());
    for (const name of meta.components) {
      expect(meta[name]!.budget.max).toBeLessThanOrEqual(30);
      expect(meta[name]!.budget.min).toBeLessThanOrEqual(30);
    }
    expect(meta.frame_count).toBe(30);

    const one = await segment(await fx.singleFrame());
    expect(one.meta.analysis_frame_count).toBe(1);
    expect(one.meta.frame_count).toBe(1);
    for (const name of one.meta.components) expect(one.meta[name]!.frame_indices).toEqual([0]);
  });

  it('components that need no frames get none; unknown components are refused', async () => {
    const file = await fx.colors();
    const { meta } = await segment(file, { components: ['core_clip', 'loudness_extractor', 'tempo_extractor', 'clap_extractor'] });
    expect(meta.components).toEqual(['core_clip']);
    expect(Object.keys(meta.sampling.components_without_frames).sort()).toEqual(['clap_extractor', 'loudness_extractor', 'tempo_extractor']);
    expect(meta.sampling.components_without_frames.loudness_extractor).toBe('audio');
    for (const name of ['loudness_extractor', 'tempo_extractor', 'clap_extractor', 'core_depth_midas']) expect(meta).not.toHaveProperty(name);

    // by default: every component that needs frames, and none of the others
    const all = await segment(file);
    expect(all.meta.components).toEqual(FRAME_COMPONENTS);
    expect(all.meta).not.toHaveProperty('loudness_extractor');

    // audio components only: no frames at all, but the cheap signals (video_pacing reads them) are still there
    const audioOnly = path.join(await tmp(), 'audio-only');
    const { metadata } = await segmentVideo(file, { outDir: audioOnly, components: ['loudness_extractor', 'clap_extractor'] });
    expect(metadata).toMatchObject({ frame_count: 0, components: [], union_frame_indices_source: [], analysis_frame_count: 30 });
    expect(metadata.frame_shape).toEqual([0, 48, 64, 3]);
    expect(metadata.cheap_signals.cut_candidate_count).toBe(2);
    const none = await FrameManager.open(audioOnly);
    expect(none.count).toBe(0);
    await expect(none.get(0)).rejects.toMatchObject({ code: 'frame_index_out_of_range' });
    await none.close();

    const parent = await tmp();
    await expect(segmentVideo(file, { outDir: path.join(parent, 'x'), components: ['nope' as 'core_clip'] })).rejects.toMatchObject({
      code: 'invalid_argument',
    });
    await expectNothingLeft(parent);
  });
});

describe('segmentVideo: bad input and the output folder', () => {
  async function expectFailure(file: string, code: ErrorCode, options: Partial<SegmentOptions> = {}): Promise<TrendflowError> {
    const parent = await tmp();
    const error = await segmentVideo(file, { outDir: path.join(parent, 'frames'), ...options }).catch((e: unknown) => e);
    expect(error, `${path.basename(file)} → ${code}`).toBeInstanceOf(TrendflowError);
    const coded = error as TrendflowError;
    expect(coded.code, `${path.basename(file)}: ${coded.message}`).toBe(code);
    // no frames_dir, and no temporary folder beside it
    await expectNothingLeft(parent);
    return coded;
  }

  it('each bad input gets its coded error naming the file, and leaves nothing behind', async () => {
    const cases: Array<[string, ErrorCode]> = [
      [await fx.empty(), 'video_empty_file'],
      [await fx.truncatedIndexMissing(), 'video_unreadable'],
      [await fx.truncatedFaststart(), 'video_truncated'],
      [await fx.randomBytes(), 'video_unreadable'],
      [await fx.textFile('notes.txt'), 'video_unreadable'],
      [await fx.textFile('notes.mp4'), 'video_unreadable'],
      [await fx.wav('tone.wav'), 'video_no_video_stream'],
      [await fx.m4a(), 'video_no_video_stream'],
      [await fx.zeroDuration(), 'video_zero_duration'],
      [fx.path('missing.mp4'), 'video_not_found'],
    ];
    for (const [file, code] of cases) {
      const error = await expectFailure(file, code);
      expect(error.details.path).toBe(file);
    }
  });

  it('a decoder failure after the temporary folder was made leaves nothing either', async () => {
    const file = await fx.colors();
    const probe = await probeVideo(file);
    // a stream index that does not exist: ffmpeg fails once the decode has started
    const error = await expectFailure(file, 'video_decode_failed', { probe: { ...probe, video: { ...probe.video, index: 7 } } });
    expect(error.details.path).toBe(file);
  });

  it('refuses out-of-range parameters before doing anything', async () => {
    const file = await fx.colors();
    await expectFailure(file, 'invalid_argument', { analysisFps: 0 });
    await expectFailure(file, 'invalid_argument', { analysisFps: 100 });
    await expectFailure(file, 'invalid_argument', { analysisShortSide: 1000 });
  });

  it('a non-ASCII path works (input and output)', async () => {
    const file = await fx.nonAscii();
    const parent = await tmp();
    const outDir = path.join(parent, 'кадры 帧 ✓');
    const { metadata } = await segmentVideo(file, { outDir });
    expect(metadata.source.path).toBe(file);
    expect(metadata.frame_count).toBe(30);
    await checkFramesDir(outDir, metadata);
    const frames = await storedFrames(outDir);
    expect(frames.map((f) => dominant(meanRgb(f, 64, 0, 0, 64, 48))).join('')).toBe('R'.repeat(10) + 'G'.repeat(10) + 'B'.repeat(10));
    expect(await readdir(parent)).toEqual(['кадры 帧 ✓']);
  });

  it('an existing non-empty output folder or a file → frames_dir_exists, left untouched; an empty folder is used', async () => {
    const file = await fx.colors();
    const parent = await tmp();
    const busy = path.join(parent, 'busy');
    await mkdir(busy);
    await writeFile(path.join(busy, 'keep.txt'), 'mine');
    await expect(segmentVideo(file, { outDir: busy })).rejects.toMatchObject({ code: 'frames_dir_exists', details: { path: busy } });
    expect(await readdir(busy)).toEqual(['keep.txt']);
    const aFile = path.join(parent, 'a-file');
    await writeFile(aFile, 'x');
    await expect(segmentVideo(file, { outDir: aFile })).rejects.toMatchObject({ code: 'frames_dir_exists' });
    expect(await readFile(aFile, 'utf8')).toBe('x');

    const empty = path.join(parent, 'empty');
    await mkdir(empty);
    const { metadata } = await segmentVideo(file, { outDir: empty });
    await checkFramesDir(empty, metadata);
    // a finished frames_dir is never overwritten
    await expect(segmentVideo(file, { outDir: empty })).rejects.toMatchObject({ code: 'frames_dir_exists' });
    expect((await readdir(parent)).sort()).toEqual(['a-file', 'busy', 'empty']);
  });

  it('an abort via AbortSignal stops ffmpeg and leaves nothing', async () => {
    const file = await fx.longLowRes();
    const parent = await tmp();
    const controller = new AbortController();
    let progressCalls = 0;
    const run = segmentVideo(file, {
      outDir: path.join(parent, 'frames'),
      signal: controller.signal,
      onProgress: (p) => {
        progressCalls++;
        if (p.frames >= 100) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(progressCalls).toBeGreaterThan(0);
    await expectNothingLeft(parent);

    // aborted before it starts
    const already = new AbortController();
    already.abort();
    await expect(segmentVideo(file, { outDir: path.join(parent, 'frames'), signal: already.signal })).rejects.toMatchObject({ name: 'AbortError' });
    await expectNothingLeft(parent);
  });

  it('an abort after the last frame is decoded, before the frames_dir is moved into place, still leaves nothing', async () => {
    const file = await fx.colors(); // 30 analysis frames: progress at 1, 13, 25 while decoding, then 30 at the end
    const parent = await tmp();
    const controller = new AbortController();
    const seen: number[] = [];
    const run = segmentVideo(file, {
      outDir: path.join(parent, 'frames'),
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p.frames);
        if (p.frames === 30) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen[seen.length - 1]).toBe(30);
    await expectNothingLeft(parent);
  });

  it('removes temporary folders left by a crashed segmenter, never those of a live one', async () => {
    const file = await fx.colors();
    const parent = await tmp();
    let dead = 4_000_000;
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'EPERM';
      }
    };
    while (alive(dead)) dead++;
    const stale = path.join(parent, `.frames.partial-${dead}-0badc0de`);
    const live = path.join(parent, `.frames.partial-${process.ppid}-0badc0de`);
    await mkdir(stale);
    await writeFile(path.join(stale, 'frames.npy'), 'half');
    await mkdir(live);
    await segmentVideo(file, { outDir: path.join(parent, 'frames') });
    expect((await readdir(parent)).sort()).toEqual([path.basename(live), 'frames']);
  });
});
