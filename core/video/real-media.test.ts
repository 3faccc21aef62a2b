import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { extractAudio } from './audio.js';
import { streamFrames, streamFramesMulti } from './frames.js';
import { probeVideo } from './probe.js';

/** Real clips from ../shared/media (read-only; never copied into the repository). */
const MEDIA = new URL('../../../shared/media/', import.meta.url);
const SINTEL = new URL('zwm_clip_03_sintel.mp4', MEDIA).pathname;
const GRID = new URL('grid_bbaf2n.mpg', MEDIA).pathname;
const present = existsSync(SINTEL) && existsSync(GRID);

describe.skipIf(!present && !process.env.CI)('real media', () => {
  it('Sintel clip: probe', async () => {
    const probe = await probeVideo(SINTEL);
    expect(probe.video).toMatchObject({
      codec: 'h264',
      width: 640,
      height: 360,
      display_width: 640,
      display_height: 360,
      rotation_deg: 0,
      avg_fps: 24,
      fps: 24,
      is_variable_frame_rate: false,
      nb_frames: 240,
      pix_fmt: 'yuv420p',
    });
    expect(probe.duration_sec).toBeCloseTo(10, 1);
    expect(probe.has_audio).toBe(false);
  });

  it('Sintel clip: one decode gives aligned gray and RGB streams', async () => {
    const probe = await probeVideo(SINTEL);
    const stream = streamFramesMulti(SINTEL, {
      fps: 4,
      probe,
      outputs: [
        { width: 64, height: 36, pixelFormat: 'gray' },
        { width: 320, height: 180, pixelFormat: 'rgb24' },
      ],
    });
    let count = 0;
    let previous: Uint8Array | null = null;
    let changes = 0;
    for await (const frame of stream) {
      expect(frame.timestamp_sec).toBeCloseTo(count / 4, 9);
      const gray = frame.data[0]!;
      if (previous) {
        let diff = 0;
        for (let i = 0; i < gray.length; i++) diff += Math.abs(gray[i]! - previous[i]!);
        if (diff / gray.length > 5) changes++;
      }
      previous = gray;
      count++;
    }
    expect(count).toBe(40);
    expect(changes).toBeGreaterThan(5); // a fight scene with many hard cuts
  });

  it('GRID clip (MPEG-1 in MPEG-PS, 360x288 with MP2 audio): probe, frames and audio', async () => {
    const probe = await probeVideo(GRID);
    expect(probe.format).toBe('mpeg');
    expect(probe.video).toMatchObject({ codec: 'mpeg1video', width: 360, height: 288, avg_fps: 25, is_variable_frame_rate: false, rotation_deg: 0 });
    expect(probe.duration_sec).toBeCloseTo(3, 1);
    expect(probe.audio_streams[0]).toMatchObject({ codec: 'mp2', sample_rate: 44100, channels: 2 });

    let count = 0;
    for await (const frame of streamFrames(GRID, { fps: 5, width: 180, height: 144, pixelFormat: 'rgb24', probe })) {
      expect(frame.data.length).toBe(180 * 144 * 3);
      count++;
    }
    expect(count).toBe(15);

    const audio = await extractAudio(GRID, { sampleRate: 16000, probe });
    expect(Math.abs(audio.num_samples - 48000)).toBeLessThan(48000 * 0.03);
    let energy = 0;
    for (const v of audio.samples) energy += v * v;
    expect(Math.sqrt(energy / audio.num_samples)).toBeGreaterThan(0.005); // speech, not silence
  });
});
