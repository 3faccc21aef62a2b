/**
 * The two stages of core_face_landmarks (seed 004) over the primary frames, independent of where frames come
 * from (a frames_dir in the component, decoded photos in tests).
 *
 * Stage 1: the face detector on a uniform subsample of the N primary positions (stride ceil(N/target), the count
 * kept within [min, max]).
 * Stage 2: FaceMesh on every position within ±R of a stage-1 position with a detection. Inside each window the
 * mesh starts from the detections and then tracks, as MediaPipe's face pipeline does: the next frame's crop comes
 * from the previous frame's landmarks, and the face-presence score decides whether the face is still there. The
 * detector runs again on a window frame only when a tracked face was lost (or none is tracked yet), so that a face
 * is re-acquired without paying the detector on every frame (the detector costs several times the mesh on CPU).
 */
import type { ComponentProgress } from '../../pipeline/context.js';
import { boxArea, iou, type Box, type Detection } from '../vision/boxes.js';
import type { FaceDetector } from '../vision/face-detectors.js';
import type { RgbImage } from '../vision/image.js';
import type { RotatedSquare } from '../vision/warp.js';
import { roiFromDetection, roiFromLandmarks, type FaceMesh, type MeshFace } from './facemesh.js';

export interface DetectorSampling {
  target: number;
  min: number;
  max: number;
}

export const DEFAULT_DETECTOR_SAMPLING: Readonly<DetectorSampling> = { target: 50, min: 20, max: 200 };

/** A detection overlapping a tracked face by more than this is that face, not a new one. */
const SAME_FACE_IOU = 0.3;
/** Two meshes whose landmark boxes overlap by more than this converged on one face: the weaker is dropped. */
const DUPLICATE_MESH_IOU = 0.5;

/**
 * Stage-1 positions among n primary positions: every `stride` = ceil(n/target)-th from the first; when that count
 * falls outside [min(min, n), max], that many positions spread evenly instead. `stride` is the effective spacing.
 */
export function detectorPositions(n: number, sampling: DetectorSampling): { positions: number[]; stride: number } {
  if (n <= 0) return { positions: [], stride: 1 };
  const stride = Math.ceil(n / sampling.target);
  const natural = Math.ceil(n / stride);
  const count = Math.min(Math.max(natural, Math.min(sampling.min, n)), sampling.max);
  if (count === natural) return { positions: Array.from({ length: count }, (_, k) => k * stride), stride };
  return { positions: Array.from({ length: count }, (_, k) => Math.floor((k * n) / count)), stride: Math.ceil(n / count) };
}

/** Sorted positions within ±radius of any anchor, inside [0, n). */
export function windowPositions(n: number, anchors: readonly number[], radius: number): number[] {
  const selected = new Uint8Array(n);
  for (const a of anchors) for (let p = Math.max(0, a - radius); p <= Math.min(n - 1, a + radius); p++) selected[p] = 1;
  const out: number[] = [];
  selected.forEach((v, p) => v && out.push(p));
  return out;
}

/** Maximal runs of consecutive positions. */
function runsOf(positions: readonly number[]): number[][] {
  const runs: number[][] = [];
  for (const p of positions) {
    const run = runs[runs.length - 1];
    if (run && run[run.length - 1] === p - 1) run.push(p);
    else runs.push([p]);
  }
  return runs;
}

export interface FrameSource {
  /** Number of primary positions. */
  readonly count: number;
  /** The images at these positions, in order. */
  load(positions: readonly number[]): Promise<RgbImage[]>;
}

export interface FaceStagesOptions {
  maxFaces: number;
  presenceThreshold: number;
  sampling: DetectorSampling;
  /** R; null derives it from the stage-1 stride (R = stride, so windows of neighbouring samples meet). */
  windowRadius: number | null;
  /** Frames loaded at a time. */
  batchSize: number;
  signal?: AbortSignal;
  onProgress?: (progress: ComponentProgress) => void;
}

export interface FaceStagesResult {
  /** Per primary position: the faces found, largest first, at most maxFaces; empty where none or not analysed. */
  faces: MeshFace[][];
  /** Stage-1 positions. */
  detectorPositions: number[];
  /** Window positions where the detector ran again because tracking had no face. */
  redetectPositions: number[];
  /** Positions where the mesh ran (stage 2). */
  meshPositions: number[];
  stride: number;
  windowRadius: number;
}

