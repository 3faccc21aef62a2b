/**
 * FrameManager: random access to the frames of a finished frames_dir. The header of frames.npy is parsed once;
 * each frame is one positioned read (no full-file load); batches read contiguous runs with one read each.
 */
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { ComponentName } from '../contracts/components.js';
import { TrendflowError } from '../contracts/errors.js';
import { readFramesHeader, type FramesFileInfo } from './frames-file.js';
import { componentFrames, FRAMES_FILE, readFramesMetadata, type FramesMetadata } from './metadata.js';

export interface RgbFrame {
  /** Index in the union (frames.npy). */
  index: number;
  timestamp_sec: number;
  width: number;
  height: number;
  /** H×W×3 bytes, row-major RGB. */
  data: Uint8Array;
}

export interface FrameBatch {
  indices: number[];
  width: number;
  height: number;
  /** B×H×W×3 bytes: the frames in the order asked, contiguous (ready for a (B,H,W,3) tensor). */
  data: Uint8Array;
  /** One view per frame into `data`. */
  frames: RgbFrame[];
}

/** Parallel reads in a batch. */
const READ_CONCURRENCY = 8;

export class FrameManager {
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly metadata: FramesMetadata,
    private readonly handle: FileHandle,
    private readonly info: FramesFileInfo,
    private readonly file: string,
  ) {}

  /**
   * Opens a finished frames_dir. `frames_dir_invalid` when metadata.json is missing (an unfinished or failed
   * segmentation) or inconsistent, or frames.npy is missing, not (N, H, W, 3) uint8, or not the size its header
   * and the metadata say.
   */
  static async open(dir: string): Promise<FrameManager> {
    const absolute = path.resolve(dir);
    const metadata = await readFramesMetadata(absolute);
    const file = path.join(absolute, FRAMES_FILE);
    let handle: FileHandle;
    try {
      handle = await fs.open(file, 'r');
    } catch (error) {
      throw new TrendflowError('frames_dir_invalid', `cannot open ${FRAMES_FILE}: ${(error as Error).message}`, { path: file, cause: error });
    }
    try {
      const info = await readFramesHeader(handle, file);
      if (info.count !== metadata.frame_count || info.width !== metadata.analysis_width || info.height !== metadata.analysis_height) {
        throw new TrendflowError(
          'frames_dir_invalid',
          `${FRAMES_FILE} holds ${info.count} frames of ${info.width}x${info.height}, metadata.json says ` +
            `${metadata.frame_count} of ${metadata.analysis_width}x${metadata.analysis_height}`,
          { path: file },
        );
      }
      return new FrameManager(absolute, metadata, handle, info, file);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  /** Frames stored (the union). */
  get count(): number {
    return this.info.count;
  }

  get width(): number {
    return this.info.width;
  }

  get height(): number {
    return this.info.height;
  }

  get frameBytes(): number {
    return this.info.frameBytes;
  }

  /** A component's frame_indices (indices into the union); `frames_dir_invalid` when it has none. */
  frameIndices(component: ComponentName): number[] {
    return [...componentFrames(this.metadata, component, path.join(this.dir, 'metadata.json')).frame_indices];
  }

  timestamp(index: number): number {
    this.check(index);
    return this.metadata.union_timestamps_sec[index]!;
  }

  /** One frame: a single positioned read of H×W×3 bytes. */
  async get(index: number): Promise<RgbFrame> {
    this.check(index);
    const data = new Uint8Array(this.info.frameBytes);
    await this.readInto(data, 0, index, 1);
    return this.frame(index, data);
  }

  /**
   * Several frames in the order asked (repeats allowed), in one contiguous buffer. Runs of consecutive indices
   * are read with one read each.
   */
  async getBatch(indices: readonly number[]): Promise<FrameBatch> {
    for (const index of indices) this.check(index);
    const { frameBytes } = this.info;
    const data = new Uint8Array(indices.length * frameBytes);
    const runs: Array<{ start: number; first: number; length: number }> = [];
    for (let k = 0; k < indices.length; k++) {
      const run = runs[runs.length - 1];
      if (run && indices[k] === run.first + run.length && k === run.start + run.length) run.length++;
      else runs.push({ start: k, first: indices[k]!, length: 1 });
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < runs.length) {
        const run = runs[next++]!;
        await this.readInto(data, run.start * frameBytes, run.first, run.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, runs.length) }, worker));
    const frames = indices.map((index, k) => this.frame(index, data.subarray(k * frameBytes, (k + 1) * frameBytes)));
    return { indices: [...indices], width: this.info.width, height: this.info.height, data, frames };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }

  private frame(index: number, data: Uint8Array): RgbFrame {
    return { index, timestamp_sec: this.metadata.union_timestamps_sec[index]!, width: this.info.width, height: this.info.height, data };
  }

  private check(index: number): void {
    if (this.closed) throw new TrendflowError('invalid_argument', 'the FrameManager is closed', { path: this.file });
    if (!Number.isInteger(index) || index < 0 || index >= this.info.count) {
      const range = this.info.count === 0 ? 'the frames_dir stores no frames' : `valid indices are 0…${this.info.count - 1}`;
      throw new TrendflowError('frame_index_out_of_range', `frame index ${String(index)} is out of range: ${range}`, { path: this.file });
    }
  }

  private async readInto(target: Uint8Array, offset: number, first: number, count: number): Promise<void> {
    const length = count * this.info.frameBytes;
    const position = this.info.dataOffset + first * this.info.frameBytes;
    let done = 0;
    try {
      while (done < length) {
        const { bytesRead } = await this.handle.read(target, offset + done, length - done, position + done);
        if (bytesRead === 0) throw new Error('unexpected end of file');
        done += bytesRead;
      }
    } catch (error) {
      throw new TrendflowError('frames_dir_invalid', `cannot read frames ${first}…${first + count - 1}: ${(error as Error).message}`, {
        path: this.file,
        cause: error,
      });
    }
  }
}
