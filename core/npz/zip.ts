/**
 * The zip container of `.npz`, on yauzl (reading) and yazl (writing) by Josh Wolfe: both handle zip64 and use
 * node:zlib. yauzl reads the central directory (from a buffer, or from a file piece by piece), decodes member
 * names (UTF-8 when flagged, else CP437) and stops a member that inflates to more or fewer bytes than its
 * directory entry declares (`validateEntrySizes`). yazl writes stored and deflated members and switches to zip64
 * by itself when an archive needs it (members ≥ 4 GiB, offsets past 4 GiB, 65535+ members).
 *
 * What remains here is what neither library does:
 * - the limits (member count, declared sizes, declared ratio), checked on the directory before any inflation;
 * - CRC-32 (yauzl does not verify it; Python's zipfile does), with node:zlib's crc32;
 * - telling a cut-off archive from a file that is not a zip, and naming the member the cut falls in: yauzl only
 *   says that the end-of-central-directory record is missing, so `missingDirectory` walks the local headers;
 * - turning yauzl's plain `Error`s (it has no error codes, so they are told apart by message) into coded
 *   TrendflowErrors that name the file and the member.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { type FileHandle, open } from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import yazl from 'yazl';
import { TrendflowError } from '../contracts/errors.js';
import type { ReadLimits } from './types.js';
import { npzError, type Where } from './where.js';

/** An archive in memory, or the path of a file that yauzl reads piece by piece (never whole). */
export type ZipSource = Uint8Array | string;

export interface ZipMember {
  name: string;
  /** np.load's key: the name without `.npy`. */
  key: string;
  entry: Entry;
}

/** np.load's key for a member: the name without `.npy`. */
export function memberKey(name: string): string {
  return name.endsWith('.npy') ? name.slice(0, -4) : name;
}

const OPEN_OPTIONS: yauzl.Options = {
  lazyEntries: true,
  autoClose: false, // members are read after the whole directory has been checked; we close it ourselves
  // names are decoded below with yauzl's own decoder but without its path checks (no "..", no leading "/"):
  // they are dictionary keys here, never paths to extract to, and np.load accepts any name
  decodeStrings: false,
  validateEntrySizes: true,
};

/** Opens an archive; a missing end-of-central-directory record becomes npz_truncated or npz_bad_zip. */
export async function openZip(source: ZipSource, where: Where): Promise<ZipFile> {
  if (typeof source !== 'string') {
    const bytes = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
    try {
      return listenForErrors(await yauzl.fromBufferPromise(bytes, OPEN_OPTIONS));
    } catch (error) {
      throw await openError(error, (at, length) => Promise.resolve(bytes.subarray(at, at + length)), bytes.length, where);
    }
  }
  const handle = await open(source, 'r');
  try {
    const { size } = await handle.stat();
    try {
      // the reader owns the handle from here: zip.close() closes it
      return listenForErrors(await yauzl.fromRandomAccessReaderPromise(new FileReader(handle), size, OPEN_OPTIONS));
    } catch (error) {
      throw await openError(error, (at, length) => readAt(handle, at, length), size, where);
    }
  } catch (error) {
    await handle.close();
    throw error;
  }
}

// errors reach us through eachEntry() and the read streams; this keeps a late one (closing the file) harmless
function listenForErrors(zip: ZipFile): ZipFile {
  zip.on('error', () => undefined);
  return zip;
}

async function openError(error: unknown, read: ReadAt, size: number, where: Where): Promise<unknown> {
  if (/^End of central directory record signature not found/.test((error as Error).message)) return missingDirectory(read, size, where);
  return zipError(error, where);
}

type ReadAt = (at: number, length: number) => Promise<Uint8Array>;

const FILE_PIECE = 1024 * 1024;

async function readAt(handle: FileHandle, at: number, length: number): Promise<Uint8Array> {
  const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, at);
  return buffer.subarray(0, bytesRead);
}

/**
 * A file for yauzl, read piece by piece through one handle. yauzl's own file reader (yauzl.open) reads member
 * data in 16 KiB pieces, one at a time, which makes a 100 MB member take twice as long; this one streams 1 MiB
 * pieces and reads the small directory records with plain positioned reads.
 */
class FileReader extends yauzl.RandomAccessReader {
  constructor(private readonly handle: FileHandle) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    // not handle.createReadStream(): destroying that stream (yauzl does, once a member is read) closes the handle
    const handle = this.handle;
    async function* pieces() {
      for (let at = start; at < end; ) {
        const length = Math.min(FILE_PIECE, end - at);
        const { buffer, bytesRead } = await handle.read(Buffer.allocUnsafe(length), 0, length, at);
        if (bytesRead === 0) return; // the file got shorter: yauzl reports the missing bytes
        yield buffer.subarray(0, bytesRead);
        at += bytesRead;
      }
    }
    return Readable.from(pieces(), { objectMode: false });
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (error: Error | null, bytesRead?: number) => void): void {
    this.handle.read(buffer, offset, length, position).then(
      ({ bytesRead }) => callback(null, bytesRead),
      (error: Error) => callback(error),
    );
  }

  override close(callback: (error: Error | null) => void): void {
    this.handle.close().then(() => callback(null), callback);
  }
}

