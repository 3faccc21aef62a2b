/**
 * Decoding frames with ffmpeg: one process per stream, raw pixels over pipes, constant-rate sampling on the real
 * timeline, back-pressure and cancellation. See README.md ("Frames") for the exact semantics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { TrendflowError } from '../contracts/errors.js';
import { describeExit, ffmpegInput, StderrTail } from './process.js';
import { probeVideo, type VideoProbe } from './probe.js';
import { atLeast, locateFfmpeg, type ToolInfo } from './tools.js';

export type PixelFormat = 'rgb24' | 'gray';

/**
 * swscale algorithm: `auto` = `area` when the output is no larger than the display size on both axes
 * (averages every covered source pixel: no aliasing when downscaling), `bicubic` otherwise (upscaling).
 */
export type Scaler = 'auto' | 'area' | 'bicubic' | 'bilinear' | 'lanczos' | 'neighbor';

export interface FrameOutputSpec {
  /** Output size AFTER display rotation (use probe.video.display_width/height, or a size with that aspect). */
  width: number;
  height: number;
  pixelFormat: PixelFormat;
}

export interface FrameTimingOptions {
  /** Sampling rate of the output on the real timeline (frames per second, > 0). */
  fps: number;
  /** Start of the decoded range on the timeline, seconds (default 0). */
  startSec?: number;
  /** Length of the decoded range, seconds (default: to the end). */
  durationSec?: number;
  /** Aborting kills ffmpeg; the iterator then throws the signal's reason. */
  signal?: AbortSignal;
  /** A probe of the same file (saves probing again). */
  probe?: VideoProbe;
  scaler?: Scaler;
  /** ffmpeg decoder threads (default: ffmpeg's choice). */
  threads?: number;
}

export interface StreamFramesOptions extends FrameTimingOptions, FrameOutputSpec {}

export interface StreamFramesMultiOptions extends FrameTimingOptions {
  /** 1 to 8 outputs decoded once and split (e.g. a small gray stream for cheap signals and the RGB analysis stream). */
  outputs: FrameOutputSpec[];
}

export interface VideoFrame {
  /** 0-based index on the sampled timeline. */
  index: number;
  /** `startSec + index / fps` (fps as the exact rational ffmpeg uses). */
  timestamp_sec: number;
  /** H×W×C bytes, row-major, C = 3 (RGB) or 1 (gray). A fresh buffer per frame: keep it as long as you like. */
  data: Uint8Array;
}

export interface MultiVideoFrame {
  index: number;
  timestamp_sec: number;
  /** One buffer per requested output, in the order of `outputs`. */
  data: Uint8Array[];
}

export interface OutputLayout extends FrameOutputSpec {
  channels: 1 | 3;
  frameBytes: number;
}

/** An async iterable of frames backed by one ffmpeg process (iterate it once). */
export interface FrameStream<T> extends AsyncIterable<T> {
  readonly outputs: readonly OutputLayout[];
  /** The sampling rate as ffmpeg uses it (`num/den`). */
  readonly fps: { num: number; den: number };
  /** Frames yielded so far. */
  readonly framesEmitted: number;
  /** Bytes received from ffmpeg so far, per output. */
  readonly bytesRead: readonly number[];
  /** Error lines ffmpeg logged in a run that still succeeded (damaged packets it skipped, etc.). */
  readonly warnings: readonly string[];
  /** The ffmpeg command line once started (for diagnostics). */
  readonly command: readonly string[] | null;
  /** Stop early and kill ffmpeg (breaking out of `for await` does the same). */
  close(): Promise<void>;
}

const MAX_OUTPUTS = 8;
const MAX_DIMENSION = 16_384;
/** Per output: queued frames kept before pausing the pipe (at least 2 frames, about 4 MiB). */
const QUEUE_BYTES = 4 * 1024 * 1024;
/** An output that runs this far ahead of another one that is empty means ffmpeg is not interleaving. */
const MAX_SKEW_BYTES = 512 * 1024 * 1024;

