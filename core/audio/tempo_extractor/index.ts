/** tempo_extractor as a pipeline component (core/pipeline/component.ts). See README.md. */
import type { ComponentDefinition } from '../../pipeline/component.js';
import { configParser } from '../../pipeline/config.js';
import { runTempoExtractor, TEMPO_PRODUCER_VERSION, TEMPO_SCHEMA_VERSION } from './run.js';

export { MIN_TEMPO_DURATION_SEC, runTempoExtractor, TEMPO_ARTIFACT, TEMPO_FEATURES, TEMPO_PRODUCER_VERSION, TEMPO_SCHEMA_VERSION, tempoFeatures } from './run.js';
export { analyseTempo, onsetStrength, TEMPO_PARAMETERS, type TempoAnalysis, type TempoParameters } from './tempo.js';

/** The method's parameters are fixed (tempo.ts, recorded in meta): a different prior is a new producer version. */
export type TempoExtractorConfig = Record<string, never>;

export const tempoExtractorComponent: ComponentDefinition<TempoExtractorConfig> = {
  name: 'tempo_extractor',
  kind: 'audio',
  producerVersion: TEMPO_PRODUCER_VERSION,
  schemaVersion: TEMPO_SCHEMA_VERSION,
  dependencies: [],
  uses: { frames: false, signals: false, audio: true, metadata: false, snapshots: false },
  defaults: {},
  parseConfig: configParser<TempoExtractorConfig>('tempo_extractor', { properties: {} }, {}),
  run: (ctx) => runTempoExtractor(ctx),
};
