/** shot_quality as a pipeline component (core/pipeline/component.ts). See README.md. */
import type { ComponentDefinition } from '../../pipeline/component.js';
import { configParser } from '../../pipeline/config.js';
import { outcomeWithoutModels } from '../../pipeline/outcome.js';
import { runShotQuality, SHOT_QUALITY_PRODUCER_VERSION, SHOT_QUALITY_SCHEMA_VERSION } from './run.js';

export { runShotQuality, SHOT_QUALITY_ARTIFACT, SHOT_QUALITY_PRODUCER_VERSION, SHOT_QUALITY_SCHEMA_VERSION, type ShotQualityResult } from './run.js';
export { CLIP_LOGIT_SCALE, CLIP_SCORE_PAIRS } from './clip-scores.js';
export { FACE_METRIC_NAMES } from './face-metrics.js';
export { IMAGE_METRIC_NAMES } from './image-metrics.js';

/** shot_quality has no settings: its statistics and prompt pairs are fixed by its schema version. */
export type ShotQualityConfig = Record<string, never>;

export const shotQualityComponent: ComponentDefinition<ShotQualityConfig> = {
  name: 'shot_quality',
  kind: 'module',
  producerVersion: SHOT_QUALITY_PRODUCER_VERSION,
  schemaVersion: SHOT_QUALITY_SCHEMA_VERSION,
  dependencies: [
    { component: 'cut_detection', need: 'required' },
    { component: 'core_clip', need: 'optional' },
    { component: 'core_face_landmarks', need: 'optional' },
  ],
  uses: { frames: true, signals: false, audio: false, metadata: false, snapshots: false },
  defaults: {},
  parseConfig: configParser<ShotQualityConfig>('shot_quality', { properties: {} }, {}),
  async run(ctx) {
    const result = await runShotQuality(ctx);
    return outcomeWithoutModels(result.status, 'dependency_missing', result.artifact ? [result.artifact] : []);
  },
};
