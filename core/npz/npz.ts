/** `.npz`: a zip of `<key>.npy` members, as written by np.savez / np.savez_compressed and read by np.load. */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { TrendflowError } from '../contracts/errors.js';
import { readNpy, writeNpy } from './npy.js';
import { type AnyNdArray, DEFAULT_READ_LIMITS, type NpzContents, type ReadLimits } from './types.js';
import { npzError } from './where.js';
import { concatChunks, listMembers, memberKey, readMember, zipChunks } from './zip.js';

export interface DecodeNpzOptions {
  /** The file, for error messages. */
  path?: string;
  /** Overrides of DEFAULT_READ_LIMITS. */
  limits?: Partial<ReadLimits>;
  /** Read integral Python floats inside object arrays as PyFloat (see ReadNpyOptions). */
  preserveFloats?: boolean;
}

export interface EncodeNpzOptions {
  /** Deflate members (np.savez_compressed) or store them (np.savez). */
  compress: boolean;
}

/**
 * Reads every `.npy` member, in archive order. Members that are not `.npy` are skipped (np.load would hand them
 * out as raw bytes, not arrays) but still count towards the limits.
 */
export function decodeNpz(bytes: Uint8Array, options: DecodeNpzOptions = {}): NpzContents {
  const where = { path: options.path };
  const limits = { ...DEFAULT_READ_LIMITS, ...options.limits };
  const contents: NpzContents = new Map();
  for (const member of listMembers(bytes, limits, where)) {
    if (!member.name.endsWith('.npy')) continue;
    const key = memberKey(member.name);
    const data = readMember(bytes, member, { ...where, key });
    // a repeated name is read by np.load as its last copy, and so here
    contents.set(key, readNpy(data, { path: options.path, key, preserveFloats: options.preserveFloats ?? false }));
  }
  return contents;
}

/** Builds an `.npz`; keys become `<key>.npy` members in the given order. */
export function encodeNpz(entries: Record<string, AnyNdArray> | NpzContents, options: EncodeNpzOptions): Uint8Array {
  return concatChunks(npzChunks(entries, options));
}

function npzChunks(entries: Record<string, AnyNdArray> | NpzContents, options: EncodeNpzOptions): Uint8Array[] {
  const list = entries instanceof Map ? [...entries] : Object.entries(entries);
  const members = list.map(([key, array]): [string, Uint8Array] => {
    if (key === '' || key.includes('\0')) throw npzError('npz_write_unsupported_value', `invalid key ${JSON.stringify(key)}`, { key });
    return [`${key}.npy`, writeNpy(array, { key })];
  });
  return zipChunks(members, options.compress);
}

/** Reads an `.npz` file; npz_not_found when it does not exist. */
export async function readNpzFile(file: string, options: Omit<DecodeNpzOptions, 'path'> = {}): Promise<NpzContents> {
  const limits = { ...DEFAULT_READ_LIMITS, ...options.limits };
  try {
    // refuse before reading: a compressed archive is never much larger than its contents
    const { size } = await stat(file);
    if (size > limits.maxTotalBytes * 1.01 + 1024 * 1024) {
      throw npzError('npz_too_large', `file is ${size} bytes, more than the ${limits.maxTotalBytes}-byte limit`, { path: file });
    }
    return decodeNpz(await readFile(file), { ...options, path: file });
  } catch (error) {
    throw fileError(error, file);
  }
}

/** Turns fs errors into coded errors; TrendflowErrors pass through. */
export function fileError(error: unknown, file: string): unknown {
  if (error instanceof TrendflowError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
    return npzError('npz_not_found', code === 'EISDIR' ? 'is a directory, not a file' : 'no such file', { path: file }, error);
  }
  return npzError('store_io_failed', `cannot access the file: ${(error as Error).message}`, { path: file }, error);
}

/**
 * Writes an `.npz` atomically: a temp file in the same folder, fsync, rename. Readers see the old file or the
 * complete new one, never a partial archive.
 */
export async function writeNpzFile(
  file: string,
  entries: Record<string, AnyNdArray> | NpzContents,
  options: EncodeNpzOptions,
): Promise<void> {
  const chunks = npzChunks(entries, options);
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx');
    try {
      // writeFile on a handle appends at its position and, unlike write, never stops short
      for (const chunk of chunks) await handle.writeFile(chunk);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw npzError('store_io_failed', `cannot write the file: ${(error as Error).message}`, { path: file }, error);
  }
}
