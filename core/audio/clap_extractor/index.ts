/** clap_extractor as a pipeline component (core/pipeline/component.ts). See README.md. */
import type { ComponentDefinition } from '../../pipeline/component.js';
import { configParser } from '../../pipeline/config.js';
import { CLAP_PRODUCER_VERSION, CLAP_SCHEMA_VERSION, DEFAULT_CLAP_CONFIG, runClapExtractor, type ClapConfig } from './run.js';

export { CLAP_ARTIFACT, CLAP_FEATURES, CLAP_PRODUCER_VERSION, CLAP_SCHEMA_VERSION, clapWindows, DEFAULT_CLAP_CONFIG, poolWindows, runClapExtractor, type ClapConfig } from './run.js';
export { CLAP_INPUT, CLAP_PRESET, clapLogMel, repeatPad } from './features.js';

export const clapExtractorComponent: ComponentDefinition<ClapConfig> = {
  name: 'clap_extractor',
  kind: 'audio',
  producerVersion: CLAP_PRODUCER_VERSION,
  schemaVersion: CLAP_SCHEMA_VERSION,
  dependencies: [],
  uses: { frames: false, signals: false, audio: true, metadata: false, snapshots: false },
  defaults: { ...DEFAULT_CLAP_CONFIG },
  parseConfig: configParser<ClapConfig>(
    'clap_extractor',
    {
      required: ['model', 'device', 'precision', 'window_sec', 'hop_sec', 'batch_size'],
      properties: {
        model: { type: 'string', minLength: 1 },
        device: { enum: ['cpu', 'cuda'] },
        precision: { enum: ['fp32', 'fp16'] },
        window_sec: { type: 'number', exclusiveMinimum: 0, maximum: 10 },
        hop_sec: { type: 'number', exclusiveMinimum: 0, maximum: 10 },
        batch_size: { anyOf: [{ type: 'integer', minimum: 1, maximum: 1024 }, { type: 'null' }] },
      },
    },
    { ...DEFAULT_CLAP_CONFIG },
  ),
  batching: (config) => ({ device: config.device, fixed: config.batch_size }),
  run: (ctx, config) => runClapExtractor(ctx, config),
};
