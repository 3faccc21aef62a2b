/**
 * core_face_landmarks (seed 004): face detection on a subsample of the primary frames, FaceMesh near the
 * detections, and `core_face_landmarks/landmarks.npz` aligned to the primary frame_indices (see README.md).
 */
import type { ManifestArtifact } from '../../contracts/manifest.js';
import type { ModelUsed } from '../../contracts/meta.js';
import { TrendflowError } from '../../contracts/errors.js';
import { ndarray } from '../../npz/index.js';
import { artifactMeta, writeArtifact } from '../../pipeline/artifact.js';
import type { ComponentContext } from '../../pipeline/context.js';
import type { OnnxDevice } from '../../runtime/onnx/sessions.js';
import { modelSignature } from '../../runtime/signature.js';
import { openFaceDetector, type FaceDetectorId } from '../vision/face-detectors.js';
import { openSampledFrames } from '../vision/frames.js';
import type { ModelContext } from '../vision/models.js';
import { FACEMESH_POINTS, openFaceMesh } from './facemesh.js';
import { runFaceStages, type DetectorSampling, type FaceStagesResult } from './stages.js';

export const CORE_FACE_LANDMARKS_PRODUCER_VERSION = '1.0.0';
export const CORE_FACE_LANDMARKS_SCHEMA_VERSION = 'core_face_landmarks_npz_v1';
export const CORE_FACE_LANDMARKS_ARTIFACT = 'landmarks.npz';

export interface CoreFaceLandmarksConfig {
  /** Stage-1 face detector (registry id). */
  detector_model: FaceDetectorId;
  /** Stage-2 landmark model (registry id). */
  landmark_model: string;
  /** FACES: face slots per frame, largest faces first. */
  max_faces: number;
  /** Detector score threshold; null uses the detector's default (yunet 0.6, blazeface 0.5, ultraface 0.7). */
  detector_score_threshold: number | null;
  /** FaceMesh face-presence probability at or above which a face counts as present. */
  presence_threshold: number;
  /** Stage-1 subsample size: target, min, max (stride ceil(N/target)). */
  detector_sampling: DetectorSampling;
  /** R of the stage-2 windows in primary positions; null derives it from the stage-1 stride. */
  mesh_window_radius: number | null;
  device: OnnxDevice;
  /** Frames read per step (the models take one image per call); the planner's fixed batch size. */
  batch_size: number;
  /** MediaPipe Pose / Hands: no model for them exists in the registry yet, so enabling either is an error. */
  pose: boolean;
  hands: boolean;
}

export interface CoreFaceLandmarksResult {
  status: 'ok' | 'empty';
  artifact: ManifestArtifact;
  models_used: ModelUsed[];
  model_signature: string;
  device: string;
  stages: FaceStagesResult;
  detector_calls: number;
  mesh_calls: number;
}

export interface CoreFaceLandmarksRunContext extends ComponentContext {
  models: ModelContext;
}

/** Pose and hands are optional flags (seed 004); without a model for them, asking for them fails loudly. */
export function checkOptionalParts(config: Pick<CoreFaceLandmarksConfig, 'pose' | 'hands'>): void {
  for (const part of ['pose', 'hands'] as const) {
    if (config[part]) {
      throw new TrendflowError(
        'model_not_found',
        `core_face_landmarks ${part}=true, but no MediaPipe ${part === 'pose' ? 'Pose' : 'Hands'} model is available in the model registry; set ${part}: false`,
      );
    }
  }
}

