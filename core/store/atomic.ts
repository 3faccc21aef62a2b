import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
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
 * Replaces `target` with `data` so that a reader, or the file after a crash at any moment, sees either the old
 * content or the new content, never a mix: write a unique temp file, fsync it, rename it over the target, then
 * fsync the folder so the rename itself survives a power loss. The temp file is removed when any step fails.
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(target);
  const temp = path.join(dir, `${tempPrefix(target)}${process.pid}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(temp, 'wx');
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(temp, target);
    await syncDirectory(dir);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw new TrendflowError('store_io_failed', `cannot write file atomically: ${(error as Error).message}`, {
      path: target,
      cause: error,
    });
  }
}

async function syncDirectory(dir: string): Promise<void> {
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
