/**
 * `fetchModel` against a local HTTP server (127.0.0.1, started here) serving generated files: pinned downloads,
 * digest mismatch, interrupted downloads resumed with Range, servers that ignore Range, unpinned files and the
 * lock file, HTTP errors and retries.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { fetchModel, type FetchProgress } from './fetch.js';
import { lockFilePath, stampPath } from './paths.js';
import { loadRegistry } from './registry.js';
import { startModelServer, testModelSpec, writeTestRegistry, type ModelServer } from '../../../test/helpers/model-host.js';
import { checkModelFile, locateModelFile, verifyModels } from './verify.js';

const tmp = useTempDirs('registry-fetch-');
const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

const BIG = randomBytes(3 * 1024 * 1024 + 123); // several chunks, so a cut lands mid-body
const SMALL = randomBytes(64 * 1024 + 7);
const OTHER = randomBytes(SMALL.length);

let server: ModelServer;
beforeAll(async () => {
  server = await startModelServer({ '/big.onnx': BIG, '/small.onnx': SMALL, '/other.onnx': OTHER });
});
afterAll(async () => {
  await server.close();
});

function reset(): void {
  server.behaviour = {};
  server.requests.length = 0;
}

/** A models dir plus a registry file with one model `m` whose single file is served at `servedPath`. */
async function setup(servedPath: string, file: { sha256: string | null; bytes: number | null }, name = 'weights.onnx') {
  reset();
  const dir = await tmp();
  const modelsDir = path.join(dir, 'models');
  const registryFile = await writeTestRegistry(path.join(dir, 'registry.json'), {
    m: testModelSpec([{ name, url: server.url(servedPath), ...file }]),
  });
  const registry = await loadRegistry({ modelsDir, registryFile });
  return { dir, modelsDir, registryFile, registry, target: path.join(modelsDir, 'm', name) };
}

