import { readdir, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrendflowError } from '../contracts/errors.js';
import { VideoFixtures } from '../../test/helpers/video-fixtures.js';
import { Downmixer, extractAudio, wavHeader } from './audio.js';
import { probeVideo } from './probe.js';

let fx: VideoFixtures;
beforeAll(async () => {
  fx = await VideoFixtures.create();
});
afterAll(async () => {
  await fx?.cleanup();
});

function rms(samples: Float32Array, from = 0, to = samples.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += (samples[i] as number) ** 2;
  return Math.sqrt(sum / Math.max(1, to - from));
}

/** Frequency from upward zero crossings over the middle of the signal. */
function frequency(samples: Float32Array, sampleRate: number): number {
  const from = Math.floor(samples.length * 0.1);
  const to = Math.floor(samples.length * 0.9);
  let crossings = 0;
  for (let i = from + 1; i < to; i++) if ((samples[i - 1] as number) < 0 && (samples[i] as number) >= 0) crossings++;
  return (crossings * sampleRate) / (to - from);
}

const SINE_RMS = 0.125 / Math.SQRT2; // lavfi sine: amplitude 1/8

describe('extractAudio', () => {
  it('decodes AAC from a video to mono float32 at 16 kHz', async () => {
    const result = await extractAudio(await fx.tone128x72(), { sampleRate: 16000 });
    expect(result.format).toBe('f32');
    expect(result.samples).toBeInstanceOf(Float32Array);
    expect(result.sample_rate).toBe(16000);
    expect(result.channels).toBe(1);
    expect(result.downmix).toBe('mean');
    expect(result.stream).toMatchObject({ codec: 'aac', channels: 2 });
    expect(Math.abs(result.num_samples - 32000)).toBeLessThan(32000 * 0.02);
    expect(result.samples.length).toBe(result.num_samples);
    expect(result.duration_sec).toBeCloseTo(result.num_samples / 16000, 9);
    expect(frequency(result.samples, 16000)).toBeCloseTo(440, -1);
    expect(rms(result.samples, 1600, 30000) / SINE_RMS).toBeGreaterThan(0.9);
    expect(rms(result.samples, 1600, 30000) / SINE_RMS).toBeLessThan(1.1);
  });

  it('downmixes as the mean of the channels and resamples to 48 kHz', async () => {
    const both = await extractAudio(await fx.wav('tone.wav'), { sampleRate: 48000 });
    const left = await extractAudio(await fx.wav('left_only.wav'), { sampleRate: 48000 });
    expect(both.num_samples).toBe(72000);
    expect(left.num_samples).toBe(72000);
    expect(rms(both.samples) / SINE_RMS).toBeCloseTo(1, 2);
    expect(rms(left.samples) / SINE_RMS).toBeCloseTo(0.5, 2);
    expect(frequency(both.samples, 48000)).toBeCloseTo(440, -1);
  });

  it('aligns samples to the timeline: audio that starts at 0.5 s is preceded by silence', async () => {
    const result = await extractAudio(await fx.offsetAudio(), { sampleRate: 16000 });
    expect(Math.abs(result.num_samples - 24000)).toBeLessThan(200);
    expect(rms(result.samples, 0, 7600)).toBeLessThan(1e-4);
    expect(rms(result.samples, 8400, 23000) / SINE_RMS).toBeGreaterThan(0.9);
  });

  it('extracts a range', async () => {
    const result = await extractAudio(await fx.wav('tone.wav'), { sampleRate: 16000, startSec: 0.5, durationSec: 0.5 });
    expect(result.num_samples).toBe(8000);
  });

  it('writes a float WAV atomically, and s16 on request', async () => {
    const out = fx.path('out f32 ✓.wav');
    const result = await extractAudio(await fx.wav('tone.wav'), { sampleRate: 16000, format: 'wav', outPath: out });
    expect(result).toMatchObject({ format: 'wav', path: out, sample_format: 'f32', num_samples: 24000 });
    const bytes = new Uint8Array(await readFile(out));
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('RIFF');
    expect(view.getUint32(4, true)).toBe(bytes.length - 8);
    expect(view.getUint16(20, true)).toBe(3); // IEEE float
    expect(view.getUint32(24, true)).toBe(16000);
    expect(String.fromCharCode(...bytes.subarray(50, 54))).toBe('data');
    expect(view.getUint32(54, true)).toBe(24000 * 4);
    expect(bytes.length).toBe(58 + 24000 * 4);
    expect((await readdir(fx.dir)).filter((name) => name.includes('.partial-'))).toEqual([]);

    const s16 = fx.path('out s16.wav');
    await extractAudio(await fx.wav('tone.wav'), { sampleRate: 16000, format: 'wav', outPath: s16, wavSampleFormat: 's16' });
    const pcm = new Uint8Array(await readFile(s16));
    const pcmView = new DataView(pcm.buffer, pcm.byteOffset);
    expect(pcmView.getUint16(20, true)).toBe(1);
    expect(pcmView.getUint16(34, true)).toBe(16);
    expect(pcm.length).toBe(44 + 24000 * 2);
    // ffmpeg reads our WAV back with the same number of samples.
    const back = await extractAudio(s16, { sampleRate: 16000 });
    expect(back.num_samples).toBe(24000);
    expect(rms(back.samples) / SINE_RMS).toBeCloseTo(1, 2);
  });

  it('returns WAV bytes when no outPath is given', async () => {
    const result = await extractAudio(await fx.wav('tone.wav'), { sampleRate: 8000, format: 'wav' });
    expect(result.bytes.length).toBe(58 + 12000 * 4);
    expect(result.bytes.subarray(0, 58)).toEqual(wavHeader(12000, 8000, 'f32'));
  });

  it('reuses a probe and selects a stream', async () => {
    const file = await fx.tone128x72();
    const probe = await probeVideo(file);
    const result = await extractAudio(file, { sampleRate: 16000, probe, streamIndex: 1 });
    expect(result.stream.index).toBe(1);
    await expect(extractAudio(file, { sampleRate: 16000, probe, streamIndex: 0 })).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('audio-less video → audio_missing', async () => {
    const file = await fx.colors();
    const error = (await extractAudio(file, { sampleRate: 16000 }).catch((e: unknown) => e)) as TrendflowError;
    expect(error).toBeInstanceOf(TrendflowError);
    expect(error.code).toBe('audio_missing');
    expect(error.details.path).toBe(file);
  });

  it('bad input → the input codes; ffmpeg failure → audio_extract_failed', async () => {
    await expect(extractAudio(fx.path('nope.mp4'), { sampleRate: 16000 })).rejects.toMatchObject({ code: 'video_not_found' });
    await expect(extractAudio(await fx.empty(), { sampleRate: 16000 })).rejects.toMatchObject({ code: 'video_empty_file' });
    await expect(extractAudio(await fx.randomBytes(), { sampleRate: 16000 })).rejects.toMatchObject({ code: 'video_unreadable' });
    const file = await fx.wav('tone.wav');
    const lying = { duration_sec: 1.5, audio_streams: [{ index: 3, codec: 'pcm_s16le', sample_rate: 48000, channels: 2, channel_layout: 'stereo', duration_sec: 1.5, start_time_sec: 0, is_default: true }] };
    const error = (await extractAudio(file, { sampleRate: 16000, probe: lying }).catch((e: unknown) => e)) as TrendflowError;
    expect(error.code).toBe('audio_extract_failed');
    expect(error.details.path).toBe(file);
  });

  it('leaves no partial WAV when extraction fails', async () => {
    const out = fx.path('failed.wav');
    const file = await fx.colors();
    const lying = { duration_sec: 3, audio_streams: [{ index: 4, codec: 'aac', sample_rate: 48000, channels: 1, channel_layout: 'mono', duration_sec: 3, start_time_sec: 0, is_default: true }] };
    await expect(extractAudio(file, { sampleRate: 16000, format: 'wav', outPath: out, probe: lying })).rejects.toMatchObject({ code: 'audio_extract_failed' });
    expect((await readdir(fx.dir)).filter((name) => name.startsWith('failed.wav'))).toEqual([]);
  });

  it('aborts via AbortSignal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(extractAudio(await fx.wav('tone.wav'), { sampleRate: 16000, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('validates the sample rate', async () => {
    await expect(extractAudio('x.wav', { sampleRate: 0 })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(extractAudio('x.wav', { sampleRate: 22050.5 })).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

describe('Downmixer', () => {
  it('averages interleaved frames split across arbitrary chunk boundaries', () => {
    const interleaved = new Float32Array([1, 3, -2, 2, 0.5, 0.25]);
    const bytes = new Uint8Array(interleaved.buffer);
    const mixer = new Downmixer(2);
    const parts = [mixer.push(bytes.subarray(0, 5)), mixer.push(bytes.subarray(5, 13)), mixer.push(bytes.subarray(13))];
    expect(Array.from(parts.flatMap((p) => Array.from(p)))).toEqual([2, 0, 0.375]);
    expect(mixer.leftoverBytes).toBe(0);
  });
});
