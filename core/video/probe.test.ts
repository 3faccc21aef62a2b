import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrendflowError, type ErrorCode } from '../contracts/errors.js';
import { VideoFixtures } from '../../test/helpers/video-fixtures.js';
import { probeMedia, probeVideo } from './probe.js';

let fx: VideoFixtures;
beforeAll(async () => {
  fx = await VideoFixtures.create();
});
afterAll(async () => {
  await fx?.cleanup();
});

async function expectCode(promise: Promise<unknown>, code: ErrorCode, file: string): Promise<TrendflowError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(TrendflowError);
  const coded = error as TrendflowError;
  expect(coded.code, coded.message).toBe(code);
  // the path travels in details (toLine prints it once), never repeated in the message
  expect(coded.details.path).toBe(file);
  expect(coded.message).not.toContain(file);
  expect(coded.toLine().startsWith(`${file}: ${code}: `)).toBe(true);
  return coded;
}

describe('probeVideo: good files', () => {
  it('describes a constant-rate H.264 file', async () => {
    const file = await fx.colors();
    const probe = await probeVideo(file);
    expect(probe.path).toBe(file);
    expect(probe.format).toContain('mp4');
    expect(probe.duration_sec).toBeCloseTo(3, 1);
    expect(probe.size_bytes).toBeGreaterThan(0);
    expect(probe.video).toMatchObject({
      codec: 'h264',
      width: 64,
      height: 48,
      display_width: 64,
      display_height: 48,
      rotation_deg: 0,
      rotation_source: 'none',
      avg_fps: 10,
      r_fps: 10,
      fps: 10,
      is_variable_frame_rate: false,
      nb_frames: 30,
      pix_fmt: 'yuv420p',
      sample_aspect_ratio: 1,
    });
    expect(probe.video.duration_sec).toBeCloseTo(3, 1);
    expect(probe.video.frame_rate_check.method).toBe('packet_timestamps_whole_file');
    expect(probe.video.frame_rate_check.median_interval_sec).toBeCloseTo(0.1, 6);
    expect(probe.has_audio).toBe(false);
    expect(probe.audio_streams).toEqual([]);
  });

  it('lists audio streams', async () => {
    const probe = await probeVideo(await fx.tone128x72());
    expect(probe.video).toMatchObject({ width: 128, height: 72, avg_fps: 25 });
    expect(probe.has_audio).toBe(true);
    expect(probe.audio_streams).toHaveLength(1);
    expect(probe.audio_streams[0]).toMatchObject({ codec: 'aac', sample_rate: 48000, channels: 2, index: 1 });
    expect(probe.audio_streams[0]?.duration_sec).toBeCloseTo(2, 1);
  });

  it('reads the display rotation and swaps the display size', async () => {
    const probe = await probeVideo(await fx.rotated());
    expect(probe.video.width).toBe(80);
    expect(probe.video.height).toBe(48);
    expect([90, 270]).toContain(probe.video.rotation_deg);
    expect(probe.video.rotation_source).not.toBe('none');
    expect(probe.video.display_width).toBe(48);
    expect(probe.video.display_height).toBe(80);
  });

  it('detects variable frame rate from packet timestamps (short file: every packet read)', async () => {
    const probe = await probeVideo(await fx.vfr());
    expect(probe.video.is_variable_frame_rate).toBe(true);
    const check = probe.video.frame_rate_check;
    expect(check.method).toBe('packet_timestamps_whole_file');
    expect(check.irregular_intervals).toBe(true);
    expect(check.min_interval_sec).toBeCloseTo(0.01, 3);
    expect(check.max_interval_sec).toBeCloseTo(0.1, 3);
    expect(probe.video.duration_sec).toBeGreaterThan(2.9);
    expect(probe.video.nb_frames).toBe(103 + 25 + 10);
    expect(probe.video.fps).toBeGreaterThan(40);
    expect(probe.video.fps).toBeLessThan(50);
  });

  it('samples windows of long files: constant rate stays constant', async () => {
    const probe = await probeVideo(await fx.cfrLong());
    expect(probe.video.frame_rate_check.method).toBe('packet_timestamps_sampled');
    expect(probe.video.is_variable_frame_rate).toBe(false);
    expect(probe.video.fps).toBe(50);
    expect(probe.video.duration_sec).toBeCloseTo(14, 1);
  });

  it('samples windows of long files: B-frame reordering at a window edge is not a variable rate', async () => {
    const probe = await probeVideo(await fx.cfrLongBFrames());
    expect(probe.video.frame_rate_check.method).toBe('packet_timestamps_sampled');
    expect(probe.video.is_variable_frame_rate).toBe(false);
    expect(probe.video.fps).toBe(30);
  });

  it('samples windows of long files: a slower middle is variable frame rate', async () => {
    const probe = await probeVideo(await fx.vfrLong());
    expect(probe.video.frame_rate_check.method).toBe('packet_timestamps_sampled');
    expect(probe.video.is_variable_frame_rate).toBe(true);
    expect(probe.video.frame_rate_check.windows_disagree || probe.video.frame_rate_check.irregular_intervals).toBe(true);
    // Matroska has no per-stream duration: it is measured from the last packets.
    expect(probe.video.duration_sec).toBeCloseTo(16, 0);
  });

  it('works with non-ASCII names and with names that look like options or protocols', async () => {
    for (const file of [await fx.nonAscii(), await fx.awkwardName()]) {
      const probe = await probeVideo(file);
      expect(probe.path).toBe(file);
      expect(probe.video.nb_frames).toBe(30);
    }
  });
});

