/**
 * core/segmenter: analysis timeline, cheap signals, cut candidates, sampling policy, union frames (frames_dir)
 * and FrameManager (see README.md).
 */
export { segmentVideo, type SegmentOptions, type SegmentProgress, type SegmentResult } from './segment.js';
export { FrameManager, type FrameBatch, type RgbFrame } from './frame-manager.js';
export {
  componentFrames,
  FRAMES_DIR_FORMAT,
  FRAMES_DIR_FORMAT_VERSION,
  FRAMES_FILE,
  METADATA_FILE,
  readFramesMetadata,
  SEGMENTER_PRODUCER,
  SEGMENTER_VERSION,
  SIGNALS_FILE,
  type ComponentFrames,
  type CutCandidate,
  type FramesMetadata,
  type FramesMetadataBase,
  type SourceInfo,
} from './metadata.js';
export {
  allowedEvents,
  analysisSize,
  DEFAULT_POLICY_PARAMS,
  effectiveBudget,
  expectedAnalysisFrames,
  FRAME_COMPONENTS,
  latticeOrder,
  PARAM_LIMITS,
  planSampling,
  SAMPLING_REQUIREMENTS,
  signalSize,
  uniformPicks,
  type ComponentPlan,
  type DeclaredBudget,
  type EffectiveBudget,
  type PolicyParams,
  type SamplingPlan,
  type SamplingRequirement,
  type Size,
} from './policy.js';
export {
  CutDetector,
  DEFAULT_CUT_PARAMS,
  HIST_BINS,
  histogramDistance,
  SignalComputer,
  type CutDecision,
  type CutParams,
  type FrameSignals,
} from './signals.js';
export { OnlineSelector, windowOrder, type ComponentSelection, type RingFrame, type SelectorOptions } from './selector.js';
export { framesHeader, FramesWriter, readFramesHeader, type FramesFileInfo } from './frames-file.js';
