/**
 * Face features per frame from core_face_landmarks' artifact (schemas/core_face_landmarks.json): how many faces,
 * and for the largest one its share of the frame and its distance from the centre. Landmark coordinates are
 * normalised to the frame (x, y in [0, 1]), so a bounding box of the 468 points has its area as a share of the
 * frame.
 */
import { getArray, type NpzContents } from '../../npz/index.js';

export const FACE_METRIC_NAMES = ['face_area_share', 'face_center_offset'] as const;

export interface FaceFrames {
  /** Union indices of the frames the face artifact measured. */
  frameIndices: Int32Array;
  /** Faces found on each of those frames. */
  count: Float32Array;
  /** Per measured frame: [area share, centre offset] of the largest face; NaN where the frame has no face. */
  metrics: Float32Array;
}

export function faceFrames(npz: NpzContents, file: string): FaceFrames {
  const frameIndices = getArray(npz, 'frame_indices', 'int32', file).data;
  const landmarks = getArray(npz, 'face_landmarks', 'float32', file);
  const present = getArray(npz, 'face_present', 'bool', file).data;
  const rows = frameIndices.length;
  const slots = landmarks.shape[1]!;
  const points = landmarks.shape[2]!;
  const count = new Float32Array(rows);
  const metrics = new Float32Array(rows * FACE_METRIC_NAMES.length).fill(Number.NaN);
  for (let r = 0; r < rows; r++) {
    let largest = -1;
    let box: [number, number, number, number] = [0, 0, 0, 0];
    for (let f = 0; f < slots; f++) {
      if (!present[r * slots + f]) continue;
      count[r]!++;
      let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
      const base = (r * slots + f) * points * 3;
      for (let k = 0; k < points; k++) {
        const x = landmarks.data[base + k * 3]!;
        const y = landmarks.data[base + k * 3 + 1]!;
        if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      }
      const area = x1 >= x0 && y1 >= y0 ? (Math.min(1, x1) - Math.max(0, x0)) * (Math.min(1, y1) - Math.max(0, y0)) : -1;
      if (area > largest) {
        largest = area;
        box = [x0, y0, x1, y1];
      }
    }
    if (largest < 0) continue;
    const [x0, y0, x1, y1] = box;
    const offset = Math.hypot((x0 + x1) / 2 - 0.5, (y0 + y1) / 2 - 0.5) / Math.SQRT1_2;
    metrics[r * 2] = Math.max(0, largest);
    metrics[r * 2 + 1] = Math.min(1, offset);
  }
  return { frameIndices, count, metrics };
}
