/**
 * MediaPipe FaceMesh (468 landmarks) on one face: the region of interest from a detection or from the previous
 * frame's landmarks (MediaPipe's face_detection_front_detection_to_roi and face_landmark_landmarks_to_roi), the
 * eye-line-rotated 192×192 crop, inference, and the landmarks projected back into image pixels.
 */
import * as ort from 'onnxruntime-node';
import type { ModelUsed } from '../../contracts/meta.js';
import type { OnnxDevice } from '../../runtime/onnx/sessions.js';
import type { Box, Detection } from '../vision/boxes.js';
import { imageTensor, type RgbImage } from '../vision/image.js';
import { openModel, outputData, requireTensors, type ModelContext } from '../vision/models.js';
import { cropRotatedSquare, cropToImage, type RotatedSquare } from '../vision/warp.js';

export const FACEMESH_SIZE = 192;
export const FACEMESH_POINTS = 468;
/** MediaPipe's ROI scale around a face box or the landmarks' bounding box. */
export const ROI_SCALE = 1.5;
/** Outer eye corners in MediaPipe's landmark order: the subject's right eye (image left) and left eye. */
export const RIGHT_EYE_OUTER = 33;
export const LEFT_EYE_OUTER = 263;

/** One face found by the mesh, in image pixels. */
export interface MeshFace {
  /** 468 × (x, y, z): x, y in image pixels, z in pixels on the scale of x (MediaPipe's relative depth). */
  landmarks: Float32Array;
  /** Face-presence probability (sigmoid of the model's presence logit). */
  presence: number;
  /** Bounding box of the landmarks' x, y. */
  box: Box;
  /** The crop the mesh ran on. */
  roi: RotatedSquare;
}

/**
 * The square around a box, rotated by `angle`: side = 1.5 × the box's longer side, centred on the box (MediaPipe's
 * RectTransformationCalculator with scale 1.5 and square_long).
 */
function squareAround(box: Box, angle: number): RotatedSquare {
  const size = Math.max(box.x2 - box.x1, box.y2 - box.y1) * ROI_SCALE;
  return { cx: (box.x1 + box.x2) / 2, cy: (box.y1 + box.y2) / 2, size, angle };
}

/** Angle of the line from the subject's right eye to the left eye (0 for an upright face). */
function eyeLineAngle(right: readonly [number, number], left: readonly [number, number]): number {
  return Math.atan2(left[1] - right[1], left[0] - right[0]);
}

/** ROI from a detection: its box, rotated by the eye line when the detector gives eyes (else upright). */
export function roiFromDetection(detection: Detection, hasEyeKeypoints: boolean): RotatedSquare {
  const angle = hasEyeKeypoints ? eyeLineAngle(detection.keypoints[0]!, detection.keypoints[1]!) : 0;
  return squareAround(detection.box, angle);
}

/** ROI from a face's landmarks (tracking into the next frame): their bounding box, rotated by the outer eye corners. */
export function roiFromLandmarks(face: Pick<MeshFace, 'landmarks' | 'box'>): RotatedSquare {
  const p = (i: number): [number, number] => [face.landmarks[i * 3]!, face.landmarks[i * 3 + 1]!];
  return squareAround(face.box, eyeLineAngle(p(RIGHT_EYE_OUTER), p(LEFT_EYE_OUTER)));
}

export function landmarksBox(landmarks: Float32Array): Box {
  const box = { x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity };
  for (let i = 0; i < FACEMESH_POINTS; i++) {
    const x = landmarks[i * 3]!;
    const y = landmarks[i * 3 + 1]!;
    box.x1 = Math.min(box.x1, x);
    box.y1 = Math.min(box.y1, y);
    box.x2 = Math.max(box.x2, x);
    box.y2 = Math.max(box.y2, y);
  }
  return box;
}

/** Projects crop-space mesh output (468 × x, y, z in 192-px crop units) into image pixels. */
export function projectLandmarks(raw: Float32Array, roi: RotatedSquare): Float32Array {
  const out = new Float32Array(FACEMESH_POINTS * 3);
  const zScale = roi.size / FACEMESH_SIZE;
  for (let i = 0; i < FACEMESH_POINTS; i++) {
    const [x, y] = cropToImage(roi, raw[i * 3]!, raw[i * 3 + 1]!, FACEMESH_SIZE);
    out[i * 3] = x;
    out[i * 3 + 1] = y;
    out[i * 3 + 2] = raw[i * 3 + 2]! * zScale;
  }
  return out;
}

export interface FaceMesh {
  readonly used: ModelUsed;
  /** Mesh inferences made so far (one per face crop). */
  readonly calls: number;
  run(image: RgbImage, roi: RotatedSquare): Promise<MeshFace>;
}

const LANDMARKS = 'conv2d_20';
const PRESENCE = 'conv2d_30';

/** Opens the FaceMesh model (registry id, e.g. mediapipe-facemesh-468): input_1 [1,3,192,192] RGB in [-1, 1]. */
export async function openFaceMesh(models: ModelContext, id: string, device: OnnxDevice): Promise<FaceMesh> {
  const opened = await openModel(models, id, device);
  requireTensors(opened, ['input_1'], [LANDMARKS, PRESENCE]);
  let calls = 0;
  return {
    used: opened.used,
    get calls() {
      return calls;
    },
    async run(image, roi) {
      calls++;
      const crop = cropRotatedSquare(image, roi, FACEMESH_SIZE);
      // keijiro's preprocessing for this file: rgb * 2 - 1 (SOURCES.md: [0, 1] lowers the presence logit)
      const input = new ort.Tensor('float32', imageTensor(crop, { layout: 'NCHW', order: 'RGB', mean: 127.5, scale: 1 / 127.5 }), [1, 3, FACEMESH_SIZE, FACEMESH_SIZE]);
      const out = await opened.model.run({ input_1: input }, [LANDMARKS, PRESENCE]);
      const landmarks = projectLandmarks(outputData(out, LANDMARKS, FACEMESH_POINTS * 3, 'FaceMesh'), roi);
      const logit = outputData(out, PRESENCE, 1, 'FaceMesh')[0]!;
      return { landmarks, presence: 1 / (1 + Math.exp(-logit)), box: landmarksBox(landmarks), roi };
    },
  };
}
