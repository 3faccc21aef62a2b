/**
 * prediction: the configured model folders (primary first) applied to the run's feature row, written to
 * `prediction/prediction.npz` (README.md, schemas/prediction.json).
 */
import path from 'node:path';
import { TrendflowError, isTrendflowError, type ErrorCode } from '../../contracts/errors.js';
import type { ManifestArtifact } from '../../contracts/manifest.js';
import type { ModelUsed } from '../../contracts/meta.js';
import { ndarray, type PyValue } from '../../npz/index.js';
import { artifactMeta, writeArtifact } from '../../pipeline/artifact.js';
import type { ComponentRunContext } from '../../pipeline/component.js';
import { modelSignature } from '../../runtime/signature.js';
import { FEATURE_COLUMNS, FEATURE_SCHEMA_VERSION, FEATURE_SOURCES } from '../feature-spec.js';
import { buildFeatureRow, type FeatureRow } from '../features.js';
import type { PredictionModelSidecar } from '../model/contract.js';
import { loadPredictionModel } from '../model/load.js';
import { carryForwardHorizons, horizonChains } from '../horizons.js';

export const PREDICTION_PRODUCER_VERSION = '1.0.0';
export const PREDICTION_SCHEMA_VERSION = 'prediction_npz_v1';
export const PREDICTION_ARTIFACT = 'prediction.npz';
/** Where a model given by a relative path is looked for: `<models dir>/prediction/<path>`. */
export const PREDICTION_MODELS_SUBDIR = 'prediction';
/**
 * The p10–p90 width (log1p) at which confidence reaches 0: an 80% interval spanning a factor of 100 between its
 * ends says nothing useful about the order of magnitude.
 */
export const ZERO_CONFIDENCE_WIDTH = Math.log(100);

/** confidence_score of one head from its p90 − p10 width in log1p: 1 for a point, 0 at ZERO_CONFIDENCE_WIDTH and beyond. */
export function confidenceFromWidth(widthLog1p: number): number {
  return Math.min(1, Math.max(0, 1 - widthLog1p / ZERO_CONFIDENCE_WIDTH));
}

export interface PredictionConfig {
  /** Model folders, primary first (recommended v2 → v1 → baseline): absolute, or relative to `<models dir>/prediction/`. */
  models: string[];
}

/** What the prediction needs from the orchestrator's context (tests build it by hand). */
export type PredictionContext = Pick<ComponentRunContext, 'identity' | 'runDir' | 'inputs'> & {
  models: Pick<ComponentRunContext['models'], 'modelsDir' | 'sessions'>;
};

/** One configured model's attempt, as `meta.models_tried` records it. */
export interface ModelAttempt {
  model_dir: string;
  outcome: 'used' | 'failed' | 'not_tried';
  error_code: ErrorCode | null;
  message: string | null;
}

export interface PredictionResult {
  artifact: ManifestArtifact;
  status: 'ok' | 'degraded';
  modelUsed: ModelUsed;
  modelSignature: string;
  attempts: ModelAttempt[];
  notes: string[];
}

export function resolveModelDir(entry: string, modelsDir: string): string {
  return path.isAbsolute(entry) ? path.normalize(entry) : path.resolve(modelsDir, PREDICTION_MODELS_SUBDIR, entry);
}

interface Forecast {
  sidecar: PredictionModelSidecar;
  modelUsed: ModelUsed;
  /** targets × quantiles, log1p. */
  log1p: Float32Array;
}

async function forecastWith(dir: string, row: FeatureRow, ctx: PredictionContext): Promise<Forecast> {
  const model = await loadPredictionModel(dir, { sessions: ctx.models.sessions });
  try {
    const log1p = await model.engine.predict(row.features, 1, [row.ageBucket]);
    return { sidecar: model.sidecar, modelUsed: model.modelUsed, log1p };
  } finally {
    await model.engine.close();
  }
}

/**
 * Tries the models in order until one predicts. A coded failure (missing folder, invalid sidecar, feature schema
 * mismatch, ONNX load or run error, an output that breaks the contract) moves on to the next model; anything else
 * is a bug and is thrown. All failing is an error with the primary's code.
 */
async function firstForecast(dirs: readonly string[], row: FeatureRow, ctx: PredictionContext): Promise<{ forecast: Forecast; attempts: ModelAttempt[] }> {
  const attempts: ModelAttempt[] = dirs.map((dir) => ({ model_dir: dir, outcome: 'not_tried', error_code: null, message: null }));
  for (const [i, dir] of dirs.entries()) {
    try {
      const forecast = await forecastWith(dir, row, ctx);
      attempts[i]!.outcome = 'used';
      return { forecast, attempts };
    } catch (error) {
      if (!isTrendflowError(error)) throw error;
      Object.assign(attempts[i]!, { outcome: 'failed', error_code: error.code, message: error.toLine() });
    }
  }
  const primary = attempts[0]!;
  throw new TrendflowError(primary.error_code!, `no configured prediction model could predict: ${attempts.map((a) => a.message).join(' | ')}`, { path: primary.model_dir });
}

