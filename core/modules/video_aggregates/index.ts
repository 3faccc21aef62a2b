/** video_aggregates as a pipeline component (core/pipeline/component.ts). See README.md. */
import type { ComponentDefinition } from '../../pipeline/component.js';
import { configParser } from '../../pipeline/config.js';
import { outcomeWithoutModels } from '../../pipeline/outcome.js';
import { runVideoAggregates, VIDEO_AGGREGATES_PRODUCER_VERSION, VIDEO_AGGREGATES_SCHEMA_VERSION } from './run.js';

export { runVideoAggregates, VIDEO_AGGREGATES_ARTIFACT, VIDEO_AGGREGATES_PRODUCER_VERSION, VIDEO_AGGREGATES_SCHEMA_VERSION, type VideoAggregatesResult } from './run.js';
export { AGGREGATE_FEATURE_SET_VERSION, AGGREGATE_FEATURES, FEATURE_GROUPS, THRESHOLDS, type FeatureGroup, type FeatureSpec } from './features.js';

/** No settings: the feature list and its thresholds are the versioned feature set. */
export type VideoAggregatesConfig = Record<string, never>;

export const videoAggregatesComponent: ComponentDefinition<VideoAggregatesConfig> = {
  name: 'video_aggregates',
  kind: 'module',
  producerVersion: VIDEO_AGGREGATES_PRODUCER_VERSION,
  schemaVersion: VIDEO_AGGREGATES_SCHEMA_VERSION,
  dependencies: [
    { component: 'shot_quality', need: 'optional' },
    { component: 'video_pacing', need: 'optional' },
    { component: 'shot_sequence', need: 'optional' },
    { component: 'scene_classification', need: 'optional' },
    { component: 'core_clip', need: 'optional' },
  ],
  uses: { frames: false, signals: false, audio: false, metadata: false, snapshots: false },
  defaults: {},
  parseConfig: configParser<VideoAggregatesConfig>('video_aggregates', { properties: {} }, {}),
  async run(ctx) {
    const result = await runVideoAggregates(ctx);
    return outcomeWithoutModels(result.status, 'dependency_missing', [result.artifact]);
  },
};
