import { describe, expect, it } from 'vitest';
import { AGGREGATE_FEATURES } from '../modules/video_aggregates/features.js';
import { SNAPSHOT_FEATURES } from '../temporal/temporal_snapshot_features/run.js';
import { TEXT_FEATURES } from '../text/text_processor/features.js';
import { FEATURE_COLUMNS, FEATURE_SCHEMA_VERSION, FEATURE_SOURCES, TARGET_NAMES } from './feature-spec.js';

describe('feature spec features_v1', () => {
  it('freezes exactly the producers’ current feature lists (a producer change needs a new feature_schema_version)', () => {
    expect(FEATURE_SCHEMA_VERSION).toBe('features_v1');
    const byComponent = Object.fromEntries(FEATURE_SOURCES.map((s) => [s.component, s.names]));
    expect(byComponent).toEqual({
      video_aggregates: AGGREGATE_FEATURES.map((f) => f.name),
      temporal_snapshot_features: [...SNAPSHOT_FEATURES],
      text_processor: [...TEXT_FEATURES],
    });
  });

  it('has unique column names, known flags, and required aggregates and snapshot-1 features', () => {
    const names = FEATURE_COLUMNS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toHaveLength(53 + 23 + 44);
    for (const source of FEATURE_SOURCES) for (const flag of source.flags) expect(source.names).toContain(flag);
    expect(FEATURE_COLUMNS.find((c) => c.name === 'temporal_snapshot_features.age_bucket_lt_24h')).toMatchObject({ required: true, imputation: 'most_frequent' });
    expect(FEATURE_COLUMNS.find((c) => c.name === 'video_aggregates.shot_count')).toMatchObject({ required: true, imputation: 'median' });
    expect(FEATURE_COLUMNS.find((c) => c.name === 'text_processor.title_present')).toMatchObject({ required: false, imputation: 'most_frequent' });
  });

  it('names no feature from a later snapshot (only snapshot 1 and publishedAt feed temporal features)', () => {
    expect(FEATURE_COLUMNS.filter((c) => /snapshot[2-9]|_7d|_14d|_21d|delta|dynamics/.test(c.feature))).toEqual([]);
  });

  it('has views and likes × 7/14/21 targets', () => {
    expect(TARGET_NAMES).toEqual(['y_views_7d', 'y_views_14d', 'y_views_21d', 'y_likes_7d', 'y_likes_14d', 'y_likes_21d']);
  });
});