async function* inChunks(source: FrameSource, positions: readonly number[], size: number, signal?: AbortSignal): AsyncGenerator<[number, RgbImage]> {
  for (let start = 0; start < positions.length; start += size) {
    signal?.throwIfAborted();
    const chunk = positions.slice(start, start + size);
    const images = await source.load(chunk);
    for (let k = 0; k < chunk.length; k++) yield [chunk[k]!, images[k]!];
  }
}

export async function runFaceStages(source: FrameSource, detector: FaceDetector, mesh: FaceMesh, options: FaceStagesOptions): Promise<FaceStagesResult> {
  const n = source.count;
  const { positions: stage1, stride } = detectorPositions(n, options.sampling);
  const radius = options.windowRadius ?? stride;
  const detections = new Map<number, Detection[]>();
  let done = 0;
  const progress = (total: number) => options.onProgress?.({ done: ++done, total, unit: 'frames' });

  for await (const [p, image] of inChunks(source, stage1, options.batchSize, options.signal)) {
    detections.set(p, await detector.detect(image));
    progress(stage1.length);
  }

  const anchors = stage1.filter((p) => detections.get(p)!.length > 0);
  const meshed = windowPositions(n, anchors, radius);
  const total = stage1.length + meshed.length;
  done = stage1.length;
  const faces: MeshFace[][] = Array.from({ length: n }, () => []);
  const redetect: number[] = [];

  const largestFirst = <T>(items: T[], box: (item: T) => Box) => [...items].sort((a, b) => boxArea(box(b)) - boxArea(box(a)));
  const meshAll = async (image: RgbImage, rois: RotatedSquare[]): Promise<MeshFace[]> => {
    const found: MeshFace[] = [];
    for (const roi of rois) {
      const face = await mesh.run(image, roi);
      if (face.presence >= options.presenceThreshold) found.push(face);
    }
    return found;
  };
  const finish = (found: MeshFace[]): MeshFace[] => {
    const kept: MeshFace[] = [];
    for (const face of [...found].sort((a, b) => b.presence - a.presence)) {
      if (kept.every((k) => iou(k.box, face.box) <= DUPLICATE_MESH_IOU)) kept.push(face);
    }
    return largestFirst(kept, (f) => f.box).slice(0, options.maxFaces);
  };

  const analyse = async (p: number, image: RgbImage, previous: MeshFace[]): Promise<MeshFace[]> => {
    const own = detections.get(p);
    if (own && own.length > 0) {
      return finish(await meshAll(image, largestFirst(own, (d) => d.box).slice(0, options.maxFaces).map((d) => roiFromDetection(d, detector.hasEyeKeypoints))));
    }
    const tracked = await meshAll(image, previous.map(roiFromLandmarks));
    if ((tracked.length < previous.length || previous.length === 0) && own === undefined) {
      redetect.push(p);
      const fresh = (await detector.detect(image)).filter((d) => tracked.every((f) => iou(f.box, d.box) <= SAME_FACE_IOU));
      const rois = largestFirst(fresh, (d) => d.box)
        .slice(0, options.maxFaces - tracked.length)
        .map((d) => roiFromDetection(d, detector.hasEyeKeypoints));
      tracked.push(...(await meshAll(image, rois)));
    }
    return finish(tracked);
  };

  for (const run of runsOf(meshed)) {
    // forward from the run's first detection to its end, then backward from it to the run's start
    const first = run.findIndex((p) => (detections.get(p)?.length ?? 0) > 0);
    let previous: MeshFace[] = [];
    for await (const [p, image] of inChunks(source, run.slice(first), options.batchSize, options.signal)) {
      previous = faces[p] = await analyse(p, image, previous);
      progress(total);
    }
    previous = faces[run[first]!]!;
    const before = run.slice(0, first).reverse();
    for await (const [p, image] of inChunks(source, before, options.batchSize, options.signal)) {
      previous = faces[p] = await analyse(p, image, previous);
      progress(total);
    }
  }
  return { faces, detectorPositions: stage1, redetectPositions: redetect.sort((a, b) => a - b), meshPositions: meshed, stride, windowRadius: radius };
}
