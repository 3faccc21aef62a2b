/** video_pacing as a pipeline component (core/pipeline/component.ts). See README.md. */
import type { ComponentDefinition } from '../../pipeline/component.js';
import { configParser } from '../../pipeline/config.js';
import { outcomeWithoutModels } from '../../pipeline/outcome.js';
import { DEFAULT_VIDEO_PACING_CONFIG, runVideoPacing, VIDEO_PACING_PRODUCER_VERSION, VIDEO_PACING_SCHEMA_VERSION, type VideoPacingConfig } from './run.js';

export {
  DEFAULT_VIDEO_PACING_CONFIG,
  PACING_FEATURE_NAMES,
  PACING_FEATURE_SET_VERSION,
  runVideoPacing,
  VIDEO_PACING_ARTIFACT,
  VIDEO_PACING_PRODUCER_VERSION,
  VIDEO_PACING_SCHEMA_VERSION,
  type VideoPacingConfig,
  type VideoPacingResult,
} from './run.js';

const seconds = (max: number) => ({ type: 'number', exclusiveMinimum: 0, maximum: max }) as const;

export const videoPacingComponent: ComponentDefinition<VideoPacingConfig> = {
  name: 'video_pacing',
  kind: 'module',
  producerVersion: VIDEO_PACING_PRODUCER_VERSION,
  schemaVersion: VIDEO_PACING_SCHEMA_VERSION,
  dependencies: [
    { component: 'cut_detection', need: 'required' },
    { component: 'loudness_extractor', need: 'optional' },
    { component: 'core_optical_flow', need: 'optional' },
  ],
  uses: { frames: false, signals: true, audio: false, metadata: false, snapshots: false },
  defaults: { ...DEFAULT_VIDEO_PACING_CONFIG },
  parseConfig: configParser<VideoPacingConfig>(
    'video_pacing',
    {
      required: Object.keys(DEFAULT_VIDEO_PACING_CONFIG),
      properties: { grid_step_sec: seconds(60), cut_rate_window_sec: seconds(600), short_shot_sec: seconds(600), long_shot_sec: seconds(3600) },
    },
    { ...DEFAULT_VIDEO_PACING_CONFIG },
  ),
  async run(ctx, config) {
    const result = await runVideoPacing(ctx, config);
    return outcomeWithoutModels(result.status, 'dependency_missing', result.artifact ? [result.artifact] : []);
  },
};
