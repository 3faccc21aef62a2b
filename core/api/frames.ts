/**
 * The run's frames_dir as the views see it: union timestamps, cheap signals and scaled frame previews. The
 * frames_dir is intermediate data with a short TTL (DESIGN.md §4, §9), so every reader here reports a missing or
 * unfinished one as `frames_dir_missing` instead of failing the whole view.
 */
import path from 'node:path';
import sharp from 'sharp';
import { isTrendflowError, TrendflowError } from '../contracts/errors.js';
import { getArray, readNpzFile } from '../npz/index.js';
import { FrameManager, readFramesMetadata, SIGNALS_FILE, type FramesMetadata } from '../segmenter/index.js';
import type { FramesInfo, FramesSlice, Maybe, SignalsTrack, Unavailable } from './contract.js';

export function framesMissing(error: unknown): Unavailable {
  const detail = isTrendflowError(error) ? error.message : String(error);
  return {
    available: false,
    why: 'frames_dir_missing',
    message: `the run's frames_dir (intermediate, kept 7 days) is not available: ${detail}`,
  };
}

/** metadata.json of the frames_dir, or why there is none. Errors other than a missing/unfinished folder propagate. */
export async function readFramesMeta(dir: string): Promise<Maybe<{ metadata: FramesMetadata }>> {
  try {
    return { available: true, metadata: await readFramesMetadata(dir) };
  } catch (error) {
    if (isTrendflowError(error) && error.code === 'frames_dir_invalid') return framesMissing(error);
    throw error;
  }
}

export function framesInfo(metadata: FramesMetadata): FramesInfo {
  const source = metadata.source;
  return {
    count: metadata.frame_count,
    width: metadata.analysis_width,
    height: metadata.analysis_height,
    analysis_fps: metadata.analysis_fps,
    duration_sec: source.duration_sec,
    source: {
      name: path.basename(source.path),
      width: source.display_width,
      height: source.display_height,
      fps: source.fps,
      codec: source.codec,
      has_audio: source.has_audio,
      rotation_deg: source.rotation_deg,
    },
    warnings: [...metadata.warnings],
  };
}

/** The segmenter's per-analysis-frame signals and cut candidates (signals.npz). */
export async function readSignals(dir: string): Promise<Maybe<SignalsTrack>> {
  const file = path.join(dir, SIGNALS_FILE);
  let npz;
  try {
    npz = await readNpzFile(file);
  } catch (error) {
    if (isTrendflowError(error) && error.code === 'npz_not_found') return framesMissing(error);
    throw error;
  }
  const times = getArray(npz, 'time_sec', 'float64', file).data;
  const cutIndices = getArray(npz, 'cut_candidate_indices', 'int32', file).data;
  const cutTimes = Float64Array.from(cutIndices, (index) => {
    if (index < 0 || index >= times.length) throw new TrendflowError('frames_dir_invalid', `cut candidate ${index} is outside the ${times.length} analysis frames`, { path: file });
    return times[index]!;
  });
  return {
    available: true,
    times,
    luma: getArray(npz, 'luma', 'float32', file).data,
    motion: getArray(npz, 'motion', 'float32', file).data,
    hist_diff: getArray(npz, 'hist_diff', 'float32', file).data,
    cut_times: cutTimes,
    cut_scores: getArray(npz, 'cut_candidate_scores', 'float32', file).data,
  };
}

/** Union frames, scaled down to at most `maxWidth` (aspect kept, never up) with libvips' Lanczos kernel. */
export async function readFramePreviews(dir: string, indices: number[], maxWidth: number): Promise<FramesSlice> {
  let frames: FrameManager;
  try {
    frames = await FrameManager.open(dir);
  } catch (error) {
    if (isTrendflowError(error) && error.code === 'frames_dir_invalid') throw new TrendflowError('frames_dir_invalid', framesMissing(error).message, { path: dir });
    throw error;
  }
  try {
    const batch = await frames.getBatch(indices);
    const scale = Math.min(1, maxWidth / batch.width);
    const width = Math.max(1, Math.round(batch.width * scale));
    const height = Math.max(1, Math.round(batch.height * scale));
    const frameBytes = width * height * 3;
    const rgb = new Uint8Array(indices.length * frameBytes);
    await Promise.all(
      batch.frames.map(async (frame, k) => {
        const scaled =
          scale === 1
            ? frame.data
            : await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
                .resize(width, height, { kernel: 'lanczos3', fit: 'fill' })
                .raw()
                .toBuffer();
        rgb.set(scaled, k * frameBytes);
      }),
    );
    return { frames: [...indices], times: batch.frames.map((f) => f.timestamp_sec), width, height, rgb };
  } finally {
    await frames.close();
  }
}

/** Times of union indices from the frames_dir metadata; `frames_dir_invalid` for an index it does not hold. */
export function unionTimes(metadata: FramesMetadata, indices: ArrayLike<number>, where: string): Float64Array {
  const times = metadata.union_timestamps_sec;
  return Float64Array.from(indices, (index) => {
    const time = times[index];
    if (time === undefined) throw new TrendflowError('artifact_invalid', `frame index ${index} is not in the run's frames_dir (${times.length} frames)`, { path: where });
    return time;
  });
}
