/**
 * `models fetch`: downloads a model's files into `<modelsDir>/<id>/`, resumable and sha256-checked.
 *
 * Each file is written to `<file>.part`. A `.part` left by an interrupted download is resumed with an HTTP Range
 * request (a server that ignores Range and answers 200 makes the download start over). The sha256 is computed
 * while the bytes stream in; a mismatch deletes the `.part` and fails with `model_digest_mismatch`. A file the
 * registry does not pin is refused unless `allowUnpinned`, and then the digest seen is recorded in
 * `<modelsDir>/models.lock.json`, which later locate/verify calls check. The finished file is fsynced and renamed
 * into place, so `<file>` is either absent or complete. Transient failures (connection lost, 5xx, 408, 429) are
 * retried with backoff, each retry resuming where the previous one stopped.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { syncDirectory } from '../../store/atomic.js';
import { isProcessAlive } from '../../store/lock.js';
import { TrendflowError } from '../../contracts/errors.js';
import { recordLock } from './lockfile.js';
import { lockFilePath, modelFilePath, modelsCommand, PART_SUFFIX } from './paths.js';
import type { ModelRegistry } from './registry.js';
import type { ModelEntry, ModelFile } from './types.js';
import { checkModelFile, removeStamp, writeStamp } from './verify.js';

export interface FetchProgress {
  id: string;
  file: string;
  url: string | null;
  /**
   * `start`: about to download (resumedFrom > 0 when resuming); `download`: bytes arrived; `retry`: a transient
   * failure, retrying (message says why); `verify`: hashing a file already there; `done`: the file is in place.
   */
  phase: 'start' | 'download' | 'retry' | 'verify' | 'done';
  /** Bytes of the file on disk so far (including a resumed prefix). */
  received: number;
  /** Full size when known (registry, Content-Length or Content-Range), else null. */
  total: number | null;
  resumedFrom: number;
  attempt: number;
  message?: string;
}

export interface FetchModelOptions {
  /** Download files the registry does not pin, and record their digest in the lock file. */
  allowUnpinned?: boolean;
  onProgress?: (progress: FetchProgress) => void;
  signal?: AbortSignal;
  /** The fetch to use (tests, proxies); default the global fetch. */
  fetchImpl?: typeof fetch;
  /** Transient failures retried per file (default 3). */
  retries?: number;
  /** First backoff delay in ms, doubled per retry (default 500). */
  retryDelayMs?: number;
}

export interface FetchedFile {
  name: string;
  path: string;
  sha256: string;
  bytes: number;
  /** `present`: already there and verified; `downloaded`: fetched now; `recorded`: an unpinned file already there whose digest was recorded. */
  status: 'present' | 'downloaded' | 'recorded';
  /** The download continued a `.part` left by an earlier attempt. */
  resumed: boolean;
  /** What its digest was checked against: the registry, or the lock file (recorded now or earlier). */
  pinned_by: 'registry' | 'lock';
}

export interface FetchResult {
  id: string;
  files: FetchedFile[];
}

/** Errors worth retrying (network, 5xx, 408, 429); everything else fails at once. */
const transient = new WeakSet<object>();

function downloadError(message: string, url: string, opts: { transient: boolean; cause?: unknown }): TrendflowError {
  const error = new TrendflowError('model_download_failed', message, { path: url, ...(opts.cause === undefined ? {} : { cause: opts.cause }) });
  if (opts.transient) transient.add(error);
  return error;
}

