/** core_face_landmarks as a pipeline component (core/pipeline/component.ts). See README.md. */
import { TrendflowError } from '../../contracts/errors.js';
import type { ComponentDefinition } from '../../pipeline/component.js';
import { configParser } from '../../pipeline/config.js';
import { FACE_DETECTOR_IDS } from '../vision/face-detectors.js';
import {
  CORE_FACE_LANDMARKS_PRODUCER_VERSION,
  CORE_FACE_LANDMARKS_SCHEMA_VERSION,
  runCoreFaceLandmarks,
  type CoreFaceLandmarksConfig,
} from './run.js';
import { DEFAULT_DETECTOR_SAMPLING } from './stages.js';

export { CORE_FACE_LANDMARKS_ARTIFACT, CORE_FACE_LANDMARKS_PRODUCER_VERSION, CORE_FACE_LANDMARKS_SCHEMA_VERSION, runCoreFaceLandmarks } from './run.js';
export type { CoreFaceLandmarksConfig, CoreFaceLandmarksResult } from './run.js';

export const DEFAULT_CORE_FACE_LANDMARKS_CONFIG: Readonly<CoreFaceLandmarksConfig> = {
  detector_model: 'yunet-2023mar',
  landmark_model: 'mediapipe-facemesh-468',
  max_faces: 2,
  detector_score_threshold: null,
  presence_threshold: 0.5,
  detector_sampling: { ...DEFAULT_DETECTOR_SAMPLING },
  mesh_window_radius: null,
  device: 'cpu',
  batch_size: 16,
  pose: false,
  hands: false,
};

const COUNT = { type: 'integer', minimum: 1, maximum: 100_000 } as const;
const PROBABILITY = { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 } as const;

const parse = configParser<CoreFaceLandmarksConfig>(
  'core_face_landmarks',
  {
    required: Object.keys(DEFAULT_CORE_FACE_LANDMARKS_CONFIG),
    properties: {
      detector_model: { enum: [...FACE_DETECTOR_IDS] },
      landmark_model: { type: 'string', minLength: 1 },
      max_faces: { type: 'integer', minimum: 1, maximum: 32 },
      detector_score_threshold: { anyOf: [PROBABILITY, { type: 'null' }] },
      presence_threshold: PROBABILITY,
      detector_sampling: {
        type: 'object',
        additionalProperties: false,
        required: ['target', 'min', 'max'],
        properties: { target: COUNT, min: COUNT, max: COUNT },
      },
      mesh_window_radius: { anyOf: [{ type: 'integer', minimum: 0, maximum: 100_000 }, { type: 'null' }] },
      device: { enum: ['cpu', 'cuda'] },
      batch_size: { type: 'integer', minimum: 1, maximum: 1024 },
      pose: { type: 'boolean' },
      hands: { type: 'boolean' },
    },
  },
  DEFAULT_CORE_FACE_LANDMARKS_CONFIG,
);

export const coreFaceLandmarksComponent: ComponentDefinition<CoreFaceLandmarksConfig> = {
  name: 'core_face_landmarks',
  kind: 'core',
  producerVersion: CORE_FACE_LANDMARKS_PRODUCER_VERSION,
  schemaVersion: CORE_FACE_LANDMARKS_SCHEMA_VERSION,
  dependencies: [],
  uses: { frames: true, signals: false, audio: false, metadata: false, snapshots: false },
  defaults: DEFAULT_CORE_FACE_LANDMARKS_CONFIG,
  parseConfig(value) {
    const config = parse(value);
    const { target, min, max } = config.detector_sampling;
    if (!(min <= target && target <= max)) {
      throw new TrendflowError('invalid_argument', `core_face_landmarks config: detector_sampling needs min ≤ target ≤ max, got ${min}, ${target}, ${max}`);
    }
    return config;
  },
  // the models take one image per call (batch dimension fixed at 1), so the batch is the frames read per step,
  // fixed by the config rather than planned from memory
  batching: (config) => ({ device: config.device, fixed: config.batch_size }),
  async run(ctx, config) {
    if (ctx.batchSize === null) throw new TrendflowError('internal_error', 'core_face_landmarks runs with a planned batch size');
    const result = await runCoreFaceLandmarks(ctx, config, ctx.batchSize);
    return {
      status: result.status,
      empty_reason: result.status === 'empty' ? 'no_faces_in_video' : null,
      artifacts: [result.artifact],
      models_used: result.models_used,
      model_signature: result.model_signature,
      device_used: result.device,
      notes: [
        `face detector on ${result.stages.detectorPositions.length} of ${result.stages.faces.length} primary frames (stride ${result.stages.stride}), ` +
          `FaceMesh on ${result.stages.meshPositions.length} (window ±${result.stages.windowRadius}); ${result.detector_calls} detector and ${result.mesh_calls} mesh calls`,
      ],
    };
  },
};
