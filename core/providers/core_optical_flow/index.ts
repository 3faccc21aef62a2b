/** core_optical_flow as a pipeline component (core/pipeline/component.ts). See README.md. */
import { TrendflowError } from '../../contracts/errors.js';
import type { ComponentDefinition } from '../../pipeline/component.js';
import { configParser } from '../../pipeline/config.js';
import { okOutcomeWithModels } from '../../pipeline/outcome.js';
import { CORE_OPTICAL_FLOW_PRODUCER_VERSION, CORE_OPTICAL_FLOW_SCHEMA_VERSION, runCoreOpticalFlow, type CoreOpticalFlowConfig } from './run.js';

export { CORE_OPTICAL_FLOW_ARTIFACT, CORE_OPTICAL_FLOW_PRODUCER_VERSION, CORE_OPTICAL_FLOW_SCHEMA_VERSION, runCoreOpticalFlow } from './run.js';
export type { CoreOpticalFlowConfig, CoreOpticalFlowResult } from './run.js';

export const DEFAULT_CORE_OPTICAL_FLOW_CONFIG: Readonly<CoreOpticalFlowConfig> = {
  engine: 'raft',
  model: 'raft-small',
  block_matching: { working_width: 160, block_size: 8, search_radius: 6 },
  moving_threshold_px: 0.5,
  device: 'cpu',
  batch_size: 8,
};

export const coreOpticalFlowComponent: ComponentDefinition<CoreOpticalFlowConfig> = {
  name: 'core_optical_flow',
  kind: 'core',
  producerVersion: CORE_OPTICAL_FLOW_PRODUCER_VERSION,
  schemaVersion: CORE_OPTICAL_FLOW_SCHEMA_VERSION,
  dependencies: [],
  uses: { frames: true, signals: false, audio: false, metadata: false, snapshots: false },
  defaults: DEFAULT_CORE_OPTICAL_FLOW_CONFIG,
  parseConfig: configParser<CoreOpticalFlowConfig>(
    'core_optical_flow',
    {
      required: Object.keys(DEFAULT_CORE_OPTICAL_FLOW_CONFIG),
      properties: {
        engine: { enum: ['raft', 'block_matching'] },
        model: { type: 'string', minLength: 1 },
        block_matching: {
          type: 'object',
          additionalProperties: false,
          required: ['working_width', 'block_size', 'search_radius'],
          properties: {
            working_width: { type: 'integer', minimum: 16, maximum: 1280 },
            block_size: { type: 'integer', minimum: 2, maximum: 64 },
            search_radius: { type: 'integer', minimum: 1, maximum: 64 },
          },
        },
        moving_threshold_px: { type: 'number', minimum: 0, maximum: 100 },
        device: { enum: ['cpu', 'cuda'] },
        batch_size: { type: 'integer', minimum: 1, maximum: 1024 },
      },
    },
    DEFAULT_CORE_OPTICAL_FLOW_CONFIG,
  ),
  // one pair per model call (batch dimension fixed at 1): the batch is the pairs read per step
  batching: (config) => ({ device: config.engine === 'raft' ? config.device : 'cpu', fixed: config.batch_size }),
  // block matching runs no model: the RAFT id its config still names is not read
  localModels: (config, named) => (config.engine === 'raft' ? [...named] : []),
  async run(ctx, config) {
    if (ctx.batchSize === null) throw new TrendflowError('internal_error', 'core_optical_flow runs with a planned batch size');
    const result = await runCoreOpticalFlow(ctx, config, ctx.batchSize);
    return okOutcomeWithModels(result.artifact, { models_used: result.models_used, model_signature: result.model_signature, device_used: result.device }, [`${config.engine} flow on ${result.pairs} frame pairs`]);
  },
};
