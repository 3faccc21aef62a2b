import type { ComponentName } from '../../core/contracts/components.js';
import type { RunIdentity } from '../../core/contracts/meta.js';
import { ndarray, type AnyNdArray, type NpzContents, type PyValue } from '../../core/npz/index.js';
import { sampleIdentity } from './manifest.js';

/*
 * Valid in-memory artifacts for every schema in schemas/, built to the letter of the contracts, so tests can
 * break exactly one thing and expect exactly one problem.
 */

function filled(count: number, value: number): number[] {
  return new Array<number>(count).fill(value);
}

export const MODEL_USED = {
  model_name: 'openai_clip_vit_b32',
  model_version: 'rev1',
  weights_digest: 'c'.repeat(64),
  runtime: 'inprocess',
  engine: 'onnxruntime',
  precision: 'fp32',
  device: 'cpu',
};

const SCHEMA_VERSIONS: Partial<Record<ComponentName, string>> = {
  core_clip: 'core_clip_npz_v1',
  core_face_landmarks: 'core_face_landmarks_npz_v1',
  loudness_extractor: 'audio_npz_v2',
  tempo_extractor: 'audio_npz_v1',
  clap_extractor: 'audio_npz_v2',
  text_processor: 'text_npz_v2',
};

/** A complete meta dict for `producer`; model keys only for components that call models. */
export function sampleMeta(
  producer: ComponentName,
  options: { status?: 'ok' | 'empty' | 'error'; emptyReason?: string | null; models?: boolean; identity?: RunIdentity } = {},
): { [key: string]: PyValue } {
  const status = options.status ?? 'ok';
  return {
    producer,
    producer_version: '1.0.0',
    schema_version: SCHEMA_VERSIONS[producer] ?? `${producer}_npz_v1`,
    created_at: '2026-01-01T00:00:01.250+00:00',
    ...(options.identity ?? sampleIdentity()),
    status,
    empty_reason: options.emptyReason === undefined ? null : options.emptyReason,
    ...(options.models
      ? { models_used: [{ ...MODEL_USED }], model_signature: 'd'.repeat(64), batch_size: 16 }
      : {}),
  };
}

function withMeta(entries: Array<[string, AnyNdArray]>, meta: { [key: string]: PyValue }): NpzContents {
  return new Map([...entries, ['meta', ndarray.objectScalar(meta)]]);
}

export function clipArtifact(options: { identity?: RunIdentity } = {}): NpzContents {
  const n = 4;
  const d = 8;
  const p = 3;
  return withMeta(
    [
      ['frame_indices', ndarray.int32([0, 10, 20, 30])],
      ['frame_embeddings', ndarray.float32(Array.from({ length: n * d }, (_, i) => Math.sin(i)), [n, d])],
      ['shot_quality_prompts', ndarray.objectArray(['a sharp photo', 'a blurry photo', 'a dark photo'])],
      ['shot_quality_text_embeddings', ndarray.float32(Array.from({ length: p * d }, (_, i) => Math.cos(i)), [p, d])],
    ],
    sampleMeta('core_clip', { models: true, ...(options.identity ? { identity: options.identity } : {}) }),
  );
}

const FACE_POINTS = 468 * 3;

/** A face artifact with 3 frames and 2 face slots; ok has a face in frame 1 slot 0, empty has none. */
export function faceArtifact(options: { empty?: boolean; pose?: boolean; hands?: boolean } = {}): NpzContents {
  const n = 3;
  const faces = 2;
  const present = Array.from({ length: n * faces }, (_, i) => !options.empty && i === 2);
  const landmarks = present.flatMap((p) => (p ? filled(FACE_POINTS, 0.5) : filled(FACE_POINTS, Number.NaN)));
  const reason = options.empty ? 'no_faces_in_video' : null;
  const entries: Array<[string, AnyNdArray]> = [
    ['frame_indices', ndarray.int32([0, 7, 14])],
    ['face_landmarks', ndarray.float32(landmarks, [n, faces, 468, 3])],
    ['face_present', ndarray.bool(present, [n, faces])],
    ['has_any_face', ndarray.bool([!options.empty], [])],
    // what np.savez stores: None as a 0-d object array, a str as a 0-d <U array
    ['empty_reason', reason === null ? ndarray.objectScalar(null) : ndarray.str([reason], [])],
    ['face_boxes', ndarray.float32(present.flatMap((p) => (p ? [0.1, 0.2, 0.4, 0.6] : filled(4, Number.NaN))), [n, faces, 4])],
    ['face_scores', ndarray.float32(present.map((p) => (p ? 0.9 : Number.NaN)), [n, faces])],
    ['face_empty_reason', ndarray.objectScalar(reason)],
  ];
  if (options.pose) {
    entries.push(
      ['pose_landmarks', ndarray.float32([...filled(33 * 4, 0.3), ...filled(2 * 33 * 4, Number.NaN)], [n, 1, 33, 4])],
      ['pose_present', ndarray.bool([true, false, false], [n, 1])],
      ['has_any_pose', ndarray.bool([true], [])],
      ['pose_empty_reason', ndarray.objectScalar(null)],
    );
  }
  if (options.hands) {
    entries.push(
      ['hands_landmarks', ndarray.float32(filled(n * 2 * 21 * 3, Number.NaN), [n, 2, 21, 3])],
      ['hands_present', ndarray.bool(new Array<boolean>(n * 2).fill(false), [n, 2])],
      ['has_any_hands', ndarray.bool([false], [])],
      ['hands_empty_reason', ndarray.objectScalar('no_hands_detected')],
    );
  }
  return withMeta(
    entries,
    sampleMeta('core_face_landmarks', { models: true, status: options.empty ? 'empty' : 'ok', emptyReason: reason }),
  );
}

