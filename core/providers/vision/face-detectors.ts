/**
 * The face detectors core_face_landmarks can use for its stage 1, selected by registry id, each with its own
 * preprocessing and output decoding (models/registry.json and ../shared/models/SOURCES.md):
 *
 * - `yunet-2023mar` (default): 640×640 letterbox (top-left, black pad), BGR 0..255 NCHW; per stride 8/16/32 a
 *   cls, obj, bbox and 5-keypoint map, decoded as OpenCV's FaceDetectorYN does (score = √(cls·obj), centre =
 *   (cell + offset)·stride, size = exp(·)·stride); hard NMS 0.3.
 * - `blazeface-front-128`: MediaPipe short-range, 128×128 centred letterbox, RGB in [-1, 1] NHWC; 896 SSD anchors,
 *   offsets scaled by 128, sigmoid scores, weighted NMS 0.3 (MediaPipe's face_detection_short_range graph).
 * - `ultraface-rfb-320`: 320×240 stretched, RGB (x-127)/128 NCHW; the graph already applies its priors (softmax
 *   scores, normalized corner boxes); hard NMS 0.3 as in the upstream demo. No keypoints.
 *
 * Every detection is returned in the pixels of the image given. Where a model has eye keypoints,
 * `keypoints[0]` is the subject's right eye (left in the image for a frontal face) and `keypoints[1]` the left one.
 */
import * as ort from 'onnxruntime-node';
import type { ModelUsed } from '../../contracts/meta.js';
import { TrendflowError } from '../../contracts/errors.js';
import type { OnnxDevice } from '../../runtime/onnx/sessions.js';
import { BLAZEFACE_FRONT_ANCHORS, ssdAnchors, type Anchor } from './anchors.js';
import { nms, weightedNms, type Detection } from './boxes.js';
import { fromLetterbox, imageTensor, letterboxRgb, resizeRgb, type LetterboxGeometry, type RgbImage } from './image.js';
import { openModel, outputData, requireTensors, type ModelContext, type OpenedModel } from './models.js';

export const FACE_DETECTOR_IDS = ['yunet-2023mar', 'blazeface-front-128', 'ultraface-rfb-320'] as const;
export type FaceDetectorId = (typeof FACE_DETECTOR_IDS)[number];

/** Score thresholds each upstream uses by default (YuNet's 0.9 is lowered: SOURCES.md measured 0.83–0.94 on real faces). */
export const DEFAULT_FACE_SCORE_THRESHOLDS: Record<FaceDetectorId, number> = {
  'yunet-2023mar': 0.6,
  'blazeface-front-128': 0.5,
  'ultraface-rfb-320': 0.7,
};

const NMS_IOU = 0.3;
/** More faces than this in one frame are not useful to anyone downstream. */
const MAX_FACES_PER_FRAME = 100;

export interface FaceDetector {
  readonly id: FaceDetectorId;
  readonly used: ModelUsed;
  /** Whether detections carry eye keypoints (rotation of the landmark crop). */
  readonly hasEyeKeypoints: boolean;
  /** Detector calls made so far. */
  readonly calls: number;
  detect(image: RgbImage): Promise<Detection[]>;
}

export function isFaceDetectorId(id: string): id is FaceDetectorId {
  return (FACE_DETECTOR_IDS as readonly string[]).includes(id);
}

// ---------------------------------------------------------------------------------------------------- YuNet

export const YUNET_SIZE = 640;
export const YUNET_STRIDES = [8, 16, 32] as const;

/** YuNet's outputs for one image: per stride, cls and obj (n), bbox (n×4), kps (n×10), n = (H/s)·(W/s). */
export type YunetOutputs = Record<`${'cls' | 'obj' | 'bbox' | 'kps'}_${(typeof YUNET_STRIDES)[number]}`, Float32Array>;

/** Decodes YuNet outputs for an inputW×inputH input into detections in input pixels (before NMS). */
export function decodeYunet(outputs: YunetOutputs, inputW: number, inputH: number, threshold: number): Detection[] {
  const found: Detection[] = [];
  for (const stride of YUNET_STRIDES) {
    const cols = Math.floor(inputW / stride);
    const rows = Math.floor(inputH / stride);
    const cls = outputs[`cls_${stride}`];
    const obj = outputs[`obj_${stride}`];
    const bbox = outputs[`bbox_${stride}`];
    const kps = outputs[`kps_${stride}`];
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        const clamp = (v: number) => Math.min(Math.max(v, 0), 1);
        const score = Math.sqrt(clamp(cls[i]!) * clamp(obj[i]!));
        if (score < threshold) continue;
        const cx = (c + bbox[i * 4]!) * stride;
        const cy = (r + bbox[i * 4 + 1]!) * stride;
        const w = Math.exp(bbox[i * 4 + 2]!) * stride;
        const h = Math.exp(bbox[i * 4 + 3]!) * stride;
        const keypoints: [number, number][] = [];
        for (let k = 0; k < 5; k++) keypoints.push([(kps[i * 10 + 2 * k]! + c) * stride, (kps[i * 10 + 2 * k + 1]! + r) * stride]);
        found.push({ box: { x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2 }, score, keypoints, classId: 0 });
      }
    }
  }
  return found;
}

