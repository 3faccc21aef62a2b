/**
 * segmentVideo: probe → plan → ONE decode (small signal stream + analysis RGB stream from the same ffmpeg
 * process) → cheap signals, cut candidates and the online selection → frames.npy, signals.npz, metadata.json in
 * a temporary folder beside the target → fsync → rename into place. See README.md.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isComponentName, type ComponentName } from '../contracts/components.js';
import { isTrendflowError, TrendflowError } from '../contracts/errors.js';
import { DATAPROCESSOR_VERSION, SAMPLING_POLICY_VERSION } from '../contracts/version.js';
import { ndarray, writeNpzFile } from '../npz/index.js';
import { syncDirectory, writeFileAtomic } from '../store/atomic.js';
import { isProcessAlive } from '../store/lock.js';
import { probeVideo, streamFramesMulti, toRational, type VideoProbe } from '../video/index.js';
import { FramesWriter } from './frames-file.js';
import {
  FRAMES_DIR_FORMAT,
  FRAMES_DIR_FORMAT_VERSION,
  FRAMES_FILE,
  METADATA_FILE,
  SEGMENTER_PRODUCER,
  SEGMENTER_VERSION,
  SIGNALS_FILE,
  type ComponentFrames,
  type FramesMetadata,
  type SourceInfo,
} from './metadata.js';
import {
  analysisSize,
  checkPolicyParams,
  DEFAULT_POLICY_PARAMS,
  expectedAnalysisFrames,
  FRAME_COMPONENTS,
  planSampling,
  SAMPLING_REQUIREMENTS,
  signalSize,
  type PolicyParams,
} from './policy.js';
import { OnlineSelector } from './selector.js';
import { CutDetector, DEFAULT_CUT_PARAMS, SignalComputer, type CutParams } from './signals.js';

export interface SegmentProgress {
  /** Analysis frames decoded so far. */
  frames: number;
  /** Analysis frames expected from the probe. */
  expected: number;
  /** Frames written to frames.npy so far. */
  stored: number;
  elapsed_ms: number;
}

export interface SegmentOptions {
  /** The frames_dir to create. It must not exist, or be an empty folder. */
  outDir: string;
  /** Requested analysis rate (default 12; lowered to the source rate for constant-rate sources below it). */
  analysisFps?: number;
  /** Target shorter side of the analysis frames (default 360; 16–720; never upscaled). */
  analysisShortSide?: number;
  /** Components to sample for (default: every component that needs frames). Others are listed as frameless. */
  components?: readonly ComponentName[];
  cutParams?: Partial<CutParams>;
  /** A probe of the same file (skips probing again). */
  probe?: VideoProbe;
  signal?: AbortSignal;
  onProgress?: (progress: SegmentProgress) => void;
  /** fsync the files and folders before the frames_dir appears (default true). */
  durable?: boolean;
  /** ffmpeg decoder threads (default: ffmpeg's choice). */
  threads?: number;
  /** Memory cap of the ring of recent analysis frames (default 256 MiB). */
  maxRingBytes?: number;
}

export interface SegmentResult {
  /** Absolute path of the finished frames_dir. */
  frames_dir: string;
  metadata: FramesMetadata;
}

const PARTIAL_MARK = '.partial-';

/**
 * Segments `file` into a frames_dir at `options.outDir`. Errors: the probe's and decoder's codes (video_*,
 * ffmpeg_not_found) with the file named, invalid_argument, frames_dir_exists, store_io_failed; an abort throws
 * the signal's reason. On any failure nothing is left at outDir (and the temporary folder is removed).
 */