describe('fetchModel', () => {
  it('downloads a pinned file, checks its sha256, stamps it and reports progress', async () => {
    const { modelsDir, registry, target } = await setup('/big.onnx', { sha256: sha(BIG), bytes: BIG.length });
    const events: FetchProgress[] = [];
    const result = await fetchModel(registry, modelsDir, 'm', { onProgress: (p) => events.push(p) });
    expect(result.files).toEqual([
      { name: 'weights.onnx', path: target, sha256: sha(BIG), bytes: BIG.length, status: 'downloaded', resumed: false, pinned_by: 'registry' },
    ]);
    expect(sha(await fs.readFile(target))).toBe(sha(BIG));
    expect(existsSync(`${target}.part`)).toBe(false);
    expect(existsSync(`${target}.part.lock`)).toBe(false);
    expect(existsSync(stampPath(target))).toBe(true);
    expect(events[0]).toMatchObject({ phase: 'start', received: 0, total: BIG.length });
    expect(events.at(-1)).toMatchObject({ phase: 'done', received: BIG.length });
    expect(events.filter((e) => e.phase === 'download').length).toBeGreaterThan(1);
    // a second fetch finds it verified and downloads nothing
    server.requests.length = 0;
    const again = await fetchModel(registry, modelsDir, 'm');
    expect(again.files[0]!.status).toBe('present');
    expect(server.requests).toEqual([]);
    await expect(locateModelFile(registry, modelsDir, 'm')).resolves.toEqual({ path: target, sha256: sha(BIG), bytes: BIG.length });
  });

  it('refuses a sha256 mismatch and deletes the download', async () => {
    const { modelsDir, registry, target } = await setup('/other.onnx', { sha256: sha(SMALL), bytes: SMALL.length });
    const error = await fetchModel(registry, modelsDir, 'm').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'model_digest_mismatch' });
    expect((error as Error).message).toContain(sha(OTHER));
    expect((error as Error).message).toContain(sha(SMALL));
    expect(existsSync(target)).toBe(false);
    expect(existsSync(`${target}.part`)).toBe(false);
  });

  it('refuses a server that sends more bytes than the registry size, without keeping them', async () => {
    const { modelsDir, registry, target } = await setup('/big.onnx', { sha256: sha(SMALL), bytes: SMALL.length });
    await expect(fetchModel(registry, modelsDir, 'm')).rejects.toMatchObject({ code: 'model_digest_mismatch' });
    expect(existsSync(`${target}.part`)).toBe(false);
  });

  it('resumes an interrupted download with a Range request and completes with the right digest', async () => {
    const { modelsDir, registry, target } = await setup('/big.onnx', { sha256: sha(BIG), bytes: BIG.length });
    server.behaviour = { cutAfter: 1_000_000, cutTimes: 1 };
    const events: FetchProgress[] = [];
    const result = await fetchModel(registry, modelsDir, 'm', { retryDelayMs: 10, onProgress: (p) => events.push(p) });
    expect(result.files[0]).toMatchObject({ status: 'downloaded', resumed: true, sha256: sha(BIG), bytes: BIG.length });
    expect(sha(await fs.readFile(target))).toBe(sha(BIG));
    expect(server.requests.map((r) => r.status)).toEqual([200, 206]);
    expect(server.requests[0]!.range).toBeNull();
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(server.requests[1]!.range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(1_000_000);
    expect(events.find((e) => e.phase === 'retry')?.message).toMatch(/stopped after \d+ of \d+ bytes/);
    expect(events.find((e) => e.phase === 'start' && e.attempt === 1)).toMatchObject({ resumedFrom: resumedAt });
  });

  it('keeps the .part when retries run out and resumes it on the next fetch', async () => {
    const { modelsDir, registry, target } = await setup('/big.onnx', { sha256: sha(BIG), bytes: BIG.length });
    server.behaviour = { cutAfter: 1_500_000, cutTimes: 1 };
    const error = await fetchModel(registry, modelsDir, 'm', { retries: 0 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'model_download_failed' });
    expect((error as Error).message).toContain(server.url('/big.onnx'));
    const kept = (await fs.stat(`${target}.part`)).size;
    expect(kept).toBeGreaterThan(0);
    expect(existsSync(target)).toBe(false);

    const result = await fetchModel(registry, modelsDir, 'm', { retries: 0 });
    expect(result.files[0]).toMatchObject({ status: 'downloaded', resumed: true, sha256: sha(BIG) });
    expect(server.requests.at(-1)).toMatchObject({ range: `bytes=${kept}-`, status: 206 });
    expect(sha(await fs.readFile(target))).toBe(sha(BIG));
  });

  it('starts over when the server ignores Range and answers 200', async () => {
    const { modelsDir, registry, target } = await setup('/big.onnx', { sha256: sha(BIG), bytes: BIG.length });
    server.behaviour = { cutAfter: 700_000, cutTimes: 1 };
    await expect(fetchModel(registry, modelsDir, 'm', { retries: 0 })).rejects.toMatchObject({ code: 'model_download_failed' });
    expect((await fs.stat(`${target}.part`)).size).toBeGreaterThan(0);

    server.behaviour = { ignoreRange: true };
    const result = await fetchModel(registry, modelsDir, 'm', { retries: 0 });
    expect(result.files[0]).toMatchObject({ status: 'downloaded', resumed: false, sha256: sha(BIG), bytes: BIG.length });
    expect(server.requests.at(-1)).toMatchObject({ status: 200 });
    expect(server.requests.at(-1)!.range).toMatch(/^bytes=\d+-$/);
    // the prefix was not kept in front of the full body
    expect((await fs.stat(target)).size).toBe(BIG.length);
  });

  it('deletes a corrupt .part whose resumed digest does not match, then downloads cleanly', async () => {
    const { modelsDir, registry, target } = await setup('/small.onnx', { sha256: sha(SMALL), bytes: SMALL.length });
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(`${target}.part`, randomBytes(1000));
    await expect(fetchModel(registry, modelsDir, 'm')).rejects.toMatchObject({ code: 'model_digest_mismatch' });
    expect(existsSync(`${target}.part`)).toBe(false);
    const result = await fetchModel(registry, modelsDir, 'm');
    expect(result.files[0]).toMatchObject({ status: 'downloaded', resumed: false, sha256: sha(SMALL) });
  });

  it('replaces a file in the models dir whose digest is wrong', async () => {
    const { modelsDir, registry, target } = await setup('/small.onnx', { sha256: sha(SMALL), bytes: SMALL.length });
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, OTHER);
    await expect(locateModelFile(registry, modelsDir, 'm')).rejects.toMatchObject({ code: 'model_digest_mismatch' });
    const result = await fetchModel(registry, modelsDir, 'm');
    expect(result.files[0]).toMatchObject({ status: 'downloaded', sha256: sha(SMALL) });
    await expect(locateModelFile(registry, modelsDir, 'm')).resolves.toMatchObject({ sha256: sha(SMALL) });
  });

  it('refuses an unpinned file without --allow-unpinned, and records its digest in the lock file with it', async () => {
    const { modelsDir, registryFile, registry, target } = await setup('/small.onnx', { sha256: null, bytes: null });
    const refused = await fetchModel(registry, modelsDir, 'm').catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'model_unpinned' });
    expect((refused as Error).message).toContain('npx trendflow models fetch m --allow-unpinned');
    expect(server.requests).toEqual([]);
    expect(existsSync(target)).toBe(false);

    const result = await fetchModel(registry, modelsDir, 'm', { allowUnpinned: true });
    expect(result.files[0]).toMatchObject({ status: 'downloaded', sha256: sha(SMALL), pinned_by: 'lock' });
    const lock = JSON.parse(await fs.readFile(lockFilePath(modelsDir), 'utf8')) as { models: Record<string, Record<string, unknown>> };
    expect(lock.models.m!['weights.onnx']).toMatchObject({ sha256: sha(SMALL), bytes: SMALL.length, url: server.url('/small.onnx') });

    // a later load pins the file by the lock: locate and verify check it
    const pinned = await loadRegistry({ modelsDir, registryFile });
    expect(pinned.get('m').files[0]).toMatchObject({ sha256: sha(SMALL), bytes: SMALL.length, pinned_by: 'lock' });
    await expect(fetchModel(pinned, modelsDir, 'm')).resolves.toMatchObject({ files: [{ status: 'present' }] });
    await expect(locateModelFile(pinned, modelsDir, 'm')).resolves.toMatchObject({ sha256: sha(SMALL) });
    expect((await verifyModels(pinned, modelsDir, ['m']))[0]).toMatchObject({ ok: true });

    // the file changes on disk (same size): verify and locate see it
    const changed = Buffer.from(SMALL);
    changed[100] = changed[100]! ^ 0xff;
    await fs.writeFile(target, changed);
    const [verdict] = await verifyModels(pinned, modelsDir, ['m']);
    expect(verdict).toMatchObject({ ok: false, files: [{ status: 'mismatch', sha256: sha(changed), expected: sha(SMALL), pinned_by: 'lock' }] });
    expect(verdict!.files[0]!.message).toContain('the lock file records');
    await expect(locateModelFile(pinned, modelsDir, 'm')).rejects.toMatchObject({ code: 'model_digest_mismatch' });
  });

  it('records an unpinned file that is already in place instead of downloading it', async () => {
    const { modelsDir, registry, target } = await setup('/small.onnx', { sha256: null, bytes: null });
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, SMALL);
    await expect(locateModelFile(registry, modelsDir, 'm')).rejects.toMatchObject({ code: 'model_unpinned' });
    const result = await fetchModel(registry, modelsDir, 'm', { allowUnpinned: true });
    expect(result.files[0]).toMatchObject({ status: 'recorded', sha256: sha(SMALL), pinned_by: 'lock' });
    expect(server.requests).toEqual([]);
  });

  it('finishes a complete .part of an unpinned file when the server answers 416', async () => {
    const { modelsDir, registry, target } = await setup('/small.onnx', { sha256: null, bytes: null });
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(`${target}.part`, SMALL);
    const result = await fetchModel(registry, modelsDir, 'm', { allowUnpinned: true });
    expect(result.files[0]).toMatchObject({ status: 'downloaded', resumed: true, sha256: sha(SMALL) });
    expect(server.requests.map((r) => r.status)).toEqual([416]);
  });

  it('fails with model_download_failed naming the URL and HTTP status, and retries transient statuses', async () => {
    const missing = await setup('/nope.onnx', { sha256: sha(SMALL), bytes: SMALL.length });
    const error = await fetchModel(missing.registry, missing.modelsDir, 'm', { retryDelayMs: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'model_download_failed' });
    expect((error as Error).message).toBe(`GET ${server.url('/nope.onnx')} failed: HTTP 404 Not Found`);
    expect(server.requests).toHaveLength(1); // a 404 is not retried

    const flaky = await setup('/small.onnx', { sha256: sha(SMALL), bytes: SMALL.length });
    server.behaviour = { failStatus: 503, failTimes: 2 };
    const result = await fetchModel(flaky.registry, flaky.modelsDir, 'm', { retryDelayMs: 1 });
    expect(result.files[0]).toMatchObject({ status: 'downloaded', sha256: sha(SMALL) });
    expect(server.requests.map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('fails cleanly when nothing listens at the URL', async () => {
    reset();
    const dir = await tmp();
    const modelsDir = path.join(dir, 'models');
    const registryFile = await writeTestRegistry(path.join(dir, 'registry.json'), {
      m: testModelSpec([{ name: 'w.onnx', url: 'http://127.0.0.1:9/w.onnx', sha256: sha(SMALL), bytes: SMALL.length }]),
    });
    const registry = await loadRegistry({ modelsDir, registryFile });
    const error = await fetchModel(registry, modelsDir, 'm', { retries: 1, retryDelayMs: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'model_download_failed' });
    expect((error as Error).message).toContain('http://127.0.0.1:9/w.onnx');
  });

  it('stops on abort and keeps the partial file', async () => {
    const { modelsDir, registry, target } = await setup('/big.onnx', { sha256: sha(BIG), bytes: BIG.length });
    const controller = new AbortController();
    const error = await fetchModel(registry, modelsDir, 'm', {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'download' && p.received > 500_000) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'model_download_failed' });
    expect((error as Error).message).toContain('cancelled');
    expect(existsSync(`${target}.part`)).toBe(true);
    expect(existsSync(`${target}.part.lock`)).toBe(false);
  });

  it('refuses to write into a .part that a live process is downloading', async () => {
    const { modelsDir, registry, target } = await setup('/small.onnx', { sha256: sha(SMALL), bytes: SMALL.length });
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(`${target}.part.lock`, `${process.pid}\n${(await import('node:os')).hostname()}\n`);
    await expect(fetchModel(registry, modelsDir, 'm')).rejects.toMatchObject({ code: 'model_download_failed' });
    // a lock left by a dead process is taken over
    await fs.writeFile(`${target}.part.lock`, `999999999\n${(await import('node:os')).hostname()}\n`);
    await expect(fetchModel(registry, modelsDir, 'm')).resolves.toMatchObject({ files: [{ status: 'downloaded' }] });
  });
});

