/** cut_detection as a pipeline component (core/pipeline/component.ts). See README.md. */
import type { ComponentDefinition } from '../../pipeline/component.js';
import { configParser } from '../../pipeline/config.js';
import { outcomeWithoutModels } from '../../pipeline/outcome.js';
import { DEFAULT_CUT_DETECTION_PARAMS, type CutDetectionParams } from './detect.js';
import { CUT_DETECTION_PRODUCER_VERSION, CUT_DETECTION_SCHEMA_VERSION, runCutDetection } from './run.js';

export { CutDetector, DEFAULT_CUT_DETECTION_PARAMS, REJECTION_REASONS, TRANSITION_TYPES, type Boundary, type CutDetectionParams, type TransitionType } from './detect.js';
export { CUT_DETECTION_ARTIFACT, CUT_DETECTION_PRODUCER_VERSION, CUT_DETECTION_SCHEMA_VERSION, runCutDetection, shotsFromBoundaries, writeShotsArtifact, type CutDetectionResult, type Shot, type ShotsToWrite } from './run.js';

const share = { type: 'number', minimum: 0, maximum: 1 } as const;
const seconds = { type: 'number', exclusiveMinimum: 0, maximum: 10 } as const;

export const cutDetectionComponent: ComponentDefinition<CutDetectionParams> = {
  name: 'cut_detection',
  kind: 'module',
  producerVersion: CUT_DETECTION_PRODUCER_VERSION,
  schemaVersion: CUT_DETECTION_SCHEMA_VERSION,
  dependencies: [],
  uses: { frames: true, signals: true, audio: false, metadata: false, snapshots: false },
  defaults: { ...DEFAULT_CUT_DETECTION_PARAMS },
  parseConfig: configParser<CutDetectionParams>(
    'cut_detection',
    {
      required: Object.keys(DEFAULT_CUT_DETECTION_PARAMS),
      properties: {
        max_transition_sec: seconds,
        max_blend_residual: share,
        hard_cut_share: share,
        min_transition_change: share,
        max_side_drift: share,
        blank_max_luma_std: share,
        blank_dark_luma: share,
        blank_bright_luma: share,
        max_blank_sec: seconds,
        flash_max_sec: seconds,
        flash_return_ratio: share,
        min_cut_change: share,
        min_cut_ratio: { type: 'number', minimum: 1, maximum: 100 },
        baseline_window_sec: seconds,
      },
    },
    { ...DEFAULT_CUT_DETECTION_PARAMS },
  ),
  async run(ctx, config) {
    const result = await runCutDetection(ctx, config);
    return outcomeWithoutModels('ok', null, [result.artifact]);
  },
};