function causeText(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const base = error instanceof Error ? error.message : String(error);
  return cause?.code ?? cause?.message ? `${base} (${cause.code ?? cause.message})` : base;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

async function hashInto(hash: Hash, file: string): Promise<void> {
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
}

async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

// Content-Range: "bytes START-END/TOTAL", or "bytes */TOTAL" (with 416)
function parseContentRange(value: string | null): { start: number | null; total: number | null } | null {
  if (!value) return null;
  const match = /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i.exec(value.trim());
  if (!match) return null;
  return { start: match[1] === undefined ? null : Number(match[1]), total: match[3] === '*' ? null : Number(match[3]) };
}

interface DownloadContext {
  id: string;
  file: ModelFile;
  url: string;
  partPath: string;
  fetchImpl: typeof fetch;
  signal: AbortSignal | undefined;
  emit: (progress: Omit<FetchProgress, 'id' | 'file' | 'url' | 'attempt'>) => void;
}

/**
 * One attempt: continues `.part` with a Range request when it holds bytes, else downloads from the start.
 * Returns the sha256 and size of the complete `.part`. Interruptions keep the `.part` and throw a transient error.
 */
async function downloadOnce(ctx: DownloadContext): Promise<{ sha256: string; bytes: number; resumed: boolean }> {
  const { file, url, partPath } = ctx;
  let existing = await fileSize(partPath);
  if (file.bytes !== null && existing > file.bytes) {
    // longer than the file can be: not a prefix of it
    await fs.rm(partPath, { force: true });
    existing = 0;
  }
  const hash = createHash('sha256');
  if (existing > 0) await hashInto(hash, partPath);
  if (file.bytes !== null && existing === file.bytes) {
    // a complete .part left by a download that stopped just before the rename
    ctx.emit({ phase: 'start', received: existing, total: file.bytes, resumedFrom: existing });
    return { sha256: hash.digest('hex'), bytes: existing, resumed: true };
  }

  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (existing > 0) headers.range = `bytes=${existing}-`;
  let response: Response;
  try {
    response = await ctx.fetchImpl(url, { headers, redirect: 'follow', ...(ctx.signal ? { signal: ctx.signal } : {}) });
  } catch (error) {
    throw downloadError(`GET ${url} failed: ${causeText(error)}`, url, { transient: true, cause: error });
  }

  let resumed = false;
  let total: number | null = file.bytes;
  const length = response.headers.get('content-length');
  if (existing > 0 && response.status === 416) {
    // the range starts at or past the end: the .part is either the whole file or garbage
    await response.body?.cancel().catch(() => undefined);
    const range = parseContentRange(response.headers.get('content-range'));
    if (range?.total === existing) {
      ctx.emit({ phase: 'start', received: existing, total: existing, resumedFrom: existing });
      return { sha256: hash.digest('hex'), bytes: existing, resumed: true };
    }
    await fs.rm(partPath, { force: true });
    return downloadOnce(ctx);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    const retry = response.status >= 500 || response.status === 408 || response.status === 429;
    throw downloadError(`GET ${url} failed: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`, url, {
      transient: retry,
    });
  }
  if (existing > 0 && response.status === 206) {
    const range = parseContentRange(response.headers.get('content-range'));
    if (range?.start !== existing) {
      // a range we did not ask for: start over rather than guess
      await response.body?.cancel().catch(() => undefined);
      await fs.rm(partPath, { force: true });
      return downloadOnce(ctx);
    }
    resumed = true;
    total = range.total ?? total;
  } else if (response.status === 206) {
    // we asked for no range: a 206 here is a partial answer we cannot place
    await response.body?.cancel().catch(() => undefined);
    throw downloadError(`GET ${url} answered 206 Partial Content to a plain request`, url, { transient: false });
  } else {
    // 200: the whole file. A server that ignored our Range lands here too: the .part is truncated and the
    // download starts over with a fresh hash.
    if (length !== null && !response.headers.get('content-encoding')) total = Number(length);
    if (existing > 0) return downloadBody(ctx, response, createHash('sha256'), 0, total, false);
  }
  return downloadBody(ctx, response, hash, resumed ? existing : 0, total, resumed);
}

async function downloadBody(
  ctx: DownloadContext,
  response: Response,
  hash: Hash,
  start: number,
  total: number | null,
  resumed: boolean,
): Promise<{ sha256: string; bytes: number; resumed: boolean }> {
  const { file, url, partPath } = ctx;
  // append after the verified prefix, or truncate and write from the start
  const handle = await fs.open(partPath, start > 0 ? 'a' : 'w');
  let received = start;
  ctx.emit({ phase: 'start', received, total, resumedFrom: start });
  try {
    if (!response.body) throw downloadError(`GET ${url} returned no body`, url, { transient: true });
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        received += chunk.length;
        if (file.bytes !== null && file.sha256 !== null && received > file.bytes) {
          await response.body.cancel().catch(() => undefined);
          await handle.close().catch(() => undefined);
          await fs.rm(partPath, { force: true });
          throw new TrendflowError(
            'model_digest_mismatch',
            `${url} sent more than the ${file.bytes} bytes the registry expects for ${ctx.id}/${file.name}; the partial file was deleted`,
            { path: url },
          );
        }
        hash.update(chunk);
        await writeAll(handle, chunk);
        ctx.emit({ phase: 'download', received, total, resumedFrom: start });
      }
    } catch (error) {
      if (error instanceof TrendflowError) throw error;
      throw downloadError(
        `download of ${url} stopped after ${received}${total !== null ? ` of ${total}` : ''} bytes: ${causeText(error)}; the partial file is kept and will be resumed`,
        url,
        { transient: true, cause: error },
      );
    }
    if (total !== null && received < total) {
      throw downloadError(`download of ${url} ended after ${received} of ${total} bytes; the partial file is kept and will be resumed`, url, {
        transient: true,
      });
    }
    await handle.sync();
  } finally {
    await handle.close().catch(() => undefined);
  }
  return { sha256: hash.digest('hex'), bytes: received, resumed };
}