describe('probeVideo: bad input gets a coded error naming the file', () => {
  it('missing file → video_not_found', async () => {
    const file = fx.path('does-not-exist.mp4');
    await expectCode(probeVideo(file), 'video_not_found', file);
  });

  it('empty file → video_empty_file', async () => {
    const file = await fx.empty();
    await expectCode(probeVideo(file), 'video_empty_file', file);
  });

  it('a directory → video_unreadable', async () => {
    await expectCode(probeVideo(fx.dir), 'video_unreadable', fx.dir);
  });

  it('random bytes → video_unreadable', async () => {
    const file = await fx.randomBytes();
    await expectCode(probeVideo(file), 'video_unreadable', file);
  });

  it('a text file → video_unreadable (whatever its extension)', async () => {
    for (const name of ['notes.txt', 'notes.mp4'] as const) {
      const file = await fx.textFile(name);
      await expectCode(probeVideo(file), 'video_unreadable', file);
    }
  });

  it('truncated MP4 without its index, or with part of it → video_unreadable', async () => {
    for (const file of [await fx.truncatedIndexMissing(), await fx.truncatedIndexPartial()]) {
      await expectCode(probeVideo(file), 'video_unreadable', file);
    }
  });

  it('truncated MP4 whose index promises more than the file holds → video_truncated', async () => {
    const file = await fx.truncatedFaststart();
    const error = await expectCode(probeVideo(file), 'video_truncated', file);
    expect(error.message).toMatch(/promises 3 s/);
  });

  it('audio-only WAV and M4A → video_no_video_stream', async () => {
    for (const file of [await fx.wav('tone.wav'), await fx.m4a()]) {
      const error = await expectCode(probeVideo(file), 'video_no_video_stream', file);
      expect(error.message).toMatch(/audio/);
    }
  });

  it('MP3 with cover art → video_no_video_stream', async () => {
    const file = await fx.mp3WithCover();
    const error = await expectCode(probeVideo(file), 'video_no_video_stream', file);
    expect(error.message).toMatch(/cover art/);
  });

  it('a still image → video_no_video_stream', async () => {
    const file = await fx.stillImage();
    const error = await expectCode(probeVideo(file), 'video_no_video_stream', file);
    expect(error.message).toMatch(/still image/);
  });

  it('zero duration → video_zero_duration', async () => {
    const file = await fx.zeroDuration();
    await expectCode(probeVideo(file), 'video_zero_duration', file);
  });

  it('an empty path → invalid_argument', async () => {
    await expect(probeVideo('')).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

describe('probeMedia', () => {
  it('accepts audio-only files and lists cover art as a non-video picture', async () => {
    const wav = await probeMedia(await fx.wav('tone.wav'));
    expect(wav.video_streams).toEqual([]);
    expect(wav.audio_streams[0]).toMatchObject({ codec: 'pcm_s16le', sample_rate: 48000, channels: 2 });
    const mp3 = await probeMedia(await fx.mp3WithCover());
    expect(mp3.video_streams).toEqual([expect.objectContaining({ codec: 'png', is_attached_picture: true })]);
    expect(mp3.has_audio).toBe(true);
  });

  it('still fails on unreadable input', async () => {
    const file = await fx.randomBytes();
    await expectCode(probeMedia(file), 'video_unreadable', file);
  });
});
