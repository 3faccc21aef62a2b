/**
 * Canonical component names (DESIGN.md §7, seed 001 §4.1). These exact strings are used in code, meta
 * `producer`, result_store paths and schema file names; no aliases exist anywhere.
 */
export const COMPONENT_NAMES = [
  'core_clip',
  'core_face_landmarks',
  'core_object_detections',
  'core_depth_midas',
  'core_optical_flow',
  'cut_detection',
  'shot_quality',
  'scene_classification',
  'video_pacing',
  'shot_sequence',
  'video_aggregates',
  'loudness_extractor',
  'tempo_extractor',
  'clap_extractor',
  'text_processor',
  'temporal_snapshot_features',
  'targets_builder_multi_horizon',
  'prediction',
] as const;

export type ComponentName = (typeof COMPONENT_NAMES)[number];

export const COMPONENT_KINDS = ['core', 'module', 'audio', 'text', 'temporal', 'predict'] as const;
export type ComponentKind = (typeof COMPONENT_KINDS)[number];

export function isComponentName(value: unknown): value is ComponentName {
  return typeof value === 'string' && (COMPONENT_NAMES as readonly string[]).includes(value);
}
