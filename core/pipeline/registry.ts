/**
 * Every pipeline component that exists, by canonical name. Each component folder exports one definition
 * (core/pipeline/component.ts); adding a component = one import and one entry here.
 */
import type { ComponentName } from '../contracts/components.js';
import { TrendflowError } from '../contracts/errors.js';
import { clapExtractorComponent } from '../audio/clap_extractor/index.js';
import { loudnessExtractorComponent } from '../audio/loudness_extractor/index.js';
import { tempoExtractorComponent } from '../audio/tempo_extractor/index.js';
import { targetsBuilderComponent } from '../temporal/targets_builder_multi_horizon/index.js';
import { temporalSnapshotFeaturesComponent } from '../temporal/temporal_snapshot_features/index.js';
import { coreClipComponent } from '../providers/core_clip/index.js';
import { textProcessorComponent } from '../text/text_processor/index.js';
import { cutDetectionComponent } from '../modules/cut_detection/index.js';
import { shotQualityComponent } from '../modules/shot_quality/index.js';
import { shotSequenceComponent } from '../modules/shot_sequence/index.js';
import { videoPacingComponent } from '../modules/video_pacing/index.js';
import { sceneClassificationComponent } from '../modules/scene_classification/index.js';
import { videoAggregatesComponent } from '../modules/video_aggregates/index.js';
import { coreDepthMidasComponent } from '../providers/core_depth_midas/index.js';
import { coreFaceLandmarksComponent } from '../providers/core_face_landmarks/index.js';
import { coreObjectDetectionsComponent } from '../providers/core_object_detections/index.js';
import { coreOpticalFlowComponent } from '../providers/core_optical_flow/index.js';
import { predictionComponent } from '../predict/prediction/index.js';
import type { ComponentDefinition } from './component.js';

const DEFINITIONS: ComponentDefinition<any>[] = [coreClipComponent, coreFaceLandmarksComponent, coreObjectDetectionsComponent, coreDepthMidasComponent, coreOpticalFlowComponent, loudnessExtractorComponent, tempoExtractorComponent, clapExtractorComponent, textProcessorComponent, temporalSnapshotFeaturesComponent, targetsBuilderComponent, cutDetectionComponent, shotQualityComponent, shotSequenceComponent, videoPacingComponent, sceneClassificationComponent, videoAggregatesComponent, predictionComponent];

export const COMPONENTS: ReadonlyMap<ComponentName, ComponentDefinition<unknown>> = new Map(DEFINITIONS.map((d) => [d.name, d]));

export function componentDefinition(name: ComponentName): ComponentDefinition<unknown> {
  const definition = COMPONENTS.get(name);
  if (!definition) throw new TrendflowError('invalid_argument', `component ${name} is not implemented yet (available: ${[...COMPONENTS.keys()].join(', ')})`);
  return definition;
}
