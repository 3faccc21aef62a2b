import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { numpyAvailableOrCi, runPython } from '../../test/helpers/python.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { VideoFixtures } from '../../test/helpers/video-fixtures.js';
import { readNpy } from '../npz/index.js';
import { FrameManager } from './frame-manager.js';
import { segmentVideo } from './segment.js';

let fx: VideoFixtures;
const tmp = useTempDirs('frame-manager-');
/** A finished frames_dir: 64x36 frames, a real subset of a 40 s timeline. */
let dir: string;
let npy: Uint8Array;

beforeAll(async () => {
  fx = await VideoFixtures.create();
  dir = path.join(await tmp(), 'frames');
  await segmentVideo(await fx.moving40s(), { outDir: dir, components: ['core_clip', 'core_optical_flow'], durable: false });
  npy = new Uint8Array(await readFile(path.join(dir, 'frames.npy')));
});
afterAll(async () => {
  await fx?.cleanup();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** A copy of the frames_dir to damage. */
async function copyDir(): Promise<string> {
  const copy = path.join(await tmp(), 'copy');
  await fsp.cp(dir, copy, { recursive: true });
  return copy;
}

describe('FrameManager', () => {
  it('get(i) returns exactly frame i of frames.npy as the core npy reader sees it', async () => {
    const array = readNpy(npy);
    expect(array.dtype).toBe('uint8');
    const frames = await FrameManager.open(dir);
    try {
      expect(array.shape).toEqual([frames.count, 36, 64, 3]);
      expect([frames.width, frames.height, frames.frameBytes]).toEqual([64, 36, 64 * 36 * 3]);
      expect(frames.count).toBe(frames.metadata.frame_count);
      const data = array.data as Uint8Array;
      for (let i = 0; i < frames.count; i++) {
        const frame = await frames.get(i);
        expect(frame.index).toBe(i);
        expect([frame.width, frame.height]).toEqual([64, 36]);
        expect(frame.timestamp_sec).toBe(frames.metadata.union_timestamps_sec[i]);
        expect(frame.timestamp_sec).toBe(frames.timestamp(i));
        expect(Buffer.from(frame.data).equals(Buffer.from(data.subarray(i * frames.frameBytes, (i + 1) * frames.frameBytes))), `frame ${i}`).toBe(true);
      }
      expect(frames.frameIndices('core_clip')).toEqual(frames.metadata.core_clip!.frame_indices);
    } finally {
      await frames.close();
    }
  });

  it('getBatch returns the frames in the order asked (repeats allowed) in one contiguous buffer', async () => {
    const frames = await FrameManager.open(dir);
    try {
      const last = frames.count - 1;
      const indices = [5, 6, 7, 2, 2, 0, last, 8, 9];
      const batch = await frames.getBatch(indices);
      expect(batch.indices).toEqual(indices);
      expect([batch.width, batch.height]).toEqual([64, 36]);
      expect(batch.data.length).toBe(indices.length * frames.frameBytes);
      for (let k = 0; k < indices.length; k++) {
        const single = await frames.get(indices[k]!);
        expect(Buffer.from(batch.frames[k]!.data).equals(Buffer.from(single.data)), `position ${k}`).toBe(true);
        expect(batch.frames[k]!.data.buffer).toBe(batch.data.buffer); // views, not copies
        expect(batch.frames[k]!.timestamp_sec).toBe(single.timestamp_sec);
      }
      expect((await frames.getBatch([])).data.length).toBe(0);
      // a component's frames as one batch
      const clip = await frames.getBatch(frames.frameIndices('core_clip'));
      expect(clip.frames).toHaveLength(frames.metadata.core_clip!.frame_indices.length);
    } finally {
      await frames.close();
    }
  });

  it.skipIf(!numpyAvailableOrCi)('NumPy reads the same frames (np.load with mmap)', async () => {
    const frames = await FrameManager.open(dir);
    try {
      const out = runPython(
        [
          'import sys, json, hashlib, numpy as np',
          "a = np.load(sys.argv[1], mmap_mode='r')",
          'print(json.dumps({"shape": list(a.shape), "dtype": str(a.dtype), "sha": [hashlib.sha256(np.ascontiguousarray(f).tobytes()).hexdigest() for f in a]}))',
        ].join('\n'),
        [path.join(dir, 'frames.npy')],
      );
      const numpy = JSON.parse(out) as { shape: number[]; dtype: string; sha: string[] };
      expect(numpy.shape).toEqual([frames.count, 36, 64, 3]);
      expect(numpy.dtype).toBe('uint8');
      const batch = await frames.getBatch(Array.from({ length: frames.count }, (_, i) => i));
      expect(batch.frames.map((f) => sha(f.data))).toEqual(numpy.sha);
    } finally {
      await frames.close();
    }
  });

  it('reads one frame per get(), without loading the file', async () => {
    // count the bytes FrameManager reads through its file handle
    let bytesRead = 0;
    const realOpen = fsp.open.bind(fsp);
    vi.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
      const handle: FileHandle = await realOpen(...args);
      const read = handle.read.bind(handle) as (...a: unknown[]) => Promise<{ bytesRead: number }>;
      (handle as { read: unknown }).read = async (...a: unknown[]) => {
        const result = await read(...a);
        bytesRead += result.bytesRead;
        return result;
      };
      return handle;
    });
    const frames = await FrameManager.open(dir);
    try {
      const afterOpen = bytesRead;
      expect(afterOpen).toBeLessThan(1024); // the header only
      await frames.get(frames.count - 1);
      expect(bytesRead - afterOpen).toBe(frames.frameBytes);
      await frames.getBatch([3, 4, 5, 40]);
      expect(bytesRead - afterOpen).toBe(5 * frames.frameBytes);
      expect(npy.length).toBeGreaterThan(50 * frames.frameBytes);
    } finally {
      await frames.close();
    }
  });

  it('reads from disk on demand: a frame rewritten after open is seen', async () => {
    const copy = await copyDir();
    const frames = await FrameManager.open(copy);
    try {
      const target = 7;
      const offset = npy.length - frames.count * frames.frameBytes + target * frames.frameBytes;
      const handle = await open(path.join(copy, 'frames.npy'), 'r+');
      await handle.write(new Uint8Array(frames.frameBytes).fill(42), 0, frames.frameBytes, offset);
      await handle.close();
      const frame = await frames.get(target);
      expect(frame.data.every((v) => v === 42)).toBe(true);
      expect((await frames.get(target + 1)).data.every((v) => v === 42)).toBe(false);
    } finally {
      await frames.close();
    }
  });

  it('an index out of range → frame_index_out_of_range; a closed manager → invalid_argument', async () => {
    const frames = await FrameManager.open(dir);
    const n = frames.count;
    for (const bad of [-1, n, n + 100, 1.5, Number.NaN]) {
      await expect(frames.get(bad), String(bad)).rejects.toMatchObject({ code: 'frame_index_out_of_range', message: expect.stringContaining(`0…${n - 1}`) });
    }
    await expect(frames.getBatch([0, 1, n])).rejects.toMatchObject({ code: 'frame_index_out_of_range' });
    expect(() => frames.timestamp(n)).toThrow(expect.objectContaining({ code: 'frame_index_out_of_range' }));
    expect(() => frames.frameIndices('loudness_extractor')).toThrow(expect.objectContaining({ code: 'frames_dir_invalid' }));
    await frames.close();
    await frames.close();
    await expect(frames.get(0)).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('refuses an unfinished or damaged frames_dir with frames_dir_invalid', async () => {
    const noMeta = await copyDir();
    await rm(path.join(noMeta, 'metadata.json'));
    await expect(FrameManager.open(noMeta)).rejects.toMatchObject({ code: 'frames_dir_invalid', message: expect.stringMatching(/not a finished frames_dir/) });

    const noFrames = await copyDir();
    await rm(path.join(noFrames, 'frames.npy'));
    await expect(FrameManager.open(noFrames)).rejects.toMatchObject({ code: 'frames_dir_invalid' });

    const short = await copyDir();
    await truncate(path.join(short, 'frames.npy'), npy.length - 10);
    await expect(FrameManager.open(short)).rejects.toMatchObject({ code: 'frames_dir_invalid', message: expect.stringMatching(/bytes/) });

    const badMeta = await copyDir();
    const meta = JSON.parse(await readFile(path.join(badMeta, 'metadata.json'), 'utf8')) as { core_clip: { frame_indices: number[] } };
    meta.core_clip.frame_indices = [...meta.core_clip.frame_indices].reverse();
    await writeFile(path.join(badMeta, 'metadata.json'), JSON.stringify(meta));
    await expect(FrameManager.open(badMeta)).rejects.toMatchObject({ code: 'frames_dir_invalid', message: expect.stringMatching(/sorted/) });

    await expect(FrameManager.open(path.join(await tmp(), 'nothing'))).rejects.toMatchObject({ code: 'frames_dir_invalid' });
  });
});
