/**
 * Audio extraction: one audio stream decoded by ffmpeg, resampled, downmixed to mono as the mean of its channels
 * (what librosa's `to_mono` does), aligned to the container timeline, returned as float32 samples or written as a
 * WAV file. See README.md ("Audio").
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import path from 'node:path';
import { TrendflowError } from '../contracts/errors.js';
import { checkInputFile, describeExit, ffmpegInput, StderrTail } from './process.js';
import { probeMedia, type AudioStreamInfo } from './probe.js';
import { locateFfmpeg } from './tools.js';

export type WavSampleFormat = 'f32' | 's16';

export interface ExtractAudioBaseOptions {
  /** Output sample rate in Hz (16000 and 48000 are the usual; any integer in [1, 768000]). */
  sampleRate: number;
  /** Start of the extracted range on the timeline, seconds (default 0). */
  startSec?: number;
  /** Length of the extracted range, seconds (default: to the end). */
  durationSec?: number;
  /** Absolute index of the audio stream (default: the first audio stream). */
  streamIndex?: number;
  /** A probe of the same file (`probeVideo` or `probeMedia` result) to avoid probing again. */
  probe?: { audio_streams: AudioStreamInfo[]; duration_sec: number | null };
  /** Aborting kills ffmpeg and rejects with the signal's reason. */
  signal?: AbortSignal;
}

interface AudioResultBase {
  sample_rate: number;
  channels: 1;
  num_samples: number;
  duration_sec: number;
  /** The decoded stream. */
  stream: AudioStreamInfo;
  /** `mean`: the mean of the source channels; `ffmpeg`: ffmpeg's default downmix (the channel count was unknown). */
  downmix: 'mean' | 'ffmpeg';
  /** Error lines ffmpeg logged in a run that still succeeded. */
  warnings: string[];
}

export interface AudioSamples extends AudioResultBase {
  format: 'f32';
  samples: Float32Array;
}

export interface WavFile extends AudioResultBase {
  format: 'wav';
  path: string;
  sample_format: WavSampleFormat;
}

export interface WavBytes extends AudioResultBase {
  format: 'wav';
  bytes: Uint8Array;
  sample_format: WavSampleFormat;
}

export type ExtractAudioOptions = ExtractAudioBaseOptions & {
  format?: 'f32' | 'wav';
  outPath?: string;
  wavSampleFormat?: WavSampleFormat;
};

const MAX_SAMPLE_RATE = 768_000;
const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Extract mono audio. Errors (all name the file): `video_not_found`, `video_empty_file`, `video_unreadable`
 * (input problems), `audio_missing` (no audio stream), `audio_extract_failed` (ffmpeg failed, no samples decoded,
 * or the WAV could not be written), `invalid_argument`, `ffmpeg_not_found`.
 */