export async function runCoreFaceLandmarks(ctx: CoreFaceLandmarksRunContext, config: CoreFaceLandmarksConfig, batchSize: number): Promise<CoreFaceLandmarksResult> {
  checkOptionalParts(config);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TrendflowError('invalid_argument', `core_face_landmarks batch_size must be a positive integer, got ${batchSize}`);
  // both models are opened before any frame is read: a missing model fails the component even on a faceless video
  const detector = await openFaceDetector(ctx.models, config.detector_model, config.device, config.detector_score_threshold);
  const mesh = await openFaceMesh(ctx.models, config.landmark_model, config.device);
  const { frames, indices } = await openSampledFrames(ctx.framesDir, 'core_face_landmarks');
  try {
    const stages = await runFaceStages(
      { count: indices.length, load: async (positions) => (await frames.getBatch(positions.map((p) => indices[p]!))).frames },
      detector,
      mesh,
      {
        maxFaces: config.max_faces,
        presenceThreshold: config.presence_threshold,
        sampling: config.detector_sampling,
        windowRadius: config.mesh_window_radius,
        batchSize,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}),
      },
    );

    const n = indices.length;
    const slots = config.max_faces;
    const { width, height } = frames;
    const landmarks = new Float32Array(n * slots * FACEMESH_POINTS * 3).fill(NaN);
    const boxes = new Float32Array(n * slots * 4).fill(NaN);
    const scores = new Float32Array(n * slots).fill(NaN);
    const present = new Uint8Array(n * slots);
    stages.faces.forEach((faces, p) => {
      faces.forEach((face, slot) => {
        const s = p * slots + slot;
        present[s] = 1;
        scores[s] = face.presence;
        boxes.set([face.box.x1 / width, face.box.y1 / height, face.box.x2 / width, face.box.y2 / height], s * 4);
        const out = s * FACEMESH_POINTS * 3;
        for (let i = 0; i < FACEMESH_POINTS; i++) {
          // MediaPipe's normalized coordinates: x, y by the frame's width and height, z on the scale of x
          landmarks[out + i * 3] = face.landmarks[i * 3]! / width;
          landmarks[out + i * 3 + 1] = face.landmarks[i * 3 + 1]! / height;
          landmarks[out + i * 3 + 2] = face.landmarks[i * 3 + 2]! / width;
        }
      });
    });
    const hasAnyFace = present.some((v) => v === 1);
    const status = hasAnyFace ? 'ok' : 'empty';
    const emptyReason = hasAnyFace ? null : 'no_faces_in_video';

    // models_used lists the models that ran: the mesh does not run when stage 1 finds no face
    const used = mesh.calls > 0 ? [detector.used, mesh.used] : [detector.used];
    const signature = modelSignature(used);
    const union = (positions: number[]) => positions.map((p) => indices[p]!);
    const meta = artifactMeta({
      identity: ctx.identity,
      producer: 'core_face_landmarks',
      producerVersion: CORE_FACE_LANDMARKS_PRODUCER_VERSION,
      schemaVersion: CORE_FACE_LANDMARKS_SCHEMA_VERSION,
      status,
      emptyReason,
      extra: {
        models_used: used.map((m) => ({ ...m })),
        model_signature: signature,
        batch_size: batchSize,
        detector_model: config.detector_model,
        landmark_model: config.landmark_model,
        max_faces: slots,
        detector_score_threshold: config.detector_score_threshold,
        presence_threshold: config.presence_threshold,
        detector_sampling: { ...config.detector_sampling },
        detector_stride: stages.stride,
        mesh_window_radius: stages.windowRadius,
        detector_frame_indices: union(stages.detectorPositions),
        redetect_frame_indices: union(stages.redetectPositions),
        mesh_frame_indices: union(stages.meshPositions),
        detector_calls: detector.calls,
        mesh_calls: mesh.calls,
        analysis_width: width,
        analysis_height: height,
        face_scores_meaning: 'facemesh_presence_probability',
        frame_count: n,
      },
    });
    const reason = ndarray.objectScalar(emptyReason);
    const artifact = await writeArtifact(
      ctx.runDir,
      'core_face_landmarks',
      CORE_FACE_LANDMARKS_ARTIFACT,
      {
        frame_indices: ndarray.int32(indices),
        face_landmarks: ndarray.float32(landmarks, [n, slots, FACEMESH_POINTS, 3]),
        face_present: ndarray.bool(present, [n, slots]),
        has_any_face: ndarray.bool([hasAnyFace], []),
        empty_reason: reason,
        face_empty_reason: reason,
        face_boxes: ndarray.float32(boxes, [n, slots, 4]),
        face_scores: ndarray.float32(scores, [n, slots]),
      },
      meta,
    );
    return { status, artifact, models_used: used, model_signature: signature, device: detector.used.device, stages, detector_calls: detector.calls, mesh_calls: mesh.calls };
  } finally {
    await frames.close();
  }
}
