import { randomBytes } from 'node:crypto';
import { promises as fs, type Dirent } from 'node:fs';
import path from 'node:path';
import { TrendflowError } from '../contracts/errors.js';
import { syncDirectory, writeFileAtomic } from '../store/atomic.js';
import { validateId } from '../store/identity.js';
import { RUN_LOCK_FILE } from '../store/lock.js';
import type { RunStorage } from './storage.js';

/** Staged copies are hidden folders (a leading dot is not a valid id), so listRuns and list never see one. */
const STAGING_SUFFIX = '.staging';

/**
 * RunStorage on a folder: a local disk or an NFS mount shared by the workers. Single files go through the
 * store's writeFileAtomic (temp file, fsync, rename, fsync the folder); a run is copied into a hidden staging
 * folder beside its final place (same filesystem), every file and folder fsynced, then renamed into place in one
 * step. rename(2) of a folder is atomic on a local filesystem and on NFS (one RENAME call to the server).
 */
export class LocalFsStorage implements RunStorage {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  get location(): string {
    return this.root;
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await fs.stat(this.resolve(key))).isFile();
    } catch {
      return false;
    }
  }

  async get(key: string): Promise<Uint8Array> {
    const file = this.resolve(key);
    try {
      return await fs.readFile(file);
    } catch (error) {
      throw new TrendflowError('file_read_failed', `cannot read: ${(error as Error).message}`, { path: file, cause: error });
    }
  }

  async put(key: string, data: Uint8Array | string): Promise<void> {
    const file = this.resolve(key);
    await this.mkdir(path.dirname(file));
    await writeFileAtomic(file, data);
  }

  async list(prefix: string): Promise<string[]> {
    const base = prefix === '' ? this.root : this.resolve(prefix.replace(/\/$/, ''));
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw new TrendflowError('store_io_failed', `cannot list folder: ${(error as Error).message}`, { path: dir, cause: error });
      }
      for (const entry of entries) {
        if (entry.name.startsWith('.')) continue; // temp files and staged runs are not there yet
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (entry.isFile()) keys.push(path.relative(this.root, full).split(path.sep).join('/'));
      }
    };
    await walk(base);
    return keys.sort();
  }

  async commitRun(localRunDir: string, runPrefix: string): Promise<void> {
    const target = this.resolve(runPrefix);
    const parent = path.dirname(target);
    await this.mkdir(parent);
    if (await pathExists(target)) throw new TrendflowError('run_exists', 'the shared store already has this run', { path: target });
    const staging = path.join(parent, `.${path.basename(target)}.${randomBytes(6).toString('hex')}${STAGING_SUFFIX}`);
    try {
      await copyTreeSynced(path.resolve(localRunDir), staging);
      await fs.rename(staging, target);
      await syncDirectory(parent);
    } catch (error) {
      await fs.rm(staging, { recursive: true, force: true }).catch(() => undefined);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new TrendflowError('run_exists', 'the shared store already has this run', { path: target, cause: error });
      if (error instanceof TrendflowError) throw error;
      throw new TrendflowError('store_io_failed', `cannot publish the run: ${(error as Error).message}`, { path: target, cause: error });
    }
  }

  /** The absolute path of a key; every segment must be a safe id (no `..`, no separators, no absolute keys). */
  private resolve(key: string): string {
    const segments = key.split('/');
    for (const segment of segments) validateId(segment, 'storage key segment');
    return path.join(this.root, ...segments);
  }

  private async mkdir(dir: string): Promise<void> {
    try {
      await fs.mkdir(dir, { recursive: true });
    } catch (error) {
      throw new TrendflowError('store_io_failed', `cannot create folder: ${(error as Error).message}`, { path: dir, cause: error });
    }
  }
}

async function pathExists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Copies a folder tree, fsyncing every file and then every folder, so the staged copy is durable before the
 * rename that publishes it. Hidden entries (a crashed writer's temp files, the manifest lock) are not copied.
 * Written here because fs.cp does not fsync.
 */
async function copyTreeSynced(from: string, to: string): Promise<void> {
  await fs.mkdir(to);
  for (const entry of await fs.readdir(from, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === RUN_LOCK_FILE) continue;
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) {
      await copyTreeSynced(source, target);
    } else if (entry.isFile()) {
      await fs.copyFile(source, target);
      const handle = await fs.open(target, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  }
  await syncDirectory(to);
}
