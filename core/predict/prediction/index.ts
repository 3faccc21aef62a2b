/** prediction as a pipeline component (core/pipeline/component.ts). See README.md. */
import { TrendflowError } from '../../contracts/errors.js';
import type { ComponentDefinition } from '../../pipeline/component.js';
import { configParser } from '../../pipeline/config.js';
import { okOutcomeWithModels } from '../../pipeline/outcome.js';
import { modelFolderDigest } from '../model/load.js';
import { PREDICTION_PRODUCER_VERSION, PREDICTION_SCHEMA_VERSION, resolveModelDir, runPrediction, type PredictionConfig } from './run.js';

export {
  confidenceFromWidth,
  PREDICTION_ARTIFACT,
  PREDICTION_MODELS_SUBDIR,
  PREDICTION_PRODUCER_VERSION,
  PREDICTION_SCHEMA_VERSION,
  ZERO_CONFIDENCE_WIDTH,
  resolveModelDir,
  runPrediction,
  type ModelAttempt,
  type PredictionConfig,
  type PredictionContext,
  type PredictionResult,
} from './run.js';

const parseShape = configParser<PredictionConfig>(
  'prediction',
  {
    required: ['models'],
    properties: {
      // absolute, or relative to <models dir>/prediction/
      models: { type: 'array', uniqueItems: true, items: { type: 'string', minLength: 1 } },
    },
  },
  { models: [] },
);

// no default model: a prediction needs a trained model folder, and none is installed with the app
const defaults: PredictionConfig = { models: [] };

export const predictionComponent: ComponentDefinition<PredictionConfig> = {
  name: 'prediction',
  kind: 'predict',
  producerVersion: PREDICTION_PRODUCER_VERSION,
  schemaVersion: PREDICTION_SCHEMA_VERSION,
  // the feature spec's sources (core/predict/feature-spec.ts FEATURE_SOURCES)
  dependencies: [
    { component: 'video_aggregates', need: 'required' },
    { component: 'temporal_snapshot_features', need: 'required' },
    { component: 'text_processor', need: 'optional' },
  ],
  uses: { frames: false, signals: false, audio: false, metadata: false, snapshots: false },
  defaults,
  parseConfig(value) {
    const config = parseShape(value);
    if (config.models.length === 0) {
      throw new TrendflowError('invalid_argument', 'prediction needs a trained model: set its config `models` to model folders, primary first (core/predict/prediction/README.md)');
    }
    return config;
  },
  async cacheInputs(config, env) {
    return Promise.all(config.models.map(async (entry) => {
      const dir = resolveModelDir(entry, env.modelsDir);
      return { dir, digest: await modelFolderDigest(dir) };
    }));
  },
  async run(ctx, config) {
    const result = await runPrediction(ctx, config);
    return okOutcomeWithModels(result.artifact, { models_used: [result.modelUsed], model_signature: result.modelSignature, device_used: 'cpu' }, result.notes);
  },
};
