/** The shots of a run as cut_detection wrote them (schemas/cut_detection.json), for the modules that work per shot. */
import { getArray, getStringList } from '../../npz/index.js';
import type { LoadedInput } from './inputs.js';

/** cut_detection's schema version, the one these readers are written against. */
export const SHOTS_SCHEMA_VERSION = 'cut_detection_npz_v1';

export interface Shots {
  count: number;
  /** First and last analysis-timeline frame of each shot (inclusive). */
  startIndex: Int32Array;
  endIndex: Int32Array;
  startSec: Float64Array;
  endSec: Float64Array;
  transitionType: string[];
  /** First and last union frame (frames.npy) inside each shot; -1 where the union has none. */
  firstUnion: Int32Array;
  lastUnion: Int32Array;
  /** The analysis timeline the shots cover. */
  analysisFps: number;
  durationSec: number;
}

export function readShots(loaded: LoadedInput): Shots {
  const { npz, meta, input } = loaded;
  const startIndex = getArray(npz, 'shot_start_index', 'int32', input.path).data;
  return {
    count: startIndex.length,
    startIndex,
    endIndex: getArray(npz, 'shot_end_index', 'int32', input.path).data,
    startSec: getArray(npz, 'shot_start_sec', 'float64', input.path).data,
    endSec: getArray(npz, 'shot_end_sec', 'float64', input.path).data,
    transitionType: getStringList(npz, 'transition_type', input.path),
    firstUnion: getArray(npz, 'shot_first_union_index', 'int32', input.path).data,
    lastUnion: getArray(npz, 'shot_last_union_index', 'int32', input.path).data,
    analysisFps: Number(meta.analysis_fps),
    durationSec: Number(meta.duration_sec),
  };
}

/** The shot holding an analysis-timeline frame (shots are contiguous from frame 0). */
export function shotOfFrame(shots: Shots, analysisIndex: number): number {
  let lo = 0;
  let hi = shots.count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (shots.startIndex[mid]! <= analysisIndex) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The shot of each union frame (frames.npy index), from the union ranges cut_detection recorded (the union is in
 * time order): artifact readers map frame_indices to shots without the frames_dir. -1 for an index outside every
 * shot's range.
 */
export function unionFrameShots(shots: Shots): (unionIndex: number) => number {
  const shotOf = new Map<number, number>();
  for (let s = 0; s < shots.count; s++) {
    if (shots.firstUnion[s]! < 0) continue;
    for (let u = shots.firstUnion[s]!; u <= shots.lastUnion[s]!; u++) shotOf.set(u, s);
  }
  return (unionIndex) => shotOf.get(unionIndex) ?? -1;
}
