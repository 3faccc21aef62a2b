/**
 * What modules read from the run's frames_dir besides frames (core/segmenter/README.md): the cheap signals of
 * every analysis frame (signals.npz) and metadata.json, plus their signatures for `meta.dependencies`.
 */
import path from 'node:path';
import { TrendflowError } from '../../contracts/errors.js';
import { getArray, readNpzFile } from '../../npz/index.js';
import { METADATA_FILE, readFramesMetadata, SIGNALS_FILE, type FramesMetadata } from '../../segmenter/metadata.js';
import { hashFile } from '../../store/hash.js';

/** The analysis timeline and its cheap signals, one value per analysis frame. */
export interface CheapSignals {
  metadata: FramesMetadata;
  analysisFps: number;
  /** Analysis frames on the timeline (T); the video spans [0, T / analysisFps) seconds. */
  frameCount: number;
  timeSec: Float64Array;
  luma: Float32Array;
  histDiff: Float32Array;
  motion: Float32Array;
  /** The Segmenter's cut candidates: analysis index of the first frame of the new shot, and its hist_diff. */
  candidates: Array<{ index: number; score: number }>;
}

export async function readCheapSignals(framesDir: string): Promise<CheapSignals> {
  const metadata = await readFramesMetadata(framesDir);
  const file = path.join(framesDir, SIGNALS_FILE);
  let npz;
  try {
    npz = await readNpzFile(file);
  } catch (error) {
    throw new TrendflowError('frames_dir_invalid', `cannot read the cheap signals: ${(error as Error).message}`, { path: file, cause: error });
  }
  const timeSec = getArray(npz, 'time_sec', 'float64', file).data;
  const series = (key: string) => {
    const data = getArray(npz, key, 'float32', file).data;
    if (data.length !== timeSec.length) throw new TrendflowError('frames_dir_invalid', `${key} has ${data.length} values for ${timeSec.length} frames`, { path: file });
    return data;
  };
  const indices = getArray(npz, 'cut_candidate_indices', 'int32', file).data;
  const scores = getArray(npz, 'cut_candidate_scores', 'float32', file).data;
  if (timeSec.length !== metadata.analysis_frame_count || indices.length !== scores.length) {
    throw new TrendflowError('frames_dir_invalid', `signals.npz has ${timeSec.length} frames, metadata.json ${metadata.analysis_frame_count}`, { path: file });
  }
  const candidates = Array.from(indices, (index, k) => ({ index, score: scores[k]! }));
  if (candidates.some((c, k) => c.index < 1 || c.index >= timeSec.length || (k > 0 && c.index <= candidates[k - 1]!.index))) {
    throw new TrendflowError('frames_dir_invalid', 'cut candidates are not increasing indices into the analysis timeline', { path: file });
  }
  return {
    metadata,
    analysisFps: metadata.analysis_fps_rational.num / metadata.analysis_fps_rational.den,
    frameCount: timeSec.length,
    timeSec,
    luma: series('luma'),
    histDiff: series('hist_diff'),
    motion: series('motion'),
    candidates,
  };
}

/** Signatures of the frames_dir files a module read, for `meta.dependencies`. */
export async function framesDirSignatures(framesDir: string): Promise<Record<string, string>> {
  const [signals, metadata] = await Promise.all([hashFile(path.join(framesDir, SIGNALS_FILE)), hashFile(path.join(framesDir, METADATA_FILE))]);
  return { [`segmenter/${SIGNALS_FILE}`]: `sha256:${signals.sha256}`, [`segmenter/${METADATA_FILE}`]: `sha256:${metadata.sha256}` };
}
