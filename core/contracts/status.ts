/** Component / artifact status vocabulary (seed 001 §4). */
export const STATUSES = ['ok', 'empty', 'error'] as const;
export type Status = (typeof STATUSES)[number];

/**
 * Canonical empty_reason vocabulary (seed 001 §5.1). Components pick from this list; a component-specific
 * reason is allowed only where its schema lists it in `extra_empty_reasons`.
 */
export const EMPTY_REASONS = [
  'audio_missing_or_extract_failed',
  'no_faces_in_video',
  'no_text_available',
  'ocr_disabled_by_policy',
  'comments_missing_or_disabled',
  'video_too_short',
  'video_too_long',
  'dependency_missing',
] as const;
export type EmptyReason = (typeof EMPTY_REASONS)[number];

/** Run-level status: a component's three plus the run lifecycle states. */
export const RUN_STATUSES = ['running', 'ok', 'partial', 'error', 'interrupted', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export function isStatus(value: unknown): value is Status {
  return typeof value === 'string' && (STATUSES as readonly string[]).includes(value);
}

export function isEmptyReason(value: unknown): value is EmptyReason {
  return typeof value === 'string' && (EMPTY_REASONS as readonly string[]).includes(value);
}