/** Reads the central directory and checks member count and declared sizes against the limits. */
export async function listMembers(zip: ZipFile, limits: ReadLimits, where: Where): Promise<ZipMember[]> {
  if (zip.entryCount > limits.maxMembers) {
    throw npzError('npz_too_large', `archive has ${zip.entryCount} members, the limit is ${limits.maxMembers}`, where);
  }
  const members: ZipMember[] = [];
  let total = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      const utf8 = (entry.generalPurposeBitFlag & 0x800) !== 0;
      // yauzl would put U+FFFD in; Python's zipfile refuses such a name, and so do we
      if (utf8 && !isUtf8(entry.fileNameRaw)) throw npzError('npz_bad_zip', 'a member name flagged UTF-8 is not valid UTF-8', where);
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
      const at = { ...where, key: memberKey(name) };
      if (entry.isEncrypted()) throw npzError('npz_bad_zip', 'encrypted members are not supported', at);
      if (!entry.canDecodeFileData()) {
        throw npzError('npz_bad_zip', `compression method ${entry.compressionMethod} is not supported (stored and deflated are)`, at);
      }
      const size = entry.uncompressedSize;
      if (size > limits.maxMemberBytes) {
        throw npzError('npz_too_large', `member is ${size} bytes uncompressed, the limit is ${limits.maxMemberBytes}`, at);
      }
      if (entry.compressionMethod === 8 && size > 0 && size / Math.max(entry.compressedSize, 1) > limits.maxCompressionRatio) {
        throw npzError(
          'npz_too_large',
          `member claims ${size} bytes from ${entry.compressedSize} compressed (ratio above ${limits.maxCompressionRatio})`,
          at,
        );
      }
      total += size;
      if (total > limits.maxTotalBytes) {
        throw npzError('npz_too_large', `members add up to more than ${limits.maxTotalBytes} bytes uncompressed`, at);
      }
      members.push({ name, key: at.key, entry });
    }
  } catch (error) {
    // a stored entry whose two sizes differ is refused by yauzl before it hands the entry (and its name) out
    throw zipError(error, members.length > 0 ? { ...where, after: members[members.length - 1]!.key } : where);
  }
  return members;
}

/** The uncompressed bytes of one member; yauzl checks the size while inflating, the CRC-32 is checked here. */
export async function readMember(zip: ZipFile, member: ZipMember, where: Where): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let crc = 0;
  try {
    const stream = await zip.openReadStreamPromise(member.entry);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      crc = crc32(chunk, crc);
      chunks.push(chunk);
    }
  } catch (error) {
    throw zipError(error, where, member.entry.uncompressedSize);
  }
  if (crc !== member.entry.crc32) throw npzError('npz_bad_zip', 'member fails its CRC-32 check (corrupt data)', where);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/**
 * yauzl's errors as coded errors. File-system errors (they have a syscall) pass through for the caller's
 * npz_not_found / store_io_failed mapping.
 */
function zipError(error: unknown, where: Where & { after?: string }, declaredSize?: number): unknown {
  if (error instanceof TrendflowError || typeof (error as NodeJS.ErrnoException).syscall === 'string') return error;
  const { after, ...at } = where;
  const message = (error as Error).message;
  const zlibCode = (error as { code?: string }).code;
  if (zlibCode === 'Z_BUF_ERROR') return npzError('npz_truncated', 'compressed data of the member ends early', at, error);
  if (zlibCode?.startsWith('Z_')) return npzError('npz_bad_zip', `member does not inflate: ${message}`, at, error);
  if (message.startsWith('too many bytes in the stream')) {
    return npzError('npz_too_large', `member inflates beyond the ${declaredSize} bytes its directory entry declares`, at, error);
  }
  if (message.startsWith('not enough bytes in the stream')) {
    return npzError('npz_bad_zip', `member inflates to fewer than the ${declaredSize} bytes its directory entry declares`, at, error);
  }
  if (message.startsWith('file data overflows file bounds')) {
    return npzError('npz_truncated', 'member data runs past the end of the file', at, error);
  }
  const place = after === undefined ? '' : ` (in the directory entry after "${after}")`;
  return npzError('npz_bad_zip', `damaged zip archive: ${message}${place}`, at, error);
}

const LOCAL = 0x04034b50;

/**
 * No end-of-central-directory record: a cut-off zip (say which member it ends in), a `.npy`, or not a zip at all.
 * Walks the local headers from the start, reading only headers, never member data.
 */