/** A lock beside the .part so that two fetches of the same file do not write into one another. */
async function withDownloadLock<T>(partPath: string, url: string, run: () => Promise<T>): Promise<T> {
  const lockPath = `${partPath}.lock`;
  const mine = `${process.pid}\n${os.hostname()}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.writeFile(lockPath, mine, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const [pid, host] = (await fs.readFile(lockPath, 'utf8').catch(() => '')).split('\n');
      if (host === os.hostname() && pid && isProcessAlive(Number(pid))) {
        throw downloadError(`another trendflow process (pid ${pid}) is downloading ${path.basename(partPath, PART_SUFFIX)} right now`, url, {
          transient: false,
        });
      }
      await fs.rm(lockPath, { force: true });
    }
  }
  try {
    return await run();
  } finally {
    await fs.rm(lockPath, { force: true }).catch(() => undefined);
  }
}

async function fetchFile(
  modelsDir: string,
  entry: ModelEntry,
  file: ModelFile,
  opts: FetchModelOptions,
): Promise<FetchedFile> {
  const finalPath = modelFilePath(modelsDir, entry.id, file.name);
  const base = { id: entry.id, file: file.name, url: file.url };
  const onProgress = opts.onProgress;

  // already there?
  const present = await checkModelFile(modelsDir, entry, file);
  if (present.status === 'ok') {
    onProgress?.({ ...base, phase: 'done', received: present.bytes!, total: present.bytes!, resumedFrom: 0, attempt: 0 });
    return { name: file.name, path: finalPath, sha256: present.sha256!, bytes: present.bytes!, status: 'present', resumed: false, pinned_by: file.pinned_by ?? 'lock' };
  }
  if (present.status === 'unpinned') {
    // allowUnpinned was checked by the caller: trust the file that is there and record it
    await recordLock(modelsDir, entry.id, file.name, {
      model_version: entry.model_version,
      url: file.url,
      sha256: present.sha256!,
      bytes: present.bytes!,
      recorded_at: new Date().toISOString(),
    });
    onProgress?.({ ...base, phase: 'done', received: present.bytes!, total: present.bytes!, resumedFrom: 0, attempt: 0 });
    return { name: file.name, path: finalPath, sha256: present.sha256!, bytes: present.bytes!, status: 'recorded', resumed: false, pinned_by: 'lock' };
  }
  if (file.url === null) {
    throw new TrendflowError(
      present.status === 'missing' ? 'model_not_found' : 'model_digest_mismatch',
      `model ${entry.id} file ${file.name} was added locally and has no download URL: add it again with \`${modelsCommand(['add', 'FILE', '--id', entry.id], modelsDir)}\``,
      { path: finalPath },
    );
  }

  const url = file.url;
  const partPath = `${finalPath}${PART_SUFFIX}`;
  await fs.mkdir(path.dirname(finalPath), { recursive: true });
  const retries = opts.retries ?? 3;
  const delay = opts.retryDelayMs ?? 500;
  return withDownloadLock(partPath, url, async () => {
    let attempt = 0;
    let resumedAny = false;
    let result: { sha256: string; bytes: number; resumed: boolean };
    for (;;) {
      const ctx: DownloadContext = {
        id: entry.id,
        file,
        url,
        partPath,
        fetchImpl: opts.fetchImpl ?? fetch,
        signal: opts.signal,
        emit: (progress) => onProgress?.({ ...base, ...progress, attempt }),
      };
      try {
        result = await downloadOnce(ctx);
        break;
      } catch (error) {
        if (opts.signal?.aborted) {
          throw downloadError(`download of ${url} was cancelled; the partial file is kept and the next fetch resumes it`, url, {
            transient: false,
            cause: error,
          });
        }
        if (!transient.has(error as object) || attempt >= retries) throw error;
        attempt++;
        resumedAny = true;
        onProgress?.({ ...base, phase: 'retry', received: await fileSize(partPath), total: file.bytes, resumedFrom: 0, attempt, message: (error as Error).message });
        await sleep(delay * 2 ** (attempt - 1), opts.signal);
      }
    }

    if (file.sha256 !== null && (result.sha256 !== file.sha256 || (file.bytes !== null && result.bytes !== file.bytes))) {
      await fs.rm(partPath, { force: true });
      const source = file.pinned_by === 'lock' ? 'the lock file records' : 'the registry expects';
      const hint = file.pinned_by === 'lock' ? ` (if the new file is the one you want, delete its record in ${lockFilePath(modelsDir)} and fetch again)` : '';
      throw new TrendflowError(
        'model_digest_mismatch',
        `${url} gave ${result.bytes} bytes with sha256 ${result.sha256}, ${source} ${file.bytes ?? '?'} bytes with sha256 ${file.sha256}; the download was deleted${hint}`,
        { path: url },
      );
    }
    await removeStamp(finalPath);
    await fs.rename(partPath, finalPath);
    await syncDirectory(path.dirname(finalPath));
    await writeStamp(finalPath, result.sha256);
    let pinnedBy: 'registry' | 'lock' = file.pinned_by ?? 'lock';
    if (file.sha256 === null) {
      await recordLock(modelsDir, entry.id, file.name, {
        model_version: entry.model_version,
        url,
        sha256: result.sha256,
        bytes: result.bytes,
        recorded_at: new Date().toISOString(),
      });
      pinnedBy = 'lock';
    }
    onProgress?.({ ...base, phase: 'done', received: result.bytes, total: result.bytes, resumedFrom: 0, attempt });
    return {
      name: file.name,
      path: finalPath,
      sha256: result.sha256,
      bytes: result.bytes,
      status: 'downloaded',
      resumed: result.resumed || resumedAny,
      pinned_by: pinnedBy,
    } satisfies FetchedFile;
  });
}

/**
 * Downloads every file of model `id` into `<modelsDir>/<id>/` (files already there and verified are kept). Throws
 * `model_unknown`, `model_unpinned` (before downloading anything, when a file has no digest and `allowUnpinned`
 * is not set), `model_download_failed` (URL and HTTP status) or `model_digest_mismatch`.
 */
export async function fetchModel(registry: ModelRegistry, modelsDir: string, id: string, opts: FetchModelOptions = {}): Promise<FetchResult> {
  const entry = registry.get(id);
  const unpinned = entry.files.filter((file) => file.sha256 === null);
  if (unpinned.length > 0 && !opts.allowUnpinned) {
    throw new TrendflowError(
      'model_unpinned',
      `model ${id} has no pinned sha256 for ${unpinned.map((file) => file.name).join(', ')}: run \`${modelsCommand(['fetch', id, '--allow-unpinned'], modelsDir)}\` to download it anyway and record the digest it has`,
    );
  }
  const files: FetchedFile[] = [];
  for (const file of entry.files) files.push(await fetchFile(modelsDir, entry, file, opts));
  return { id, files };
}

