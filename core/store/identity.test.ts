import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TrendflowError } from '../contracts/errors.js';
import { DATAPROCESSOR_VERSION, SAMPLING_POLICY_VERSION } from '../contracts/version.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { hashFile } from './hash.js';
import {
  ID_MAX_LENGTH,
  ID_PATTERN,
  canonicalJson,
  configHash,
  generateRunId,
  resolveRunIdentity,
  validateId,
} from './identity.js';

const tmp = useTempDirs('identity-');

/** The sha256 the system tool computes, so the streaming hash is checked against an independent implementation. */
function systemSha256(file: string): string {
  try {
    return execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(/\s/)[0]!;
  } catch {
    return execFileSync('shasum', ['-a', '256', file], { encoding: 'utf8' }).split(/\s/)[0]!;
  }
}

function expectCode(action: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(TrendflowError);
  expect((thrown as TrendflowError).code).toBe(code);
}

describe('resolveRunIdentity', () => {
  it('derives video_id from the file bytes, matching sha256sum, and is stable', async () => {
    const dir = await tmp();
    const video = path.join(dir, 'clip.mp4');
    // several read chunks, not a multiple of the chunk size
    await fs.writeFile(video, randomBytes(3 * 1024 * 1024 + 17));
    const expected = systemSha256(video);
    const first = await resolveRunIdentity({ videoPath: video, config: { profile: 'tier0' } });
    const second = await resolveRunIdentity({ videoPath: video, config: { profile: 'tier0' } });
    expect(first.identity.video_id).toBe(`file-${expected.slice(0, 16)}`);
    expect(second.identity.video_id).toBe(first.identity.video_id);
    expect(first.source).toEqual({ source_path: video, source_bytes: 3 * 1024 * 1024 + 17, source_sha256: expected });
    expect(first.identity.platform_id).toBe('local');
    expect(first.identity.sampling_policy_version).toBe(SAMPLING_POLICY_VERSION);
    expect(first.identity.dataprocessor_version).toBe(DATAPROCESSOR_VERSION);
    expect(first.identity.config_hash).toBe(configHash({ profile: 'tier0' }));
    expect(first.identity.run_id).not.toBe(second.identity.run_id);
  });

  it('works with a non-ASCII path and hashes an empty file', async () => {
    const dir = path.join(await tmp(), 'видео ✓ 動画');
    await fs.mkdir(dir);
    const video = path.join(dir, 'клип é 🎬.mp4');
    await fs.writeFile(video, '');
    const { identity, source } = await resolveRunIdentity({ videoPath: video, config: {} });
    const emptySha = createHash('sha256').digest('hex');
    expect(identity.video_id).toBe(`file-${emptySha.slice(0, 16)}`);
    expect(source).toEqual({ source_path: video, source_bytes: 0, source_sha256: emptySha });
  });

  it('uses ids from metadata and a passed run_id', async () => {
    const video = path.join(await tmp(), 'v.mp4');
    await fs.writeFile(video, 'x');
    const { identity } = await resolveRunIdentity({
      videoPath: video,
      platformId: 'youtube',
      videoId: '-dQw4w9WgXc',
      runId: 'my-run.1',
      config: {},
    });
    expect(identity).toMatchObject({ platform_id: 'youtube', video_id: '-dQw4w9WgXc', run_id: 'my-run.1' });
  });

  it('rejects unsafe ids with invalid_id before reading the file', async () => {
    const missing = path.join(await tmp(), 'missing.mp4');
    for (const input of [{ runId: '../escape' }, { videoId: 'a/b' }, { platformId: '' }]) {
      await expect(resolveRunIdentity({ videoPath: missing, config: {}, ...input })).rejects.toMatchObject({
        code: 'invalid_id',
      });
    }
  });

  it('reports an unreadable video with file_read_failed and its path', async () => {
    const missing = path.join(await tmp(), 'missing.mp4');
    await expect(resolveRunIdentity({ videoPath: missing, config: {} })).rejects.toMatchObject({
      code: 'file_read_failed',
      details: { path: missing },
    });
    await expect(hashFile(await tmp())).rejects.toMatchObject({ code: 'file_read_failed' });
  });
});