// ------------------------------------------------------------------------------------------------ BlazeFace

export const BLAZEFACE_SIZE = 128;
const BLAZEFACE_ANCHORS: Anchor[] = ssdAnchors(BLAZEFACE_FRONT_ANCHORS);

/**
 * Decodes BlazeFace for its 896 anchors: `scores` (896) raw logits, `raw` (896×16) box centre/size and 6 keypoint
 * offsets in input pixels (x before y). Returns detections in input pixels (before NMS).
 */
export function decodeBlazeFace(scores: Float32Array, raw: Float32Array, threshold: number, anchors: readonly Anchor[] = BLAZEFACE_ANCHORS): Detection[] {
  const s = BLAZEFACE_SIZE;
  const found: Detection[] = [];
  for (let i = 0; i < anchors.length; i++) {
    const logit = Math.min(Math.max(scores[i]!, -100), 100);
    const score = 1 / (1 + Math.exp(-logit));
    if (score < threshold) continue;
    const a = anchors[i]!;
    const o = i * 16;
    const cx = (raw[o]! / s) * a.w + a.cx;
    const cy = (raw[o + 1]! / s) * a.h + a.cy;
    const w = (raw[o + 2]! / s) * a.w;
    const h = (raw[o + 3]! / s) * a.h;
    const keypoints: [number, number][] = [];
    for (let k = 0; k < 6; k++) keypoints.push([((raw[o + 4 + 2 * k]! / s) * a.w + a.cx) * s, ((raw[o + 5 + 2 * k]! / s) * a.h + a.cy) * s]);
    found.push({ box: { x1: (cx - w / 2) * s, y1: (cy - h / 2) * s, x2: (cx + w / 2) * s, y2: (cy + h / 2) * s }, score, keypoints, classId: 0 });
  }
  return found;
}

// ----------------------------------------------------------------------------------------------- UltraFace

export const ULTRAFACE_WIDTH = 320;
export const ULTRAFACE_HEIGHT = 240;

/** Decodes UltraFace: `scores` (n×2 softmax, face second), `boxes` (n×4 normalized x1,y1,x2,y2) → image pixels. */
export function decodeUltraFace(scores: Float32Array, boxes: Float32Array, threshold: number, width: number, height: number): Detection[] {
  const found: Detection[] = [];
  for (let i = 0; i < scores.length / 2; i++) {
    const score = scores[i * 2 + 1]!;
    if (score < threshold) continue;
    found.push({
      box: { x1: boxes[i * 4]! * width, y1: boxes[i * 4 + 1]! * height, x2: boxes[i * 4 + 2]! * width, y2: boxes[i * 4 + 3]! * height },
      score,
      keypoints: [],
      classId: 0,
    });
  }
  return found;
}

// ------------------------------------------------------------------------------------------------- opening

function mapFromLetterbox(detections: Detection[], g: LetterboxGeometry): Detection[] {
  return detections.map((d) => {
    const [x1, y1] = fromLetterbox(g, d.box.x1, d.box.y1);
    const [x2, y2] = fromLetterbox(g, d.box.x2, d.box.y2);
    return { ...d, box: { x1, y1, x2, y2 }, keypoints: d.keypoints.map(([x, y]) => fromLetterbox(g, x, y)) };
  });
}

type Infer = (image: RgbImage) => Promise<Detection[]>;

