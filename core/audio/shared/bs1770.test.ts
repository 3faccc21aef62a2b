import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeMedia } from '../../video/probe.js';
import { locateFfmpeg } from '../../video/tools.js';
import { VideoFixtures } from '../../../test/helpers/video-fixtures.js';
import { kWeightingFilters, LoudnessMeter, type LoudnessMeasurement } from './bs1770.js';
import { channelLayout, streamChannels } from './channels.js';

const run = promisify(execFile);
const MEDIA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/media');
let fixtures: VideoFixtures;

beforeAll(async () => {
  fixtures = await VideoFixtures.create();
});
afterAll(async () => fixtures?.cleanup());

/** Measures the first audio stream of `file` the way loudness_extractor does: every channel, BS.1770 weights. */
async function measureFile(file: string): Promise<LoudnessMeasurement> {
  const stream = (await probeMedia(file)).audio_streams[0]!;
  const layout = await channelLayout(stream);
  const meter = new LoudnessMeter(stream.sample_rate!, layout.weights);
  await streamChannels(file, stream, (chunk) => meter.push(chunk));
  return meter.finish();
}

/** A 1 kHz sine whose peak is at `dbfs`, as an ffmpeg expression. */
function sine(dbfs: number, hz = 1000): string {
  return `${10 ** (dbfs / 20)}*sin(2*PI*${hz}*t)`;
}

