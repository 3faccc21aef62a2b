/** core_depth_midas as a pipeline component (core/pipeline/component.ts). See README.md. */
import { TrendflowError } from '../../contracts/errors.js';
import type { ComponentDefinition } from '../../pipeline/component.js';
import { configParser } from '../../pipeline/config.js';
import { okOutcomeWithModels } from '../../pipeline/outcome.js';
import { CORE_DEPTH_MIDAS_PRODUCER_VERSION, CORE_DEPTH_MIDAS_SCHEMA_VERSION, runCoreDepthMidas, type CoreDepthMidasConfig } from './run.js';

export { CORE_DEPTH_MIDAS_ARTIFACT, CORE_DEPTH_MIDAS_PRODUCER_VERSION, CORE_DEPTH_MIDAS_SCHEMA_VERSION, runCoreDepthMidas } from './run.js';
export type { CoreDepthMidasConfig, CoreDepthMidasResult } from './run.js';

export const DEFAULT_CORE_DEPTH_MIDAS_CONFIG: Readonly<CoreDepthMidasConfig> = {
  model: 'midas-v21-small',
  map_long_side: 64,
  device: 'cpu',
  batch_size: 8,
};

export const coreDepthMidasComponent: ComponentDefinition<CoreDepthMidasConfig> = {
  name: 'core_depth_midas',
  kind: 'core',
  producerVersion: CORE_DEPTH_MIDAS_PRODUCER_VERSION,
  schemaVersion: CORE_DEPTH_MIDAS_SCHEMA_VERSION,
  dependencies: [],
  uses: { frames: true, signals: false, audio: false, metadata: false, snapshots: false },
  defaults: DEFAULT_CORE_DEPTH_MIDAS_CONFIG,
  parseConfig: configParser<CoreDepthMidasConfig>(
    'core_depth_midas',
    {
      required: Object.keys(DEFAULT_CORE_DEPTH_MIDAS_CONFIG),
      properties: {
        model: { type: 'string', minLength: 1 },
        map_long_side: { type: 'integer', minimum: 4, maximum: 512 },
        device: { enum: ['cpu', 'cuda'] },
        batch_size: { type: 'integer', minimum: 1, maximum: 1024 },
      },
    },
    DEFAULT_CORE_DEPTH_MIDAS_CONFIG,
  ),
  // the model takes one image per call (batch dimension fixed at 1): the batch is the frames read per step
  batching: (config) => ({ device: config.device, fixed: config.batch_size }),
  async run(ctx, config) {
    if (ctx.batchSize === null) throw new TrendflowError('internal_error', 'core_depth_midas runs with a planned batch size');
    const result = await runCoreDepthMidas(ctx, config, ctx.batchSize);
    return okOutcomeWithModels(result.artifact, { models_used: result.models_used, model_signature: result.model_signature, device_used: result.device }, result.frames_without_depth > 0 ? [`${result.frames_without_depth} frames with a flat depth prediction (depth_present False)`] : []);
  },
};