/**
 * Decode `file` once and yield frames of one size and pixel format, sampled at a constant `fps` on the real
 * timeline, display rotation applied. Errors: those of `probeVideo` (when no probe is given),
 * `invalid_argument`, `ffmpeg_not_found`, `video_decode_failed`.
 */
export function streamFrames(file: string, options: StreamFramesOptions): FrameStream<VideoFrame> {
  const { width, height, pixelFormat, ...timing } = options;
  const multi = new FrameStreamImpl(file, { ...timing, outputs: [{ width, height, pixelFormat }] });
  const iterate = async function* (): AsyncGenerator<VideoFrame> {
    for await (const frame of multi) {
      yield { index: frame.index, timestamp_sec: frame.timestamp_sec, data: frame.data[0] as Uint8Array };
    }
  };
  return {
    get outputs() {
      return multi.outputs;
    },
    get fps() {
      return multi.fps;
    },
    get framesEmitted() {
      return multi.framesEmitted;
    },
    get bytesRead() {
      return multi.bytesRead;
    },
    get warnings() {
      return multi.warnings;
    },
    get command() {
      return multi.command;
    },
    close: () => multi.close(),
    [Symbol.asyncIterator]: () => iterate(),
  };
}

/**
 * Decode `file` once and yield, per sampled instant, one frame for each requested output (ffmpeg `split` filter,
 * output k on pipe k===0 ? 1 : k+2). Both pipes are drained concurrently; see README.md for why this cannot
 * deadlock and how back-pressure works.
 */
export function streamFramesMulti(file: string, options: StreamFramesMultiOptions): FrameStream<MultiVideoFrame> {
  return new FrameStreamImpl(file, options);
}

// ---------------------------------------------------------------------------------------------------------------

/** The closest fraction with a denominator ≤ 1,000,000 (continued fractions). */
export function toRational(value: number): { num: number; den: number } {
  const maxDen = 1_000_000;
  let [h0, h1, k0, k1] = [0, 1, 1, 0];
  let x = value;
  for (let i = 0; i < 64; i++) {
    const a = Math.floor(x);
    const h2 = a * h1 + h0;
    const k2 = a * k1 + k0;
    if (k2 > maxDen) break;
    [h0, h1, k0, k1] = [h1, h2, k1, k2];
    const frac = x - a;
    if (frac < 1e-12 || Math.abs(h1 / k1 - value) < 1e-15 * value) break;
    x = 1 / frac;
  }
  return { num: h1, den: k1 };
}

function invalid(file: string, message: string): never {
  throw new TrendflowError('invalid_argument', message, { path: file });
}

function checkOptions(file: string, options: StreamFramesMultiOptions): OutputLayout[] {
  const { fps, startSec, durationSec, outputs, threads } = options;
  if (typeof fps !== 'number' || !Number.isFinite(fps) || fps <= 0 || fps > 1000) invalid(file, `fps must be a number in (0, 1000], got ${fps}`);
  if (startSec !== undefined && (!Number.isFinite(startSec) || startSec < 0)) invalid(file, `startSec must be ≥ 0, got ${startSec}`);
  if (durationSec !== undefined && (!Number.isFinite(durationSec) || durationSec <= 0)) invalid(file, `durationSec must be > 0, got ${durationSec}`);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 0)) invalid(file, `threads must be a non-negative integer`);
  if (!Array.isArray(outputs) || outputs.length === 0 || outputs.length > MAX_OUTPUTS) invalid(file, `between 1 and ${MAX_OUTPUTS} outputs are needed`);
  return outputs.map((output, k) => {
    const { width, height, pixelFormat } = output;
    for (const [name, value] of [['width', width], ['height', height]] as const) {
      if (!Number.isInteger(value) || value < 1 || value > MAX_DIMENSION) invalid(file, `output ${k} ${name} must be an integer in [1, ${MAX_DIMENSION}], got ${value}`);
    }
    if (pixelFormat !== 'rgb24' && pixelFormat !== 'gray') invalid(file, `output ${k} pixelFormat must be 'rgb24' or 'gray', got ${String(pixelFormat)}`);
    const channels = pixelFormat === 'rgb24' ? 3 : 1;
    return { width, height, pixelFormat, channels, frameBytes: width * height * channels };
  });
}