describe('validateId', () => {
  it('accepts safe segments', () => {
    for (const id of ['local', 'youtube', '-dQw4w9WgXc', '_x', 'file-0123456789abcdef', 'v1.2.3', 'a'.repeat(ID_MAX_LENGTH), '7']) {
      expect(validateId(id, 'id')).toBe(id);
    }
  });

  it.each([
    ['', 'is empty'],
    ['.', 'not a safe path segment'],
    ['..', "contains '..'"],
    ['a/b', 'path separator'],
    ['a\\b', 'path separator'],
    ['../etc', 'path separator'],
    ['a..b', "contains '..'"],
    ['.hidden', 'not a safe path segment'],
    ['trailing.', 'not a safe path segment'],
    ['with space', 'not a safe path segment'],
    ['é', 'not a safe path segment'],
    ['a:b', 'not a safe path segment'],
    ['nul\u0000', 'not a safe path segment'],
    ['CON', 'reserved device name'],
    ['nul.txt', 'reserved device name'],
    ['lpt1', 'reserved device name'],
    ['a'.repeat(ID_MAX_LENGTH + 1), 'longer than 128'],
  ])('rejects %j', (id, reason) => {
    expect(() => validateId(id, 'run_id')).toThrow(reason);
    expectCode(() => validateId(id, 'run_id'), 'invalid_id');
  });

  it('rejects non-strings', () => {
    for (const value of [undefined, null, 42, {}]) expectCode(() => validateId(value, 'video_id'), 'invalid_id');
  });
});

describe('generateRunId', () => {
  it('has the documented format and is a valid id', () => {
    const id = generateRunId(new Date('2026-11-21T14:15:00.789Z'));
    expect(id).toMatch(/^20261121T141500Z-[0-9a-f]{8}$/);
    expect(ID_PATTERN.test(id)).toBe(true);
  });

  it('sorts in creation order across seconds', () => {
    const start = Date.parse('2026-03-01T23:59:58Z');
    const ids = Array.from({ length: 50 }, (_, i) => generateRunId(new Date(start + i * 1000 + (i % 3) * 7)));
    expect([...ids].sort()).toEqual(ids);
  });

  it('is unique within one second', () => {
    const now = new Date();
    const ids = new Set(Array.from({ length: 500 }, () => generateRunId(now)));
    expect(ids.size).toBe(500);
  });
});

describe('canonicalJson and configHash', () => {
  it('sorts keys recursively and drops whitespace', () => {
    expect(canonicalJson({ b: [3, { z: 1, a: null }], a: 'é"', c: { y: true, x: -0.5e-7 } })).toBe(
      '{"a":"é\\"","b":[3,{"a":null,"z":1}],"c":{"x":-5e-8,"y":true}}',
    );
  });

  it('hashes independently of key order, and changes with any value', () => {
    const a = { profile: 'tier0', components: { core_clip: { preset: 'openai_clip_224', batch: 8 } }, models: ['m1', 'm2'] };
    const b = { models: ['m1', 'm2'], components: { core_clip: { batch: 8, preset: 'openai_clip_224' } }, profile: 'tier0' };
    expect(configHash(a)).toBe(configHash(b));
    expect(configHash(a)).toBe(createHash('sha256').update(canonicalJson(b)).digest('hex'));
    expect(configHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(configHash({ ...a, models: ['m2', 'm1'] })).not.toBe(configHash(a));
    expect(configHash({ ...a, profile: 'tier1' })).not.toBe(configHash(a));
  });

  it('accepts shared (non-circular) references', () => {
    const shared = { k: 1 };
    expect(canonicalJson({ a: shared, b: [shared] })).toBe('{"a":{"k":1},"b":[{"k":1}]}');
  });

  const circular: Record<string, unknown> = {};
  circular.self = circular;
  it.each([
    ['NaN', { x: Number.NaN }, '$.x is NaN'],
    ['Infinity', { x: [1, Number.POSITIVE_INFINITY] }, '$.x[1] is Infinity'],
    ['undefined value', { x: undefined }, '$.x is undefined'],
    ['undefined in array', [undefined], '$[0] is undefined'],
    ['a function', { f: () => 1 }, '$.f is function'],
    ['a bigint', { n: 1n }, '$.n is bigint'],
    ['a symbol', { s: Symbol('s') }, '$.s is symbol'],
    ['a Date', { d: new Date(0) }, 'a Date object'],
    ['a Map', { m: new Map() }, 'a Map object'],
    ['a cycle', circular, 'circular reference'],
    ['a sparse array', { a: [1, , 3] }, 'sparse array'],
    ['undefined at the top', undefined, '$ is undefined'],
  ])('refuses %s', (_label, value, reason) => {
    expect(() => configHash(value)).toThrow(reason);
    expectCode(() => configHash(value), 'invalid_argument');
  });
});
