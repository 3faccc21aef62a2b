/**
 * The versioned feature spec (features_v1): the single source of truth for which artifact fields become which
 * model features, shared by the training-bundle export, training and inference. The name lists are frozen copies
 * of the producers' lists on purpose: a producer that adds, drops or renames a feature fails feature-spec.test.ts
 * until a new feature_schema_version is written here, so a trained model never meets a silently shifted column.
 */
import type { ComponentName } from '../contracts/components.js';

export const FEATURE_SCHEMA_VERSION = 'features_v1';

/**
 * How a model that cannot take NaN fills a missing value. Documented, never applied by the export (X keeps NaN):
 * - `median`: the median of the training rows where the feature is present (continuous values);
 * - `most_frequent`: the most frequent value of the training rows (0/1 flags and one-hot columns).
 * Either way the consumer adds a missing-indicator column, so "imputed" stays distinguishable from "measured".
 */
export type ImputationRule = 'median' | 'most_frequent';

export interface FeatureSource {
  component: ComponentName;
  /** Artifact file in the component's folder. */
  artifact: string;
  /** Keys of the artifact holding the names and the float32 values (NaN where missing). */
  namesKey: 'feature_names';
  valuesKey: 'feature_values';
  /**
   * A required source must have run (status ok or empty) for a row to be complete: a prediction without the video's
   * aggregates or its snapshot-1 context is not one this spec describes. Optional sources only add columns.
   */
  required: boolean;
  /** The source's feature names, in the artifact's order. */
  names: readonly string[];
  /** Features of this source whose imputation is `most_frequent` (flags, one-hot); the rest are `median`. */
  flags: readonly string[];
}

export interface FeatureColumn {
  /** `<component>.<feature>`: unique across sources (two sources may both define e.g. a duration). */
  name: string;
  component: ComponentName;
  feature: string;
  required: boolean;
  imputation: ImputationRule;
}

const AGGREGATE_NAMES = [
  'quality_professional_mean', 'quality_professional_median', 'quality_professional_p10',
  'quality_professional_p90', 'quality_bad_shot_share', 'quality_sharp_mean', 'quality_well_exposed_mean',
  'sharpness_laplacian_median', 'sharpness_laplacian_p10', 'luma_mean', 'luma_std_across_shots', 'dark_shot_share',
  'shadows_clipped_mean', 'highlights_clipped_mean', 'contrast_rms_mean', 'colourfulness_mean', 'noise_sigma_mean',
  'duration_sec', 'shot_count', 'shots_per_min', 'cuts_per_min', 'shot_duration_mean_sec',
  'shot_duration_median_sec', 'shot_duration_p10_sec', 'shot_duration_p90_sec', 'short_shot_share',
  'long_shot_share', 'hard_cut_share', 'gradual_transition_share', 'cut_rate_max_per_min', 'cut_rate_std_per_min',
  'motion_energy_mean', 'motion_energy_std', 'motion_energy_p90', 'static_share', 'flow_motion_energy_mean',
  'flow_motion_energy_p90', 'loudness_curve_std_lu', 'silent_share', 'visual_dispersion',
  'adjacent_shot_distance_mean', 'repetition_ratio', 'unique_shot_share', 'scene_entropy', 'scene_top1_share',
  'scene_unique_top1_count', 'scene_change_share', 'face_time_share', 'face_count_mean', 'multi_face_share',
  'face_area_share_mean', 'face_closeup_share', 'face_center_offset_mean',
] as const;

const SNAPSHOT_NAMES = [
  'view_count', 'like_count', 'comment_count', 'subscriber_count', 'channel_video_count', 'channel_view_count',
  'log1p_view_count', 'log1p_like_count', 'log1p_comment_count', 'log1p_subscriber_count',
  'log1p_channel_video_count', 'log1p_channel_view_count', 'video_age_hours_at_snapshot1', 'age_bucket_lt_24h',
  'age_bucket_1_30d', 'age_bucket_gt_30d', 'views_per_subscriber', 'like_rate', 'comment_rate',
  'views_per_video_channel', 'views_per_hour_since_publish', 'likes_per_hour_since_publish',
  'comments_per_hour_since_publish',
] as const;

const TEXT_NAMES = [
  'title_present', 'title_length_chars', 'title_length_words', 'title_uppercase_ratio', 'title_digit_count',
  'title_question', 'title_exclamation_count', 'title_emoji_count', 'title_hashtag_count', 'description_present',
  'description_length_chars', 'description_length_words', 'description_line_count', 'description_url_count',
  'description_hashtag_count', 'description_timestamp_count', 'tags_count', 'tags_mean_length_chars',
  'chapters_count', 'subtitle_language_count', 'auto_caption_language_count', 'subtitle_text_present',
  'declared_language_matches_title', 'title_description_same_language', 'metadata_language_count',
  'comments_present', 'comments_count', 'comments_like_sum', 'comments_like_mean', 'comments_like_max',
  'comments_reply_sum', 'comments_reply_mean', 'comments_length_mean_chars', 'comments_length_median_chars',
  'comments_unique_author_ratio', 'comments_language_count', 'comments_top_language_share',
  'comments_title_language_share', 'comments_question_ratio', 'comments_emoji_ratio', 'ocr_text_present',
  'title_description_similarity', 'title_comments_similarity', 'description_comments_similarity',
] as const;

export const FEATURE_SOURCES: readonly FeatureSource[] = [
  {
    component: 'video_aggregates',
    artifact: 'aggregates.npz',
    namesKey: 'feature_names',
    valuesKey: 'feature_values',
    required: true,
    names: AGGREGATE_NAMES,
    flags: [],
  },
  {
    // snapshot 1 (t0) only: later snapshots are the targets' future (docs/SNAPSHOTS.md)
    component: 'temporal_snapshot_features',
    artifact: 'features.npz',
    namesKey: 'feature_names',
    valuesKey: 'feature_values',
    required: true,
    names: SNAPSHOT_NAMES,
    flags: ['age_bucket_lt_24h', 'age_bucket_1_30d', 'age_bucket_gt_30d'],
  },
  {
    // metadata and snapshot 1's comments only; the comment dynamics of later snapshots stay in its payload
    component: 'text_processor',
    artifact: 'features.npz',
    namesKey: 'feature_names',
    valuesKey: 'feature_values',
    required: false,
    names: TEXT_NAMES,
    flags: [
      'title_present', 'title_question', 'description_present', 'subtitle_text_present', 'declared_language_matches_title',
      'title_description_same_language', 'comments_present', 'ocr_text_present',
    ],
  },
];

/** The columns of X, in order: every source's features in the source's order. */
export const FEATURE_COLUMNS: readonly FeatureColumn[] = FEATURE_SOURCES.flatMap((source) =>
  source.names.map((feature) => ({
    name: `${source.component}.${feature}`,
    component: source.component,
    feature,
    required: source.required,
    imputation: source.flags.includes(feature) ? ('most_frequent' as const) : ('median' as const),
  })),
);

/** Targets: views and likes × 7/14/21 days, log1p of the gain after snapshot 1 (targets_builder_multi_horizon). */
export const TARGET_METRICS = ['views', 'likes'] as const;
export const TARGET_HORIZONS_DAYS = [7, 14, 21] as const;
export const TARGET_NAMES: readonly string[] = TARGET_METRICS.flatMap((metric) => TARGET_HORIZONS_DAYS.map((days) => `y_${metric}_${days}d`));