function scalerFor(choice: Scaler, output: FrameOutputSpec, probe: VideoProbe): string {
  const downscale = output.width < probe.video.display_width || output.height < probe.video.display_height;
  const fits = output.width <= probe.video.display_width && output.height <= probe.video.display_height;
  const algorithm = choice === 'auto' ? (fits ? 'area' : 'bicubic') : choice;
  // accurate_rnd only when shrinking: at the source size it turns off swscale's SIMD YUV→RGB path (2–4× slower
  // for at most 1 LSB); full_chroma_int (chroma interpolated at full resolution) is cheap and always on.
  return `${algorithm}${downscale ? '+accurate_rnd' : ''}+full_chroma_int`;
}

/**
 * The colour matrix for YUV→RGB: the stream's tag when it has one; untagged HD (≥ 1280×720) is taken as BT.709
 * and untagged SD as BT.601, as players do.
 */
function colorMatrixFor(probe: VideoProbe): string {
  const tagged = probe.video.color_space;
  const known = new Set(['bt709', 'bt470bg', 'smpte170m', 'bt2020nc', 'bt2020c', 'smpte240m', 'fcc']);
  if (tagged && known.has(tagged)) return 'auto';
  return probe.video.width >= 1280 || probe.video.height >= 720 ? 'bt709' : 'bt601';
}

export function buildFfmpegArgs(
  file: string,
  options: StreamFramesMultiOptions,
  layouts: OutputLayout[],
  probe: VideoProbe,
  ffmpeg: ToolInfo,
  rational: { num: number; den: number },
): string[] {
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error'];
  if (options.threads !== undefined) args.push('-threads', String(options.threads));
  if (options.startSec !== undefined && options.startSec > 0) args.push('-ss', options.startSec.toFixed(6));
  if (options.durationSec !== undefined) args.push('-t', options.durationSec.toFixed(6));
  args.push('-i', ffmpegInput(file));
  const matrix = colorMatrixFor(probe);
  const branches = layouts.map((layout, k) => {
    const flags = scalerFor(options.scaler ?? 'auto', layout, probe);
    const range = layout.pixelFormat === 'gray' ? ':out_range=full' : '';
    return `scale=${layout.width}:${layout.height}:flags=${flags}:in_color_matrix=${matrix}${range},format=${layout.pixelFormat}[o${k}]`;
  });
  const sampler = `fps=fps=${rational.num}/${rational.den}:start_time=0:round=up`;
  const graph =
    layouts.length === 1
      ? `[0:${probe.video.index}]${sampler},${branches[0]}`
      : `[0:${probe.video.index}]${sampler},split=${layouts.length}${layouts.map((_, k) => `[s${k}]`).join('')};` +
        branches.map((branch, k) => `[s${k}]${branch}`).join(';');
  args.push('-filter_complex', graph);
  const passthrough = atLeast(ffmpeg, 5, 1) ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough'];
  layouts.forEach((layout, k) => {
    args.push('-map', `[o${k}]`, ...passthrough, '-f', 'rawvideo', '-pix_fmt', layout.pixelFormat, `pipe:${k === 0 ? 1 : k + 2}`);
  });
  return args;
}

/** Cuts one pipe's byte stream into whole frames and queues them. */
class FramePipe {
  readonly queue: Uint8Array[] = [];
  bytesRead = 0;
  ended = false;
  error: Error | null = null;
  paused = false;
  private current: Uint8Array | null = null;
  private filled = 0;
  readonly queueLimit: number;

  constructor(
    private readonly stream: Readable,
    readonly frameBytes: number,
    onChange: () => void,
  ) {
    this.queueLimit = Math.max(2, Math.ceil(QUEUE_BYTES / frameBytes));
    stream.on('data', (chunk: Buffer) => {
      this.take(chunk);
      onChange();
    });
    stream.on('end', () => {
      this.ended = true;
      onChange();
    });
    stream.on('error', (error) => {
      this.error = error;
      this.ended = true;
      onChange();
    });
  }