export async function runPrediction(ctx: PredictionContext, config: PredictionConfig): Promise<PredictionResult> {
  if (config.models.length === 0) throw new TrendflowError('invalid_argument', 'prediction needs at least one model folder in its config (models)');
  const row = await buildFeatureRow((source) => ctx.inputs[source.component]?.path ?? null);
  if (!row.complete) {
    // the orchestrator does not run a component whose required input is missing; a direct caller learns why here
    throw new TrendflowError('invalid_argument', `prediction needs the run's ${row.missingRequired.join(' and ')} artifact(s) (feature spec ${FEATURE_SCHEMA_VERSION})`, { path: ctx.runDir });
  }
  const dirs = config.models.map((entry) => resolveModelDir(entry, ctx.models.modelsDir));
  const { forecast, attempts } = await firstForecast(dirs, row, ctx);
  const { sidecar, modelUsed } = forecast;
  const primaryFailure = attempts[0]!.outcome === 'failed' ? attempts[0]! : null;
  const status = primaryFailure ? 'degraded' : 'ok';
  const usedDir = attempts.find((a) => a.outcome === 'used')!.model_dir;

  const T = sidecar.targets.length;
  const Q = sidecar.quantiles.length;
  // targets are log1p of a gain the builder clips at 0, so no quantile of one is below 0 (clipping keeps the order)
  const log1p = forecast.log1p.map((v) => Math.max(v, 0));
  // and they accumulate: a model whose later horizon forecasts less is rearranged, and the run says by how much
  const raised = carryForwardHorizons(log1p, horizonChains(sidecar.targets), T, Q);
  const value = Float64Array.from(log1p, (v) => Math.expm1(v));
  const at = (q: number): ((t: number) => number) => {
    const k = sidecar.quantiles.indexOf(q);
    return (t) => t * Q + k;
  };
  const [p10, p50, p90] = [at(0.1), at(0.5), at(0.9)];
  const heads = Array.from({ length: T }, (_, t) => t);
  const width = Float32Array.from(heads, (t) => log1p[p90(t)]! - log1p[p10(t)]!);
  const confidence = Float32Array.from(width, confidenceFromWidth);

  const signature = modelSignature([modelUsed]);
  const notes: string[] = [];
  if (primaryFailure) notes.push(`prediction degraded: the primary model failed (${primaryFailure.message}); used ${modelUsed.model_name} ${sidecar.version} from ${usedDir}`);
  if (raised > 0) notes.push(`horizons rearranged: ${raised} of ${T * Q} forecast quantiles were below the same quantile of an earlier horizon and were raised to it (gains accumulate)`);
  if (row.missingOptional.length > 0) notes.push(`optional feature sources missing (their columns are NaN): ${row.missingOptional.join(', ')}`);

  const dependencies: Record<string, string> = {};
  for (const { component } of FEATURE_SOURCES) {
    const input = ctx.inputs[component];
    if (input) dependencies[component] = input.signature;
  }
  const meta = artifactMeta({
    identity: ctx.identity,
    producer: 'prediction',
    producerVersion: PREDICTION_PRODUCER_VERSION,
    schemaVersion: PREDICTION_SCHEMA_VERSION,
    status: 'ok',
    extra: {
      dependencies,
      models_used: [{ ...modelUsed }],
      model_signature: signature,
      batch_size: 1,
      feature_schema_version: FEATURE_SCHEMA_VERSION,
      model_dir: usedDir,
      models_tried: attempts.map((a) => ({ ...a }) as unknown as PyValue),
      optional_sources_missing: row.missingOptional,
      model_calibration: { ...sidecar.calibration, groups: [...sidecar.calibration.groups] },
      model_created_at: sidecar.created_at,
      confidence_formula: 'clip(1 - (p90 - p10) / ln(100), 0, 1) on log1p',
    },
  });
  const fallbackReason = primaryFailure ? primaryFailure.message : null;
  const artifact = await writeArtifact(
    ctx.runDir,
    'prediction',
    PREDICTION_ARTIFACT,
    {
      target_names: ndarray.objectArray([...sidecar.targets]),
      quantiles: ndarray.float32(sidecar.quantiles),
      pred_log1p: ndarray.float32(log1p, [T, Q]),
      pred_value: ndarray.float64(value, [T, Q]),
      point_value: ndarray.float64(heads.map((t) => value[p50(t)]!)),
      interval_low_value: ndarray.float64(heads.map((t) => value[p10(t)]!)),
      interval_high_value: ndarray.float64(heads.map((t) => value[p90(t)]!)),
      interval_width_log1p: ndarray.float32(width),
      confidence_score: ndarray.float32(confidence),
      prediction_status: ndarray.str([status], []),
      model_type: ndarray.str([sidecar.type], []),
      model_version: ndarray.str([sidecar.version], []),
      feature_schema_version: ndarray.str([sidecar.feature_schema_version], []),
      fallback_reason: ndarray.objectScalar(fallbackReason),
      primary_error_code: ndarray.objectScalar(primaryFailure?.error_code ?? null),
      age_bucket: ndarray.objectScalar(row.ageBucket),
      feature_names: ndarray.objectArray(FEATURE_COLUMNS.map((c) => c.name)),
      feature_values: ndarray.float32(row.features),
      feature_present: ndarray.bool(Array.from(row.features, (v) => !Number.isNaN(v))),
    },
    meta,
  );
  return { artifact, status, modelUsed, modelSignature: signature, attempts, notes };
}
