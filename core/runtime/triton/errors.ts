/**
 * How Triton's (KServe v2) answers become TrendFlow error codes. Triton maps its own error codes to HTTP statuses
 * (NOT_FOUND → 404, UNAVAILABLE → 503, INVALID_ARG/UNKNOWN → 400, INTERNAL → 500, UNSUPPORTED → 501) and puts the
 * reason in `{"error": "..."}`; older releases answer 400 for everything, so the text is read too.
 */
import { TrendflowError, type ErrorCode } from '../../contracts/errors.js';
import type { RawResponse } from './http.js';

/** What a call was about, for messages that name the URL, the model and the version. */
export interface CallTarget {
  url: string;
  operation: string;
  model?: string;
  version?: string;
}

/** "model 'clip_image' version 1 at http://triton:8000" (or "http://triton:8000" for server-level calls). */
export function describeTarget(target: CallTarget): string {
  if (target.model === undefined) return target.url;
  const version = target.version === undefined ? ' (default version)' : ` version ${target.version}`;
  return `model '${target.model}'${version} at ${target.url}`;
}

/** Statuses that say "try again later": retried with backoff. */
export const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** Server texts that mean the GPU (or the host) ran out of memory. */
export const OUT_OF_MEMORY = /out of memory|CUDA_ERROR_OUT_OF_MEMORY|cudaErrorMemoryAllocation|\bOOM\b|failed to allocate (?:\S+ )*(?:gpu|cuda|device) memory/i;
/** The model exists but is not (or not yet) loaded. Checked before UNKNOWN_MODEL: Triton says "Request for unknown model: 'x' version 1 is not at ready state". */
export const MODEL_NOT_READY = /not at ready state|failed to load|load failed|unable to load|is (?:still )?loading/i;
/** The model (or version) is not in the repository. */
export const UNKNOWN_MODEL = /unknown model|no available versions|model (?:\S+ )?(?:is )?not found|version (?:\S+ )?(?:is )?not found/i;

const MAX_TEXT = 500;

/** The server's reason: `error` of a JSON body, or the body text, shortened. */
export function responseText(response: RawResponse): string {
  const raw = response.body.toString('utf8').trim();
  let text = raw;
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (parsed && typeof parsed === 'object' && typeof (parsed as { error?: unknown }).error === 'string') {
      text = (parsed as { error: string }).error;
    }
  } catch {
    // not JSON: keep the text
  }
  if (text.length > MAX_TEXT) text = `${text.slice(0, MAX_TEXT)}…`;
  return text || '(empty body)';
}

export function tritonError(code: ErrorCode, target: CallTarget, detail: string, cause?: unknown): TrendflowError {
  return new TrendflowError(code, `${target.operation} ${describeTarget(target)}: ${detail}`, cause === undefined ? {} : { cause });
}

/**
 * The code for a final non-2xx answer, from its status and text alone. A 404 (or an "unknown model" text) is
 * model_not_found here; the client asks the repository index before it settles on that, because Triton also answers
 * 404 "has no available versions" for a model whose load failed.
 */
export function codeForStatus(status: number, text: string, aboutModel: boolean): ErrorCode {
  if (OUT_OF_MEMORY.test(text)) return 'insufficient_gpu_memory';
  if (aboutModel && MODEL_NOT_READY.test(text)) return 'model_load_failed';
  if (aboutModel && (status === 404 || UNKNOWN_MODEL.test(text))) return 'model_not_found';
  if (TRANSIENT_STATUSES.has(status)) return 'triton_unavailable';
  return 'triton_request_failed';
}