  private take(chunk: Buffer): void {
    this.bytesRead += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      if (!this.current) {
        this.current = new Uint8Array(this.frameBytes);
        this.filled = 0;
      }
      const n = Math.min(this.frameBytes - this.filled, chunk.length - offset);
      this.current.set(chunk.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.frameBytes) {
        this.queue.push(this.current);
        this.current = null;
        this.filled = 0;
      }
    }
  }

  /** Bytes of an incomplete frame at the end of the stream. */
  get partialBytes(): number {
    return this.current ? this.filled : 0;
  }

  get queuedBytes(): number {
    return this.queue.length * this.frameBytes;
  }

  setPaused(paused: boolean): void {
    if (paused === this.paused) return;
    this.paused = paused;
    if (paused) this.stream.pause();
    else this.stream.resume();
  }

  destroy(): void {
    this.stream.destroy();
  }
}

class FrameStreamImpl implements FrameStream<MultiVideoFrame> {
  readonly outputs: readonly OutputLayout[];
  readonly fps: { num: number; den: number };
  framesEmitted = 0;
  command: string[] | null = null;
  private pipes: FramePipe[] = [];
  private started = false;
  private child: ChildProcess | null = null;
  private stderr: StderrTail | null = null;
  private exited: Promise<void> | null = null;
  private closedByUs = false;
  /** Set once an output has ended: from then on nothing is paused, so ffmpeg can always finish. */
  private draining = false;

  constructor(
    private readonly file: string,
    private readonly options: StreamFramesMultiOptions,
  ) {
    this.outputs = checkOptions(file, options);
    this.fps = toRational(options.fps);
  }

  get bytesRead(): readonly number[] {
    return this.pipes.length ? this.pipes.map((p) => p.bytesRead) : this.outputs.map(() => 0);
  }

  get warnings(): readonly string[] {
    return this.stderr?.lines() ?? [];
  }