describe('verification stamps', () => {
  it('hash a file once until it changes', async () => {
    const { modelsDir, registry, target } = await setup('/small.onnx', { sha256: sha(SMALL), bytes: SMALL.length });
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, SMALL);
    const entry = registry.get('m');
    const first = await checkModelFile(modelsDir, entry, entry.files[0]!);
    expect(first).toMatchObject({ status: 'ok', fromStamp: false });
    const second = await checkModelFile(modelsDir, entry, entry.files[0]!);
    expect(second).toMatchObject({ status: 'ok', fromStamp: true });
    // same size, new content and mtime: hashed again, and found wrong
    const changed = Buffer.from(SMALL);
    changed[0] = changed[0]! ^ 1;
    await fs.writeFile(target, changed);
    const future = new Date(Date.now() + 5000);
    await fs.utimes(target, future, future);
    expect(await checkModelFile(modelsDir, entry, entry.files[0]!)).toMatchObject({ status: 'mismatch', fromStamp: false, sha256: sha(changed) });
    // a stamp that lies about the digest is only trusted while size, mtime and inode match
    expect(await checkModelFile(modelsDir, entry, entry.files[0]!, { rehash: true })).toMatchObject({ status: 'mismatch', fromStamp: false });
  });

  it('a wrong size is a mismatch without hashing', async () => {
    const { modelsDir, registry, target } = await setup('/small.onnx', { sha256: sha(SMALL), bytes: SMALL.length });
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, SMALL.subarray(0, 10));
    const error = await locateModelFile(registry, modelsDir, 'm').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'model_digest_mismatch', details: { path: target } });
    expect((error as Error).message).toContain(`is 10 bytes, the registry expects ${SMALL.length} bytes`);
  });
});