function features(names: string[], empty: boolean): Array<[string, AnyNdArray]> {
  return [
    ['feature_names', ndarray.objectArray(names)],
    ['feature_values', ndarray.float32(names.map((_, i) => (empty ? Number.NaN : i + 0.5)), [names.length])],
  ];
}

export type AudioComponent = 'loudness_extractor' | 'tempo_extractor' | 'clap_extractor';

/** An audio artifact; `empty` is an audio-less video (audio_missing_or_extract_failed). */
export function audioArtifact(component: AudioComponent, options: { empty?: boolean } = {}): NpzContents {
  const empty = options.empty ?? false;
  const meta = sampleMeta(component, {
    status: empty ? 'empty' : 'ok',
    emptyReason: empty ? 'audio_missing_or_extract_failed' : null,
    models: component === 'clap_extractor',
  });
  switch (component) {
    case 'loudness_extractor':
      return withMeta(
        [
          ...features(['integrated_lufs', 'loudness_range_lu', 'true_peak_dbtp'], empty),
          ['lufs_present', ndarray.bool([!empty], [])],
          ['momentary_times_sec', ndarray.float32(empty ? [] : [0.2, 0.3, 0.4], [empty ? 0 : 3])],
          ['momentary_lufs', ndarray.float32(empty ? [] : [-23, -22.5, Number.NEGATIVE_INFINITY], [empty ? 0 : 3])],
          ['short_term_times_sec', ndarray.float32(empty ? [] : [1.5], [empty ? 0 : 1])],
          ['short_term_lufs', ndarray.float32(empty ? [] : [-23.1], [empty ? 0 : 1])],
        ],
        meta,
      );
    case 'tempo_extractor':
      return withMeta(
        [
          ...features(['tempo_bpm', 'tempo_confidence'], empty),
          ['tempo_estimates', ndarray.float32(empty ? [] : [120, 60], [empty ? 0 : 2])],
          ['windowed_times_sec', ndarray.float32(empty ? [] : [2, 6, 10], [empty ? 0 : 3])],
          ['windowed_bpm', ndarray.float32(empty ? [] : [119.5, Number.NaN, 121], [empty ? 0 : 3])],
          ['warnings', ndarray.objectArray(empty ? [] : ['no clear beat in window 1'])],
        ],
        meta,
      );
    case 'clap_extractor':
      return withMeta(
        [
          ...features(['embedding_norm'], empty),
          ['embedding', ndarray.float32(filled(16, empty ? Number.NaN : 0.25), [16])],
          ['embedding_present', ndarray.bool([!empty], [])],
          ['window_start_sec', ndarray.float32(empty ? [] : [0, 5], [empty ? 0 : 2])],
          ['window_end_sec', ndarray.float32(empty ? [] : [10, 12], [empty ? 0 : 2])],
          ['window_embeddings', ndarray.float32(empty ? [] : filled(32, 0.25), [empty ? 0 : 2, 16])],
        ],
        meta,
      );
  }
}

export function textArtifact(options: { empty?: boolean } = {}): NpzContents {
  const empty = options.empty ?? false;
  return withMeta(
    [
      ...features(['title_length_chars', 'description_length_chars', 'comment_count'], empty),
      ['payload', ndarray.objectScalar({ sources: empty ? [] : ['title', 'description'], language: empty ? null : 'en' })],
      ['embedding_sources', ndarray.objectArray(['title', 'description'])],
      ['embeddings', ndarray.float32(empty ? filled(16, Number.NaN) : [...filled(8, 0.25), ...filled(8, Number.NaN)], [2, 8])],
      ['embedding_present', ndarray.bool([!empty, false], [2])],
    ],
    {
      ...sampleMeta('text_processor', {
        models: true,
        status: empty ? 'empty' : 'ok',
        emptyReason: empty ? 'no_text_available' : null,
      }),
      privacy: { retain_raw_comments: false, retain_raw_ocr_text: false, retention_days: null, raw_text_stored: false },
    },
  );
}
