/**
 * frames.npy: an (N, H, W, 3) uint8 NumPy array written as frames arrive. N is unknown until the end, so the
 * header is written for N = 0 and rewritten in place at the end; NumPy reserves room for the first dimension to
 * grow to 21 digits (core/npz/header.ts does the same), so both headers have the same length and the data
 * offset never moves. The file is a plain C-order .npy: `np.load(path, mmap_mode='r')` and readNpy read it.
 */
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { TrendflowError } from '../contracts/errors.js';
import { formatHeader, readHeader } from '../npz/header.js';

export const FRAMES_DESCR = '|u1';

export function framesHeader(count: number, height: number, width: number): Uint8Array {
  return formatHeader(FRAMES_DESCR, [count, height, width, 3]);
}

function ioError(file: string, what: string, error: unknown): TrendflowError {
  return new TrendflowError('store_io_failed', `cannot ${what}: ${(error as Error).message}`, { path: file, cause: error });
}

/** Appends frames to a new frames.npy; `finish()` writes the final header and (optionally) fsyncs. */
export class FramesWriter {
  private position: number;
  private frames = 0;
  private closed = false;
  private sinceSync = 0;
  private pendingSync: Promise<void> | null = null;
  readonly frameBytes: number;
  readonly dataOffset: number;

  private constructor(
    readonly file: string,
    private readonly handle: FileHandle,
    readonly height: number,
    readonly width: number,
    private readonly durable: boolean,
  ) {
    this.frameBytes = height * width * 3;
    this.dataOffset = framesHeader(0, height, width).length;
    this.position = this.dataOffset;
  }

  static async create(file: string, height: number, width: number, options: { durable?: boolean } = {}): Promise<FramesWriter> {
    let handle: FileHandle;
    try {
      handle = await fs.open(file, 'wx');
    } catch (error) {
      throw ioError(file, 'create frames file', error);
    }
    const writer = new FramesWriter(file, handle, height, width, options.durable ?? true);
    try {
      await handle.write(framesHeader(0, height, width), 0, undefined, 0);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw ioError(file, 'write frames header', error);
    }
    return writer;
  }

  get count(): number {
    return this.frames;
  }

  async append(rgb: Uint8Array): Promise<void> {
    if (this.closed) throw new Error('FramesWriter: append after close');
    if (rgb.length !== this.frameBytes) throw new Error(`FramesWriter: frame has ${rgb.length} bytes, expected ${this.frameBytes}`);
    try {
      let written = 0;
      while (written < rgb.length) {
        const { bytesWritten } = await this.handle.write(rgb, written, rgb.length - written, this.position + written);
        written += bytesWritten;
      }
    } catch (error) {
      throw ioError(this.file, 'write frames', error);
    }
    this.position += rgb.length;
    this.frames++;
    // Flush to disk in the background every ~64 MiB, so the final fsync has little left to wait for.
    this.sinceSync += rgb.length;
    if (this.durable && this.sinceSync >= 64 * 1024 * 1024 && !this.pendingSync) {
      this.sinceSync = 0;
      this.pendingSync = this.handle.datasync().then(
        () => {
          this.pendingSync = null;
        },
        () => {
          this.pendingSync = null;
        },
      );
    }
  }

  /** Writes the header with the final frame count, fsyncs (when durable) and closes. */
  async finish(): Promise<{ count: number; bytes: number }> {
    if (this.closed) throw new Error('FramesWriter: finish after close');
    try {
      await this.pendingSync;
      const header = framesHeader(this.frames, this.height, this.width);
      if (header.length !== this.dataOffset) throw new Error(`header length changed (${this.dataOffset} → ${header.length})`);
      await this.handle.write(header, 0, header.length, 0);
      if (this.durable) await this.handle.sync();
    } catch (error) {
      await this.abort();
      throw ioError(this.file, 'finish frames file', error);
    }
    this.closed = true;
    await this.handle.close();
    return { count: this.frames, bytes: this.position };
  }

  /** Closes without finishing (the caller removes the file). */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pendingSync?.catch(() => undefined);
    await this.handle.close().catch(() => undefined);
  }
}

export interface FramesFileInfo {
  count: number;
  height: number;
  width: number;
  dataOffset: number;
  frameBytes: number;
}

/** Reads and checks the header of an open frames.npy: uint8, C order, shape (N, H, W, 3), size matching. */
export async function readFramesHeader(handle: FileHandle, file: string): Promise<FramesFileInfo> {
  const invalid = (why: string, cause?: unknown) =>
    new TrendflowError('frames_dir_invalid', `frames.npy ${why}`, { path: file, ...(cause === undefined ? {} : { cause }) });
  const { size } = await handle.stat();
  const prefix = Buffer.alloc(12);
  const { bytesRead } = await handle.read(prefix, 0, 12, 0);
  if (bytesRead < 10) throw invalid('is too short to be a .npy file');
  const major = prefix[6];
  const headerLength = major === 1 ? prefix.readUInt16LE(8) : bytesRead >= 12 ? prefix.readUInt32LE(8) : 0;
  const preamble = (major === 1 ? 10 : 12) + headerLength;
  if (preamble > size || preamble > 1024 * 1024) throw invalid('has a header longer than the file');
  const bytes = Buffer.alloc(preamble);
  await handle.read(bytes, 0, preamble, 0);
  let header;
  try {
    header = readHeader(bytes, { path: file });
  } catch (error) {
    throw invalid(`has an invalid header: ${(error as Error).message}`, error);
  }
  const { descr, fortranOrder, shape } = header;
  if (descr !== FRAMES_DESCR || fortranOrder || shape.length !== 4 || shape[3] !== 3) {
    throw invalid(`must be a C-order uint8 array of shape (N, H, W, 3), found ${descr} ${JSON.stringify(shape)}${fortranOrder ? ' (Fortran order)' : ''}`);
  }
  const [count, height, width] = shape as [number, number, number, number];
  const frameBytes = height * width * 3;
  const expected = header.dataOffset + count * frameBytes;
  if (size !== expected) throw invalid(`has ${size} bytes, its header (${count} frames of ${width}x${height}) needs ${expected}`);
  return { count, height, width, dataOffset: header.dataOffset, frameBytes };
}
