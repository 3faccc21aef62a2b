import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clipArtifact, textArtifact } from '../../test/helpers/artifacts.js';
import { sampleIdentity } from '../../test/helpers/manifest.js';
import { numpyAvailableOrCi, runPython } from '../../test/helpers/python.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { writeNpzFile } from '../npz/index.js';
import { validateNpzFile } from './validate-npz.js';

const tmp = useTempDirs('schema-file-');

describe('validateNpzFile', () => {
  it.each([true, false])('validates an artifact written by core/npz (compress: %s)', async (compress) => {
    const file = path.join(await tmp(), 'embeddings.npz');
    await writeNpzFile(file, clipArtifact(), { compress });
    const result = await validateNpzFile(file);
    expect(result.problems).toEqual([]);
    expect(result.schema?.component).toBe('core_clip');
  });

  it('puts the file on every problem', async () => {
    const file = path.join(await tmp(), 'features.npz');
    const contents = textArtifact();
    contents.delete('payload');
    await writeNpzFile(file, contents, { compress: true });
    expect((await validateNpzFile(file)).problems).toEqual([
      { path: file, key: 'payload', code: 'missing_key', message: 'required object () is missing' },
    ]);
  });

  it('a file that cannot be read is one problem with the reader code', async () => {
    const dir = await tmp();
    const missing = path.join(dir, 'missing.npz');
    expect(await validateNpzFile(missing)).toMatchObject({
      ok: false,
      schema: null,
      meta: null,
      problems: [{ path: missing, code: 'npz_not_found' }],
    });
    const garbage = path.join(dir, 'garbage.npz');
    await fs.writeFile(garbage, 'this is not a zip archive at all, just some text');
    const [problem] = (await validateNpzFile(garbage)).problems;
    expect(problem?.path).toBe(garbage);
    expect(problem?.code).toMatch(/^npz_/);
  });
});

const identity = sampleIdentity();
const META = `dict(
    producer=PRODUCER, producer_version='1.0.0', schema_version=VERSION,
    created_at='2026-01-01T00:00:00.123456+00:00',
    platform_id='${identity.platform_id}', video_id='${identity.video_id}', run_id='${identity.run_id}',
    config_hash='${identity.config_hash}', sampling_policy_version='${identity.sampling_policy_version}',
    dataprocessor_version='${identity.dataprocessor_version}', status=STATUS, empty_reason=REASON,
    models_used=[dict(model_name='mediapipe', model_version='0.10.14', weights_digest='c' * 64,
                      runtime='inprocess', engine='mediapipe', precision='fp32', device='cpu')],
    model_signature='d' * 64, batch_size=BATCH)`;

/** Writes an artifact with NumPy the way a Python component does, then validates it. */
async function numpyArtifact(script: string): Promise<string> {
  const file = path.join(await tmp(), 'artifact.npz');
  runPython(`import sys, numpy as np\n${script}`, [file]);
  return file;
}

describe.skipIf(!numpyAvailableOrCi)('artifacts written by NumPy', () => {
  it('an empty core_face_landmarks artifact (np.savez_compressed, str empty_reason stored as <U)', async () => {
    const file = await numpyArtifact(`
PRODUCER, VERSION, STATUS, REASON, BATCH = 'core_face_landmarks', 'core_face_landmarks_npz_v1', 'empty', 'no_faces_in_video', 1
N, FACES = 3, 2
np.savez_compressed(sys.argv[1],
    frame_indices=np.array([0, 7, 14], dtype=np.int32),
    face_landmarks=np.full((N, FACES, 468, 3), np.nan, dtype=np.float32),
    face_present=np.zeros((N, FACES), dtype=bool),
    has_any_face=False,
    empty_reason='no_faces_in_video',
    meta=np.array(${META}, dtype=object))
`);
    expect((await validateNpzFile(file)).problems).toEqual([]);
  });

  it('a core_clip artifact with the usual NumPy slips: int64 indices and a float batch_size', async () => {
    const file = await numpyArtifact(`
PRODUCER, VERSION, STATUS, REASON, BATCH = 'core_clip', 'core_clip_npz_v1', 'ok', None, 16.0
np.savez(sys.argv[1],
    frame_indices=np.array([0, 10, 20]),
    frame_embeddings=np.ones((3, 8), dtype=np.float32),
    shot_quality_prompts=np.array(['a sharp photo', 'a blurry photo'], dtype=object),
    shot_quality_text_embeddings=np.ones((2, 8), dtype=np.float32),
    meta=${META})
`);
    expect((await validateNpzFile(file)).problems.map((p) => [p.key, p.code, p.message])).toEqual([
      ['frame_indices', 'bad_dtype', 'expected int32, got int64 (<i8)'],
      ['meta.batch_size', 'meta_bad_type', 'must be a positive int, got float 16.0'],
    ]);
  });
});
