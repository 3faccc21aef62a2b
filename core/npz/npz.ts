/** `.npz`: a zip of `<key>.npy` members, as written by np.savez / np.savez_compressed and read by np.load. */
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { TrendflowError } from '../contracts/errors.js';
import { writeFileAtomic } from '../store/atomic.js';
import { readNpy, writeNpy } from './npy.js';
import { type AnyNdArray, DEFAULT_READ_LIMITS, type NpzContents, type ReadLimits } from './types.js';
import { npzError } from './where.js';
import { listMembers, openZip, readMember, type ZipSource, zipStream } from './zip.js';

export interface DecodeNpzOptions {
  /** The file, for error messages. */
  path?: string;
  /** Overrides of DEFAULT_READ_LIMITS. */
  limits?: Partial<ReadLimits>;
  /** Read integral Python floats inside object arrays as PyFloat (see ReadNpyOptions). */
  preserveFloats?: boolean;
  /** Read only these keys (like np.load's lazy access): the other members are not inflated. */
  keys?: readonly string[];
}

export interface EncodeNpzOptions {
  /** Deflate members (np.savez_compressed) or store them (np.savez). */
  compress: boolean;
}

/**
 * Reads every `.npy` member, in archive order. Members that are not `.npy` are skipped (np.load would hand them
 * out as raw bytes, not arrays) but still count towards the limits.
 */
export function decodeNpz(bytes: Uint8Array, options: DecodeNpzOptions = {}): Promise<NpzContents> {
  return decodeZip(bytes, options);
}

async function decodeZip(source: ZipSource, options: DecodeNpzOptions): Promise<NpzContents> {
  const where = { path: options.path };
  const limits = { ...DEFAULT_READ_LIMITS, ...options.limits };
  const zip = await openZip(source, where);
  try {
    const contents: NpzContents = new Map();
    for (const member of await listMembers(zip, limits, where)) {
      if (!member.name.endsWith('.npy')) continue;
      const { key } = member;
      if (options.keys && !options.keys.includes(key)) continue;
      const data = await readMember(zip, member, { ...where, key });
      // a repeated name is read by np.load as its last copy, and so here
      contents.set(key, readNpy(data, { path: options.path, key, preserveFloats: options.preserveFloats ?? false }));
    }
    return contents;
  } finally {
    zip.close();
  }
}

/** Builds an `.npz` in memory; keys become `<key>.npy` members in the given order. */
export async function encodeNpz(entries: Record<string, AnyNdArray> | NpzContents, options: EncodeNpzOptions): Promise<Uint8Array> {
  // joined here rather than with stream/consumers' buffer(), which goes through a Blob and copies twice
  const chunks: Buffer[] = [];
  for await (const chunk of npzStream(entries, options)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function npzStream(entries: Record<string, AnyNdArray> | NpzContents, options: EncodeNpzOptions): Readable {
  const list = entries instanceof Map ? [...entries] : Object.entries(entries);
  const members = list.map(([key, array]): [string, Uint8Array] => {
    if (key === '' || key.includes('\0')) throw npzError('npz_write_unsupported_value', `invalid key ${JSON.stringify(key)}`, { key });
    // yazl would silently turn a backslash into "/", which changes the key np.load sees
    if (key.includes('\\')) throw npzError('npz_write_unsupported_value', `invalid key ${JSON.stringify(key)} (backslash)`, { key });
    return [`${key}.npy`, writeNpy(array, { key })];
  });
  return zipStream(members, options.compress);
}

/**
 * Reads an `.npz` file; npz_not_found when it does not exist. The file is not read whole: yauzl reads the
 * central directory and then each member's data from the file.
 */
export async function readNpzFile(file: string, options: Omit<DecodeNpzOptions, 'path'> = {}): Promise<NpzContents> {
  const limits = { ...DEFAULT_READ_LIMITS, ...options.limits };
  try {
    // refuse before reading: a compressed archive is never much larger than its contents
    const { size } = await stat(file);
    if (size > limits.maxTotalBytes * 1.01 + 1024 * 1024) {
      throw npzError('npz_too_large', `file is ${size} bytes, more than the ${limits.maxTotalBytes}-byte limit`, { path: file });
    }
    return await decodeZip(file, { ...options, path: file });
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
 * Writes an `.npz` atomically with the store's writeFileAtomic (temp file in the same folder, fsync, rename):
 * readers see the old file or the complete new one, never a partial archive. The archive streams from the zip
 * writer to the temp file; it is never joined in memory.
 */
export async function writeNpzFile(
  file: string,
  entries: Record<string, AnyNdArray> | NpzContents,
  options: EncodeNpzOptions,
): Promise<void> {
  const archive = npzStream(entries, options);
  try {
    await writeFileAtomic(file, archive);
  } catch (error) {
    const cause = error instanceof TrendflowError && error.details.cause !== undefined ? error.details.cause : error;
    throw npzError('store_io_failed', `cannot write the file: ${(cause as Error).message}`, { path: file }, cause);
  }
}