function yunet(opened: OpenedModel, threshold: number): Infer {
  const names = YUNET_STRIDES.flatMap((s) => [`cls_${s}`, `obj_${s}`, `bbox_${s}`, `kps_${s}`]);
  requireTensors(opened, ['input'], names);
  return async (image) => {
    const { image: boxed, geometry } = await letterboxRgb(image, YUNET_SIZE, YUNET_SIZE, 'top-left', 0);
    const input = new ort.Tensor('float32', imageTensor(boxed, { layout: 'NCHW', order: 'BGR', mean: 0, scale: 1 }), [1, 3, YUNET_SIZE, YUNET_SIZE]);
    const out = await opened.model.run({ input }, names);
    const outputs = {} as YunetOutputs;
    for (const s of YUNET_STRIDES) {
      const n = (YUNET_SIZE / s) ** 2;
      outputs[`cls_${s}`] = outputData(out, `cls_${s}`, n, 'YuNet');
      outputs[`obj_${s}`] = outputData(out, `obj_${s}`, n, 'YuNet');
      outputs[`bbox_${s}`] = outputData(out, `bbox_${s}`, n * 4, 'YuNet');
      outputs[`kps_${s}`] = outputData(out, `kps_${s}`, n * 10, 'YuNet');
    }
    return mapFromLetterbox(nms(decodeYunet(outputs, YUNET_SIZE, YUNET_SIZE, threshold), NMS_IOU, MAX_FACES_PER_FRAME), geometry);
  };
}

function blazeface(opened: OpenedModel, threshold: number): Infer {
  const names = ['Identity:0', 'Identity_1:0', 'Identity_2:0', 'Identity_3:0'];
  requireTensors(opened, ['input:0'], names);
  return async (image) => {
    const { image: boxed, geometry } = await letterboxRgb(image, BLAZEFACE_SIZE, BLAZEFACE_SIZE, 'center', 0);
    const data = imageTensor(boxed, { layout: 'NHWC', order: 'RGB', mean: 127.5, scale: 1 / 127.5 });
    const out = await opened.model.run({ 'input:0': new ort.Tensor('float32', data, [1, BLAZEFACE_SIZE, BLAZEFACE_SIZE, 3]) }, names);
    const scores = new Float32Array(896);
    scores.set(outputData(out, 'Identity:0', 512, 'BlazeFace'));
    scores.set(outputData(out, 'Identity_1:0', 384, 'BlazeFace'), 512);
    const raw = new Float32Array(896 * 16);
    raw.set(outputData(out, 'Identity_2:0', 512 * 16, 'BlazeFace'));
    raw.set(outputData(out, 'Identity_3:0', 384 * 16, 'BlazeFace'), 512 * 16);
    return mapFromLetterbox(weightedNms(decodeBlazeFace(scores, raw, threshold), NMS_IOU, MAX_FACES_PER_FRAME), geometry);
  };
}

function ultraface(opened: OpenedModel, threshold: number): Infer {
  requireTensors(opened, ['input'], ['scores', 'boxes']);
  return async (image) => {
    const resized = await resizeRgb(image, ULTRAFACE_WIDTH, ULTRAFACE_HEIGHT);
    const data = imageTensor(resized, { layout: 'NCHW', order: 'RGB', mean: 127, scale: 1 / 128 });
    const out = await opened.model.run({ input: new ort.Tensor('float32', data, [1, 3, ULTRAFACE_HEIGHT, ULTRAFACE_WIDTH]) }, ['scores', 'boxes']);
    const n = out.scores?.dims[1] ?? 0;
    const scores = outputData(out, 'scores', n * 2, 'UltraFace');
    const boxes = outputData(out, 'boxes', n * 4, 'UltraFace');
    return nms(decodeUltraFace(scores, boxes, threshold, image.width, image.height), NMS_IOU, MAX_FACES_PER_FRAME);
  };
}

/**
 * Opens the face detector with registry id `id` on `device`. `scoreThreshold` null → the detector's default.
 * An id that is not one of FACE_DETECTOR_IDS is `invalid_argument` (TrendFlow knows how to decode only those).
 */
export async function openFaceDetector(models: ModelContext, id: string, device: OnnxDevice, scoreThreshold: number | null): Promise<FaceDetector> {
  if (!isFaceDetectorId(id)) {
    throw new TrendflowError('invalid_argument', `${JSON.stringify(id)} is not a face detector TrendFlow can decode (${FACE_DETECTOR_IDS.join(', ')})`);
  }
  const opened = await openModel(models, id, device);
  const threshold = scoreThreshold ?? DEFAULT_FACE_SCORE_THRESHOLDS[id];
  const infer = id === 'yunet-2023mar' ? yunet(opened, threshold) : id === 'blazeface-front-128' ? blazeface(opened, threshold) : ultraface(opened, threshold);
  let calls = 0;
  return {
    id,
    used: opened.used,
    hasEyeKeypoints: id !== 'ultraface-rfb-320',
    get calls() {
      return calls;
    },
    async detect(image) {
      calls++;
      return infer(image);
    },
  };
}