export async function segmentVideo(file: string, options: SegmentOptions): Promise<SegmentResult> {
  const started = performance.now();
  const source = path.resolve(file);
  const outDir = path.resolve(options.outDir);
  const params: PolicyParams = {
    ...DEFAULT_POLICY_PARAMS,
    ...(options.analysisFps !== undefined ? { analysis_fps: options.analysisFps } : {}),
    ...(options.analysisShortSide !== undefined ? { analysis_short_side: options.analysisShortSide } : {}),
  };
  checkPolicyParams(params);
  const cutParams: CutParams = { ...DEFAULT_CUT_PARAMS, ...options.cutParams };
  const components = resolveComponents(options.components);
  const durable = options.durable ?? true;
  const { signal } = options;

  await checkOutDir(outDir);
  const probe = options.probe ?? (await probeVideo(source, signal ? { signal } : {}));
  signal?.throwIfAborted();

  // ---- the analysis timeline, sizes and the fixed part of the plan (known before decoding)
  const video = probe.video;
  let fps = params.analysis_fps;
  if (params.cap_fps_at_source && !video.is_variable_frame_rate && video.fps !== null && video.fps > 0 && video.fps < fps) fps = video.fps;
  const rational = toRational(fps);
  const display = { width: video.display_width, height: video.display_height };
  const analysis = analysisSize(display, params.analysis_short_side, params.analysis_max_long_side);
  const small = signalSize(analysis, params.signal_long_side);
  const videoEnd = video.start_time_sec + video.duration_sec;
  const expected = expectedAnalysisFrames(videoEnd, rational);
  const durationSec = (expected * rational.den) / rational.num;
  const plan = planSampling(components, durationSec, expected);
  const frameBytes = analysis.width * analysis.height * 3;
  const detector = new CutDetector(cutParams, rational.num / rational.den);
  const selector = new OnlineSelector(plan, { lookahead: detector.lookahead, frameBytes, maxRingBytes: options.maxRingBytes ?? 256 * 1024 * 1024 });
  const signals = new SignalComputer(small.width, small.height);

  const parent = path.dirname(outDir);
  const temp = path.join(parent, `.${path.basename(outDir)}${PARTIAL_MARK}${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await fs.mkdir(parent, { recursive: true });
    await removeStalePartials(outDir);
    await fs.mkdir(temp);
  } catch (error) {
    throw new TrendflowError('store_io_failed', `cannot create a folder beside the frames_dir: ${(error as Error).message}`, { path: temp, cause: error });
  }

  let writer: FramesWriter | null = null;
  let stream: ReturnType<typeof streamFramesMulti> | null = null;
  try {
    writer = await FramesWriter.create(path.join(temp, FRAMES_FILE), analysis.height, analysis.width, { durable });
    stream = streamFramesMulti(source, {
      fps,
      probe,
      ...(signal ? { signal } : {}),
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      outputs: [
        { ...small, pixelFormat: 'rgb24' },
        { ...analysis, pixelFormat: 'rgb24' },
      ],
    });
    const time: number[] = [];
    const luma: number[] = [];
    const histDiff: number[] = [];
    const motion: number[] = [];
    const unionIndices: number[] = [];
    const unionTimes: number[] = [];
    const write = async (frames: { index: number; timestamp_sec: number; rgb: Uint8Array }[]): Promise<void> => {
      for (const frame of frames) {
        await (writer as FramesWriter).append(frame.rgb);
        unionIndices.push(frame.index);
        unionTimes.push(frame.timestamp_sec);
      }
    };
    let lastProgress = 0;
    for await (const frame of stream) {
      const s = signals.push(frame.data[0] as Uint8Array);
      time.push(frame.timestamp_sec);
      luma.push(s.luma);
      histDiff.push(s.hist_diff);
      motion.push(s.motion);
      const decisions = detector.push(s);
      await write(selector.push({ index: frame.index, timestamp_sec: frame.timestamp_sec, rgb: frame.data[1] as Uint8Array }, decisions));
      if (options.onProgress && (frame.index - lastProgress >= 12 || frame.index === 0)) {
        lastProgress = frame.index;
        options.onProgress({ frames: frame.index + 1, expected, stored: writer.count, elapsed_ms: performance.now() - started });
      }
    }
    await write(selector.finish(detector.finish()));
    const total = selector.frameCount;
    options.onProgress?.({ frames: total, expected, stored: writer.count, elapsed_ms: performance.now() - started });
    const { count, bytes } = await writer.finish();

    // ---- per-component indices into the union
    const unionPosition = new Map<number, number>();
    unionIndices.forEach((index, position) => unionPosition.set(index, position));
    const warnings: string[] = [];
    if (Math.abs(total - expected) > 2) warnings.push(`decoded ${total} analysis frames, the probe predicted ${expected}`);
    for (const line of stream.warnings.slice(0, 20)) warnings.push(`ffmpeg: ${line}`);
    const entries: Partial<Record<ComponentName, ComponentFrames>> = {};
    for (const selection of selector.selections()) {
      const componentPlan = plan.components.find((c) => c.name === selection.name)!;
      const indices = selection.frames.map((f) => {
        const position = unionPosition.get(f);
        if (position === undefined) throw new TrendflowError('internal_error', `frame ${f} of ${selection.name} was not stored`, { path: source });
        return position;
      });
      const requirement = componentPlan.requirement;
      entries[selection.name] = {
        frame_indices: indices,
        budget: componentPlan.budget,
        strategy: {
          uniform: { count: componentPlan.uniform_count, lattice: 'nested_dyadic' },
          per_shot: requirement.per_shot,
          dense_window: requirement.dense_window,
          pairs: requirement.pairs,
          event_allowance: componentPlan.event_allowance,
          declared_budget: requirement.budget,
          why: requirement.why,
        },
        counts: selection.counts,
        events_refused: selection.events_refused,
        shots_uncovered: selection.shots_uncovered,
      };
    }
    const frameless: Record<string, string> = {};
    for (const name of components) {
      const requirement = SAMPLING_REQUIREMENTS[name];
      if (requirement.frames === 'none') frameless[name] = requirement.why;
    }
    const cuts = selector.cutCandidates.map((c) => ({ index: c.index, time_sec: (c.index * rational.den) / rational.num, score: round6(c.score) }));

    // ---- signals.npz
    await writeNpzFile(
      path.join(temp, SIGNALS_FILE),
      {
        time_sec: ndarray.float64(time),
        luma: ndarray.float32(luma),
        hist_diff: ndarray.float32(histDiff),
        motion: ndarray.float32(motion),
        cut_candidate_indices: ndarray.int32(cuts.map((c) => c.index)),
        cut_candidate_scores: ndarray.float32(cuts.map((c) => c.score)),
        meta: ndarray.objectScalar({
          producer: SEGMENTER_PRODUCER,
          producer_version: SEGMENTER_VERSION,
          sampling_policy_version: SAMPLING_POLICY_VERSION,
          dataprocessor_version: DATAPROCESSOR_VERSION,
          created_at: new Date().toISOString(),
          analysis_fps: fps,
          signal_width: small.width,
          signal_height: small.height,
          histogram: 'joint YCbCr 16x4x4 (BT.601 full range on the RGB pixels), total-variation distance',
          source_path: source,
        }),
      },
      { compress: true },
    );

    // ---- metadata.json, last: its presence marks a finished frames_dir
    const metadata: FramesMetadata = {
      format: FRAMES_DIR_FORMAT,
      format_version: FRAMES_DIR_FORMAT_VERSION,
      producer: SEGMENTER_PRODUCER,
      producer_version: SEGMENTER_VERSION,
      dataprocessor_version: DATAPROCESSOR_VERSION,
      sampling_policy_version: SAMPLING_POLICY_VERSION,
      created_at: new Date().toISOString(),
      color_space: 'RGB',
      frames_file: FRAMES_FILE,
      dtype: 'uint8',
      frame_count: count,
      frame_shape: [count, analysis.height, analysis.width, 3],
      analysis_fps: fps,
      analysis_fps_rational: rational,
      analysis_fps_requested: params.analysis_fps,
      analysis_width: analysis.width,
      analysis_height: analysis.height,
      analysis_short_side_target: params.analysis_short_side,
      below_min_resolution: Math.min(display.width, display.height) < params.min_short_side,
      min_short_side: params.min_short_side,
      analysis_frame_count: total,
      analysis_frame_count_expected: expected,
      source: sourceInfo(probe),
      union_timestamps_sec: unionTimes,
      union_frame_indices_source: unionIndices,
      cheap_signals: {
        file: SIGNALS_FILE,
        width: small.width,
        height: small.height,
        keys: ['time_sec', 'luma', 'hist_diff', 'motion', 'cut_candidate_indices', 'cut_candidate_scores', 'meta'],
        histogram: 'joint YCbCr 16x4x4, total-variation distance',
        params: cutParams,
        cut_candidate_count: cuts.length,
        cut_candidates: cuts,
      },
      sampling: {
        policy_version: plan.policy_version,
        params,
        lattice_size: plan.lattice_size,
        union_bound: plan.union_bound,
        ring_frames: selector.ringSize,
        components_without_frames: frameless,
      },
      components: plan.components.map((c) => c.name),
      ...entries,
      warnings,
      ingest: { elapsed_ms: 0, frames_bytes: bytes, ffmpeg_command: stream.command ? [...stream.command] : null },
    };
    metadata.ingest.elapsed_ms = Math.round(performance.now() - started);
    await writeFileAtomic(path.join(temp, METADATA_FILE), `${JSON.stringify(metadata, null, 1)}\n`);
    // an abort that came after the last frame still wins: nothing appears at outDir
    signal?.throwIfAborted();
    await commit(temp, outDir, durable);
    return { frames_dir: outDir, metadata };
  } catch (error) {
    await stream?.close().catch(() => undefined);
    await writer?.abort();
    await fs.rm(temp, { recursive: true, force: true }).catch(() => undefined);
    if (isTrendflowError(error) || (error as Error)?.name === 'AbortError' || signal?.aborted) throw error;
    throw new TrendflowError('internal_error', `segmenting failed: ${(error as Error)?.message ?? String(error)}`, { path: source, cause: error });
  }
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function resolveComponents(requested: readonly ComponentName[] | undefined): ComponentName[] {
  if (requested === undefined) return [...FRAME_COMPONENTS];
  const out: ComponentName[] = [];
  for (const name of requested) {
    if (!isComponentName(name)) throw new TrendflowError('invalid_argument', `unknown component ${JSON.stringify(name)} (canonical names only)`);
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

function sourceInfo(probe: VideoProbe): SourceInfo {
  const v = probe.video;
  return {
    path: probe.path,
    size_bytes: probe.size_bytes,
    format: probe.format,
    duration_sec: v.duration_sec,
    fps: v.fps,
    is_variable_frame_rate: v.is_variable_frame_rate,
    width: v.width,
    height: v.height,
    display_width: v.display_width,
    display_height: v.display_height,
    rotation_deg: v.rotation_deg,
    codec: v.codec,
    pix_fmt: v.pix_fmt,
    color_space: v.color_space,
    nb_frames: v.nb_frames,
    has_audio: probe.has_audio,
  };
}

/** The target must not exist or be an empty folder. */
async function checkOutDir(outDir: string): Promise<void> {
  let entries: string[];
  try {
    const stat = await fs.stat(outDir);
    if (!stat.isDirectory()) throw new TrendflowError('frames_dir_exists', 'the output path exists and is not a folder', { path: outDir });
    entries = await fs.readdir(outDir);
  } catch (error) {
    if (isTrendflowError(error)) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new TrendflowError('store_io_failed', `cannot check the output folder: ${(error as Error).message}`, { path: outDir, cause: error });
  }
  if (entries.length > 0) {
    throw new TrendflowError('frames_dir_exists', 'the output folder exists and is not empty (remove it or choose another)', { path: outDir });
  }
}

/** Temporary folders of segmenter processes that no longer run (same host), left beside this target by a crash. */
async function removeStalePartials(outDir: string): Promise<void> {
  const parent = path.dirname(outDir);
  const prefix = `.${path.basename(outDir)}${PARTIAL_MARK}`;
  let names: string[];
  try {
    names = await fs.readdir(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-[0-9a-f]+$/.exec(name.slice(prefix.length))?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || isProcessAlive(pid)) continue;
    await fs.rm(path.join(parent, name), { recursive: true, force: true }).catch(() => undefined);
  }
}

/** fsync the finished temporary folder and move it into place (replacing an empty target folder). */
async function commit(temp: string, outDir: string, durable: boolean): Promise<void> {
  try {
    if (durable) await syncDirectory(temp);
    try {
      await fs.rename(temp, outDir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY' && code !== 'EPERM' && code !== 'EISDIR') throw error;
      // an empty target folder (allowed) where rename cannot replace it, e.g. on Windows
      const left = await fs.readdir(outDir).catch(() => null);
      if (left === null || left.length > 0) {
        throw new TrendflowError('frames_dir_exists', 'the output folder appeared while segmenting and is not empty', { path: outDir, cause: error });
      }
      await fs.rmdir(outDir);
      await fs.rename(temp, outDir);
    }
    if (durable) await syncDirectory(path.dirname(outDir));
  } catch (error) {
    if (isTrendflowError(error)) throw error;
    throw new TrendflowError('store_io_failed', `cannot move the finished frames_dir into place: ${(error as Error).message}`, { path: outDir, cause: error });
  }
}
