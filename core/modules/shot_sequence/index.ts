/** shot_sequence as a pipeline component (core/pipeline/component.ts). See README.md. */
import type { ComponentDefinition } from '../../pipeline/component.js';
import { configParser } from '../../pipeline/config.js';
import { outcomeWithoutModels } from '../../pipeline/outcome.js';
import { runShotSequence, SHOT_SEQUENCE_PRODUCER_VERSION, SHOT_SEQUENCE_SCHEMA_VERSION } from './run.js';

export { MAX_TOKENS, MERGE_RULE, runShotSequence, SHOT_SEQUENCE_ARTIFACT, SHOT_SEQUENCE_PRODUCER_VERSION, SHOT_SEQUENCE_SCHEMA_VERSION, type ShotSequenceResult } from './run.js';
export { mergeShortest, type TokenRun } from './merge.js';

/** No settings: the token length (256) and the merge rule are part of the schema version (seed 002 §3). */
export type ShotSequenceConfig = Record<string, never>;

export const shotSequenceComponent: ComponentDefinition<ShotSequenceConfig> = {
  name: 'shot_sequence',
  kind: 'module',
  producerVersion: SHOT_SEQUENCE_PRODUCER_VERSION,
  schemaVersion: SHOT_SEQUENCE_SCHEMA_VERSION,
  dependencies: [
    { component: 'cut_detection', need: 'required' },
    { component: 'core_clip', need: 'optional' },
    { component: 'clap_extractor', need: 'optional' },
  ],
  uses: { frames: false, signals: false, audio: false, metadata: false, snapshots: false },
  defaults: {},
  parseConfig: configParser<ShotSequenceConfig>('shot_sequence', { properties: {} }, {}),
  async run(ctx) {
    const result = await runShotSequence(ctx);
    return outcomeWithoutModels(result.status, 'dependency_missing', result.artifact ? [result.artifact] : []);
  },
};