export function extractAudio(file: string, options: ExtractAudioBaseOptions & { format?: 'f32' }): Promise<AudioSamples>;
export function extractAudio(
  file: string,
  options: ExtractAudioBaseOptions & { format: 'wav'; outPath: string; wavSampleFormat?: WavSampleFormat },
): Promise<WavFile>;
export function extractAudio(
  file: string,
  options: ExtractAudioBaseOptions & { format: 'wav'; outPath?: undefined; wavSampleFormat?: WavSampleFormat },
): Promise<WavBytes>;
export function extractAudio(file: string, options: ExtractAudioOptions): Promise<AudioSamples | WavFile | WavBytes>;
export async function extractAudio(file: string, options: ExtractAudioOptions): Promise<AudioSamples | WavFile | WavBytes> {
  const { sampleRate, startSec, durationSec, signal } = options;
  const format = options.format ?? 'f32';
  const wavSampleFormat = options.wavSampleFormat ?? 'f32';
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > MAX_SAMPLE_RATE) {
    throw new TrendflowError('invalid_argument', `sampleRate must be an integer in [1, ${MAX_SAMPLE_RATE}], got ${sampleRate}`, { path: file });
  }
  if (format !== 'f32' && format !== 'wav') throw new TrendflowError('invalid_argument', `format must be 'f32' or 'wav'`, { path: file });
  if (wavSampleFormat !== 'f32' && wavSampleFormat !== 's16') throw new TrendflowError('invalid_argument', `wavSampleFormat must be 'f32' or 's16'`, { path: file });
  if (startSec !== undefined && (!Number.isFinite(startSec) || startSec < 0)) throw new TrendflowError('invalid_argument', `startSec must be ≥ 0`, { path: file });
  if (durationSec !== undefined && (!Number.isFinite(durationSec) || durationSec <= 0)) throw new TrendflowError('invalid_argument', `durationSec must be > 0`, { path: file });
  signal?.throwIfAborted();

  const input = await checkInputFile(file);
  const probe = options.probe ?? (await probeMedia(input.path, signal ? { signal } : {}));
  if (probe.audio_streams.length === 0) {
    throw new TrendflowError('audio_missing', `has no audio stream`, { path: input.path });
  }
  let stream: AudioStreamInfo | undefined = probe.audio_streams[0];
  if (options.streamIndex !== undefined) {
    stream = probe.audio_streams.find((s) => s.index === options.streamIndex);
    if (!stream) {
      const have = probe.audio_streams.map((s) => s.index).join(', ');
      throw new TrendflowError('invalid_argument', `stream ${options.streamIndex} is not an audio stream (audio streams: ${have})`, { path: input.path });
    }
  }
  if (!stream) throw new TrendflowError('audio_missing', `has no audio stream`, { path: input.path });

  const channels = stream.channels !== null && stream.channels >= 1 ? stream.channels : null;
  const ffmpeg = await locateFfmpeg();
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error'];
  if (startSec !== undefined && startSec > 0) args.push('-ss', startSec.toFixed(6));
  if (durationSec !== undefined) args.push('-t', durationSec.toFixed(6));
  args.push(
    '-i',
    ffmpegInput(input.path),
    '-map',
    `0:${stream.index}`,
    '-vn',
    '-sn',
    '-dn',
    // Resample, fill gaps and pad the start with silence so that sample i is at time startSec + i / sampleRate.
    '-af',
    `aresample=${sampleRate}:async=1:first_pts=0`,
    '-ac',
    String(channels ?? 1),
    '-ar',
    String(sampleRate),
    '-c:a',
    'pcm_f32le',
    '-f',
    'f32le',
    'pipe:1',
  );

  const expectedSec = durationSec ?? stream.duration_sec ?? probe.duration_sec ?? 60;
  const sink: SampleSink =
    format === 'wav' && options.outPath !== undefined
      ? await WavFileSink.create(options.outPath, sampleRate, wavSampleFormat, input.path)
      : new MemorySink(Math.ceil(expectedSec * sampleRate) + sampleRate);
  let warnings: string[];
  try {
    warnings = await decode(ffmpeg.path, args, channels ?? 1, sink, input.path, signal);
  } catch (error) {
    await sink.abandon();
    throw error;
  }
  if (sink.count === 0) {
    await sink.abandon();
    throw new TrendflowError('audio_extract_failed', `audio stream ${stream.index} (${stream.codec}) decoded to no samples`, { path: input.path });
  }
  const base: AudioResultBase = {
    sample_rate: sampleRate,
    channels: 1,
    num_samples: sink.count,
    duration_sec: sink.count / sampleRate,
    stream,
    downmix: channels === null ? 'ffmpeg' : 'mean',
    warnings,
  };
  if (sink instanceof WavFileSink) {
    const written = await sink.finish();
    return { ...base, format: 'wav', path: written, sample_format: wavSampleFormat };
  }
  const samples = (sink as MemorySink).samples();
  if (format === 'wav') {
    return { ...base, format: 'wav', bytes: encodeWav(samples, sampleRate, wavSampleFormat), sample_format: wavSampleFormat };
  }
  return { ...base, format: 'f32', samples };
}

