import type { ErrorCode } from '../contracts/errors.js';

/** Codes of the problems the validator reports (besides the shared error codes of reading files and schemas). */
export const PROBLEM_CODES = [
  // keys, dtypes, shapes
  'missing_key',
  'unknown_key',
  'key_group_incomplete',
  'bad_dtype',
  'bad_shape',
  'dim_mismatch',
  'dim_out_of_range',
  // values
  'bad_element',
  'bad_value',
  'not_finite',
  'order_violation',
  'duplicate_value',
  'frame_indices_unsorted',
  'frame_indices_duplicate',
  'frame_indices_negative',
  'mask_violation',
  'inconsistent_value',
  'rule_violation',
  // meta
  'meta_invalid',
  'meta_missing_key',
  'meta_bad_type',
  'producer_mismatch',
  'schema_version_mismatch',
  'bad_status',
  'status_not_allowed',
  'bad_empty_reason',
  'empty_reason_not_null',
  'models_used_incomplete',
  // run folders
  'artifact_missing',
  'artifact_path_invalid',
  'artifact_size_mismatch',
  'artifact_sha256_mismatch',
  'identity_mismatch',
  'component_mismatch',
  'unlisted_artifact',
  'unlisted_file',
  'forbidden_json',
] as const;

/** A problem code: the validator's own, or the shared error code of a failure to read a file or schema. */
export type ProblemCode = (typeof PROBLEM_CODES)[number] | ErrorCode;

export interface Problem {
  /** The file the problem is in. */
  path?: string;
  /** The NPZ key (`meta.<field>` for meta fields) the problem is about. */
  key?: string;
  code: ProblemCode;
  message: string;
}

/** The CLI's line for a problem: `file:key: code: message` (the same shape as TrendflowError.toLine). */
export function formatProblem(problem: Problem): string {
  const where = [problem.path, problem.key].filter(Boolean).join(':');
  return `${where ? `${where}: ` : ''}${problem.code}: ${problem.message}`;
}
