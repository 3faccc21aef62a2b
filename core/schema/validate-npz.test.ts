import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { audioArtifact, clipArtifact, faceArtifact, MODEL_USED, textArtifact, type AudioComponent } from '../../test/helpers/artifacts.js';
import { MODEL_USED_KEYS, REQUIRED_META_KEYS } from '../contracts/meta.js';
import { EMPTY_REASONS } from '../contracts/status.js';
import { ndarray, type NpzContents, type PyValue } from '../npz/index.js';
import type { Problem } from './problems.js';
import { parseSchema } from './format.js';
import { defaultSchemasDir, loadSchema } from './registry.js';
import { validateNpz, type ValidateNpzOptions } from './validate-npz.js';

type Meta = { [key: string]: PyValue };

function metaOf(contents: NpzContents): Meta {
  return contents.get('meta')!.data[0] as Meta;
}

function problems(contents: NpzContents, options: ValidateNpzOptions = {}): Problem[] {
  return validateNpz(contents, options).problems;
}

/** The single problem a one-fault artifact must give. */
function onlyProblem(contents: NpzContents, options: ValidateNpzOptions = {}): Problem {
  const found = problems(contents, options);
  expect(found, JSON.stringify(found, null, 2)).toHaveLength(1);
  return found[0]!;
}

describe('valid artifacts pass', () => {
  it('core_clip', () => {
    const result = validateNpz(clipArtifact(), { path: 'core_clip/embeddings.npz' });
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.schema?.schema_version).toBe('core_clip_npz_v1');
    expect(result.meta?.status).toBe('ok');
  });

  it('core_face_landmarks ok, empty, and with pose and hands', () => {
    expect(problems(faceArtifact())).toEqual([]);
    expect(problems(faceArtifact({ empty: true }))).toEqual([]);
    expect(problems(faceArtifact({ pose: true, hands: true }))).toEqual([]);
  });

  it.each(['loudness_extractor', 'tempo_extractor', 'clap_extractor'] as AudioComponent[])('%s ok and empty', (component) => {
    expect(problems(audioArtifact(component))).toEqual([]);
    expect(problems(audioArtifact(component, { empty: true }))).toEqual([]);
  });

  it('audio with frame_indices present', () => {
    const contents = audioArtifact('loudness_extractor');
    contents.set('frame_indices', ndarray.int32([0, 12, 24]));
    expect(problems(contents)).toEqual([]);
    contents.set('frame_indices', ndarray.int32([0, 24, 12]));
    expect(onlyProblem(contents).code).toBe('frame_indices_unsorted');
  });

  it('text_processor ok and empty', () => {
    expect(problems(textArtifact())).toEqual([]);
    expect(problems(textArtifact({ empty: true }))).toEqual([]);
  });
});