/** Run ffmpeg, turning its interleaved float32 output into mono samples for the sink. */
async function decode(
  executable: string,
  args: string[],
  channels: number,
  sink: SampleSink,
  file: string,
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const child = spawn(executable, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
  const stderr = new StderrTail(child.stderr);
  let spawnError: Error | null = null;
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, exitSignal) => resolve({ code, signal: exitSignal }));
    child.on('error', (error) => {
      spawnError = error;
      resolve({ code: null, signal: null });
    });
  });
  const onAbort = (): void => {
    child.kill('SIGKILL');
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const downmix = new Downmixer(channels);
  let finished = false;
  try {
    for await (const chunk of child.stdout) {
      const mono = downmix.push(chunk as Buffer);
      if (mono.length > 0) await sink.write(mono);
    }
    const exit = await closed;
    finished = true;
    if (signal?.aborted) throw signal.reason;
    if (spawnError) {
      throw new TrendflowError('audio_extract_failed', `could not start ffmpeg (${executable}): ${(spawnError as Error).message}`, { path: file });
    }
    if (exit.code !== 0 || exit.signal) {
      throw new TrendflowError('audio_extract_failed', `ffmpeg failed extracting audio (${describeExit(exit.code, exit.signal)}): ${stderr.summary(6, file)}`, {
        path: file,
      });
    }
    if (downmix.leftoverBytes !== 0) {
      throw new TrendflowError('audio_extract_failed', `ffmpeg's audio output ended in the middle of a sample`, { path: file });
    }
    return stderr.lines();
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!finished) {
      child.kill('SIGKILL');
      await closed;
    }
  }
}

/** Interleaved little-endian float32 frames of `channels` samples → the mean of each frame. */
export class Downmixer {
  private leftover = new Uint8Array(0);
  private readonly frameBytes: number;

  constructor(private readonly channels: number) {
    this.frameBytes = 4 * channels;
  }

  get leftoverBytes(): number {
    return this.leftover.length;
  }

  push(chunk: Uint8Array): Float32Array {
    let bytes = chunk;
    if (this.leftover.length > 0) {
      bytes = new Uint8Array(this.leftover.length + chunk.length);
      bytes.set(this.leftover, 0);
      bytes.set(chunk, this.leftover.length);
    }
    const frames = Math.floor(bytes.length / this.frameBytes);
    const used = frames * this.frameBytes;
    this.leftover = bytes.slice(used);
    const out = new Float32Array(frames);
    if (frames === 0) return out;
    const { channels } = this;
    if (LITTLE_ENDIAN) {
      // Copy into an aligned buffer (a Buffer chunk may start at any byte offset) and read it as floats.
      const interleaved = new Float32Array(frames * channels);
      new Uint8Array(interleaved.buffer).set(bytes.subarray(0, used));
      if (channels === 1) return interleaved;
      for (let i = 0, j = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += interleaved[j++] as number;
        out[i] = sum / channels;
      }
    } else {
      const view = new DataView(bytes.buffer, bytes.byteOffset, used);
      for (let i = 0, offset = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++, offset += 4) sum += view.getFloat32(offset, true);
        out[i] = sum / channels;
      }
    }
    return out;
  }
}

interface SampleSink {
  readonly count: number;
  write(samples: Float32Array): Promise<void>;
  abandon(): Promise<void>;
}

class MemorySink implements SampleSink {
  private buffer: Float32Array;
  count = 0;

  constructor(initialCapacity: number) {
    this.buffer = new Float32Array(Math.max(1024, initialCapacity));
  }

  async write(samples: Float32Array): Promise<void> {
    if (this.count + samples.length > this.buffer.length) {
      const grown = new Float32Array(Math.max(this.count + samples.length, Math.ceil(this.buffer.length * 1.5)));
      grown.set(this.buffer.subarray(0, this.count));
      this.buffer = grown;
    }
    this.buffer.set(samples, this.count);
    this.count += samples.length;
  }

  samples(): Float32Array {
    return this.buffer.length === this.count ? this.buffer : this.buffer.slice(0, this.count);
  }

  async abandon(): Promise<void> {
    this.buffer = new Float32Array(0);
  }
}

/** Writes a WAV next to its destination under a temporary name and renames it into place when complete. */
class WavFileSink implements SampleSink {
  count = 0;
  private offset: number;

  private constructor(
    private readonly handle: FileHandle,
    private readonly temp: string,
    private readonly destination: string,
    private readonly sampleRate: number,
    private readonly sampleFormat: WavSampleFormat,
    private readonly source: string,
  ) {
    this.offset = wavHeader(0, sampleRate, sampleFormat).length;
  }

