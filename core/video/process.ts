/**
 * Shared plumbing for running ffmpeg/ffprobe: input file checks with coded errors, the `file:` URL given to
 * ffmpeg, a bounded stderr collector and a run-to-completion helper. Processes are always spawned with an
 * argument array (never a shell), so any file name (spaces, quotes, non-ASCII) is passed through unchanged.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { TrendflowError } from '../contracts/errors.js';

export interface InputFile {
  /** Absolute path. */
  path: string;
  size_bytes: number;
}

/**
 * Check that `file` is an existing, readable, non-empty regular file.
 * Errors: `video_not_found` (missing), `video_empty_file` (0 bytes), `video_unreadable` (a directory, a device,
 * no read permission), `invalid_argument` (not a non-empty string).
 */
export async function checkInputFile(file: string): Promise<InputFile> {
  if (typeof file !== 'string' || file.length === 0) {
    throw new TrendflowError('invalid_argument', `expected a video file path, got ${JSON.stringify(file)}`);
  }
  const absolute = path.resolve(file);
  let info;
  try {
    info = await stat(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new TrendflowError('video_not_found', 'no such file', { path: absolute, cause: error });
    }
    throw new TrendflowError('video_unreadable', `cannot access the file: ${(error as Error).message}`, {
      path: absolute,
      cause: error,
    });
  }
  if (!info.isFile()) {
    const what = info.isDirectory() ? 'a directory' : 'not a regular file';
    throw new TrendflowError('video_unreadable', `it is ${what}, not a video file`, { path: absolute });
  }
  if (info.size === 0) {
    throw new TrendflowError('video_empty_file', 'the file is empty (0 bytes)', { path: absolute });
  }
  try {
    await access(absolute, constants.R_OK);
  } catch (error) {
    throw new TrendflowError('video_unreadable', 'the file is not readable (permission denied)', {
      path: absolute,
      cause: error,
    });
  }
  return { path: absolute, size_bytes: info.size };
}

/**
 * The input argument for ffmpeg/ffprobe. The `file:` protocol prefix makes ffmpeg open exactly this path: without
 * it a name containing `:` is taken for a protocol (`a:b.mp4`) and a relative name starting with `-` for an option.
 */
export function ffmpegInput(absolutePath: string): string {
  return `file:${absolutePath}`;
}

/** Keeps the last `maxBytes` of a process's stderr as text. */
export class StderrTail {
  private chunks: string[] = [];
  private size = 0;
  private dropped = false;

  constructor(
    stream: Readable | null,
    private readonly maxBytes = 256 * 1024,
  ) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => this.push(chunk));
  }

  private push(chunk: string): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.maxBytes && this.chunks.length > 1) {
      this.size -= this.chunks.shift()?.length ?? 0;
      this.dropped = true;
    }
  }

  get text(): string {
    return (this.dropped ? '…\n' : '') + this.chunks.join('');
  }

  /** Non-empty lines, without the leading `[demuxer @ 0x…] ` context prefix. */
  lines(): string[] {
    return this.text
      .split(/\r?\n/)
      .map((line) => line.replace(/^\[[^\]]*@ ?0x[0-9a-f]+\]\s*/i, '').trim())
      .filter((line) => line !== '');
  }

  /**
   * The last `count` lines joined by ` | `, for error messages. The tool's own input path, when given, reads
   * `<input>`: the error names that file once, in its details; other paths inside are kept.
   */
  summary(count = 6, input?: string): string {
    const lines = input === undefined ? this.lines() : this.lines().map((line) => line.replaceAll(`file:${input}`, '<input>').replaceAll(input, '<input>'));
    return lines.length === 0 ? '(no output on stderr)' : lines.slice(-count).join(' | ');
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: StderrTail;
}

export interface RunOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Fail instead of buffering more than this many bytes of stdout. */
  maxStdoutBytes?: number;
}

/**
 * Run a tool to completion, collecting stdout. Rejects with the AbortSignal's reason when aborted (the process is
 * killed), and with a plain Error on spawn failure, timeout or oversize output; the caller maps them to codes.
 */
export function runToCompletion(executable: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const { timeoutMs = 120_000, signal, maxStdoutBytes = 256 * 1024 * 1024 } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const child = spawn(executable, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const stderr = new StderrTail(child.stderr);
    const chunks: Buffer[] = [];
    let stdoutBytes = 0;
    let failure: unknown = null;
    const fail = (error: unknown): void => {
      if (failure === null) failure = error;
      child.kill('SIGKILL');
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdoutBytes) fail(new Error(`output exceeded ${maxStdoutBytes} bytes`));
      else chunks.push(chunk);
    });
    const timer = setTimeout(() => fail(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    const onAbort = (): void => fail(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => fail(error));
    child.on('close', (code, exitSignal) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (failure !== null) reject(failure);
      else resolve({ code, signal: exitSignal, stdout: Buffer.concat(chunks), stderr });
    });
  });
}

/** `exit code 1` or `killed by SIGKILL`, for messages. */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}
