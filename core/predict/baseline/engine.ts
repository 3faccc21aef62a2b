/**
 * The baseline's PredictionEngine (core/predict/model/contract.ts): trees.json's boosted trees give each head's
 * point prediction, the head's conformal offsets for the row's age bucket (pooled when the bucket is unknown)
 * turn it into quantiles.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TrendflowError } from '../../contracts/errors.js';
import type { PredictionEngine, PredictionModelSidecar } from '../model/contract.js';
import { carryForwardHorizons, horizonChains } from '../horizons.js';
import { predictBoosted } from './gbt.js';
import { AGE_BUCKETS, parseTreesFile, type HeadModel, type TreesFile } from './trees-file.js';

function offsetsFor(head: HeadModel, ageBucket: string | null): number[] {
  const bucket = AGE_BUCKETS.find((b) => b === ageBucket);
  return bucket === undefined ? head.calibration.pooled.offsets : head.calibration.age_buckets[bucket].offsets;
}

/**
 * Rows × heads × quantiles (the file's order) for the row-major `x` (rows × feature_count). Offsets are
 * non-decreasing (parseTreesFile checks it), so each row's quantiles are too. Each head is its own model, so for a
 * row unlike the training rows (NaN where they had values) a 21-day gain could come out below the 14-day one:
 * the horizons are rearranged (../horizons.ts).
 */
export function predictQuantiles(model: TreesFile, x: ArrayLike<number>, rows: number, ageBuckets: ReadonlyArray<string | null>): Float32Array {
  const F = model.feature_count;
  const H = model.heads.length;
  const Q = model.quantiles.length;
  const chains = horizonChains(model.heads.map((head) => head.target));
  const out = new Float32Array(rows * H * Q);
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < H; h++) {
      const head = model.heads[h]!;
      const point = predictBoosted(head, x, r * F);
      const offsets = offsetsFor(head, ageBuckets[r] ?? null);
      for (let q = 0; q < Q; q++) out[(r * H + h) * Q + q] = point + offsets[q]!;
    }
  }
  carryForwardHorizons(out, chains, H, Q);
  return out;
}

export async function loadBaselineEngine(dir: string, sidecar: PredictionModelSidecar): Promise<PredictionEngine> {
  if (sidecar.engine.kind !== 'gbt_json') {
    throw new TrendflowError('prediction_model_invalid', `a baseline model needs engine kind gbt_json, not ${sidecar.engine.kind}`, { path: dir });
  }
  const file = path.join(dir, sidecar.engine.file);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new TrendflowError('prediction_model_invalid', `cannot read the trees file: ${(error as Error).message}`, { path: file, cause: error });
  }
  const model = parseTreesFile(text, file);
  if (model.feature_count !== sidecar.feature_names.length) {
    throw new TrendflowError('prediction_model_invalid', `the trees take ${model.feature_count} features, model.json names ${sidecar.feature_names.length}`, { path: file });
  }
  const targets = model.heads.map((head) => head.target);
  if (targets.join('\n') !== sidecar.targets.join('\n')) {
    throw new TrendflowError('prediction_model_invalid', `the trees' heads (${targets.join(', ')}) differ from model.json's targets`, { path: file });
  }
  // the sidecar's quantiles, picked out of the file's
  const picks = sidecar.quantiles.map((q) => {
    const i = model.quantiles.indexOf(q);
    if (i < 0) throw new TrendflowError('prediction_model_invalid', `quantile ${q} of model.json is not calibrated in the trees file`, { path: file });
    return i;
  });
  const F = model.feature_count;
  const H = model.heads.length;
  const Q = model.quantiles.length;
  return {
    async predict(x, rows, ageBuckets) {
      if (x.length !== rows * F || ageBuckets.length !== rows) {
        throw new TrendflowError('invalid_argument', `predict needs ${rows} × ${F} values and ${rows} age buckets, got ${x.length} values and ${ageBuckets.length} buckets`);
      }
      const all = predictQuantiles(model, x, rows, ageBuckets);
      if (picks.length === Q && picks.every((p, i) => p === i)) return all;
      const out = new Float32Array(rows * H * picks.length);
      for (let rh = 0; rh < rows * H; rh++) picks.forEach((p, i) => (out[rh * picks.length + i] = all[rh * Q + p]!));
      return out;
    },
    async close() {
      // nothing held: the trees live in memory
    },
  };
}
