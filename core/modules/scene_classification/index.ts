/** scene_classification as a pipeline component (core/pipeline/component.ts). See README.md. */
import type { ComponentDefinition } from '../../pipeline/component.js';
import { configParser } from '../../pipeline/config.js';
import { okOutcomeWithModels, outcomeWithoutModels } from '../../pipeline/outcome.js';
import {
  DEFAULT_SCENE_CLASSIFICATION_CONFIG,
  runSceneClassification,
  SCENE_CLASSIFICATION_PRODUCER_VERSION,
  SCENE_CLASSIFICATION_SCHEMA_VERSION,
  type SceneClassificationConfig,
} from './run.js';

export {
  DEFAULT_SCENE_CLASSIFICATION_CONFIG,
  runSceneClassification,
  SCENE_CLASSIFICATION_ARTIFACT,
  SCENE_CLASSIFICATION_PRODUCER_VERSION,
  SCENE_CLASSIFICATION_SCHEMA_VERSION,
  SCENE_LOGIT_SCALE,
  type SceneClassificationConfig,
  type SceneClassificationResult,
} from './run.js';
export { SCENE_LABEL_SET_VERSION, SCENE_LABELS } from './labels.js';
export { labelEmbeddings, type LabelEmbeddings } from './text-embeddings.js';

export const sceneClassificationComponent: ComponentDefinition<SceneClassificationConfig> = {
  name: 'scene_classification',
  kind: 'module',
  producerVersion: SCENE_CLASSIFICATION_PRODUCER_VERSION,
  schemaVersion: SCENE_CLASSIFICATION_SCHEMA_VERSION,
  dependencies: [
    { component: 'cut_detection', need: 'required' },
    { component: 'core_clip', need: 'required' },
  ],
  uses: { frames: false, signals: false, audio: false, metadata: false, snapshots: false },
  defaults: { ...DEFAULT_SCENE_CLASSIFICATION_CONFIG },
  parseConfig: configParser<SceneClassificationConfig>(
    'scene_classification',
    { required: ['top_k'], properties: { top_k: { type: 'integer', minimum: 1, maximum: 16 } } },
    { ...DEFAULT_SCENE_CLASSIFICATION_CONFIG },
  ),
  async run(ctx, config) {
    const result = await runSceneClassification(ctx, config);
    if (result.status === 'empty') {
      return outcomeWithoutModels('empty', 'dependency_missing', []);
    }
    return okOutcomeWithModels(result.artifact, { models_used: result.models_used, model_signature: result.model_signature, device_used: 'cpu' }, [result.cacheHit ? 'label embeddings from the models-dir cache' : 'label embeddings computed and cached']);
  },
};
