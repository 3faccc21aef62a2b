/** targets_builder_multi_horizon as a pipeline component (core/pipeline/component.ts). See README.md. */
import { TrendflowError } from '../../contracts/errors.js';
import type { ComponentDefinition } from '../../pipeline/component.js';
import { configParser } from '../../pipeline/config.js';
import { DEFAULT_TARGETS_CONFIG, runTargetsBuilder, TARGETS_PRODUCER_VERSION, TARGETS_SCHEMA_VERSION, type TargetsConfig } from './run.js';

export {
  buildTargets,
  DEFAULT_TARGETS_CONFIG,
  runTargetsBuilder,
  TARGETS_ARTIFACT,
  TARGETS_PRODUCER_VERSION,
  TARGETS_SCHEMA_VERSION,
  type HorizonTarget,
  type MetricTarget,
  type TargetsConfig,
} from './run.js';

const parseShape = configParser<TargetsConfig>(
  'targets_builder_multi_horizon',
  {
    required: ['horizons_days', 'tolerance_days'],
    properties: {
      horizons_days: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 3650 }, minItems: 1, maxItems: 64 },
      tolerance_days: { type: 'number', exclusiveMinimum: 0, maximum: 30 },
    },
  },
  { ...DEFAULT_TARGETS_CONFIG, horizons_days: [...DEFAULT_TARGETS_CONFIG.horizons_days] },
);

/** The JSON shape, plus what keeps horizon matching unambiguous: one snapshot can never serve two horizons. */
function parseTargetsConfig(value: unknown): TargetsConfig {
  const config = parseShape(value);
  const gaps = config.horizons_days.map((h, i) => h - (i === 0 ? 0 : config.horizons_days[i - 1]!));
  if (gaps.some((gap) => gap <= 0)) throw new TrendflowError('invalid_argument', 'targets_builder_multi_horizon config: horizons_days must be strictly increasing');
  if (config.tolerance_days * 2 >= Math.min(...gaps)) {
    throw new TrendflowError('invalid_argument', `targets_builder_multi_horizon config: tolerance_days (${config.tolerance_days}) must be under half the smallest gap between horizons (${Math.min(...gaps)} days)`);
  }
  return config;
}

export const targetsBuilderComponent: ComponentDefinition<TargetsConfig> = {
  name: 'targets_builder_multi_horizon',
  kind: 'temporal',
  producerVersion: TARGETS_PRODUCER_VERSION,
  schemaVersion: TARGETS_SCHEMA_VERSION,
  dependencies: [],
  uses: { frames: false, signals: false, audio: false, metadata: false, snapshots: true },
  defaults: { ...DEFAULT_TARGETS_CONFIG, horizons_days: [...DEFAULT_TARGETS_CONFIG.horizons_days] },
  parseConfig: parseTargetsConfig,
  run: (ctx, config) => runTargetsBuilder(ctx, config),
};