  static async create(outPath: string, sampleRate: number, sampleFormat: WavSampleFormat, source: string): Promise<WavFileSink> {
    if (typeof outPath !== 'string' || outPath === '') throw new TrendflowError('invalid_argument', `outPath must be a file path`, { path: source });
    const destination = path.resolve(outPath);
    const temp = `${destination}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
    let handle: FileHandle;
    try {
      handle = await open(temp, 'wx');
    } catch (error) {
      throw new TrendflowError('audio_extract_failed', `cannot create ${destination}: ${(error as Error).message}`, {
        path: source,
        cause: error,
      });
    }
    const sink = new WavFileSink(handle, temp, destination, sampleRate, sampleFormat, source);
    await sink.guard(() => handle.write(wavHeader(0, sampleRate, sampleFormat), 0, undefined, 0));
    return sink;
  }

  private async guard<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      await this.abandon();
      throw new TrendflowError('audio_extract_failed', `writing ${this.destination} failed: ${(error as Error).message}`, {
        path: this.source,
        cause: error,
      });
    }
  }

  async write(samples: Float32Array): Promise<void> {
    const bytes = encodeSamples(samples, this.sampleFormat);
    const bytesPerSample = this.sampleFormat === 'f32' ? 4 : 2;
    if ((this.count + samples.length) * bytesPerSample > 0xffff_ffff - 64) {
      await this.abandon();
      throw new TrendflowError('audio_extract_failed', `the audio is too long for a WAV file (4 GiB limit)`, { path: this.source });
    }
    await this.guard(() => this.handle.write(bytes, 0, bytes.length, this.offset));
    this.offset += bytes.length;
    this.count += samples.length;
  }

  /** Write the final header, close and rename into place; returns the destination path. */
  async finish(): Promise<string> {
    await this.guard(async () => {
      const header = wavHeader(this.count, this.sampleRate, this.sampleFormat);
      await this.handle.write(header, 0, header.length, 0);
      await this.handle.sync();
      await this.handle.close();
      await rename(this.temp, this.destination);
    });
    return this.destination;
  }

  async abandon(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await unlink(this.temp).catch(() => undefined);
  }
}

function encodeSamples(samples: Float32Array, sampleFormat: WavSampleFormat): Uint8Array {
  const bytesPerSample = sampleFormat === 'f32' ? 4 : 2;
  const out = new Uint8Array(samples.length * bytesPerSample);
  const view = new DataView(out.buffer);
  if (sampleFormat === 'f32') {
    for (let i = 0; i < samples.length; i++) view.setFloat32(i * 4, samples[i] as number, true);
  } else {
    for (let i = 0; i < samples.length; i++) {
      const scaled = Math.round((samples[i] as number) * 32767);
      view.setInt16(i * 2, scaled > 32767 ? 32767 : scaled < -32768 ? -32768 : scaled, true);
    }
  }
  return out;
}

/**
 * A mono WAV header. s16: PCM (format tag 1, 44 bytes). f32: IEEE float (format tag 3) with the 18-byte fmt chunk
 * and the fact chunk the spec requires for non-PCM data (58 bytes).
 */
export function wavHeader(numSamples: number, sampleRate: number, sampleFormat: WavSampleFormat): Uint8Array {
  const float = sampleFormat === 'f32';
  const bytesPerSample = float ? 4 : 2;
  const dataBytes = numSamples * bytesPerSample;
  const fmtSize = float ? 18 : 16;
  const headerBytes = 12 + 8 + fmtSize + (float ? 12 : 0) + 8;
  const out = new Uint8Array(headerBytes);
  const view = new DataView(out.buffer);
  const ascii = (offset: number, text: string): void => {
    for (let i = 0; i < text.length; i++) out[offset + i] = text.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, headerBytes - 8 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, fmtSize, true);
  view.setUint16(20, float ? 3 : 1, true);
  view.setUint16(22, 1, true); // channels
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * bytesPerSample, true);
  view.setUint16(32, bytesPerSample, true); // block align
  view.setUint16(34, bytesPerSample * 8, true);
  let offset = 36;
  if (float) {
    view.setUint16(36, 0, true); // cbSize
    ascii(38, 'fact');
    view.setUint32(42, 4, true);
    view.setUint32(46, numSamples, true);
    offset = 50;
  }
  ascii(offset, 'data');
  view.setUint32(offset + 4, dataBytes, true);
  return out;
}

/** A complete mono WAV file in memory. */
export function encodeWav(samples: Float32Array, sampleRate: number, sampleFormat: WavSampleFormat): Uint8Array {
  const header = wavHeader(samples.length, sampleRate, sampleFormat);
  const body = encodeSamples(samples, sampleFormat);
  const out = new Uint8Array(header.length + body.length);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
}
