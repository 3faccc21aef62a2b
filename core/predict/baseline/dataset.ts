/**
 * Reads a training bundle's dataset.npz (core/export/README.md) for training, checking that it is the feature spec
 * this build trains on: same feature_schema_version, same feature and target names in the same order, consistent
 * shapes. A missing file keeps npz_not_found, a damaged archive the npz reader's code.
 */
import path from 'node:path';
import { TrendflowError, isTrendflowError } from '../../contracts/errors.js';
import { DATASET_FILE } from '../../export/bundle.js';
import { getArray, getStringList, readNpzFile, type NpzContents } from '../../npz/index.js';
import { FEATURE_COLUMNS, FEATURE_SCHEMA_VERSION, TARGET_NAMES } from '../feature-spec.js';

export interface TrainingDataset {
  file: string;
  rows: number;
  features: number;
  /** rows × features, row-major, NaN where missing. */
  X: Float32Array;
  /** rows × targets, row-major, log1p; NaN where the mask is false. */
  targets: Float32Array;
  /** rows × targets: the target exists. */
  targetMasks: Uint8Array;
  videoId: string[];
  channelId: Array<string | null>;
  ageBucket: Array<string | null>;
  publishedAt: Array<string | null>;
  snapshot1CollectedAt: Array<string | null>;
}

function invalid(file: string, message: string, key?: string): TrendflowError {
  return new TrendflowError('training_data_invalid', message, { path: file, key });
}

/** A 1-d object array of str or None, of length `rows`. */
function optionalStrings(npz: NpzContents, key: string, rows: number, file: string): Array<string | null> {
  const array = getArray(npz, key, 'object', file);
  const values = array.data;
  if (array.shape.length !== 1 || array.shape[0] !== rows || !values.every((v) => v === null || typeof v === 'string')) {
    throw invalid(file, `'${key}' must be ${rows} str or None values`, key);
  }
  return values as Array<string | null>;
}

function sameList(actual: readonly string[], expected: readonly string[]): boolean {
  return actual.length === expected.length && actual.every((name, i) => name === expected[i]);
}

export async function readTrainingDataset(bundleDir: string): Promise<TrainingDataset> {
  const file = path.join(bundleDir, DATASET_FILE);
  const npz = await readNpzFile(file);
  try {
    const version = getArray(npz, 'feature_schema_version', 'str', file).data[0];
    if (version !== FEATURE_SCHEMA_VERSION) {
      throw new TrendflowError('feature_schema_mismatch', `the bundle has features ${version}, this build trains on ${FEATURE_SCHEMA_VERSION}`, { path: file, key: 'feature_schema_version' });
    }
    if (!sameList(getStringList(npz, 'feature_names', file), FEATURE_COLUMNS.map((c) => c.name))) {
      throw invalid(file, `feature_names differ from the ${FEATURE_SCHEMA_VERSION} columns`, 'feature_names');
    }
    if (!sameList(getStringList(npz, 'target_names', file), TARGET_NAMES)) {
      throw invalid(file, `target_names must be ${TARGET_NAMES.join(', ')}`, 'target_names');
    }
    const X = getArray(npz, 'X', 'float32', file);
    const F = FEATURE_COLUMNS.length;
    const T = TARGET_NAMES.length;
    const rows = X.shape[0] ?? 0;
    if (X.shape.length !== 2 || X.shape[1] !== F) throw invalid(file, `X must be (N, ${F}), got (${X.shape.join(', ')})`, 'X');
    const targets = getArray(npz, 'targets', 'float32', file);
    const masks = getArray(npz, 'target_masks', 'bool', file);
    for (const [key, array] of [['targets', targets], ['target_masks', masks]] as const) {
      if (array.shape.length !== 2 || array.shape[0] !== rows || array.shape[1] !== T) {
        throw invalid(file, `${key} must be (${rows}, ${T}), got (${array.shape.join(', ')})`, key);
      }
    }
    for (let i = 0; i < rows * T; i++) {
      if (masks.data[i] === 1 && !Number.isFinite(targets.data[i])) throw invalid(file, `row ${Math.floor(i / T)}: a masked-in target is not finite`, 'targets');
    }
    const videoId = optionalStrings(npz, 'video_id', rows, file);
    if (videoId.some((v) => v === null)) throw invalid(file, 'every row needs a video_id', 'video_id');
    return {
      file,
      rows,
      features: F,
      X: X.data,
      targets: targets.data,
      targetMasks: masks.data,
      videoId: videoId as string[],
      channelId: optionalStrings(npz, 'channel_id', rows, file),
      ageBucket: optionalStrings(npz, 'age_bucket', rows, file),
      publishedAt: optionalStrings(npz, 'published_at', rows, file),
      snapshot1CollectedAt: optionalStrings(npz, 'snapshot1_collected_at', rows, file),
    };
  } catch (error) {
    // a missing key or a wrong dtype: the npz helpers call it artifact_invalid, here it is the training data
    if (isTrendflowError(error) && error.code === 'artifact_invalid') {
      throw new TrendflowError('training_data_invalid', error.message, { ...error.details, cause: error });
    }
    throw error;
  }
}
