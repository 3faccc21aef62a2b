/**
 * `<modelsDir>/models.lock.json`: the digests that `models fetch --allow-unpinned` saw for files the registry does
 * not pin. Once recorded, a file is pinned by the lock: later locate/verify calls check it like a registry digest.
 */
import { promises as fs } from 'node:fs';
import { TrendflowError } from '../../contracts/errors.js';
import { writeFileAtomic } from '../../store/atomic.js';
import { lockFilePath } from './paths.js';
import { validateLockJson } from './schema.js';
import type { LockFile, LockRecord } from './types.js';

const LOCK_COMMENT =
  'Written by `trendflow models fetch --allow-unpinned`: the sha256 seen for files that models/registry.json does not pin. Delete an entry to fetch that file again.';

/** The lock file of `modelsDir`, or null when there is none. A broken file throws `model_registry_invalid`. */
export async function readLockFile(modelsDir: string): Promise<LockFile | null> {
  const file = lockFilePath(modelsDir);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new TrendflowError('model_registry_invalid', `cannot read the models lock file: ${(error as Error).message}`, { path: file, cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TrendflowError('model_registry_invalid', `the models lock file is not valid JSON: ${(error as Error).message}`, {
      path: file,
      cause: error,
    });
  }
  const problems = validateLockJson(json);
  if (problems.length > 0) {
    throw new TrendflowError('model_registry_invalid', `invalid models lock file: ${problems.join('; ')}`, { path: file });
  }
  return json as LockFile;
}

/**
 * Records one file's digest. The file is re-read just before the atomic write so that records other fetches made
 * meanwhile are kept (two fetches finishing in the same instant can still race; the loser's file is then simply
 * unpinned again and a later fetch records it).
 */
export async function recordLock(modelsDir: string, id: string, fileName: string, record: LockRecord): Promise<string> {
  const current = (await readLockFile(modelsDir)) ?? { lock_version: 1 as const, models: {} };
  const models = { ...current.models, [id]: { ...(current.models[id] ?? {}), [fileName]: record } };
  const sorted = Object.fromEntries(Object.keys(models).sort().map((key) => [key, models[key]!]));
  const next: LockFile = { $comment: LOCK_COMMENT, lock_version: 1, models: sorted };
  const file = lockFilePath(modelsDir);
  await fs.mkdir(modelsDir, { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(next, null, 2)}\n`);
  return file;
}