async function missingDirectory(read: ReadAt, size: number, where: Where): Promise<TrendflowError> {
  if (size === 0) return npzError('npz_truncated', 'file is empty', where);
  const u16 = (bytes: Uint8Array, at: number) => bytes[at]! | (bytes[at + 1]! << 8);
  const u32 = (bytes: Uint8Array, at: number) => (u16(bytes, at) | (u16(bytes, at + 2) << 16)) >>> 0;
  const head = await read(0, 6);
  if (head.length < 4 || u32(head, 0) !== LOCAL) {
    const npy = head[0] === 0x93 && Buffer.from(head.subarray(1, 6)).toString('latin1') === 'NUMPY';
    return npzError('npz_bad_zip', npy ? 'this is a .npy file, not an .npz archive' : 'not a zip archive', where);
  }
  let at = 0;
  let last: string | undefined;
  for (;;) {
    const header = await read(at, 30);
    if (header.length < 30 || u32(header, 0) !== LOCAL) break;
    const flags = u16(header, 6);
    const nameLength = u16(header, 26);
    const extraLength = u16(header, 28);
    const rest = Buffer.from(await read(at + 30, nameLength + extraLength));
    if (rest.length < nameLength) break;
    last = memberKey(yauzl.getFileNameLowLevel(flags, rest.subarray(0, nameLength), [], true));
    let compressedSize = u32(header, 18);
    if (compressedSize === 0xffffffff) {
      // zip64: a local header's zip64 field holds both sizes, uncompressed first
      const zip64 = safeExtraFields(rest.subarray(nameLength)).find((field) => field.id === 0x0001);
      if (!zip64 || zip64.data.length < 16) break;
      compressedSize = Number(zip64.data.readBigUInt64LE(8));
    }
    // sizes written after the data (flag bit 3) cannot be skipped over
    if (flags & 0x8) break;
    at += 30 + nameLength + extraLength + compressedSize;
  }
  const message = 'zip archive is cut off (no end-of-central-directory record)';
  return npzError('npz_truncated', message, last === undefined ? where : { ...where, key: last });
}

function safeExtraFields(bytes: Buffer): { id: number; data: Buffer }[] {
  try {
    return yauzl.parseExtraFields(bytes);
  } catch {
    return [];
  }
}

/** yazl's addBuffer takes at most 1 GiB; larger members are streamed in with their size given. */
const MAX_ADD_BUFFER = 0x3fffffff;
const STREAM_SLICE = 16 * 1024 * 1024;
/** The DOS epoch, 1980-01-01 00:00 local time, which yazl encodes as DOS date 1980-01-01 and time 00:00. */
const DOS_EPOCH = new Date(1980, 0, 1);

/** A member whose bytes are produced when yazl reaches it (opened once), `size` bytes in all. */
export interface StreamedMember {
  size: number;
  open: () => Readable;
}

/**
 * Zips `.npy` members: stored like np.savez, or deflated at zlib's default level 6 like np.savez_compressed.
 * Returns yazl's output stream, so a file writer can write the archive as it is produced. Every member gets the
 * same DOS timestamp (1980-01-01 00:00) and no extended-timestamp field, so the same arrays always give the same
 * bytes and artifact digests are stable. Names must be acceptable to yazl (no leading `/`, no `..` part, no
 * drive letter): anything else is npz_write_unsupported_value.
 */
export function zipStream(members: readonly [name: string, data: Uint8Array | StreamedMember][], compress: boolean): Readable {
  const zip = new yazl.ZipFile();
  // yazl writes each member's data into its output in one piece. Read through an object-mode stream, every
  // chunk stays a chunk; a byte stream's read() would first join all it holds, copying the whole archive.
  const out = new PassThrough({ readableObjectMode: true });
  (zip.outputStream as Readable).pipe(out);
  zip.on('error', (error: Error) => out.destroy(error));
  const options = { compressionLevel: compress ? 6 : 0, mtime: DOS_EPOCH, forceDosTimestamp: true, mode: 0o100644 };
  for (const [name, data] of members) {
    try {
      if (!(data instanceof Uint8Array)) {
        zip.addReadStreamLazy(name, { ...options, size: data.size }, (callback) => callback(null, data.open()));
        continue;
      }
      const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      if (buffer.length <= MAX_ADD_BUFFER) zip.addBuffer(buffer, name, options);
      else zip.addReadStreamLazy(name, { ...options, size: buffer.length }, (callback) => callback(null, sliced(buffer)));
    } catch (error) {
      throw npzError('npz_write_unsupported_value', `cannot be a zip member name: ${(error as Error).message}`, { key: memberKey(name) }, error);
    }
  }
  zip.end();
  return out;
}

function sliced(buffer: Buffer): Readable {
  return Readable.from(
    (function* () {
      for (let at = 0; at < buffer.length; at += STREAM_SLICE) yield buffer.subarray(at, at + STREAM_SLICE);
    })(),
    { objectMode: false },
  );
}
