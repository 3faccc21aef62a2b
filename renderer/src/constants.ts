/**
 * Vocabularies the views list. The renderer may import only types from core/ (layering rule), so the values are
 * repeated here as records keyed by the core types: the compiler fails when core adds or renames a value.
 */
import type { ComponentName } from '../../core/contracts/components.js';
import type { RunStatus } from '../../core/contracts/status.js';

const RUN_STATUS_FILTER: Record<RunStatus, true> = { ok: true, partial: true, error: true, running: true, interrupted: true, cancelled: true };
export const RUN_STATUSES_SHOWN = Object.keys(RUN_STATUS_FILTER) as RunStatus[];

/** Components that run models (their batch size can be fixed in the settings). */
const RUNS_MODELS: Record<ComponentName, boolean> = {
  core_clip: true,
  core_face_landmarks: true,
  core_object_detections: true,
  core_depth_midas: true,
  core_optical_flow: true,
  cut_detection: false,
  shot_quality: false,
  scene_classification: true,
  video_pacing: false,
  shot_sequence: false,
  video_aggregates: false,
  loudness_extractor: false,
  tempo_extractor: false,
  clap_extractor: true,
  text_processor: true,
  temporal_snapshot_features: false,
  targets_builder_multi_horizon: false,
  prediction: true,
};
export const MODEL_COMPONENTS = (Object.keys(RUNS_MODELS) as ComponentName[]).filter((name) => RUNS_MODELS[name]);
