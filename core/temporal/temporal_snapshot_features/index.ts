/** temporal_snapshot_features as a pipeline component (core/pipeline/component.ts). See README.md. */
import type { ComponentDefinition } from '../../pipeline/component.js';
import { configParser } from '../../pipeline/config.js';
import { runTemporalSnapshotFeatures, SNAPSHOT_FEATURES_PRODUCER_VERSION, SNAPSHOT_FEATURES_SCHEMA_VERSION } from './run.js';

export {
  ageBucket,
  channelIdOf,
  runTemporalSnapshotFeatures,
  SNAPSHOT_FEATURES,
  SNAPSHOT_FEATURES_ARTIFACT,
  SNAPSHOT_FEATURES_PRODUCER_VERSION,
  SNAPSHOT_FEATURES_SCHEMA_VERSION,
  snapshotFeatures,
  type AgeBucket,
} from './run.js';

/** Nothing to configure: the features and the age buckets are the seed's. */
export type TemporalSnapshotFeaturesConfig = Record<string, never>;

export const temporalSnapshotFeaturesComponent: ComponentDefinition<TemporalSnapshotFeaturesConfig> = {
  name: 'temporal_snapshot_features',
  kind: 'temporal',
  producerVersion: SNAPSHOT_FEATURES_PRODUCER_VERSION,
  schemaVersion: SNAPSHOT_FEATURES_SCHEMA_VERSION,
  dependencies: [],
  uses: { frames: false, signals: false, audio: false, metadata: true, snapshots: true },
  defaults: {},
  parseConfig: configParser<TemporalSnapshotFeaturesConfig>('temporal_snapshot_features', { properties: {} }, {}),
  run: (ctx) => runTemporalSnapshotFeatures(ctx),
};
