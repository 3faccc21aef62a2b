import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrendflowError } from '../contracts/errors.js';
import { dominant, meanRgb, VideoFixtures } from '../../test/helpers/video-fixtures.js';
import { streamFrames, streamFramesMulti, toRational, type VideoFrame } from './frames.js';
import { probeVideo } from './probe.js';

let fx: VideoFixtures;
beforeAll(async () => {
  fx = await VideoFixtures.create();
});
afterAll(async () => {
  await fx?.cleanup();
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

function colours(frames: VideoFrame[], width: number, height: number): string {
  return frames.map((f) => dominant(meanRgb(f.data, width, 0, 0, width, height))).join('');
}

describe('streamFrames', () => {
  it('samples at a constant rate on the real timeline with the right colours', async () => {
    const file = await fx.colors();
    const stream = streamFrames(file, { fps: 10, width: 32, height: 24, pixelFormat: 'rgb24' });
    const frames = await collect(stream);
    expect(frames).toHaveLength(30);
    expect(colours(frames, 32, 24)).toBe('R'.repeat(10) + 'G'.repeat(10) + 'B'.repeat(10));
    frames.forEach((frame, i) => {
      expect(frame.index).toBe(i);
      expect(frame.timestamp_sec).toBeCloseTo(i / 10, 9);
      expect(frame.data).toBeInstanceOf(Uint8Array);
      expect(frame.data.length).toBe(32 * 24 * 3);
    });
    // Pixel values within codec tolerance: pure red and lavfi's green (0,128,0).
    const [r, g, b] = meanRgb(frames[5]!.data, 32, 4, 4, 28, 20);
    expect(Math.abs(r - 255)).toBeLessThan(12);
    expect(g).toBeLessThan(12);
    expect(b).toBeLessThan(12);
    const green = meanRgb(frames[15]!.data, 32, 4, 4, 28, 20);
    expect(Math.abs(green[1] - 128)).toBeLessThan(12);
    expect(stream.framesEmitted).toBe(30);
    expect(stream.outputs[0]).toMatchObject({ width: 32, height: 24, channels: 3, frameBytes: 32 * 24 * 3 });
    expect(stream.command?.join(' ')).toContain('fps=fps=10/1:start_time=0:round=up');
  });

  it('decimates and keeps the source size (no upscaling asked)', async () => {
    const file = await fx.tone128x72();
    const frames = await collect(streamFrames(file, { fps: 5, width: 128, height: 72, pixelFormat: 'rgb24' }));
    expect(frames).toHaveLength(10);
    expect(frames[9]!.timestamp_sec).toBeCloseTo(1.8, 9);
    expect(frames[0]!.data.length).toBe(128 * 72 * 3);
  });

  it('produces odd output sizes', async () => {
    const file = await fx.colors();
    const stream = streamFrames(file, { fps: 2, width: 33, height: 19, pixelFormat: 'rgb24' });
    const frames = await collect(stream);
    expect(frames).toHaveLength(6);
    expect(frames[0]!.data.length).toBe(33 * 19 * 3);
    expect(colours(frames, 33, 19)).toBe('RRGGBB');
  });

  it('refuses a probe of another file', async () => {
    const probe = await probeVideo(await fx.colors());
    const stream = streamFrames(await fx.leftRight(), { fps: 2, width: 8, height: 8, pixelFormat: 'gray', probe });
    await expect(collect(stream)).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('gives full-range luma for gray', async () => {
    const file = await fx.colors();
    const frames = await collect(streamFrames(file, { fps: 1, width: 16, height: 12, pixelFormat: 'gray' }));
    expect(frames).toHaveLength(3);
    expect(frames[0]!.data.length).toBe(16 * 12);
    const mean = (f: VideoFrame): number => f.data.reduce((s, v) => s + v, 0) / f.data.length;
    // BT.601 full-range luma: red 76, green (0,128,0) 75, blue 29.
    expect(mean(frames[0]!)).toBeGreaterThan(65);
    expect(mean(frames[0]!)).toBeLessThan(88);
    expect(mean(frames[2]!)).toBeGreaterThan(20);
    expect(mean(frames[2]!)).toBeLessThan(40);
  });

  it('decodes a range: startSec and durationSec', async () => {
    const file = await fx.colors();
    const frames = await collect(streamFrames(file, { fps: 10, width: 16, height: 12, pixelFormat: 'rgb24', startSec: 1.5, durationSec: 1 }));
    expect(frames).toHaveLength(10);
    expect(frames[0]!.timestamp_sec).toBeCloseTo(1.5, 9);
    expect(frames[9]!.timestamp_sec).toBeCloseTo(2.4, 9);
    expect(colours(frames, 16, 12)).toBe('GGGGGBBBBB');
  });

  it('applies the display rotation: portrait frames whose orientation matches rotation_deg', async () => {
    const file = await fx.rotated();
    const probe = await probeVideo(file);
    const { display_width: w, display_height: h, rotation_deg: rotation } = probe.video;
    expect([w, h]).toEqual([48, 80]);
    const frames = await collect(streamFrames(file, { fps: 10, width: w, height: h, pixelFormat: 'rgb24', probe }));
    expect(frames).toHaveLength(10);
    const top = dominant(meanRgb(frames[0]!.data, w, 4, 4, w - 4, 30));
    const bottom = dominant(meanRgb(frames[0]!.data, w, 4, h - 30, w - 4, h - 4));
    // The stored frame has red on the left: turned 90° clockwise the left edge goes to the top, 270° to the bottom.
    expect(top + bottom).toBe(rotation === 90 ? 'RB' : 'BR');
  });

  it('refuses a landscape size for a video displayed as portrait', async () => {
    const file = await fx.rotated();
    const stream = streamFrames(file, { fps: 10, width: 80, height: 48, pixelFormat: 'rgb24' });
    await expect(collect(stream)).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('gives real times for variable frame rate: a change between sampling instants lands on the next one', async () => {
    const file = await fx.vfr();
    const frames = await collect(streamFrames(file, { fps: 10, width: 8, height: 6, pixelFormat: 'rgb24' }));
    // red until 1.03 s (instants 0.0…1.0), green until 2.03 s, blue to 3.03 s.
    const seq = colours(frames, 8, 6);
    expect(seq.slice(0, 11)).toBe('R'.repeat(11));
    expect(seq.slice(11, 21)).toBe('G'.repeat(10));
    expect(seq.slice(21, 30)).toBe('B'.repeat(9));
    expect(frames.length).toBeGreaterThanOrEqual(30);
    expect(frames.length).toBeLessThanOrEqual(31);
  });

  it('works with non-ASCII paths', async () => {
    const frames = await collect(streamFrames(await fx.nonAscii(), { fps: 2, width: 8, height: 6, pixelFormat: 'rgb24' }));
    expect(colours(frames, 8, 6)).toBe('RRGGBB');
  });

  it('respects back-pressure: a slow consumer keeps ffmpeg waiting instead of buffering the video', async () => {
    const file = await fx.big();
    const stream = streamFrames(file, { fps: 25, width: 320, height: 240, pixelFormat: 'rgb24' });
    const frameBytes = 320 * 240 * 3;
    const total = 75 * frameBytes;
    let seen = 0;
    let readWhileSlow = 0;
    for await (const frame of stream) {
      expect(frame.index).toBe(seen);
      seen++;
      if (seen === 2) {
        await new Promise((resolve) => setTimeout(resolve, 400));
        readWhileSlow = stream.bytesRead[0]!;
      }
    }
    expect(seen).toBe(75);
    expect(stream.bytesRead[0]).toBe(total);
    expect(readWhileSlow).toBeLessThan(total / 2);
  });

  it('stops ffmpeg when the consumer breaks out', async () => {
    const file = await fx.big();
    const stream = streamFrames(file, { fps: 25, width: 320, height: 240, pixelFormat: 'rgb24' });
    let seen = 0;
    for await (const _frame of stream) {
      if (++seen === 3) break;
    }
    await stream.close();
    expect(stream.framesEmitted).toBe(3);
  });

  it('aborts via AbortSignal', async () => {
    const file = await fx.big();
    const controller = new AbortController();
    const stream = streamFrames(file, { fps: 25, width: 320, height: 240, pixelFormat: 'rgb24', signal: controller.signal });
    let seen = 0;
    const run = (async () => {
      for await (const _frame of stream) {
        if (++seen === 2) controller.abort();
      }
    })();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    await stream.close();
    expect(seen).toBe(2);
  });

  it('turns an ffmpeg failure into video_decode_failed with its stderr', async () => {
    const file = await fx.colors();
    const probe = await probeVideo(file);
    const wrong = { ...probe, video: { ...probe.video, index: 7 } };
    const stream = streamFrames(file, { fps: 10, width: 8, height: 6, pixelFormat: 'rgb24', probe: wrong });
    const error = (await collect(stream).catch((e: unknown) => e)) as TrendflowError;
    expect(error).toBeInstanceOf(TrendflowError);
    expect(error.code).toBe('video_decode_failed');
    expect(error.details.path).toBe(file);
    expect(error.message).toMatch(/exit code/);
  });

  it('reports bad input with the probe codes', async () => {
    const missing = fx.path('missing.mp4');
    await expect(collect(streamFrames(missing, { fps: 1, width: 8, height: 8, pixelFormat: 'gray' }))).rejects.toMatchObject({
      code: 'video_not_found',
    });
    const wav = await fx.wav('tone.wav');
    await expect(collect(streamFrames(wav, { fps: 1, width: 8, height: 8, pixelFormat: 'gray' }))).rejects.toMatchObject({
      code: 'video_no_video_stream',
    });
  });

  it('validates options', () => {
    const base = { fps: 10, width: 8, height: 8, pixelFormat: 'rgb24' as const };
    expect(() => streamFrames('x.mp4', { ...base, fps: 0 })).toThrow(/fps/);
    expect(() => streamFrames('x.mp4', { ...base, width: 7.5 })).toThrow(/width/);
    expect(() => streamFrames('x.mp4', { ...base, height: 0 })).toThrow(/height/);
    expect(() => streamFrames('x.mp4', { ...base, startSec: -1 })).toThrow(/startSec/);
    expect(() => streamFrames('x.mp4', { ...base, pixelFormat: 'yuv' as never })).toThrow(/pixelFormat/);
  });

  it('refuses to start past the end', async () => {
    const file = await fx.colors();
    await expect(collect(streamFrames(file, { fps: 1, width: 8, height: 8, pixelFormat: 'gray', startSec: 3.5 }))).rejects.toMatchObject({
      code: 'invalid_argument',
    });
  });
});

describe('streamFramesMulti', () => {
  it('decodes once into a small gray and a larger RGB output, frame-aligned', async () => {
    const file = await fx.colors();
    const stream = streamFramesMulti(file, {
      fps: 10,
      outputs: [
        { width: 8, height: 6, pixelFormat: 'gray' },
        { width: 48, height: 36, pixelFormat: 'rgb24' },
      ],
    });
    const frames = await collect(stream);
    expect(frames).toHaveLength(30);
    expect(stream.command?.join(' ')).toContain('pipe:3');
    frames.forEach((frame, i) => {
      expect(frame.index).toBe(i);
      expect(frame.data[0]!.length).toBe(8 * 6);
      expect(frame.data[1]!.length).toBe(48 * 36 * 3);
    });
    expect(colours(frames.map((f) => ({ ...f, data: f.data[1]! })), 48, 36)).toBe('R'.repeat(10) + 'G'.repeat(10) + 'B'.repeat(10));
    const luma = frames.map((f) => f.data[0]!.reduce((s, v) => s + v, 0) / f.data[0]!.length);
    expect(luma[25]!).toBeLessThan(luma[5]! - 30); // blue is darker than red
  });

  it('does not deadlock with very unequal outputs and a slow consumer', async () => {
    const file = await fx.big();
    const stream = streamFramesMulti(file, {
      fps: 25,
      outputs: [
        { width: 16, height: 12, pixelFormat: 'gray' },
        { width: 320, height: 240, pixelFormat: 'rgb24' },
        { width: 64, height: 48, pixelFormat: 'rgb24' },
      ],
    });
    let seen = 0;
    for await (const frame of stream) {
      expect(frame.data).toHaveLength(3);
      if (seen++ % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(seen).toBe(75);
    expect(stream.bytesRead).toEqual([75 * 16 * 12, 75 * 320 * 240 * 3, 75 * 64 * 48 * 3]);
  });
});

describe('toRational', () => {
  it('finds exact fractions for common rates', () => {
    expect(toRational(12)).toEqual({ num: 12, den: 1 });
    expect(toRational(12.5)).toEqual({ num: 25, den: 2 });
    expect(toRational(30000 / 1001)).toEqual({ num: 30000, den: 1001 });
    expect(toRational(1 / 3)).toEqual({ num: 1, den: 3 });
  });
});