describe('keys, dtypes and shapes', () => {
  it('missing key', () => {
    const contents = clipArtifact();
    contents.delete('shot_quality_prompts');
    expect(onlyProblem(contents, { path: 'x.npz' })).toEqual({
      path: 'x.npz',
      key: 'shot_quality_prompts',
      code: 'missing_key',
      message: 'required object (P,) is missing',
    });
  });

  it('an optional key may be missing', () => {
    const contents = faceArtifact();
    contents.delete('face_boxes');
    expect(problems(contents)).toEqual([]);
  });

  it('unknown key', () => {
    const contents = clipArtifact();
    contents.set('debug', ndarray.float32([1], [1]));
    expect(onlyProblem(contents)).toMatchObject({ key: 'debug', code: 'unknown_key' });
  });

  it('wrong dtype', () => {
    const contents = clipArtifact();
    contents.set('frame_indices', { ...ndarray.int32([0, 10, 20, 30]), dtype: 'int64', data: BigInt64Array.from([0n, 10n, 20n, 30n]), descr: '<i8' });
    expect(onlyProblem(contents)).toMatchObject({ key: 'frame_indices', code: 'bad_dtype', message: 'expected int32, got int64 (<i8)' });
  });

  it('wrong rank and wrong literal dim', () => {
    const contents = clipArtifact();
    contents.set('frame_embeddings', ndarray.float32(new Array(32).fill(0), [32]));
    expect(onlyProblem(contents)).toMatchObject({ key: 'frame_embeddings', code: 'bad_shape', message: 'expected shape (N, D), got (32,)' });

    const face = faceArtifact({ empty: true });
    face.set('face_landmarks', ndarray.float32(new Array(3 * 2 * 468 * 2).fill(Number.NaN), [3, 2, 468, 2]));
    expect(onlyProblem(face)).toMatchObject({ key: 'face_landmarks', code: 'bad_shape' });
    expect(onlyProblem(face).message).toMatch(/axis 3 must be 3/);
  });

  it('inconsistent N across keys names both keys and sizes', () => {
    const contents = clipArtifact();
    contents.set('frame_indices', ndarray.int32([0, 10, 20]));
    expect(onlyProblem(contents)).toEqual({
      key: 'frame_embeddings',
      code: 'dim_mismatch',
      message: 'dim N is 4 in frame_embeddings (axis 0) but 3 in frame_indices (axis 0)',
    });
  });

  it('inconsistent D between image and text embeddings', () => {
    const contents = clipArtifact();
    contents.set('shot_quality_text_embeddings', ndarray.float32(new Array(3 * 5).fill(0), [3, 5]));
    expect(onlyProblem(contents)).toMatchObject({ code: 'dim_mismatch', message: expect.stringMatching(/dim D is 5 .* but 8 in frame_embeddings/) });
  });

  it('a dim below its minimum (an empty sample is not a valid core_clip artifact)', () => {
    const contents = clipArtifact();
    contents.set('frame_indices', ndarray.int32([]));
    contents.set('frame_embeddings', ndarray.float32([], [0, 8]));
    expect(onlyProblem(contents)).toMatchObject({ code: 'dim_out_of_range', key: 'frame_indices' });
  });

  it('a key group must be complete', () => {
    const contents = faceArtifact({ pose: true });
    contents.delete('has_any_pose');
    expect(onlyProblem(contents)).toMatchObject({ code: 'key_group_incomplete', key: 'has_any_pose' });
  });
});

describe('values', () => {
  it('unsorted frame_indices', () => {
    const contents = clipArtifact();
    contents.set('frame_indices', ndarray.int32([0, 20, 10, 30]));
    expect(onlyProblem(contents)).toMatchObject({
      code: 'frame_indices_unsorted',
      message: expect.stringContaining('[2] = 10 after [1] = 20'),
    });
  });

  it('duplicate frame_indices', () => {
    const contents = clipArtifact();
    contents.set('frame_indices', ndarray.int32([0, 10, 10, 30]));
    expect(onlyProblem(contents)).toMatchObject({ code: 'frame_indices_duplicate', key: 'frame_indices' });
  });

  it('negative frame_indices', () => {
    const contents = clipArtifact();
    contents.set('frame_indices', ndarray.int32([-5, 10, 20, 30]));
    expect(onlyProblem(contents)).toMatchObject({ code: 'frame_indices_negative' });
  });

  it('NaN in an embedding that must be finite', () => {
    const contents = clipArtifact();
    const embeddings = contents.get('frame_embeddings')!;
    (embeddings.data as Float32Array)[9] = Number.NaN;
    expect(onlyProblem(contents)).toMatchObject({ code: 'not_finite', message: expect.stringContaining('[1, 1]') });
  });

  it('object elements of the wrong kind', () => {
    const contents = clipArtifact();
    contents.set('shot_quality_prompts', ndarray.objectArray(['a', 7, 'c']));
    expect(onlyProblem(contents)).toMatchObject({ code: 'bad_element', message: expect.stringContaining('[1] is int') });
  });

  it('duplicate prompts', () => {
    const contents = clipArtifact();
    contents.set('shot_quality_prompts', ndarray.objectArray(['a', 'b', 'a']));
    expect(onlyProblem(contents)).toMatchObject({ code: 'duplicate_value', message: expect.stringContaining("[2] = 'a' repeats [0]") });
  });

  it('zeros where the mask says absent (placeholders instead of NaN)', () => {
    const contents = faceArtifact();
    (contents.get('face_landmarks')!.data as Float32Array).fill(0, 0, 10);
    expect(onlyProblem(contents)).toMatchObject({
      key: 'face_landmarks',
      code: 'mask_violation',
      message: expect.stringContaining('10 entries are not (first: [0, 0, 0, 0] = 0)'),
    });
  });

  it('a 0-d mask covers the whole array (clap embedding)', () => {
    const contents = audioArtifact('clap_extractor', { empty: true });
    contents.set('embedding', ndarray.float32(new Array(16).fill(0), [16]));
    expect(onlyProblem(contents)).toMatchObject({ key: 'embedding', code: 'mask_violation' });
  });

  it('has_any_face must summarise face_present', () => {
    const contents = faceArtifact();
    contents.set('face_present', ndarray.bool([false, false, true, true, false, false], [3, 2]));
    // slot [1, 1] now claims a face whose landmarks are NaN: allowed (NaN only where absent is checked)
    expect(problems(contents)).toEqual([]);
    contents.set('has_any_face', ndarray.bool([false], []));
    const found = problems(contents).map((p) => p.code);
    expect(found).toContain('inconsistent_value');
  });

  it('the empty_reason key must repeat meta.empty_reason', () => {
    const contents = faceArtifact();
    contents.set('empty_reason', ndarray.str(['no_faces_in_video'], []));
    expect(onlyProblem(contents)).toMatchObject({ key: 'empty_reason', code: 'inconsistent_value' });
  });

  it('an enumerated value outside its list', () => {
    const contents = faceArtifact({ hands: true });
    contents.set('hands_empty_reason', ndarray.objectScalar('no_hands'));
    const found = problems(contents);
    expect(found.map((p) => p.code).sort()).toEqual(['bad_value', 'rule_violation']);
  });

  it('strictly increasing window times', () => {
    const contents = audioArtifact('tempo_extractor');
    contents.set('windowed_times_sec', ndarray.float32([2, 2, 10], [3]));
    expect(onlyProblem(contents)).toMatchObject({ key: 'windowed_times_sec', code: 'order_violation' });
  });
});

