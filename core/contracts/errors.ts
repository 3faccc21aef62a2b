/**
 * Error codes shared by the pipeline, the CLI and the UI. Every failure the user can see carries one of these
 * codes; the CLI prints `<input>: <code>: <message>` and the manifest stores `{ error_code, message }`.
 */
export const ERROR_CODES = [
  // NPZ / NPY
  'npz_not_found',
  'npz_truncated',
  'npz_bad_zip',
  'npy_bad_magic',
  'npy_bad_header',
  'npy_unsupported_dtype',
  'npz_too_large',
  'pickle_forbidden_global',
  'pickle_malformed',
  'npz_write_unsupported_value',
  // schema / validation
  'schema_not_found',
  'schema_invalid',
  'artifact_invalid',
  'manifest_invalid',
  // store
  'store_io_failed',
  'manifest_not_found',
  'run_not_found',
  // generic
  'invalid_argument',
  'internal_error',
  // run identity and manifest ownership (core/store)
  'invalid_id',
  'file_read_failed',
  'run_exists',
  'run_locked',
  // validation of a whole run folder (core/schema)
  'run_invalid',
  // video input, ffmpeg/ffprobe and audio extraction (core/video; each code is described in core/video/README.md)
  'ffmpeg_not_found',
  'video_not_found',
  'video_empty_file',
  'video_unreadable',
  'video_truncated',
  'video_no_video_stream',
  'video_zero_duration',
  'video_decode_failed',
  'audio_missing',
  'audio_extract_failed',
  // frames_dir: segmenter output and FrameManager (core/segmenter; described in core/segmenter/README.md)
  'frames_dir_exists',
  'frames_dir_invalid',
  'frame_index_out_of_range',
  // models: registry, download and verification (core/runtime/registry; described in core/runtime/README.md)
  'model_registry_invalid',
  'model_unknown',
  'model_not_found',
  'model_digest_mismatch',
  'model_unpinned',
  'model_download_failed',
  // inference runtimes (core/runtime/onnx, core/runtime/triton)
  'model_load_failed',
  'execution_provider_unavailable',
  'insufficient_memory',
  'insufficient_gpu_memory',
  'inference_failed',
  'triton_unavailable',
  'triton_request_failed',
  // component inputs (core/providers, core/modules)
  'sampling_missing',
  // orchestration and the run index (core/pipeline, core/index; described in core/pipeline/README.md)
  'run_not_resumable',
  'index_failed',
  // the workstation API and browser mode (core/api; described in core/api/README.md)
  'feature_unavailable',
  'access_denied',
  'renderer_not_built',
  // run inputs: the snapshot JSON files and the metadata JSON (core/temporal, core/text; described in docs/SNAPSHOTS.md)
  'snapshot_invalid',
  'metadata_invalid',
  // prediction models: training, model folders, loading (core/predict; described in core/predict/baseline/README.md
  // and core/predict/model/README.md)
  'prediction_model_invalid',
  'feature_schema_mismatch',
  'training_data_invalid',
  'prediction_model_missing',
  // the batch queue on Redis (core/queue; described in core/queue/README.md)
  'queue_unavailable',
  'queue_job_mismatch',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** An error with a stable code, a human message and, where known, the file (and key) it is about. */
export class TrendflowError extends Error {
  override readonly name = 'TrendflowError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { path?: string; key?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }

  /** The one line the CLI prints: input, code and message. */
  toLine(): string {
    const where = [this.details.path, this.details.key].filter(Boolean).join(':');
    return `${where ? `${where}: ` : ''}${this.code}: ${this.message}`;
  }
}

export function isTrendflowError(error: unknown): error is TrendflowError {
  return error instanceof TrendflowError;
}