/** ffmpeg's ebur128 summary of a file: integrated loudness, loudness range, true peak. */
async function ffmpegEbur128(file: string): Promise<{ integrated: number; lra: number; truePeak: number }> {
  const ffmpeg = await locateFfmpeg();
  const { stderr } = await run(ffmpeg.path, ['-hide_banner', '-nostats', '-i', file, '-map', '0:a:0', '-af', 'ebur128=peak=true', '-f', 'null', '-'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  const value = (label: string): number => Number(new RegExp(`${label}:\\s+(-?[\\d.]+|-inf)`).exec(summary)![1]);
  return { integrated: value('I'), lra: value('LRA'), truePeak: value('Peak') };
}

function steadyValues(series: Float64Array, skip: number): number[] {
  return Array.from(series).slice(skip, series.length - skip);
}

describe('K-weighting', () => {
  it('at 48 kHz equals the coefficients of BS.1770-4 Tables 1 and 2', () => {
    const [shelf, highPass] = kWeightingFilters(48_000);
    expect(shelf.b0).toBeCloseTo(1.53512485958697, 10);
    expect(shelf.b1).toBeCloseTo(-2.69169618940638, 10);
    expect(shelf.b2).toBeCloseTo(1.19839281085285, 10);
    expect(shelf.a1).toBeCloseTo(-1.69065929318241, 10);
    expect(shelf.a2).toBeCloseTo(0.73248077421585, 10);
    expect([highPass.b0, highPass.b1, highPass.b2]).toEqual([1, -2, 1]);
    expect(highPass.a1).toBeCloseTo(-1.99004745483398, 10);
    expect(highPass.a2).toBeCloseTo(0.99007225036621, 10);
  });
});

describe('EBU Tech 3341-style signals', () => {
  it.each([
    [48_000, -23],
    [44_100, -23],
    [48_000, -33],
    [44_100, -33],
  ])('a 1 kHz stereo sine at %i Hz and %i dBFS reads that many LUFS: integrated, momentary and short-term', async (rate, dbfs) => {
    const file = await fixtures.synthWav([sine(dbfs), sine(dbfs)], rate, 6);
    const m = await measureFile(file);
    expect(m.channels).toBe(2);
    expect(m.sampleRate).toBe(rate);
    expect(Math.abs(m.integratedLufs - dbfs)).toBeLessThan(0.1);
    // the first windows hold the filters' settling; the last ones are whole too
    for (const value of steadyValues(m.momentary.lufs, 2)) expect(Math.abs(value - dbfs)).toBeLessThan(0.1);
    for (const value of steadyValues(m.shortTerm.lufs, 1)) expect(Math.abs(value - dbfs)).toBeLessThan(0.1);
    expect(m.momentary.lufs.length).toBe(60 - 3);
    expect(m.shortTerm.lufs.length).toBe(60 - 29);
    expect(m.momentary.timesSec[0]).toBeCloseTo(0.2, 9);
    expect(m.shortTerm.timesSec[0]).toBeCloseTo(1.5, 9);
    // a steady tone has no loudness range; its sample peak is the sine's
    expect(m.loudnessRangeLu).toBeLessThan(0.1);
    expect(20 * Math.log10(m.samplePeak)).toBeCloseTo(dbfs, 2);
  });

  it('one mono channel of the same sine reads 3 dB lower (BS.1770 sums channel powers)', async () => {
    const m = await measureFile(await fixtures.synthWav([sine(-23)], 48_000, 6));
    expect(m.integratedLufs).toBeCloseTo(-26.01, 1);
  });

  it('gates out a quiet part below the relative gate (4 s at −36, 12 s at −23, 4 s at −36 dBFS → −23 LUFS)', async () => {
    const level = `if(lt(t,4),${10 ** (-36 / 20)},if(lt(t,16),${10 ** (-23 / 20)},${10 ** (-36 / 20)}))`;
    const m = await measureFile(await fixtures.synthWav([`${level}*sin(2*PI*1000*t)`, `${level}*sin(2*PI*1000*t)`], 48_000, 20));
    expect(Math.abs(m.integratedLufs - -23)).toBeLessThan(0.1);
    expect(m.relativeGateLufs).toBeGreaterThan(-36);
  });

  it('gates out a long quiet part below the absolute gate: 10 s at −23 dBFS then 10 s at −80 dBFS → −23 LUFS', async () => {
    const level = `if(lt(t,10),${10 ** (-23 / 20)},${10 ** (-80 / 20)})`;
    const m = await measureFile(await fixtures.synthWav([`${level}*sin(2*PI*1000*t)`, `${level}*sin(2*PI*1000*t)`], 48_000, 20));
    expect(Math.abs(m.integratedLufs - -23)).toBeLessThan(0.1);
    // ungated, the mean energy would read 3 dB lower
    const ungated = -0.691 + 10 * Math.log10(m.momentary.lufs.reduce((sum, l) => sum + 10 ** ((l + 0.691) / 10), 0) / m.momentary.lufs.length);
    expect(ungated).toBeLessThan(-25.8);
    expect(Math.min(...m.momentary.lufs)).toBeLessThan(-75);
  });

  it('true peak sees the inter-sample peak of a 12 kHz sine sampled at ±45° (sample peak −3 dBFS, true peak 0 dBTP)', async () => {
    const m = await measureFile(await fixtures.synthWav(['sin(2*PI*12000*t+PI/4)'], 48_000, 2));
    expect(20 * Math.log10(m.samplePeak)).toBeCloseTo(-3.01, 1);
    const truePeakDb = 20 * Math.log10(m.truePeak);
    // EBU Tech 3341's tolerance for true-peak meters: +0.2 / −0.4 dB
    expect(truePeakDb).toBeGreaterThan(-0.4);
    expect(truePeakDb).toBeLessThan(0.2);
  });

  it('digital silence reads −∞ in every window and has no integrated loudness', async () => {
    const m = await measureFile(await fixtures.synthWav(['0', '0'], 48_000, 4));
    expect(Number.isNaN(m.integratedLufs)).toBe(true);
    expect(Number.isNaN(m.loudnessRangeLu)).toBe(true);
    expect(m.momentary.lufs.every((l) => l === -Infinity)).toBe(true);
    expect(m.samplePeak).toBe(0);
    expect(m.truePeak).toBe(0);
  });
});

describe('channel weights', () => {
  it('follow BS.1770-4: LFE 0, surrounds 1.41, the rest 1.0; an unknown layout weights all channels 1.0', async () => {
    expect((await channelLayout({ channels: 2, channel_layout: 'stereo' })).weights).toEqual([1, 1]);
    expect(await channelLayout({ channels: 6, channel_layout: '5.1' })).toEqual({ names: ['FL', 'FR', 'FC', 'LFE', 'BL', 'BR'], weights: [1, 1, 1, 0, 1.41, 1.41] });
    expect((await channelLayout({ channels: 6, channel_layout: '5.1(side)' })).weights).toEqual([1, 1, 1, 0, 1.41, 1.41]);
    // 7.1: the side pair is the surround pair; the back pair stands behind it
    expect((await channelLayout({ channels: 8, channel_layout: '7.1' })).weights).toEqual([1, 1, 1, 0, 1, 1, 1.41, 1.41]);
    expect(await channelLayout({ channels: 3, channel_layout: null })).toEqual({ names: null, weights: [1, 1, 1] });
  });

  it('a sine in a surround channel of a 5.1 stream reads 1.49 dB louder than the same sine in the left channel', async () => {
    const meter = (weights: number[], channel: number): number => {
      const m = new LoudnessMeter(48_000, weights);
      const frames = 48_000 * 3;
      const samples = new Float32Array(frames * weights.length);
      for (let n = 0; n < frames; n++) samples[n * weights.length + channel] = 0.1 * Math.sin((2 * Math.PI * 1000 * n) / 48_000);
      m.push(samples);
      return m.finish().integratedLufs;
    };
    const weights = [1, 1, 1, 0, 1.41, 1.41];
    expect(meter(weights, 4) - meter(weights, 0)).toBeCloseTo(10 * Math.log10(1.41), 3);
    expect(Number.isNaN(meter(weights, 3))).toBe(true); // LFE only: nothing counts
  });
});

describe('streaming', () => {
  it('gives the same result whatever the chunk sizes', () => {
    const rate = 44_100;
    const frames = rate * 5;
    const samples = new Float32Array(frames * 2);
    let seed = 7;
    for (let i = 0; i < samples.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      samples[i] = (seed / 2 ** 32 - 0.5) * Math.exp(-i / samples.length);
    }
    const whole = new LoudnessMeter(rate, [1, 1]);
    whole.push(samples);
    const a = whole.finish();
    const pieces = new LoudnessMeter(rate, [1, 1]);
    for (let start = 0, size = 1; start < frames; start += size, size = (size * 7) % 4093 || 1) {
      pieces.push(samples.subarray(start * 2, Math.min(frames, start + size) * 2));
    }
    const b = pieces.finish();
    expect(b.integratedLufs).toBe(a.integratedLufs);
    expect(b.truePeak).toBe(a.truePeak);
    expect(Array.from(b.shortTerm.lufs)).toEqual(Array.from(a.shortTerm.lufs));
    expect(b.frames).toBe(frames);
  });
});

describe('agreement with ffmpeg’s ebur128 filter on real recordings', () => {
  it.each(['librosa_Kevin_MacLeod_-_Vibe_Ace.hq.ogg', 'librosa_5703-47212-0000.hq.ogg', 'grid_bbaf2n.mpg'])('%s: integrated loudness within 0.2 LU', async (name) => {
    const file = path.join(MEDIA, name);
    const [ours, theirs] = await Promise.all([measureFile(file), ffmpegEbur128(file)]);
    expect(Math.abs(ours.integratedLufs - theirs.integrated)).toBeLessThan(0.2);
    // ffmpeg prints the range and the peak to 0.1; it measures true peak on a 192 kHz resampling
    if (ours.durationSec >= 3) expect(Math.abs(ours.loudnessRangeLu - theirs.lra)).toBeLessThan(0.5);
    // under 3 s there is no short-term value: the range is undefined (ffmpeg prints 0)
    else expect(Number.isNaN(ours.loudnessRangeLu) && theirs.lra === 0).toBe(true);
    expect(Math.abs(20 * Math.log10(ours.truePeak) - theirs.truePeak)).toBeLessThan(0.3);
  });
});
