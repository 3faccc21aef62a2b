/**
 * An audio stream's own channels, streamed from ffmpeg, and their BS.1770 weights.
 *
 * core/video's `extractAudio` (behind `ctx.audio`) gives the mean of the channels, which is what the tempo and
 * CLAP analyses want but not what BS.1770 measures: loudness is the weighted sum of the channels' powers, and the
 * mean of a stereo pair reads up to 3 dB low (1.2 LU on the Vibe_Ace recording). So the loudness meter reads the
 * channels itself, in chunks, with the same timeline rule as `extractAudio` (gaps filled, a late start padded with
 * silence) and at the stream's own rate.
 */
import { spawn } from 'node:child_process';
import { endianness } from 'node:os';
import { TrendflowError } from '../../contracts/errors.js';
import { describeExit, ffmpegInput, runToCompletion, StderrTail } from '../../video/process.js';
import type { AudioStreamInfo } from '../../video/probe.js';
import { locateFfmpeg } from '../../video/tools.js';

/** The rate the stream is decoded at: its own, or 48 kHz when ffprobe does not know it (rare: raw streams). */
export function streamSampleRate(stream: Pick<AudioStreamInfo, 'sample_rate'>): number {
  return stream.sample_rate ?? 48_000;
}

export interface ChannelLayout {
  /** ffmpeg's channel names in output order (`FL`, `FR`, `FC`, `LFE`, …); null when the layout is unknown. */
  names: string[] | null;
  /** BS.1770-4 weight of each channel. */
  weights: number[];
}

let layoutTable: Promise<Map<string, string[]>> | null = null;

/** ffmpeg's standard layouts (`ffmpeg -layouts`): name → channel names in order. */
async function standardLayouts(): Promise<Map<string, string[]>> {
  layoutTable ??= (async () => {
    const ffmpeg = await locateFfmpeg();
    const result = await runToCompletion(ffmpeg.path, ['-hide_banner', '-layouts'], { timeoutMs: 30_000 });
    const table = new Map<string, string[]>();
    const lines = result.stdout.toString('utf8').split(/\r?\n/);
    const start = lines.findIndex((line) => /^Standard channel layouts/i.test(line));
    for (const line of lines.slice(start + 1)) {
      const match = /^(\S+)\s+([A-Z0-9]+(?:\+[A-Z0-9]+)*)\s*$/.exec(line);
      if (match) table.set(match[1]!, match[2]!.split('+'));
    }
    return table;
  })().catch((error: unknown) => {
    layoutTable = null;
    throw error;
  });
  return layoutTable;
}

/**
 * BS.1770-4 channel weights: 0 for the LFE channels, 1.41 for the surround pair — side channels, or the back pair
 * of a layout without side channels (5.0/5.1/quad, whose "back" speakers stand at ±110°) — and 1.0 for every other
 * channel. An unknown layout weights every channel 1.0 (recorded in meta).
 */
export async function channelLayout(stream: Pick<AudioStreamInfo, 'channels' | 'channel_layout'>): Promise<ChannelLayout> {
  const channels = stream.channels ?? 1;
  const known = stream.channel_layout ? (await standardLayouts()).get(stream.channel_layout) : undefined;
  if (!known || known.length !== channels) return { names: null, weights: new Array<number>(channels).fill(1) };
  const hasSide = known.includes('SL') || known.includes('SR');
  const weights = known.map((name) => {
    if (name === 'LFE' || name === 'LFE2') return 0;
    if (name === 'SL' || name === 'SR') return 1.41;
    if ((name === 'BL' || name === 'BR') && !hasSide) return 1.41;
    return 1;
  });
  return { names: known, weights };
}

export interface ChannelStreamInfo {
  sampleRate: number;
  channels: number;
  /** ffmpeg error lines of a run that still succeeded. */
  warnings: string[];
}

/**
 * Decodes one audio stream of `file` to interleaved float32 at its own rate and channel count, calling
 * `onChunk` with whole frames as they arrive. Errors: `audio_extract_failed` (ffmpeg failed or decoded nothing),
 * `ffmpeg_not_found`; abort → the signal's reason.
 */
export async function streamChannels(
  file: string,
  stream: AudioStreamInfo,
  onChunk: (interleaved: Float32Array) => void,
  signal?: AbortSignal,
): Promise<ChannelStreamInfo> {
  signal?.throwIfAborted();
  const channels = stream.channels !== null && stream.channels >= 1 ? stream.channels : 1;
  const sampleRate = streamSampleRate(stream);
  const ffmpeg = await locateFfmpeg();
  const args = [
    ...['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-i', ffmpegInput(file)],
    ...['-map', `0:${stream.index}`, '-vn', '-sn', '-dn'],
    // as extractAudio: sample i is at i / rate on the container timeline
    ...['-af', `aresample=${sampleRate}:async=1:first_pts=0`, '-ac', String(channels), '-ar', String(sampleRate)],
    ...['-c:a', 'pcm_f32le', '-f', 'f32le', 'pipe:1'],
  ];
  const child = spawn(ffmpeg.path, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
  const stderr = new StderrTail(child.stderr);
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error: Error | null }>((resolve) => {
    child.on('close', (code, exitSignal) => resolve({ code, signal: exitSignal, error: null }));
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
  });
  const kill = (): void => {
    child.kill('SIGKILL');
  };
  signal?.addEventListener('abort', kill, { once: true });
  const frameBytes = 4 * channels;
  let leftover = Buffer.alloc(0);
  let frames = 0;
  let done = false;
  try {
    for await (const chunk of child.stdout) {
      const bytes = leftover.length > 0 ? Buffer.concat([leftover, chunk as Buffer]) : (chunk as Buffer);
      const whole = bytes.length - (bytes.length % frameBytes);
      leftover = Buffer.from(bytes.subarray(whole));
      if (whole === 0) continue;
      onChunk(toFloats(bytes.subarray(0, whole)));
      frames += whole / frameBytes;
    }
    const exit = await closed;
    done = true;
    if (signal?.aborted) throw signal.reason;
    if (exit.error) throw new TrendflowError('audio_extract_failed', `${file}: could not start ffmpeg (${ffmpeg.path}): ${exit.error.message}`, { path: file });
    if (exit.code !== 0 || exit.signal) {
      throw new TrendflowError('audio_extract_failed', `${file}: ffmpeg failed decoding audio stream ${stream.index} (${describeExit(exit.code, exit.signal)}): ${stderr.summary()}`, { path: file });
    }
    if (leftover.length !== 0) throw new TrendflowError('audio_extract_failed', `${file}: ffmpeg's audio output ended in the middle of a sample`, { path: file });
    if (frames === 0) throw new TrendflowError('audio_extract_failed', `${file}: audio stream ${stream.index} (${stream.codec}) decoded to no samples`, { path: file });
    return { sampleRate, channels, warnings: stderr.lines() };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw error;
  } finally {
    signal?.removeEventListener('abort', kill);
    if (!done) {
      kill();
      await closed;
    }
  }
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** Little-endian float32 bytes → a Float32Array (copied: a Buffer chunk may start at any byte offset). */
function toFloats(bytes: Buffer): Float32Array {
  const out = new Float32Array(bytes.length / 4);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}
