/** loudness_extractor as a pipeline component (core/pipeline/component.ts). See README.md. */
import type { ComponentDefinition } from '../../pipeline/component.js';
import { configParser } from '../../pipeline/config.js';
import { LOUDNESS_PRODUCER_VERSION, LOUDNESS_SCHEMA_VERSION, runLoudnessExtractor } from './run.js';

export { LOUDNESS_ARTIFACT, LOUDNESS_FEATURES, LOUDNESS_PRODUCER_VERSION, LOUDNESS_SCHEMA_VERSION, loudnessFeatures, runLoudnessExtractor } from './run.js';

/** The measurement is fixed by the standard: nothing to configure. */
export type LoudnessExtractorConfig = Record<string, never>;

export const loudnessExtractorComponent: ComponentDefinition<LoudnessExtractorConfig> = {
  name: 'loudness_extractor',
  kind: 'audio',
  producerVersion: LOUDNESS_PRODUCER_VERSION,
  schemaVersion: LOUDNESS_SCHEMA_VERSION,
  dependencies: [],
  uses: { frames: false, signals: false, audio: true, metadata: false, snapshots: false },
  defaults: {},
  parseConfig: configParser<LoudnessExtractorConfig>('loudness_extractor', { properties: {} }, {}),
  run: (ctx) => runLoudnessExtractor(ctx),
};
