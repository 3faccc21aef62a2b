/** text_processor as a pipeline component (core/pipeline/component.ts). See README.md. */
import type { ComponentDefinition } from '../../pipeline/component.js';
import { configParser } from '../../pipeline/config.js';
import { DEFAULT_TEXT_CONFIG, RAW_TEXT_HARD_CAP_DAYS, runTextProcessor, TEXT_PRODUCER_VERSION, TEXT_SCHEMA_VERSION, type TextConfig } from './run.js';

export { DEFAULT_TEXT_CONFIG, EMBEDDING_SOURCES, RAW_TEXT_HARD_CAP_DAYS, runTextProcessor, TEXT_ARTIFACT, TEXT_PRODUCER_VERSION, TEXT_SCHEMA_VERSION, type TextConfig } from './run.js';
export { chunkText, openTextEmbedder, type TextEmbedder } from './embedder.js';
export { detectLanguage, TEXT_FEATURES } from './features.js';

const ID = { type: 'string', minLength: 1 } as const;

export const textProcessorComponent: ComponentDefinition<TextConfig> = {
  name: 'text_processor',
  kind: 'text',
  producerVersion: TEXT_PRODUCER_VERSION,
  schemaVersion: TEXT_SCHEMA_VERSION,
  dependencies: [],
  uses: { frames: false, signals: false, audio: false, metadata: true, snapshots: true },
  defaults: { ...DEFAULT_TEXT_CONFIG },
  parseConfig: configParser<TextConfig>(
    'text_processor',
    {
      required: Object.keys(DEFAULT_TEXT_CONFIG),
      properties: {
        model: ID,
        tokenizer: ID,
        device: { enum: ['cpu', 'cuda'] },
        precision: { enum: ['fp32', 'fp16'] },
        max_tokens: { type: 'integer', minimum: 8, maximum: 8192 },
        chunk_chars: { type: 'integer', minimum: 20, maximum: 100_000 },
        max_chunks: { type: 'integer', minimum: 1, maximum: 1024 },
        max_comments: { type: 'integer', minimum: 0, maximum: 100_000 },
        retain_raw_comments: { type: 'boolean' },
        retain_raw_ocr_text: { type: 'boolean' },
        retention_days: { anyOf: [{ type: 'integer', minimum: 1, maximum: RAW_TEXT_HARD_CAP_DAYS }, { type: 'null' }] },
        batch_size: { anyOf: [{ type: 'integer', minimum: 1, maximum: 4096 }, { type: 'null' }] },
      },
      // raw text is kept only with a retention under the hard cap (seed 002 §6.2, DESIGN.md §9)
      if: { anyOf: [{ properties: { retain_raw_comments: { const: true } } }, { properties: { retain_raw_ocr_text: { const: true } } }] },
      then: { properties: { retention_days: { type: 'integer' } } },
    },
    { ...DEFAULT_TEXT_CONFIG },
  ),
  batching: (config) => ({ device: config.device, fixed: config.batch_size }),
  run: (ctx, config) => runTextProcessor(ctx, config),
};