  async close(): Promise<void> {
    this.closedByUs = true;
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  [Symbol.asyncIterator](): AsyncIterator<MultiVideoFrame> {
    if (this.started) throw new TrendflowError('invalid_argument', `a frame stream can be iterated only once`, { path: this.file });
    this.started = true;
    return this.run();
  }

  private async *run(): AsyncGenerator<MultiVideoFrame> {
    const { signal } = this.options;
    signal?.throwIfAborted();
    const file = path.resolve(this.file);
    const probe = this.options.probe ?? (await probeVideo(file, signal ? { signal } : {}));
    if (probe.path !== file) invalid(file, `the probe given is of another file (${probe.path})`);
    this.checkAgainstProbe(probe);
    const ffmpeg = await locateFfmpeg();
    signal?.throwIfAborted();
    if (this.closedByUs) return;

    const args = buildFfmpegArgs(file, this.options, [...this.outputs], probe, ffmpeg, this.fps);
    this.command = [ffmpeg.path, ...args];
    const stdio: Array<'ignore' | 'pipe'> = ['ignore', 'pipe', 'pipe'];
    for (let k = 1; k < this.outputs.length; k++) stdio.push('pipe');
    const child = spawn(ffmpeg.path, args, { stdio, windowsHide: true });
    this.child = child;
    const stderr = new StderrTail(child.stderr);
    this.stderr = stderr;

    // Wake-up plumbing: every pipe event or exit sets `dirty` and resolves the pending wait.
    let dirty = false;
    let wakeUp: (() => void) | null = null;
    const wake = (): void => {
      dirty = true;
      const resolve = wakeUp;
      wakeUp = null;
      resolve?.();
      this.updateFlow();
    };
    const waitForChange = (): Promise<void> => {
      if (dirty) {
        dirty = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        wakeUp = () => {
          dirty = false;
          resolve();
        };
      });
    };

    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let spawnError: Error | null = null;
    this.exited = new Promise<void>((resolve) => {
      child.on('close', (code, exitSignal) => {
        exit = { code, signal: exitSignal };
        resolve();
        wake();
      });
    });
    child.on('error', (error) => {
      spawnError = error;
      wake();
    });
    this.pipes = this.outputs.map((layout, k) => new FramePipe(child.stdio[k === 0 ? 1 : k + 2] as Readable, layout.frameBytes, wake));
    const onAbort = (): void => {
      child.kill('SIGKILL');
      wake();
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    const startSec = this.options.startSec ?? 0;
    try {
      for (;;) {
        if (signal?.aborted) throw signal.reason;
        if (spawnError) throw this.failure(file, `could not start ffmpeg (${ffmpeg.path}): ${(spawnError as Error).message}`);
        if (this.pipes.every((p) => p.queue.length > 0)) {
          const data = this.pipes.map((p) => p.queue.shift() as Uint8Array);
          const index = this.framesEmitted;
          this.framesEmitted++;
          this.updateFlow();
          yield { index, timestamp_sec: startSec + (index * this.fps.den) / this.fps.num, data };
          continue;
        }
        if (this.pipes.some((p) => p.ended && p.queue.length === 0)) {
          this.draining = true;
          this.updateFlow();
          break;
        }
        const skew = Math.max(...this.pipes.map((p) => p.queuedBytes));
        if (skew > MAX_SKEW_BYTES) throw this.failure(file, `ffmpeg's outputs are out of step by more than ${MAX_SKEW_BYTES} bytes`);
        await waitForChange();
      }
      // One output has ended: wait for the others and for the process, then check that everything lined up.
      await this.exited;
      if (signal?.aborted) throw signal.reason;
      if (this.closedByUs) return;
      const pipeError = this.pipes.find((p) => p.error)?.error;
      const result = exit as { code: number | null; signal: NodeJS.Signals | null } | null;
      if (result && (result.code !== 0 || result.signal)) {
        throw this.failure(file, `ffmpeg failed (${describeExit(result.code, result.signal)}) after ${this.framesEmitted} frames: ${stderr.summary(6, file)}`);
      }
      if (pipeError) throw this.failure(file, `reading ffmpeg's output failed: ${pipeError.message}`);
      const partial = this.pipes.find((p) => p.partialBytes > 0);
      if (partial) throw this.failure(file, `ffmpeg's output ended in the middle of a frame (${partial.partialBytes} of ${partial.frameBytes} bytes)`);
      if (this.pipes.some((p) => p.queue.length > 0)) {
        throw this.failure(file, `ffmpeg's outputs have different frame counts (${this.pipes.map((p) => this.framesEmitted + p.queue.length).join(' vs ')})`);
      }
      if (this.framesEmitted === 0) {
        throw this.failure(file, `ffmpeg decoded no frames${startSec > 0 ? ` from ${startSec} s` : ''}: ${stderr.summary(6, file)}`);
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (exit === null) {
        this.closedByUs = true;
        child.kill('SIGKILL');
      }
      for (const pipe of this.pipes) pipe.destroy();
    }
  }

  /**
   * Pause a pipe only when it holds enough frames AND no other pipe is waiting for data. A pipe waiting for data
   * may need ffmpeg to get past a write to another pipe, so while any pipe is empty every pipe keeps flowing.
   */
  private updateFlow(): void {
    const waiting = this.draining || this.pipes.some((p) => p.queue.length === 0 && !p.ended);
    for (const pipe of this.pipes) pipe.setPaused(!waiting && pipe.queue.length >= pipe.queueLimit);
  }

  private failure(file: string, message: string): TrendflowError {
    return new TrendflowError('video_decode_failed', `${message}`, { path: file });
  }

  private checkAgainstProbe(probe: VideoProbe): void {
    const { startSec } = this.options;
    if (startSec !== undefined && startSec >= probe.video.duration_sec) {
      invalid(probe.path, `startSec ${startSec} is not before the end of the video (${probe.video.duration_sec} s)`);
    }
    const { rotation_deg: rotation, display_width: dw, display_height: dh } = probe.video;
    if ((rotation === 90 || rotation === 270) && dw !== dh) {
      for (const output of this.outputs) {
        if (output.width !== output.height && output.width > output.height !== dw > dh) {
          invalid(
            probe.path,
            `output ${output.width}x${output.height} does not match the displayed orientation ` +
              `${dw}x${dh} (the video is rotated ${rotation}°; pass the size after rotation)`,
          );
        }
      }
    }
  }
}
