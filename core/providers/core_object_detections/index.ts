/** core_object_detections as a pipeline component (core/pipeline/component.ts). See README.md. */
import { TrendflowError } from '../../contracts/errors.js';
import type { ComponentDefinition } from '../../pipeline/component.js';
import { configParser } from '../../pipeline/config.js';
import { okOutcomeWithModels } from '../../pipeline/outcome.js';
import {
  CORE_OBJECT_DETECTIONS_PRODUCER_VERSION,
  CORE_OBJECT_DETECTIONS_SCHEMA_VERSION,
  runCoreObjectDetections,
  type CoreObjectDetectionsConfig,
} from './run.js';

export { CORE_OBJECT_DETECTIONS_ARTIFACT, CORE_OBJECT_DETECTIONS_PRODUCER_VERSION, CORE_OBJECT_DETECTIONS_SCHEMA_VERSION, runCoreObjectDetections } from './run.js';
export type { CoreObjectDetectionsConfig, CoreObjectDetectionsResult } from './run.js';
export { COCO_CLASS_NAMES } from './coco.js';

export const DEFAULT_CORE_OBJECT_DETECTIONS_CONFIG: Readonly<CoreObjectDetectionsConfig> = {
  model: 'yolox-nano',
  score_threshold: 0.3,
  nms_iou: 0.45,
  max_detections: 100,
  device: 'cpu',
  batch_size: 16,
};

const UNIT = { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 } as const;

export const coreObjectDetectionsComponent: ComponentDefinition<CoreObjectDetectionsConfig> = {
  name: 'core_object_detections',
  kind: 'core',
  producerVersion: CORE_OBJECT_DETECTIONS_PRODUCER_VERSION,
  schemaVersion: CORE_OBJECT_DETECTIONS_SCHEMA_VERSION,
  dependencies: [],
  uses: { frames: true, signals: false, audio: false, metadata: false, snapshots: false },
  defaults: DEFAULT_CORE_OBJECT_DETECTIONS_CONFIG,
  parseConfig: configParser<CoreObjectDetectionsConfig>(
    'core_object_detections',
    {
      required: Object.keys(DEFAULT_CORE_OBJECT_DETECTIONS_CONFIG),
      properties: {
        model: { type: 'string', minLength: 1 },
        score_threshold: UNIT,
        nms_iou: UNIT,
        max_detections: { type: 'integer', minimum: 1, maximum: 1000 },
        device: { enum: ['cpu', 'cuda'] },
        batch_size: { type: 'integer', minimum: 1, maximum: 1024 },
      },
    },
    DEFAULT_CORE_OBJECT_DETECTIONS_CONFIG,
  ),
  // the model takes one image per call (batch dimension fixed at 1): the batch is the frames read per step
  batching: (config) => ({ device: config.device, fixed: config.batch_size }),
  async run(ctx, config) {
    if (ctx.batchSize === null) throw new TrendflowError('internal_error', 'core_object_detections runs with a planned batch size');
    const result = await runCoreObjectDetections(ctx, config, ctx.batchSize);
    return okOutcomeWithModels(result.artifact, { models_used: result.models_used, model_signature: result.model_signature, device_used: result.device }, [`${result.detections} detections`]);
  },
};
