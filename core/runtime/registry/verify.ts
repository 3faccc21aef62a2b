/**
 * Finding model files in the models dir and checking them against their digests. Hashing a 350 MB model on every
 * run is too slow, so a verification stamp beside each file (`.<file>.verified.json`: size, mtime in ns, inode,
 * device, sha256) lets a file be hashed once until it changes. A stamp that cannot be written (a read-only shared
 * models volume) only costs a re-hash next time.
 */
import { promises as fs, type BigIntStats } from 'node:fs';
import { TrendflowError } from '../../contracts/errors.js';
import { writeFileAtomic } from '../../store/atomic.js';
import { hashFile } from '../../store/hash.js';
import { lockFilePath, modelFilePath, modelsCommand, stampPath } from './paths.js';
import { modelFile, type ModelRegistry } from './registry.js';
import type { LocatedModelFile, ModelEntry, ModelFile } from './types.js';

interface Stamp {
  sha256: string;
  size: string;
  mtime_ns: string;
  ino: string;
  dev: string;
  verified_at: string;
}

function statKey(stat: BigIntStats): Omit<Stamp, 'sha256' | 'verified_at'> {
  return { size: String(stat.size), mtime_ns: String(stat.mtimeNs), ino: String(stat.ino), dev: String(stat.dev) };
}

function sameFile(a: Omit<Stamp, 'sha256' | 'verified_at'>, b: Omit<Stamp, 'sha256' | 'verified_at'>): boolean {
  return a.size === b.size && a.mtime_ns === b.mtime_ns && a.ino === b.ino && a.dev === b.dev;
}

async function readStamp(filePath: string): Promise<Stamp | null> {
  try {
    const json = JSON.parse(await fs.readFile(stampPath(filePath), 'utf8')) as Partial<Stamp>;
    if (typeof json.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(json.sha256)) return null;
    if ([json.size, json.mtime_ns, json.ino, json.dev].some((value) => typeof value !== 'string')) return null;
    return json as Stamp;
  } catch {
    return null;
  }
}

/** Writes the stamp for a file whose digest is known; failures (read-only folder) are ignored. */
export async function writeStamp(filePath: string, sha256: string, stat?: BigIntStats): Promise<void> {
  try {
    const current = stat ?? (await fs.stat(filePath, { bigint: true }));
    const stamp: Stamp = { sha256, ...statKey(current), verified_at: new Date().toISOString() };
    await writeFileAtomic(stampPath(filePath), `${JSON.stringify(stamp)}\n`);
  } catch {
    // a stamp is only a cache
  }
}

export async function removeStamp(filePath: string): Promise<void> {
  await fs.rm(stampPath(filePath), { force: true }).catch(() => undefined);
}

export type FileStatus = 'ok' | 'missing' | 'mismatch' | 'unpinned';

export interface FileCheck {
  status: FileStatus;
  path: string;
  /** The file's sha256 (null when missing, or when a size mismatch made hashing pointless). */
  sha256: string | null;
  bytes: number | null;
  /** True when the digest came from the stamp instead of hashing. */
  fromStamp: boolean;
}

/**
 * The sha256 and size of a file, from its stamp when size, mtime, inode and device still match, else by hashing
 * (and then stamping). `rehash` ignores the stamp.
 */
