import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { TrendflowError } from '../contracts/errors.js';

/*
 * Temp files are `.<target name>.<pid>.<random>.tmp` beside the target: hidden, never ending in the target's
 * extension (a crash may leave one behind and nothing that looks for `manifest.json` or `*.npz` must pick it up),
 * and in the same folder so the final rename stays on one filesystem and is atomic.
 */
const TEMP_SUFFIX = '.tmp';

function tempPrefix(target: string): string {
  return `.${path.basename(target)}.`;
}

/**
 * What `writeFileAtomic` writes: a string (UTF-8), bytes, or chunks — an iterable, an async iterable or a
 * Readable — which are written one after the other as they come, so a large file is never joined in memory.
 */
export type AtomicData = string | Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array> | Readable;

/**
 * Replaces `target` with `data` so that a reader, or the file after a crash at any moment, sees either the old
 * content or the new content, never a mix: write a unique temp file, fsync it, rename it over the target, then
 * fsync the folder so the rename itself survives a power loss. The temp file is removed when any step fails,
 * including a chunk source that throws or a stream that errors (the target then keeps its old content).
 */
export async function writeFileAtomic(target: string, data: AtomicData): Promise<void> {
  const dir = path.dirname(target);
  const temp = path.join(dir, `${tempPrefix(target)}${process.pid}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
  let handle: FileHandle | undefined;
  // a stream that fails before we start reading it must not crash the process with an unhandled 'error'
  // event; reading it later still throws that error
  if (data instanceof Readable) data.on('error', () => undefined);
  try {
    handle = await fs.open(temp, 'wx');
    // on a handle, fs.writeFile writes from the current position and loops until every byte of every chunk is
    // written (a plain write may stop short); iterables and streams are consumed chunk by chunk
    await fs.writeFile(handle, data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(temp, target);
    await syncDirectory(dir);
  } catch (error) {
    if (data instanceof Readable) data.destroy();
    await handle?.close().catch(() => undefined);
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw new TrendflowError('store_io_failed', `cannot write file atomically: ${(error as Error).message}`, {
      path: target,
      cause: error,
    });
  }
}

/** fsync a folder so that a rename inside it survives a crash (a no-op where folders cannot be fsynced). */
export async function syncDirectory(dir: string): Promise<void> {
  // Windows cannot open a folder as a file to fsync it; NTFS journals the rename's metadata itself.
  if (process.platform === 'win32') return;
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } catch (error) {
    // Some filesystems (certain network and FUSE mounts) do not implement fsync on a folder; the rename is done.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOTSUP') throw error;
  } finally {
    await handle.close();
  }
}

/**
 * Deletes temp files that interrupted `writeFileAtomic` calls left beside `target`, returning their paths.
 * Only for a caller that owns `target` exclusively (e.g. the manifest writer holding the run lock): a temp file
 * of a live writer of the same target would otherwise be deleted under it.
 */
export async function removeAtomicLeftovers(target: string): Promise<string[]> {
  const dir = path.dirname(target);
  const prefix = tempPrefix(target);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new TrendflowError('store_io_failed', `cannot list folder: ${(error as Error).message}`, { path: dir, cause: error });
  }
  const leftovers = names.filter((name) => name.startsWith(prefix) && name.endsWith(TEMP_SUFFIX)).map((name) => path.join(dir, name));
  await Promise.all(leftovers.map((file) => fs.rm(file, { force: true })));
  return leftovers;
}
