import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clipArtifact } from '../../test/helpers/artifacts.js';
import { rewriteAsManifestV1, sampleIdentity } from '../../test/helpers/manifest.js';
import { editManifest, samplePlans, writeSampleRun } from '../../test/helpers/run-fixture.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import type { Manifest } from '../contracts/manifest.js';
import type { PyValue } from '../npz/index.js';
import { validateRunDir } from './validate-run.js';

const tmp = useTempDirs('schema-run-');
const identity = sampleIdentity();

type Meta = { [key: string]: PyValue };

async function writeRun(plans = samplePlans()): Promise<string> {
  return writeSampleRun(await tmp(), plans);
}

function codes(result: { problems: Array<{ code: string }> }): string[] {
  return result.problems.map((p) => p.code);
}

describe('validateRunDir', () => {
  it('a run folder with manifest and artifacts validates', async () => {
    const runDir = await writeRun();
    const result = await validateRunDir(runDir);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.artifacts).toEqual(['core_clip/embeddings.npz', 'core_face_landmarks/landmarks.npz', 'loudness_extractor/loudness.npz']);
    expect(result.manifest?.run.run_id).toBe(identity.run_id);
    expect(result.manifest_version).toBe('manifest_v2');
  });

  it('a run folder stored as manifest_v1 is valid for its version, and its manifest comes back as v2', async () => {
    const runDir = await writeRun();
    await rewriteAsManifestV1(runDir);
    const result = await validateRunDir(runDir);
    expect(result).toMatchObject({ ok: true, problems: [], manifest_version: 'manifest_v1' });
    expect(result.manifest?.manifest_version).toBe('manifest_v2');
  });

  it('tampering with one byte of an artifact gives a sha256 problem', async () => {
    const runDir = await writeRun();
    const file = path.join(runDir, 'core_clip', 'embeddings.npz');
    const bytes = await fs.readFile(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    await fs.writeFile(file, bytes);
    const result = await validateRunDir(runDir);
    expect(result.ok).toBe(false);
    expect(result.problems).toContainEqual({
      path: file,
      code: 'artifact_sha256_mismatch',
      message: expect.stringMatching(/^manifest.json says sha256 [0-9a-f]{64}, the file has [0-9a-f]{64}$/),
    });
  });

  it('a truncated artifact gives a size problem and the reader error', async () => {
    const runDir = await writeRun();
    const file = path.join(runDir, 'loudness_extractor', 'loudness.npz');
    const bytes = await fs.readFile(file);
    await fs.writeFile(file, bytes.subarray(0, bytes.length - 40));
    const found = codes(await validateRunDir(runDir));
    expect(found).toContain('artifact_size_mismatch');
    expect(found).toContain('artifact_sha256_mismatch');
    expect(found.some((code) => code.startsWith('npz_'))).toBe(true);
  });

  it('a listed artifact that is gone is missing', async () => {
    const runDir = await writeRun();
    await fs.rm(path.join(runDir, 'loudness_extractor', 'loudness.npz'));
    expect((await validateRunDir(runDir)).problems).toEqual([
      expect.objectContaining({ code: 'artifact_missing', path: path.join(runDir, 'loudness_extractor', 'loudness.npz') }),
    ]);
  });

  it('accepts a component that never ran for a missing dependency and wrote nothing, but no other artifact-less one', async () => {
    const runDir = await writeRun();
    await fs.rm(path.join(runDir, 'loudness_extractor'), { recursive: true });
    await editManifest(runDir, (manifest) => {
      const loudness = manifest.components.find((c) => c.name === 'loudness_extractor')!;
      Object.assign(loudness, { status: 'empty', empty_reason: 'dependency_missing', error: null, artifacts: [] });
    });
    expect((await validateRunDir(runDir)).problems).toEqual([]);
    await editManifest(runDir, (manifest) => {
      Object.assign(manifest.components.find((c) => c.name === 'loudness_extractor')!, { empty_reason: 'audio_missing_or_extract_failed' });
    });
    expect(codes(await validateRunDir(runDir))).toEqual(['artifact_missing']);
  });

  it('flags unlisted NPZ files, any JSON but manifest.json, and other stray files', async () => {
    const runDir = await writeRun();
    await fs.copyFile(path.join(runDir, 'core_clip', 'embeddings.npz'), path.join(runDir, 'core_clip', 'old.npz'));
    await fs.writeFile(path.join(runDir, 'core_clip', 'debug.json'), '{}');
    await fs.writeFile(path.join(runDir, 'notes.txt'), 'x');
    const result = await validateRunDir(runDir);
    expect(result.problems.map((p) => [path.relative(runDir, p.path!), p.code])).toEqual([
      [path.join('core_clip', 'debug.json'), 'forbidden_json'],
      [path.join('core_clip', 'old.npz'), 'unlisted_artifact'],
      ['notes.txt', 'unlisted_file'],
    ]);
  });

  it('meta run identity must equal manifest.run', async () => {
    const plans = samplePlans();
    plans[0]!.contents = clipArtifact({ identity: { ...identity, config_hash: 'f'.repeat(64) } });
    const runDir = await writeRun(plans);
    expect((await validateRunDir(runDir)).problems).toEqual([
      {
        path: path.join(runDir, 'core_clip', 'embeddings.npz'),
        key: 'meta.config_hash',
        code: 'identity_mismatch',
        message: `is '${'f'.repeat(64)}' but manifest.run has '${'a'.repeat(64)}'`,
      },
    ]);
  });

  it('the component entry must agree with the artifact meta', async () => {
    const runDir = await writeRun();
    await editManifest(runDir, (manifest) => {
      const face = manifest.components[1]!;
      Object.assign(face, { status: 'ok', empty_reason: null, producer_version: '2.0.0' });
    });
    const result = await validateRunDir(runDir);
    expect(result.problems.map((p) => [p.key, p.code])).toEqual([
      ['meta.status', 'component_mismatch'],
      ['meta.empty_reason', 'component_mismatch'],
      ['meta.producer_version', 'component_mismatch'],
    ]);
  });

  it('an artifact filed under another component is refused', async () => {
    const runDir = await writeRun();
    await editManifest(runDir, (manifest) => {
      // the loudness entry now claims the clip artifact
      manifest.components[2]!.artifacts = manifest.components[0]!.artifacts;
    });
    const found = codes(await validateRunDir(runDir));
    expect(found).toContain('artifact_path_invalid');
    expect(found).toContain('component_mismatch');
    expect(found).toContain('artifact_missing');
    expect(found).toContain('unlisted_artifact');
  });

  it('a reused artifact carries its source run id', async () => {
    const plans = samplePlans();
    const source = { ...identity, run_id: '20251231T000000Z-00000000', config_hash: 'e'.repeat(64) };
    plans[0]!.contents = clipArtifact({ identity: source });
    const runDir = await writeRun(plans);
    await editManifest(runDir, (manifest) => {
      Object.assign(manifest.components[0]!, { cache_hit: true, cache_source_run_id: source.run_id });
    });
    expect((await validateRunDir(runDir)).problems).toEqual([]);
    await editManifest(runDir, (manifest) => {
      manifest.components[0]!.cache_source_run_id = '20251230T000000Z-00000000';
    });
    expect((await validateRunDir(runDir)).problems).toEqual([
      expect.objectContaining({ key: 'meta.run_id', code: 'identity_mismatch' }),
    ]);
  });

  it('artifact problems are reported with the artifact path', async () => {
    const plans = samplePlans();
    (plans[0]!.contents.get('meta')!.data[0] as Meta).batch_size = 0;
    const runDir = await writeRun(plans);
    expect((await validateRunDir(runDir)).problems).toEqual([
      expect.objectContaining({ path: path.join(runDir, 'core_clip', 'embeddings.npz'), key: 'meta.batch_size', code: 'meta_bad_type' }),
    ]);
  });

  it('no manifest, or an invalid one, stops there', async () => {
    const empty = await tmp();
    expect(await validateRunDir(empty)).toMatchObject({
      ok: false,
      manifest: null,
      problems: [{ code: 'manifest_not_found', path: path.join(empty, 'manifest.json') }],
    });

    const runDir = await writeRun();
    await editManifest(runDir, (manifest) => {
      delete (manifest.run as Partial<Manifest['run']>).video_id;
    });
    const result = await validateRunDir(runDir);
    expect(result.manifest).toBeNull();
    expect(codes(result)).toEqual(['manifest_invalid']);
    expect(result.problems[0]!.message).toMatch(/video_id/);

    await fs.writeFile(path.join(runDir, 'manifest.json'), '{ not json');
    expect(codes(await validateRunDir(runDir))).toEqual(['manifest_invalid']);
  });
});