export async function digestWithStamp(filePath: string, opts: { rehash?: boolean } = {}): Promise<{ sha256: string; bytes: number; fromStamp: boolean } | null> {
  let before: BigIntStats;
  try {
    before = await fs.stat(filePath, { bigint: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new TrendflowError('file_read_failed', `cannot read model file: ${(error as Error).message}`, { path: filePath, cause: error });
  }
  if (!before.isFile()) {
    throw new TrendflowError('file_read_failed', 'model path is not a regular file', { path: filePath });
  }
  if (!opts.rehash) {
    const stamp = await readStamp(filePath);
    if (stamp && sameFile(stamp, statKey(before))) return { sha256: stamp.sha256, bytes: Number(before.size), fromStamp: true };
  }
  const digest = await hashFile(filePath);
  // stamp only what was really hashed: a file that changed while being read gets no stamp
  const after = await fs.stat(filePath, { bigint: true }).catch(() => null);
  if (after && sameFile(statKey(before), statKey(after)) && Number(after.size) === digest.bytes) {
    await writeStamp(filePath, digest.sha256, after);
  }
  return { ...digest, fromStamp: false };
}

/** Checks one file against its registry (or lock) digest. Never throws for missing or wrong files. */
export async function checkModelFile(modelsDir: string, entry: ModelEntry, file: ModelFile, opts: { rehash?: boolean } = {}): Promise<FileCheck> {
  const filePath = modelFilePath(modelsDir, entry.id, file.name);
  let size: number;
  try {
    const stat = await fs.stat(filePath);
    if (!stat.isFile()) return { status: 'mismatch', path: filePath, sha256: null, bytes: null, fromStamp: false };
    size = stat.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing', path: filePath, sha256: null, bytes: null, fromStamp: false };
    throw new TrendflowError('file_read_failed', `cannot read model file: ${(error as Error).message}`, { path: filePath, cause: error });
  }
  // a wrong size is a mismatch without reading a byte
  if (file.bytes !== null && file.sha256 !== null && size !== file.bytes) {
    return { status: 'mismatch', path: filePath, sha256: null, bytes: size, fromStamp: false };
  }
  const digest = await digestWithStamp(filePath, opts);
  if (!digest) return { status: 'missing', path: filePath, sha256: null, bytes: null, fromStamp: false };
  const status: FileStatus = file.sha256 === null ? 'unpinned' : digest.sha256 === file.sha256 ? 'ok' : 'mismatch';
  return { status, path: filePath, sha256: digest.sha256, bytes: digest.bytes, fromStamp: digest.fromStamp };
}

/** The one-line explanation of a check that is not ok, with the command that fixes it. */
export function describeCheck(modelsDir: string, entry: ModelEntry, file: ModelFile, check: FileCheck): string {
  const where = `model ${entry.id} file ${file.name}`;
  switch (check.status) {
    case 'ok':
      return `${where} is verified (sha256 ${check.sha256})`;
    case 'missing':
      return file.url === null
        ? `${where} is not in ${modelsDir}: it was added locally; add it again with \`${modelsCommand(['add', 'FILE', '--id', entry.id], modelsDir)}\``
        : `${where} is not in ${modelsDir}: run \`${modelsCommand(['fetch', entry.id], modelsDir)}\``;
    case 'mismatch': {
      const what =
        check.sha256 === null
          ? `is ${check.bytes ?? '?'} bytes, the registry expects ${file.bytes} bytes`
          : `has sha256 ${check.sha256}, the ${file.pinned_by === 'lock' ? 'lock file records' : 'registry expects'} ${file.sha256}`;
      const fix =
        file.url === null
          ? `add it again with \`${modelsCommand(['add', 'FILE', '--id', entry.id], modelsDir)}\``
          : `run \`${modelsCommand(['fetch', entry.id, ...(file.pinned_by === 'lock' ? ['--allow-unpinned'] : [])], modelsDir)}\` to download it again`;
      return `${check.path} ${what}: ${fix}`;
    }
    case 'unpinned':
      return `${where} has no pinned sha256 and no digest recorded in ${lockFilePath(modelsDir)}: run \`${modelsCommand(['fetch', entry.id, '--allow-unpinned'], modelsDir)}\` to record this file's digest`;
  }
}

/**
 * The path of a model file in `<modelsDir>/<id>/<file>` (the model's main file when `fileName` is omitted),
 * checked against the registry's sha256 (or the lock file's, for an unpinned file fetched with
 * `--allow-unpinned`). Missing → `model_not_found` naming the exact `npx trendflow models fetch` command; wrong
 * digest → `model_digest_mismatch`; no digest to check against → `model_unpinned`; unknown id → `model_unknown`.
 */
export async function locateModelFile(registry: ModelRegistry, modelsDir: string, id: string, fileName?: string): Promise<LocatedModelFile> {
  const entry = registry.get(id);
  const file = modelFile(entry, fileName);
  const check = await checkModelFile(modelsDir, entry, file);
  if (check.status === 'ok') return { path: check.path, sha256: check.sha256!, bytes: check.bytes! };
  const message = describeCheck(modelsDir, entry, file, check);
  const code = check.status === 'missing' ? 'model_not_found' : check.status === 'mismatch' ? 'model_digest_mismatch' : 'model_unpinned';
  throw new TrendflowError(code, message, { path: check.path });
}

export interface FileVerification {
  file: string;
  path: string;
  status: FileStatus;
  sha256: string | null;
  expected: string | null;
  bytes: number | null;
  pinned_by: ModelFile['pinned_by'];
  /** Why it is not ok, with the command that fixes it; null when ok. */
  message: string | null;
}

export interface ModelVerification {
  id: string;
  /** At least one of its files is in the models dir. */
  installed: boolean;
  /** Every file is present and matches its digest. */
  ok: boolean;
  files: FileVerification[];
}

/**
 * Checks the files of the given models (all models when `ids` is empty or omitted) against their digests. Does
 * not throw for missing or wrong files: each file gets a status. Unknown ids throw `model_unknown`.
 */
export async function verifyModels(
  registry: ModelRegistry,
  modelsDir: string,
  ids?: readonly string[],
  opts: { rehash?: boolean; onFile?: (id: string, file: string) => void } = {},
): Promise<ModelVerification[]> {
  const entries = ids && ids.length > 0 ? ids.map((id) => registry.get(id)) : registry.list();
  const results: ModelVerification[] = [];
  for (const entry of entries) {
    const files: FileVerification[] = [];
    for (const file of entry.files) {
      opts.onFile?.(entry.id, file.name);
      const check = await checkModelFile(modelsDir, entry, file, opts);
      files.push({
        file: file.name,
        path: check.path,
        status: check.status,
        sha256: check.sha256,
        expected: file.sha256,
        bytes: check.bytes,
        pinned_by: file.pinned_by,
        message: check.status === 'ok' ? null : describeCheck(modelsDir, entry, file, check),
      });
    }
    results.push({
      id: entry.id,
      installed: files.some((file) => file.status !== 'missing'),
      ok: files.every((file) => file.status === 'ok'),
      files,
    });
  }
  return results;
}