describe('meta', () => {
  it('meta must be a 0-d object array holding a dict', () => {
    const contents = clipArtifact();
    contents.set('meta', ndarray.objectArray([{ a: 1 }], [1]));
    const found = problems(contents);
    expect(found[0]).toMatchObject({ key: 'meta', code: 'meta_invalid' });
    // without meta nothing names the schema, so keys were not checked
    expect(found.map((p) => p.code)).toEqual(['meta_invalid', 'schema_not_found']);

    contents.set('meta', ndarray.objectScalar('producer=core_clip'));
    expect(problems(contents)[0]).toMatchObject({ code: 'meta_invalid', message: expect.stringContaining('holds str') });
  });

  it.each([...REQUIRED_META_KEYS])('missing meta key %s', (key) => {
    const contents = clipArtifact();
    delete metaOf(contents)[key];
    const found = problems(contents, key === 'producer' ? { schema: 'core_clip' } : {});
    expect(found, JSON.stringify(found)).toEqual([
      expect.objectContaining({ key: `meta.${key}`, code: 'meta_missing_key' }),
    ]);
  });

  it('a missing producer without an explicit schema cannot choose one', () => {
    const contents = clipArtifact();
    delete metaOf(contents).producer;
    expect(problems(contents).map((p) => p.code)).toEqual(['schema_not_found']);
  });

  it.each(['models_used', 'model_signature', 'batch_size'])('missing model meta key %s for a model component', (key) => {
    const contents = clipArtifact();
    delete metaOf(contents)[key];
    expect(onlyProblem(contents)).toMatchObject({ key: `meta.${key}`, code: 'meta_missing_key' });
  });

  it('unknown producer is schema_not_found', () => {
    const contents = clipArtifact();
    metaOf(contents).producer = 'clip';
    expect(onlyProblem(contents)).toMatchObject({ code: 'schema_not_found', message: expect.stringContaining('not a component name') });
  });

  it('producer and schema_version must match the schema', () => {
    const contents = clipArtifact();
    metaOf(contents).schema_version = 'core_clip_npz_v0';
    expect(onlyProblem(contents)).toMatchObject({ code: 'schema_version_mismatch' });
    const other = clipArtifact();
    const againstFace = problems(other, { schema: loadSchema('core_face_landmarks') });
    expect(againstFace).toContainEqual(expect.objectContaining({ key: 'meta.producer', code: 'producer_mismatch' }));
    expect(againstFace).toContainEqual(expect.objectContaining({ key: 'face_landmarks', code: 'missing_key' }));
    metaOf(other).producer = 'core_face_landmarks';
    expect(problems(other, { schema: 'core_clip' }).map((p) => p.code)).toEqual(['producer_mismatch']);
  });

  it('bad status', () => {
    const contents = clipArtifact();
    metaOf(contents).status = 'done';
    expect(onlyProblem(contents)).toMatchObject({ key: 'meta.status', code: 'bad_status' });
  });

  it('a status the schema does not allow (core_clip is never empty)', () => {
    const contents = clipArtifact();
    metaOf(contents).status = 'empty';
    metaOf(contents).empty_reason = 'video_too_short';
    expect(onlyProblem(contents)).toMatchObject({ key: 'meta.status', code: 'status_not_allowed' });
  });

  it('bad empty_reason for an empty artifact', () => {
    const contents = faceArtifact({ empty: true });
    metaOf(contents).empty_reason = 'no_face';
    contents.set('empty_reason', ndarray.objectScalar('no_face'));
    contents.set('face_empty_reason', ndarray.objectScalar('no_face'));
    expect(onlyProblem(contents)).toMatchObject({ key: 'meta.empty_reason', code: 'bad_empty_reason' });
    metaOf(contents).empty_reason = null;
    contents.set('empty_reason', ndarray.objectScalar(null));
    contents.set('face_empty_reason', ndarray.objectScalar(null));
    expect(onlyProblem(contents)).toMatchObject({ code: 'bad_empty_reason', message: expect.stringContaining('got None') });
  });

  it('every canonical empty_reason is accepted for an empty artifact', () => {
    for (const reason of EMPTY_REASONS) {
      const contents = audioArtifact('loudness_extractor', { empty: true });
      metaOf(contents).empty_reason = reason;
      expect(problems(contents)).toEqual([]);
    }
  });

  it('non-null empty_reason for an ok artifact', () => {
    const contents = clipArtifact();
    metaOf(contents).empty_reason = 'no_faces_in_video';
    expect(onlyProblem(contents)).toMatchObject({ key: 'meta.empty_reason', code: 'empty_reason_not_null' });
  });

  it.each([...MODEL_USED_KEYS])('models_used entry missing %s', (field) => {
    const contents = clipArtifact();
    const [entry] = metaOf(contents).models_used as Meta[];
    delete entry![field];
    expect(onlyProblem(contents)).toMatchObject({
      key: 'meta.models_used',
      code: 'models_used_incomplete',
      message: expect.stringContaining(`models_used[0] lacks ${field}`),
    });
  });

  it('models_used must be a non-empty list for an ok model artifact, with a known runtime', () => {
    const contents = clipArtifact();
    metaOf(contents).models_used = [];
    expect(onlyProblem(contents)).toMatchObject({ code: 'models_used_incomplete' });
    metaOf(contents).models_used = 'clip';
    expect(onlyProblem(contents)).toMatchObject({ code: 'meta_bad_type' });
    metaOf(contents).models_used = [{ ...MODEL_USED, runtime: 'gpu' }];
    expect(onlyProblem(contents)).toMatchObject({ code: 'bad_value', message: expect.stringContaining('inprocess or triton-gpu') });
  });

  it('meta field types', () => {
    const contents = clipArtifact();
    metaOf(contents).created_at = '2026-01-01 00:00:00';
    metaOf(contents).batch_size = 0;
    metaOf(contents).video_id = '';
    expect(problems(contents).map((p) => [p.key, p.code])).toEqual([
      ['meta.video_id', 'meta_bad_type'],
      ['meta.created_at', 'meta_bad_type'],
      ['meta.batch_size', 'meta_bad_type'],
    ]);
  });

  it('requiredMetaKeys relaxes the required set for legacy files; present keys are still checked', () => {
    const contents = clipArtifact();
    const meta = metaOf(contents);
    for (const key of ['created_at', 'config_hash', 'sampling_policy_version', 'dataprocessor_version', 'models_used', 'model_signature', 'batch_size']) {
      delete meta[key];
    }
    expect(problems(contents).filter((p) => p.code === 'meta_missing_key')).toHaveLength(7);
    const relaxed = ['producer', 'schema_version', 'platform_id', 'video_id', 'run_id', 'status', 'empty_reason'];
    expect(problems(contents, { requiredMetaKeys: relaxed })).toEqual([]);
    meta.status = 'finished';
    expect(onlyProblem(contents, { requiredMetaKeys: relaxed }).code).toBe('bad_status');
  });

  it('relaxing producer needs an explicit schema', () => {
    const contents = clipArtifact();
    delete metaOf(contents).producer;
    const relaxed = REQUIRED_META_KEYS.filter((key) => key !== 'producer');
    expect(validateNpz(contents, { schema: 'core_clip', requiredMetaKeys: [...relaxed, 'models_used', 'model_signature', 'batch_size'] }).ok).toBe(true);
  });
});

