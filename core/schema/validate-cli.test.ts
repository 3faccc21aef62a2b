import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipArtifact, faceArtifact } from '../../test/helpers/artifacts.js';
import { rewriteAsManifestV1 } from '../../test/helpers/manifest.js';
import { writeSampleRun } from '../../test/helpers/run-fixture.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { ndarray, writeNpzFile, type PyValue } from '../npz/index.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const tmp = useTempDirs('schema-cli-');

/** Compiled sources under core/ whose dist/ output is missing or older than the source. */
function staleOutputs(): string[] {
  const stale: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(repoRoot, dir), { withFileTypes: true })) {
      const relative = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(relative);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        const output = path.join(repoRoot, 'dist', relative.replace(/\.ts$/, '.js'));
        if (!existsSync(output) || statSync(output).mtimeMs < statSync(path.join(repoRoot, relative)).mtimeMs) stale.push(relative);
      }
    }
  };
  walk('core');
  return stale;
}

// `npm test` builds dist/ before vitest; a bare `npx vitest` builds it here so the CLI under test is current.
beforeAll(() => {
  if (staleOutputs().length === 0) return;
  const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.core.json'], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
  const stale = staleOutputs();
  if (stale.length > 0) throw new Error(`build left ${stale.join(', ')} stale:\n${build.stdout}${build.stderr}`);
});

function trendflow(...args: string[]) {
  return spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'trendflow.js'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

function lines(text: string): string[] {
  return text.split('\n').filter(Boolean);
}

describe('trendflow validate', () => {
  it('a valid artifact: exit 0 and an OK line', async () => {
    const file = path.join(await tmp(), 'embeddings.npz');
    await writeNpzFile(file, clipArtifact(), { compress: true });
    const result = trendflow('validate', file);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`OK ${file}: core_clip (core_clip_npz_v1), status ok\n`);
    expect(result.status).toBe(0);
  });

  it('an invalid artifact: exit 1, one line per problem, one line on stderr', async () => {
    const file = path.join(await tmp(), 'embeddings.npz');
    const contents = clipArtifact();
    contents.delete('shot_quality_prompts');
    contents.set('frame_indices', ndarray.int32([0, 20, 10, 30]));
    await writeNpzFile(file, contents, { compress: false });
    const result = trendflow('validate', file);
    expect(result.status).toBe(1);
    expect(lines(result.stdout)).toEqual([
      `${file}:shot_quality_prompts: missing_key: required object (P,) is missing`,
      `${file}:frame_indices: frame_indices_unsorted: frame indices must be sorted increasing: 1 step down (first: [2] = 10 after [1] = 20)`,
    ]);
    expect(result.stderr).toBe(`trendflow: ${file}: artifact_invalid: 2 problems\n`);
  });

  it('--json prints one object per path', async () => {
    const dir = await tmp();
    const good = path.join(dir, 'landmarks.npz');
    await writeNpzFile(good, faceArtifact({ empty: true }), { compress: true });
    const missing = path.join(dir, 'missing.npz');
    const result = trendflow('validate', '--json', good, missing);
    expect(result.status).toBe(1);
    const outcomes = lines(result.stdout).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(outcomes).toEqual([
      { path: good, kind: 'npz', ok: true, problems: [], summary: 'core_face_landmarks (core_face_landmarks_npz_v1), status empty' },
      {
        path: missing,
        kind: 'npz',
        ok: false,
        problems: [expect.objectContaining({ path: missing, code: 'npz_not_found' })],
        summary: expect.any(String),
      },
    ]);
  });

  it('--required-meta-keys (with --schema when producer is missing) relaxes the meta check for legacy files', async () => {
    const file = path.join(await tmp(), 'legacy.npz');
    const contents = clipArtifact();
    const meta = contents.get('meta')!.data[0] as { [key: string]: PyValue };
    delete meta.created_at;
    delete meta.dataprocessor_version;
    await writeNpzFile(file, contents, { compress: true });
    const strict = trendflow('validate', file);
    expect(strict.status).toBe(1);
    expect(lines(strict.stdout)).toEqual([
      `${file}:meta.created_at: meta_missing_key: required meta field created_at is missing`,
      `${file}:meta.dataprocessor_version: meta_missing_key: required meta field dataprocessor_version is missing`,
    ]);
    const legacyKeys = 'schema_version,platform_id,video_id,run_id,status,empty_reason,models_used';
    const relaxed = trendflow('validate', '--required-meta-keys', `producer,${legacyKeys}`, file);
    expect(relaxed.stdout).toBe(`OK ${file}: core_clip (core_clip_npz_v1), status ok\n`);
    expect(relaxed.status).toBe(0);

    delete meta.producer;
    await writeNpzFile(file, contents, { compress: true });
    expect(trendflow('validate', '--required-meta-keys', legacyKeys, file).stdout).toMatch(/schema_not_found/);
    const named = trendflow('validate', '--schema', 'core_clip', '--required-meta-keys', legacyKeys, file);
    expect(named.stdout).toMatch(/^OK /);
    expect(named.status).toBe(0);
  });

  it('a run folder: OK, then exit 1 with a sha256 line after tampering', async () => {
    const runDir = await writeSampleRun(await tmp());
    const ok = trendflow('validate', runDir);
    expect(ok.stdout).toMatch(new RegExp(`^OK ${runDir}: run \\S+ \\(ok\\), 3 components, 3 artifacts\\n$`));
    expect(ok.status).toBe(0);
    // an older store's manifest is valid for its version, and the line says which
    const legacy = await writeSampleRun(await tmp());
    await rewriteAsManifestV1(legacy);
    expect(trendflow('validate', legacy).stdout).toMatch(new RegExp(`^OK ${legacy}: run \\S+ \\(ok\\), 3 components, 3 artifacts, manifest_v1\\n$`));

    const file = path.join(runDir, 'loudness_extractor', 'loudness.npz');
    const bytes = await fs.readFile(file);
    bytes[bytes.length - 30]! ^= 0x01;
    await fs.writeFile(file, bytes);
    const bad = trendflow('validate', runDir);
    expect(bad.status).toBe(1);
    expect(lines(bad.stdout)).toContainEqual(expect.stringMatching(new RegExp(`^${file}: artifact_sha256_mismatch: `)));
    expect(bad.stderr).toMatch(new RegExp(`^trendflow: ${runDir}: run_invalid: \\d+ problems?\\n$`));
  });

  it('usage errors exit 2', () => {
    expect(trendflow('validate').status).toBe(2);
    expect(trendflow('validate', '--required-meta-keys', ',', 'x.npz').status).toBe(2);
  });
});
