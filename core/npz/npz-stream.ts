/**
 * `.npz` written row by row: memory stays bounded by one row (plus a small write buffer per key) whatever the
 * number of rows, for exports of many runs. Each row key is spooled to its own temp file; `finish()` zips every
 * member with its final row count in the `.npy` header. The members' bytes are identical to `writeNpy` of the
 * whole array (numeric, bool and object arrays); only the zip framing differs (a streamed member carries its CRC
 * and sizes in a data descriptor after its data), which np.load and our reader read the same way.
 */
import { createReadStream, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { TrendflowError } from '../contracts/errors.js';
import { writeFileAtomic } from '../store/atomic.js';
import { descrFor, encodeElements, formatShape } from './dtype.js';
import { formatHeader } from './header.js';
import { isNdArray, ndarray } from './ndarray.js';
import { writeNpy } from './npy.js';
import { objectArrayPickle } from './pickle-write.js';
import type { AnyNdArray, DType, PyValue } from './types.js';
import { npzError, type Where } from './where.js';
import { type StreamedMember, zipStream } from './zip.js';

/**
 * A key written row by row: element type and the shape of one row (`[]` for one value per row, `[F]` for a
 * feature vector); the array's shape is `[rows, ...rowShape]`. `str` (`<U{n}`) is not streamable: its width is
 * the longest string of all rows, which the header needs before the data — string lists are object arrays anyway.
 */
export interface RowColumn {
  dtype: Exclude<DType, 'str'>;
  rowShape?: readonly number[];
}

/** One row's value of a key: a scalar for rowShape `[]`, else the row's elements in C order. */
export type RowValue = number | bigint | boolean | PyValue | ArrayLike<number | bigint | boolean> | readonly PyValue[];

export interface NpzStreamOptions {
  /** Deflate members (np.savez_compressed) or store them (np.savez). */
  compress: boolean;
}

/** Bytes kept per key before they are written to its spool file. */
const SPOOL_BUFFER = 256 * 1024;

/**
 * A key's spool: its rows' element bytes (or pickled items), appended to a temp file through one fixed buffer
 * (copied in, so thousands of small items never sit in memory as thousands of small allocations).
 */
class Spool {
  size = 0;
  private readonly buffer = Buffer.allocUnsafe(SPOOL_BUFFER);
  private used = 0;

  constructor(
    readonly file: string,
    private readonly handle: FileHandle,
  ) {}

  async add(bytes: Uint8Array): Promise<void> {
    this.size += bytes.length;
    if (this.used + bytes.length > SPOOL_BUFFER) await this.flush();
    if (bytes.length >= SPOOL_BUFFER) await fs.writeFile(this.handle, bytes);
    else {
      this.buffer.set(bytes, this.used);
      this.used += bytes.length;
    }
  }

  async flush(): Promise<void> {
    if (this.used === 0) return;
    // writeFile on a handle writes at the current position and loops until every byte is written
    await fs.writeFile(this.handle, this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

interface StreamKey {
  key: string;
  column: RowColumn & { rowShape: readonly number[] };
  rowSize: number;
  spool: Spool;
  /** Object keys: pickles one item. */
  element?: (index: number, value: PyValue) => Uint8Array;
}

/**
 * Usage: `const w = await NpzStreamWriter.create(file, { X: { dtype: 'float32', rowShape: [F] }, ids: { dtype:
 * 'object' }, names: ndarray.objectArray(names) }, { compress: true })`, then `await w.append({ X: row, ids: 'a' })`
 * per row, then `await w.finish()` (or `await w.abort()`). Keys are written in the given order; a whole NdArray
 * is a fixed key written as it is. The target appears atomically at finish (temp file, fsync, rename); the spool
 * folder (beside the target, so it is on the target's disk) is removed at finish, at abort and when a step fails.
 */
export class NpzStreamWriter {
  private rows = 0;
  private state: 'open' | 'finished' | 'aborted' = 'open';

  private constructor(
    readonly file: string,
    private readonly spoolDir: string,
    private readonly entries: [string, AnyNdArray | StreamKey][],
    private readonly streamKeys: StreamKey[],
    private readonly options: NpzStreamOptions,
  ) {}

  static async create(file: string, entries: Record<string, AnyNdArray | RowColumn> | Map<string, AnyNdArray | RowColumn>, options: NpzStreamOptions): Promise<NpzStreamWriter> {
    const list = entries instanceof Map ? [...entries] : Object.entries(entries);
    for (const [key, entry] of list) {
      checkKey(key, file);
      if (!isNdArray(entry)) {
        const rowShape = entry.rowShape ?? [];
        if ((entry.dtype as DType) === 'str') throw npzError('npz_write_unsupported_value', 'str arrays cannot be written row by row (use an object array)', { path: file, key });
        if (!rowShape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
          throw npzError('npz_write_unsupported_value', `invalid row shape ${formatShape(rowShape)}`, { path: file, key });
        }
      }
    }
    let spoolDir: string;
    try {
      spoolDir = await fs.mkdtemp(path.join(path.dirname(file), `.${path.basename(file)}.spool-`));
    } catch (error) {
      throw npzError('store_io_failed', `cannot create the spool folder: ${(error as Error).message}`, { path: file }, error);
    }
    const streamKeys: StreamKey[] = [];
    const resolved: [string, AnyNdArray | StreamKey][] = [];
    try {
      for (const [index, [key, entry]] of list.entries()) {
        if (isNdArray(entry)) {
          resolved.push([key, entry]);
          continue;
        }
        const rowShape = entry.rowShape ?? [];
        // spool files are numbered, not named after keys: a key may hold any character
        const spoolFile = path.join(spoolDir, `${index}.bin`);
        const spool = new Spool(spoolFile, await fs.open(spoolFile, 'wx'));
        const streamKey: StreamKey = { key, column: { dtype: entry.dtype, rowShape }, rowSize: rowShape.reduce((a, b) => a * b, 1), spool };
        if (entry.dtype === 'object') streamKey.element = objectArrayPickle.elements({ path: file, key });
        streamKeys.push(streamKey);
        resolved.push([key, streamKey]);
      }
    } catch (error) {
      await Promise.all(streamKeys.map((k) => k.spool.close().catch(() => undefined)));
      await fs.rm(spoolDir, { recursive: true, force: true });
      throw npzError('store_io_failed', `cannot create a spool file: ${(error as Error).message}`, { path: file }, error);
    }
    return new NpzStreamWriter(file, spoolDir, resolved, streamKeys, options);
  }

  /** The rows appended so far. */
  get rowCount(): number {
    return this.rows;
  }

  /**
   * Appends one row: a value for every row key. The row is validated whole before any of it is spooled, so a
   * refused row (npz_write_unsupported_value: missing key, wrong length, a value the dtype cannot hold) leaves
   * the writer as it was.
   */
  async append(row: Record<string, RowValue>): Promise<void> {
    this.checkOpen();
    const encoded = this.streamKeys.map((k) => this.encodeRow(k, row));
    try {
      for (const [i, k] of this.streamKeys.entries()) for (const bytes of encoded[i]!) await k.spool.add(bytes);
    } catch (error) {
      await this.abort();
      throw npzError('store_io_failed', `cannot write a spool file: ${(error as Error).message}`, { path: this.file }, error);
    }
    this.rows++;
  }

  private encodeRow(k: StreamKey, row: Record<string, RowValue>): Uint8Array[] {
    const where: Where = { path: this.file, key: k.key };
    if (!Object.hasOwn(row, k.key)) throw npzError('npz_write_unsupported_value', 'the row has no value for this key', where);
    const value = row[k.key];
    const scalar = k.column.rowShape.length === 0;
    if (k.column.dtype === 'object') {
      const items = scalar ? [value as PyValue] : Array.isArray(value) ? (value as PyValue[]) : null;
      if (items === null || items.length !== k.rowSize) throw npzError('npz_write_unsupported_value', `a row must hold ${k.rowSize} values`, where);
      const first = this.rows * k.rowSize;
      return items.map((item, i) => k.element!(first + i, item));
    }
    const values = scalar ? [value] : value;
    if (values === null || typeof values !== 'object' || typeof (values as ArrayLike<unknown>).length !== 'number' || (values as ArrayLike<unknown>).length !== k.rowSize) {
      throw npzError('npz_write_unsupported_value', `a row must hold ${k.rowSize} values`, where);
    }
    // the constructors refuse what the dtype cannot hold (an integer out of range) and encode like writeNpy
    const make = ndarray[k.column.dtype] as (data: ArrayLike<unknown>, shape: readonly number[]) => AnyNdArray;
    try {
      return [encodeElements(make(values as ArrayLike<unknown>, k.column.rowShape), 0)];
    } catch (error) {
      if (error instanceof TrendflowError) throw npzError(error.code, error.message, where, error);
      throw npzError('npz_write_unsupported_value', (error as Error).message, where, error);
    }
  }

  /** Writes the archive (atomically) and removes the spool folder. */
  async finish(): Promise<void> {
    this.checkOpen();
    try {
      for (const k of this.streamKeys) {
        await k.spool.flush();
        await k.spool.close();
      }
      const members = this.entries.map(([key, entry]): [string, Uint8Array | StreamedMember] => [
        `${key}.npy`,
        isNdArray(entry) ? writeNpy(entry, { path: this.file, key }) : this.member(entry),
      ]);
      await writeFileAtomic(this.file, zipStream(members, this.options.compress));
      this.state = 'finished';
    } catch (error) {
      await this.abort();
      if (error instanceof TrendflowError && error.code !== 'store_io_failed') throw error;
      const cause = error instanceof TrendflowError && error.details.cause !== undefined ? error.details.cause : error;
      throw npzError('store_io_failed', `cannot write the file: ${(cause as Error).message}`, { path: this.file }, cause);
    }
    await fs.rm(this.spoolDir, { recursive: true, force: true });
  }

  /** A row key's `.npy`: the header with the final row count, (the pickle's head,) the spool, (the pickle's tail). */
  private member(k: StreamKey): StreamedMember {
    const shape = [this.rows, ...k.column.rowShape];
    const header = formatHeader(descrFor(k.column.dtype), shape);
    const object = k.column.dtype === 'object';
    const head = object ? objectArrayPickle.head(shape) : new Uint8Array(0);
    const tail = object ? objectArrayPickle.tail(this.rows * k.rowSize) : new Uint8Array(0);
    const spoolFile = k.spool.file;
    return {
      size: header.length + head.length + k.spool.size + tail.length,
      open: () =>
        Readable.from(
          (async function* () {
            yield header;
            if (head.length > 0) yield head;
            yield* createReadStream(spoolFile, { highWaterMark: 1024 * 1024 });
            if (tail.length > 0) yield tail;
          })(),
          { objectMode: false },
        ),
    };
  }

  /** Drops everything written so far: closes and removes the spool folder. No file is written. Idempotent. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await Promise.all(this.streamKeys.map((k) => k.spool.close().catch(() => undefined)));
    await fs.rm(this.spoolDir, { recursive: true, force: true }).catch(() => undefined);
  }

  private checkOpen(): void {
    if (this.state !== 'open') throw npzError('npz_write_unsupported_value', `the writer is already ${this.state}`, { path: this.file });
  }
}

function checkKey(key: string, file: string): void {
  // the same rules as encodeNpz: yazl would silently turn a backslash into "/", which changes np.load's key
  if (key === '' || key.includes('\0') || key.includes('\\')) throw npzError('npz_write_unsupported_value', `invalid key ${JSON.stringify(key)}`, { path: file, key });
}
