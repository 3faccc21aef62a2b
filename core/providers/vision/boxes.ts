/**
 * Boxes, detections and non-maximum suppression shared by every detector decoder (face detectors, YOLOX).
 * Coordinates are pixels of the image the caller works in (usually the analysis frame), x to the right, y down.
 */

export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface Detection {
  box: Box;
  /** Confidence in [0, 1]. */
  score: number;
  /** Keypoints as [x, y] pixels, in the model's keypoint order (empty when the model has none). */
  keypoints: [number, number][];
  /** Class index (object detectors); 0 for single-class detectors. */
  classId: number;
}

export function boxArea(box: Box): number {
  return Math.max(0, box.x2 - box.x1) * Math.max(0, box.y2 - box.y1);
}

export function iou(a: Box, b: Box): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = boxArea(a) + boxArea(b) - inter;
  return union > 0 ? inter / union : 0;
}

function byScore(detections: readonly Detection[]): Detection[] {
  // stable: equal scores keep their decoding order, so results do not depend on the sort implementation
  return detections.map((d, i) => ({ d, i })).sort((p, q) => q.d.score - p.d.score || p.i - q.i).map((p) => p.d);
}

/**
 * Greedy hard NMS: keeps the highest-scoring detection, drops every other whose IoU with it is above
 * `iouThreshold`, repeats. At most `maxKeep` survive (highest scores first).
 */
export function nms(detections: readonly Detection[], iouThreshold: number, maxKeep = Infinity): Detection[] {
  const kept: Detection[] = [];
  for (const candidate of byScore(detections)) {
    if (kept.length >= maxKeep) break;
    if (kept.every((k) => iou(k.box, candidate.box) <= iouThreshold)) kept.push(candidate);
  }
  return kept;
}

/** Hard NMS within each class separately (a person box never suppresses a dog box); merged by score. */
export function nmsPerClass(detections: readonly Detection[], iouThreshold: number, maxKeep = Infinity): Detection[] {
  const classes = new Map<number, Detection[]>();
  for (const d of detections) {
    const list = classes.get(d.classId);
    if (list) list.push(d);
    else classes.set(d.classId, [d]);
  }
  const kept = [...classes.values()].flatMap((list) => nms(list, iouThreshold));
  return byScore(kept).slice(0, maxKeep);
}

/**
 * MediaPipe's weighted NMS (TensorsToDetections → NonMaxSuppression with overlap_type WEIGHTED, used by
 * BlazeFace): each cluster of detections overlapping the best one by more than `iouThreshold` is replaced by
 * their score-weighted mean box and keypoints, with the best one's score. Steadier boxes than hard NMS for
 * anchor-dense SSD heads.
 */
export function weightedNms(detections: readonly Detection[], iouThreshold: number, maxKeep = Infinity): Detection[] {
  let remaining = byScore(detections);
  const out: Detection[] = [];
  while (remaining.length > 0 && out.length < maxKeep) {
    const best = remaining[0]!;
    const cluster: Detection[] = [];
    const rest: Detection[] = [];
    for (const d of remaining) (iou(best.box, d.box) > iouThreshold || d === best ? cluster : rest).push(d);
    remaining = rest;
    let total = 0;
    const box = { x1: 0, y1: 0, x2: 0, y2: 0 };
    const keypoints = best.keypoints.map((): [number, number] => [0, 0]);
    for (const d of cluster) {
      total += d.score;
      box.x1 += d.box.x1 * d.score;
      box.y1 += d.box.y1 * d.score;
      box.x2 += d.box.x2 * d.score;
      box.y2 += d.box.y2 * d.score;
      d.keypoints.forEach(([x, y], k) => {
        keypoints[k]![0] += x * d.score;
        keypoints[k]![1] += y * d.score;
      });
    }
    out.push({
      box: { x1: box.x1 / total, y1: box.y1 / total, x2: box.x2 / total, y2: box.y2 / total },
      score: best.score,
      keypoints: keypoints.map(([x, y]) => [x / total, y / total]),
      classId: best.classId,
    });
  }
  return out;
}

/** Clips a box to a width×height image. */
export function clipBox(box: Box, width: number, height: number): Box {
  const clamp = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  return { x1: clamp(box.x1, width), y1: clamp(box.y1, height), x2: clamp(box.x2, width), y2: clamp(box.y2, height) };
}
