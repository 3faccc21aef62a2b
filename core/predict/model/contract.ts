/**
 * The contract every prediction model folder meets, whoever trained it: the in-house baseline
 * (`trendflow train baseline`, core/predict/baseline) and externally trained ONNX models (v1, v2). A model folder
 * holds `model.json` (the sidecar below) and the engine's file; the `prediction` component loads folders through
 * core/predict/model and never looks inside an engine.
 *
 * Values are log1p of the gain after snapshot 1 (core/predict/feature-spec.ts TARGET_NAMES), one head per target,
 * each head a set of quantiles that never decrease along the quantile axis.
 */
export const PREDICTION_MODEL_FORMAT = 'trendflow_prediction_model_v1';
export const MODEL_SIDECAR_FILE = 'model.json';

/** The quantiles a model may report; p10/p50/p90 are required, the outer pairs are reported when calibrated. */
export const PREDICTION_QUANTILES = [0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975] as const;
export const REQUIRED_QUANTILES = [0.1, 0.5, 0.9] as const;

/** Newest first: the order the `prediction` component falls back in. */
export const PREDICTION_MODEL_TYPES = ['v2', 'v1', 'baseline'] as const;
export type PredictionModelType = (typeof PREDICTION_MODEL_TYPES)[number];

/** How the intervals were made, and on which rows. */
export interface CalibrationInfo {
  method: 'split_conformal' | 'quantile_regression' | 'quantile_regression+conformal';
  /** The groups each calibration is computed in (e.g. per target head × age bucket). */
  groups: Array<'target' | 'age_bucket'>;
  /** Rows of the held-out calibration split (0 for an external model that says nothing). */
  calibration_rows: number;
}

/** The engine that computes the quantiles. */
export type EngineSpec =
  | { kind: 'gbt_json'; file: string }
  | {
      kind: 'onnx';
      file: string;
      /** Input tensor: float32 [batch, features], columns in `feature_names` order. */
      input: string;
      /** Output tensor: float32 [batch, targets, quantiles], in `targets` and `quantiles` order. */
      output: string;
      /**
       * Models that cannot take NaN: the value per feature that replaces a NaN (training medians / most frequent
       * values, feature-spec imputation rules); null for a model that takes NaN as is.
       */
      imputation: number[] | null;
    };

export interface PredictionModelSidecar {
  format: typeof PREDICTION_MODEL_FORMAT;
  type: PredictionModelType;
  /** The model's own version (semver or a training run id). */
  version: string;
  /** Must equal the feature spec the run's features were built with (features_v1). */
  feature_schema_version: string;
  /** Must equal FEATURE_COLUMNS' names, in order. */
  feature_names: string[];
  /** Must equal TARGET_NAMES, in order. */
  targets: string[];
  /** Ascending subset of PREDICTION_QUANTILES holding REQUIRED_QUANTILES. */
  quantiles: number[];
  calibration: CalibrationInfo;
  engine: EngineSpec;
  created_at: string;
}

/** A loaded model ready to predict. */
export interface PredictionEngine {
  /**
   * `x`: rows × features float32, row-major, NaN where missing; `ageBuckets`: each row's age bucket
   * (`lt_24h`, `1_30d`, `gt_30d`, or null when unknown). Returns rows × targets × quantiles float32 (log1p),
   * non-decreasing along the quantile axis.
   */
  predict(x: Float32Array, rows: number, ageBuckets: ReadonlyArray<string | null>): Promise<Float32Array>;
  close(): Promise<void>;
}
