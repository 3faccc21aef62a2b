/** core_clip as a pipeline component (core/pipeline/component.ts). See README.md. */
import { TrendflowError } from '../../contracts/errors.js';
import type { ComponentDefinition } from '../../pipeline/component.js';
import { configParser } from '../../pipeline/config.js';
import { okOutcomeWithModels } from '../../pipeline/outcome.js';
import { CORE_CLIP_PRODUCER_VERSION, CORE_CLIP_SCHEMA_VERSION, runCoreClip } from './run.js';
import { DEFAULT_CORE_CLIP_CONFIG, setupCoreClip, type CoreClipConfig } from './setup.js';

export { CORE_CLIP_ARTIFACT, CORE_CLIP_PRODUCER_VERSION, CORE_CLIP_SCHEMA_VERSION, runCoreClip, type CoreClipResult } from './run.js';
export { DEFAULT_CORE_CLIP_CONFIG, setupCoreClip, tritonClipEncoders, type CoreClipConfig, type CoreClipSetup } from './setup.js';
export { SHOT_QUALITY_PROMPT_SET_VERSION, SHOT_QUALITY_PROMPTS } from './prompts.js';

export interface CoreClipComponentConfig extends CoreClipConfig {
  /** Frames per inference call; null lets the batch planner choose. */
  batch_size: number | null;
}

const defaults: CoreClipComponentConfig = { ...DEFAULT_CORE_CLIP_CONFIG, batch_size: null };

const ID = { type: 'string', minLength: 1 } as const;

export const coreClipComponent: ComponentDefinition<CoreClipComponentConfig> = {
  name: 'core_clip',
  kind: 'core',
  producerVersion: CORE_CLIP_PRODUCER_VERSION,
  schemaVersion: CORE_CLIP_SCHEMA_VERSION,
  dependencies: [],
  uses: { frames: true, signals: false, audio: false, metadata: false, snapshots: false },
  defaults,
  parseConfig: configParser<CoreClipComponentConfig>(
    'core_clip',
    {
      required: ['runtime', 'image_model', 'text_model', 'vocab_model', 'preset', 'device', 'precision', 'batch_size'],
      properties: {
        runtime: { enum: ['inprocess', 'triton'] },
        image_model: ID,
        text_model: ID,
        vocab_model: ID,
        preset: { enum: ['openai_clip_224', 'openai_clip_336', 'openai_clip_448'] },
        device: { enum: ['cpu', 'cuda'] },
        precision: { enum: ['fp32', 'fp16'] },
        batch_size: { anyOf: [{ type: 'integer', minimum: 1, maximum: 4096 }, { type: 'null' }] },
        // checked in full by validateTritonModelMapping when the runtime is triton
        triton: { type: 'object' },
      },
    },
    defaults,
  ),
  batching: (config) => ({ device: config.runtime === 'triton' ? 'cuda' : config.device, fixed: config.runtime === 'triton' ? (config.triton?.batch_size ?? null) : config.batch_size }),
  // on Triton the server holds both encoders (`triton export-repo`); the BPE vocabulary is read here either way
  localModels: (config, named) => (config.runtime === 'triton' ? named.filter((id) => id === config.vocab_model) : [...named]),
  async run(ctx, config) {
    if (ctx.batchSize === null) throw new TrendflowError('internal_error', 'core_clip runs with a planned batch size');
    const setup = await setupCoreClip(config, ctx.models);
    try {
      const result = await runCoreClip(ctx, { preset: setup.preset, batchSize: ctx.batchSize, encoders: setup.encoders, tokenizer: setup.tokenizer });
      return okOutcomeWithModels(result.artifact, { models_used: result.models_used, model_signature: result.model_signature, device_used: result.models_used[0]!.device });
    } finally {
      await setup.close();
    }
  },
};