describe('schema options', () => {
  it('additional_keys and extra_empty_reasons widen what a schema accepts', () => {
    const json = JSON.parse(readFileSync(path.join(defaultSchemasDir(), 'core_face_landmarks.json'), 'utf8')) as Record<string, unknown>;
    const wide = parseSchema({ ...json, additional_keys: true, extra_empty_reasons: ['face_detector_disabled'] }, 'wide.json');
    const contents = faceArtifact({ empty: true });
    contents.set('debug_scores', ndarray.float32([1, 2]));
    metaOf(contents).empty_reason = 'face_detector_disabled';
    contents.set('empty_reason', ndarray.objectScalar('face_detector_disabled'));
    contents.set('face_empty_reason', ndarray.objectScalar('face_detector_disabled'));
    expect(problems(contents, { schema: wide })).toEqual([]);
    expect(problems(contents).map((p) => p.code).sort()).toEqual(['bad_empty_reason', 'unknown_key']);
  });
});

describe('status rules', () => {
  it('an ok face artifact must have found a face', () => {
    const contents = faceArtifact({ empty: true });
    metaOf(contents).status = 'ok';
    metaOf(contents).empty_reason = null;
    contents.set('empty_reason', ndarray.objectScalar(null));
    contents.set('face_empty_reason', ndarray.objectScalar(null));
    expect(onlyProblem(contents)).toMatchObject({ key: 'has_any_face', code: 'rule_violation' });
  });

  it('an empty face artifact has no face', () => {
    const contents = faceArtifact();
    metaOf(contents).status = 'empty';
    metaOf(contents).empty_reason = 'no_faces_in_video';
    contents.set('empty_reason', ndarray.objectScalar('no_faces_in_video'));
    contents.set('face_empty_reason', ndarray.objectScalar('no_faces_in_video'));
    expect(onlyProblem(contents)).toMatchObject({
      key: 'has_any_face',
      code: 'rule_violation',
      message: expect.stringContaining("must be False when meta.status is 'empty', got True"),
    });
  });

  it('pose that found nothing says why', () => {
    const contents = faceArtifact({ pose: true });
    contents.set('pose_landmarks', ndarray.float32(new Array(3 * 33 * 4).fill(Number.NaN), [3, 1, 33, 4]));
    contents.set('pose_present', ndarray.bool([false, false, false], [3, 1]));
    contents.set('has_any_pose', ndarray.bool([false], []));
    expect(onlyProblem(contents)).toMatchObject({ key: 'pose_empty_reason', code: 'rule_violation' });
    contents.set('pose_empty_reason', ndarray.str(['no_pose_detected'], []));
    expect(problems(contents)).toEqual([]);
  });

  it('an empty audio artifact has no embedding / loudness', () => {
    const clap = audioArtifact('clap_extractor');
    metaOf(clap).status = 'empty';
    metaOf(clap).empty_reason = 'audio_missing_or_extract_failed';
    expect(onlyProblem(clap)).toMatchObject({ key: 'embedding_present', code: 'rule_violation' });
    const loudness = audioArtifact('loudness_extractor');
    metaOf(loudness).status = 'empty';
    metaOf(loudness).empty_reason = 'audio_missing_or_extract_failed';
    expect(onlyProblem(loudness)).toMatchObject({ key: 'lufs_present', code: 'rule_violation' });
  });
});
