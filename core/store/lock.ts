import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TrendflowError } from '../contracts/errors.js';

/** The lock file that makes one process the only writer of a run's manifest (seed 001 §3). */
export const RUN_LOCK_FILE = 'manifest.lock';

/**
 * A lock file whose content cannot be parsed is one its creator is still writing (or crashed while writing):
 * it is treated as held for this long after its last modification, then as stale.
 */
const UNREADABLE_LOCK_GRACE_MS = 10_000;
const MAX_ATTEMPTS = 5;

export interface RunLock {
  readonly path: string;
  /** Throws `run_locked` when the lock file is no longer ours (removed by hand, or broken by another process). */
  verify(): Promise<void>;
  /** Removes the lock if it is still ours. Idempotent. */
  release(): Promise<void>;
}

/**
 * Takes `<runDirectory>/manifest.lock`, created with O_EXCL and holding `pid`, host name and a random nonce.
 * A lock left by a dead process on this host is stale and is taken over; a live holder (another process, or
 * another writer in this process) or a holder on another host (its pid cannot be checked from here) makes this
 * throw `run_locked`. A missing run folder throws `run_not_found`.
 */
export async function acquireRunLock(runDirectory: string): Promise<RunLock> {
  const lockPath = path.join(runDirectory, RUN_LOCK_FILE);
  const content = `${process.pid}\n${os.hostname()}\n${randomBytes(8).toString('hex')}\n`;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (await tryCreate(lockPath, content)) return ownedLock(lockPath, content);
    const held = await readLock(lockPath);
    if (held === null) continue; // released between our attempt and the read: try again
    const holder = assessHolder(held);
    if (!holder.stale) {
      throw new TrendflowError('run_locked', `run is being written by ${holder.who}; only one writer per run`, {
        path: lockPath,
      });
    }
    await breakStaleLock(lockPath, held.text);
  }
  throw new TrendflowError('run_locked', 'cannot take the run lock: it keeps changing hands', { path: lockPath });
}

async function tryCreate(lockPath: string, content: string): Promise<boolean> {
  let handle;
  try {
    handle = await fs.open(lockPath, 'wx');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'ENOENT') {
      throw new TrendflowError('run_not_found', 'run folder does not exist', { path: path.dirname(lockPath), cause: error });
    }
    throw new TrendflowError('store_io_failed', `cannot create lock: ${(error as Error).message}`, { path: lockPath, cause: error });
  }
  try {
    await handle.writeFile(content);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.rm(lockPath, { force: true });
    throw new TrendflowError('store_io_failed', `cannot write lock: ${(error as Error).message}`, { path: lockPath, cause: error });
  }
  await handle.close();
  return true;
}

interface HeldLock {
  text: string;
  mtimeMs: number;
}

async function readLock(lockPath: string): Promise<HeldLock | null> {
  try {
    const [text, stat] = await Promise.all([fs.readFile(lockPath, 'utf8'), fs.stat(lockPath)]);
    return { text, mtimeMs: stat.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new TrendflowError('store_io_failed', `cannot read lock: ${(error as Error).message}`, { path: lockPath, cause: error });
  }
}

function assessHolder(held: HeldLock): { stale: boolean; who: string } {
  const [pidText = '', host = '', nonce = ''] = held.text.split('\n');
  const pid = /^[1-9]\d*$/.test(pidText) ? Number(pidText) : NaN;
  if (Number.isNaN(pid) || host === '' || nonce === '') {
    return { stale: Date.now() - held.mtimeMs > UNREADABLE_LOCK_GRACE_MS, who: 'a process that is still creating the lock' };
  }
  if (host !== os.hostname()) return { stale: false, who: `pid ${pid} on host ${host}` };
  if (pid === process.pid) return { stale: false, who: `another writer in this process (pid ${pid})` };
  return { stale: !isProcessAlive(pid), who: `pid ${pid}` };
}

/**
 * Whether a process of this host with this pid exists (signal 0 tests without sending anything). Used wherever a
 * pid recorded in a lock or a folder name decides whether what it left is abandoned. Not an integer > 0: false.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Moves the stale lock aside (rename is atomic, so of several processes breaking it at once exactly one
 * succeeds) and checks that what was moved is the stale lock that was judged. If another process had already
 * replaced it with a live lock in between, that lock is linked back into place; a newer lock there wins.
 */
async function breakStaleLock(lockPath: string, staleText: string): Promise<void> {
  const aside = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fs.rename(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new TrendflowError('store_io_failed', `cannot remove stale lock: ${(error as Error).message}`, { path: lockPath, cause: error });
  }
  const moved = await fs.readFile(aside, 'utf8').catch(() => null);
  if (moved !== staleText) await fs.link(aside, lockPath).catch(() => undefined);
  await fs.rm(aside, { force: true });
}

function ownedLock(lockPath: string, content: string): RunLock {
  let released = false;
  const isOurs = async (): Promise<boolean> => (await fs.readFile(lockPath, 'utf8').catch(() => null)) === content;
  return {
    path: lockPath,
    async verify() {
      if (released || !(await isOurs())) {
        throw new TrendflowError('run_locked', 'this writer no longer holds the run lock', { path: lockPath });
      }
    },
    async release() {
      if (released) return;
      released = true;
      if (await isOurs()) await fs.rm(lockPath, { force: true });
    },
  };
}
