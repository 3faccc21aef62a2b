/**
 * trees.json: the baseline's engine file (core/predict/baseline/README.md). Written by `trendflow train baseline`,
 * read by loadBaselineEngine; parseTreesFile checks every index and number, so a damaged file fails at load with
 * prediction_model_invalid instead of predicting garbage.
 */
import { TrendflowError } from '../../contracts/errors.js';
import type { Tree } from './gbt.js';

export const TREES_FORMAT = 'trendflow_gbt_v1';
export const TREES_FILE = 'trees.json';
/** The groups the intervals are calibrated in, besides the pooled head. */
export const AGE_BUCKETS = ['lt_24h', '1_30d', 'gt_30d'] as const;

/** Conformal offsets of one calibration group: added to the point prediction, one per quantile. */
export interface GroupCalibration {
  /** Calibration rows this group's offsets were computed on (the pooled rows when it fell back). */
  rows: number;
  /** `age_bucket`: computed on the group's own rows; `pooled`: too few rows, the head's pooled offsets. */
  source: 'age_bucket' | 'pooled';
  offsets: number[];
}

export interface HeadModel {
  target: string;
  base: number;
  trees: Tree[];
  calibration: {
    pooled: GroupCalibration;
    age_buckets: Record<(typeof AGE_BUCKETS)[number], GroupCalibration>;
  };
}

export interface TreesFile {
  format: typeof TREES_FORMAT;
  feature_count: number;
  /** Quantile levels of every `offsets` list, ascending. */
  quantiles: number[];
  heads: HeadModel[];
}

function invalid(file: string, message: string): TrendflowError {
  return new TrendflowError('prediction_model_invalid', message, { path: file });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteList = (v: unknown): v is number[] => Array.isArray(v) && v.every((n) => typeof n === 'number' && Number.isFinite(n));

function checkTree(tree: unknown, features: number, where: string, file: string): Tree {
  if (!isObject(tree)) throw invalid(file, `${where} is not an object`);
  const { feature, threshold, nan_left, left, right, value } = tree;
  if (!isFiniteList(feature) || !isFiniteList(threshold) || !isFiniteList(left) || !isFiniteList(right) || !isFiniteList(value)) {
    throw invalid(file, `${where}: feature, threshold, left, right and value must be lists of finite numbers`);
  }
  if (!Array.isArray(nan_left) || !nan_left.every((b) => typeof b === 'boolean')) throw invalid(file, `${where}: nan_left must be a list of booleans`);
  const n = feature.length;
  if (n === 0 || [threshold, nan_left, left, right, value].some((list) => list.length !== n)) {
    throw invalid(file, `${where}: the node lists are empty or of different lengths`);
  }
  for (let i = 0; i < n; i++) {
    const f = feature[i]!;
    if (f < 0) continue;
    if (!Number.isInteger(f) || f >= features) throw invalid(file, `${where} node ${i}: feature ${f} out of range`);
    // children after their parent: no cycles, every walk ends at a leaf
    for (const child of [left[i]!, right[i]!]) {
      if (!Number.isInteger(child) || child <= i || child >= n) throw invalid(file, `${where} node ${i}: child ${child} out of range`);
    }
  }
  return { feature, threshold, nan_left: nan_left as boolean[], left, right, value };
}

function checkGroup(group: unknown, quantiles: number, where: string, file: string): GroupCalibration {
  if (!isObject(group) || !isFiniteList(group.offsets) || group.offsets.length !== quantiles || typeof group.rows !== 'number') {
    throw invalid(file, `${where}: needs rows and ${quantiles} finite offsets`);
  }
  if (group.source !== 'age_bucket' && group.source !== 'pooled') throw invalid(file, `${where}: source must be age_bucket or pooled`);
  const offsets = group.offsets;
  if (offsets.some((v, i) => i > 0 && v < offsets[i - 1]!)) throw invalid(file, `${where}: offsets decrease along the quantiles`);
  return { rows: group.rows, source: group.source, offsets };
}

/** Parses and checks trees.json's text; `file` names it in errors. */
export function parseTreesFile(text: string, file: string): TreesFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TrendflowError('prediction_model_invalid', `not JSON: ${(error as Error).message}`, { path: file, cause: error });
  }
  if (!isObject(json) || json.format !== TREES_FORMAT) throw invalid(file, `format must be ${TREES_FORMAT}`);
  const { feature_count, quantiles, heads } = json;
  if (typeof feature_count !== 'number' || !Number.isInteger(feature_count) || feature_count < 1) throw invalid(file, 'feature_count must be a positive integer');
  if (!isFiniteList(quantiles) || quantiles.length === 0 || quantiles.some((q, i) => q <= 0 || q >= 1 || (i > 0 && q <= quantiles[i - 1]!))) {
    throw invalid(file, 'quantiles must be ascending levels in (0, 1)');
  }
  if (!Array.isArray(heads) || heads.length === 0) throw invalid(file, 'heads must be a non-empty list');
  const parsed = heads.map((head: unknown, h): HeadModel => {
    const where = `heads[${h}]`;
    if (!isObject(head) || typeof head.target !== 'string' || typeof head.base !== 'number' || !Number.isFinite(head.base) || !Array.isArray(head.trees)) {
      throw invalid(file, `${where}: needs target, a finite base and trees`);
    }
    const calibration = head.calibration;
    if (!isObject(calibration) || !isObject(calibration.age_buckets)) throw invalid(file, `${where}: calibration is missing`);
    const buckets = calibration.age_buckets;
    return {
      target: head.target,
      base: head.base,
      trees: head.trees.map((tree: unknown, t) => checkTree(tree, feature_count, `${where}.trees[${t}]`, file)),
      calibration: {
        pooled: checkGroup(calibration.pooled, quantiles.length, `${where}.calibration.pooled`, file),
        age_buckets: Object.fromEntries(
          AGE_BUCKETS.map((bucket) => [bucket, checkGroup(buckets[bucket], quantiles.length, `${where}.calibration.age_buckets.${bucket}`, file)]),
        ) as HeadModel['calibration']['age_buckets'],
      },
    };
  });
  return { format: TREES_FORMAT, feature_count, quantiles, heads: parsed };
}
