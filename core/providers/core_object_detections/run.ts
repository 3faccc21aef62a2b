/**
 * core_object_detections: YOLOX-nano (COCO, 80 classes) on the frames the Segmenter sampled for this component,
 * written as `core_object_detections/detections.npz` with up to K detections per frame (see README.md).
 */
import type { ManifestArtifact } from '../../contracts/manifest.js';
import type { ModelUsed } from '../../contracts/meta.js';
import { TrendflowError } from '../../contracts/errors.js';
import { ndarray } from '../../npz/index.js';
import { artifactMeta, writeArtifact } from '../../pipeline/artifact.js';
import type { ComponentContext } from '../../pipeline/context.js';
import type { OnnxDevice } from '../../runtime/onnx/sessions.js';
import { modelSignature } from '../../runtime/signature.js';
import { clipBox, type Detection } from '../vision/boxes.js';
import { openSampledFrames } from '../vision/frames.js';
import { openModel, type ModelContext } from '../vision/models.js';
import { COCO_CLASS_NAMES } from './coco.js';
import { yoloxDetector } from './yolox.js';

export const CORE_OBJECT_DETECTIONS_PRODUCER_VERSION = '1.0.0';
export const CORE_OBJECT_DETECTIONS_SCHEMA_VERSION = 'core_object_detections_npz_v1';
export const CORE_OBJECT_DETECTIONS_ARTIFACT = 'detections.npz';

export interface CoreObjectDetectionsConfig {
  /** Registry id of a YOLOX model (416×416, COCO). */
  model: string;
  /** Minimum objectness × class probability. */
  score_threshold: number;
  /** IoU above which a box of the same class is suppressed. */
  nms_iou: number;
  /** K: detection slots per frame, best scores first. */
  max_detections: number;
  device: OnnxDevice;
  /** Frames read per step (the model takes one image per call); the planner's fixed batch size. */
  batch_size: number;
}

export interface CoreObjectDetectionsRunContext extends ComponentContext {
  models: ModelContext;
}

export interface CoreObjectDetectionsResult {
  artifact: ManifestArtifact;
  models_used: ModelUsed[];
  model_signature: string;
  device: string;
  detections: number;
}

export async function runCoreObjectDetections(ctx: CoreObjectDetectionsRunContext, config: CoreObjectDetectionsConfig, batchSize: number): Promise<CoreObjectDetectionsResult> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TrendflowError('invalid_argument', `core_object_detections batch_size must be a positive integer, got ${batchSize}`);
  const opened = await openModel(ctx.models, config.model, config.device);
  const classes = COCO_CLASS_NAMES.length;
  const detector = yoloxDetector(opened, {
    classes,
    scoreThreshold: config.score_threshold,
    nmsIou: config.nms_iou,
    maxDetections: config.max_detections,
  });
  const { frames, indices } = await openSampledFrames(ctx.framesDir, 'core_object_detections');
  try {
    const n = indices.length;
    const k = config.max_detections;
    const boxes = new Float32Array(n * k * 4).fill(NaN);
    const scores = new Float32Array(n * k).fill(NaN);
    const classIds = new Int32Array(n * k).fill(-1);
    const present = new Uint8Array(n * k);
    const counts = new Int32Array(n);
    const classCounts = new Int32Array(n * classes);
    const { width, height } = frames;
    const store = (p: number, found: Detection[]) => {
      found.forEach((d, slot) => {
        const s = p * k + slot;
        const box = clipBox(d.box, width, height);
        boxes.set([box.x1 / width, box.y1 / height, box.x2 / width, box.y2 / height], s * 4);
        scores[s] = d.score;
        classIds[s] = d.classId;
        present[s] = 1;
        classCounts[p * classes + d.classId] = classCounts[p * classes + d.classId]! + 1;
      });
      counts[p] = found.length;
    };
    for (let start = 0; start < n; start += batchSize) {
      ctx.signal?.throwIfAborted();
      const batch = await frames.getBatch(indices.slice(start, start + batchSize));
      for (let b = 0; b < batch.frames.length; b++) store(start + b, await detector.detect(batch.frames[b]!));
      ctx.onProgress?.({ done: start + batch.frames.length, total: n, unit: 'frames' });
    }

    const used = [opened.used];
    const signature = modelSignature(used);
    const meta = artifactMeta({
      identity: ctx.identity,
      producer: 'core_object_detections',
      producerVersion: CORE_OBJECT_DETECTIONS_PRODUCER_VERSION,
      schemaVersion: CORE_OBJECT_DETECTIONS_SCHEMA_VERSION,
      status: 'ok',
      extra: {
        models_used: used.map((m) => ({ ...m })),
        model_signature: signature,
        batch_size: batchSize,
        model: config.model,
        score_threshold: config.score_threshold,
        nms_iou: config.nms_iou,
        max_detections: k,
        analysis_width: width,
        analysis_height: height,
        frame_count: n,
      },
    });
    const artifact = await writeArtifact(
      ctx.runDir,
      'core_object_detections',
      CORE_OBJECT_DETECTIONS_ARTIFACT,
      {
        frame_indices: ndarray.int32(indices),
        boxes: ndarray.float32(boxes, [n, k, 4]),
        scores: ndarray.float32(scores, [n, k]),
        class_ids: ndarray.int32(classIds, [n, k]),
        detection_present: ndarray.bool(present, [n, k]),
        detection_counts: ndarray.int32(counts),
        class_counts: ndarray.int32(classCounts, [n, classes]),
        class_names: ndarray.objectArray([...COCO_CLASS_NAMES]),
      },
      meta,
    );
    return { artifact, models_used: used, model_signature: signature, device: opened.used.device, detections: counts.reduce((a, b) => a + b, 0) };
  } finally {
    await frames.close();
  }
}
