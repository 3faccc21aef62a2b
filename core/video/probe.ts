/**
 * Probing media files with ffprobe.
 *
 * `probeMedia` describes any media file (streams, durations) and fails only when ffprobe cannot read it.
 * `probeVideo` is the ingest check: it also requires a real video stream with a size and a positive duration,
 * detects display rotation, variable frame rate and truncation, and turns every problem into a coded
 * TrendflowError naming the file (see README.md for the codes and the methods).
 */
import { TrendflowError } from '../contracts/errors.js';
import { checkInputFile, ffmpegInput, runToCompletion, type InputFile, type StderrTail } from './process.js';
import { locateFfprobe, type ToolInfo } from './tools.js';

export type Rotation = 0 | 90 | 180 | 270;

export interface AudioStreamInfo {
  /** Absolute stream index in the file (ffmpeg `-map 0:<index>`). */
  index: number;
  codec: string;
  sample_rate: number | null;
  channels: number | null;
  channel_layout: string | null;
  duration_sec: number | null;
  /** Relative to the container start (the zero of the decoded timeline). */
  start_time_sec: number | null;
  is_default: boolean;
}

/** A video-typed stream as ffprobe lists it (cover art included), before any ingest checks. */
export interface VideoStreamListing {
  index: number;
  codec: string;
  width: number | null;
  height: number | null;
  /** Cover art / thumbnail (`attached_pic`): not a video. */
  is_attached_picture: boolean;
}

export interface MediaProbe {
  /** Absolute path. */
  path: string;
  size_bytes: number;
  /** ffprobe's format_name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`, `matroska,webm`, `mpeg`. */
  format: string;
  format_long_name: string | null;
  /** Container duration; null when unknown. */
  duration_sec: number | null;
  start_time_sec: number | null;
  bit_rate: number | null;
  video_streams: VideoStreamListing[];
  audio_streams: AudioStreamInfo[];
  has_audio: boolean;
  ffprobe: { path: string; version: string };
}

/** How `is_variable_frame_rate` was decided (see README.md, "Variable frame rate"). */
export interface FrameRateCheck {
  /**
   * - `packet_timestamps_whole_file`: every video packet timestamp was read (short files); decisive.
   * - `packet_timestamps_sampled`: windows at the start, middle and end were read, plus avg_frame_rate compared
   *   with the sampled rate for the rest of the file.
   * - `frame_rate_fields`: no usable timestamps; avg_frame_rate compared with r_frame_rate only.
   */
  method: 'packet_timestamps_whole_file' | 'packet_timestamps_sampled' | 'frame_rate_fields';
  sampled_packets: number;
  min_interval_sec: number | null;
  median_interval_sec: number | null;
  max_interval_sec: number | null;
  /** Some sampled frame interval differed from the window's median by more than the tolerance. */
  irregular_intervals: boolean;
  /** The sampled windows had different median intervals. */
  windows_disagree: boolean;
  /** avg_frame_rate differs by more than 1% from the sampled rate (or from r_frame_rate without samples). */
  avg_rate_mismatch: boolean;
}

export interface VideoStreamInfo {
  index: number;
  codec: string;
  codec_long_name: string | null;
  profile: string | null;
  /** Stored frame size (before display rotation; ffprobe width/height, i.e. without codec padding). */
  width: number;
  height: number;
  /** Pixel aspect ratio (1 for square pixels or when unknown). */
  sample_aspect_ratio: number;
  /** Square-pixel display size after the pixel aspect ratio and the display rotation. */
  display_width: number;
  display_height: number;
  /** Clockwise rotation applied for display (and by ffmpeg's decoder autorotation). */
  rotation_deg: Rotation;
  rotation_source: 'display_matrix' | 'rotate_tag' | 'none';
  avg_fps: number | null;
  r_fps: number | null;
  /**
   * One frame-rate figure. Constant rate: avg_fps, else the sampled rate, else r_fps. Variable rate: the mean
   * over the video (frames ÷ duration) when the frame count is known, else avg_fps.
   */
  fps: number | null;
  is_variable_frame_rate: boolean;
  frame_rate_check: FrameRateCheck;
  /** From the container, or counted when every packet was read; null when unknown. */
  nb_frames: number | null;
  pix_fmt: string | null;
  color_space: string | null;
  color_range: string | null;
  color_primaries: string | null;
  color_transfer: string | null;
  /** Video duration: the stream's, else measured from the last packets, else the container's. */
  duration_sec: number;
  /** Relative to the container start. */
  start_time_sec: number;
  bit_rate: number | null;
  time_base: string | null;
}

export interface VideoProbe {
  path: string;
  size_bytes: number;
  format: string;
  format_long_name: string | null;
  /** Container duration (falls back to the video duration when the container has none). */
  duration_sec: number;
  start_time_sec: number;
  bit_rate: number | null;
  video: VideoStreamInfo;
  audio_streams: AudioStreamInfo[];
  has_audio: boolean;
  /** Things worth knowing that are not errors (estimated duration, odd rotation, mirrored display matrix…). */
  notes: string[];
  ffprobe: { path: string; version: string };
}

export interface ProbeOptions {
  signal?: AbortSignal;
  /** Per ffprobe call (default 120 s). */
  timeoutMs?: number;
}

// ---------------------------------------------------------------------------------------------------------------
// ffprobe JSON

interface FfprobeStream {
  index?: number;
  codec_type?: string;
  codec_name?: string;
  codec_long_name?: string;
  profile?: string;
  width?: number;
  height?: number;
  sample_aspect_ratio?: string;
  pix_fmt?: string;
  color_space?: string;
  color_range?: string;
  color_primaries?: string;
  color_transfer?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  time_base?: string;
  start_time?: string;
  duration?: string;
  bit_rate?: string;
  nb_frames?: string;
  sample_rate?: string;
  channels?: number;
  channel_layout?: string;
  disposition?: Record<string, number>;
  tags?: Record<string, string>;
  side_data_list?: Array<Record<string, unknown>>;
}

interface FfprobeFormat {
  format_name?: string;
  format_long_name?: string;
  start_time?: string;
  duration?: string;
  bit_rate?: string;
}

interface FfprobePacket {
  stream_index?: number;
  pts_time?: string;
  dts_time?: string;
  duration_time?: string;
  flags?: string;
}

interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: FfprobeFormat;
  packets?: FfprobePacket[];
}

/** Packets read from the start of the file in the first call (all streams together). */
const START_PACKETS = 600;
/** Video packets read from the middle of the file. */
const MIDDLE_PACKETS = 240;
/** Seconds read before the end of the file (truncation check and last VFR window). */
const END_WINDOW_SEC = 3;

/** Demuxers that claim arbitrary text/binary files (ANSI art and friends): never a video. */
const TEXT_FORMATS = new Set(['tty', 'bin', 'xbin', 'adf', 'idf']);

function isStillImageFormat(format: string): boolean {
  return format === 'image2' || format.endsWith('_pipe');
}

function num(value: string | number | undefined | null): number | null {
  if (value === undefined || value === null || value === '' || value === 'N/A') return null;
  const parsed = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(parsed) ? parsed : null;
}

/** `30000/1001` → 29.97; `0/0`, `1/0`, `0/1` → null. */
function rate(value: string | undefined): number | null {
  if (!value) return null;
  const [a, b] = value.split('/');
  const n = num(a);
  const d = b === undefined ? 1 : num(b);
  if (n === null || d === null || n <= 0 || d <= 0) return null;
  return n / d;
}

/** `16:11` → 1.4545…; unknown or `0:1` → 1. */
function aspect(value: string | undefined): number {
  if (!value) return 1;
  const [a, b] = value.split(':');
  const n = num(a);
  const d = num(b);
  return n !== null && d !== null && n > 0 && d > 0 ? n / d : 1;
}

function round(value: number, digits = 6): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

async function runFfprobe(
  input: InputFile,
  args: string[],
  options: ProbeOptions,
  tool: ToolInfo,
): Promise<{ json: FfprobeOutput; stderr: StderrTail }> {
  let result;
  try {
    result = await runToCompletion(tool.path, [...args, '-print_format', 'json', ffmpegInput(input.path)], {
      timeoutMs: options.timeoutMs ?? 120_000,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw new TrendflowError('video_unreadable', `ffprobe (${tool.path}) failed: ${(error as Error).message}`, {
      path: input.path,
      cause: error,
    });
  }
  if (result.code !== 0) {
    throw new TrendflowError(
      'video_unreadable',
      `not a readable media file (ffprobe: ${result.stderr.summary(3, input.path)})`,
      { path: input.path },
    );
  }
  try {
    return { json: JSON.parse(result.stdout.toString('utf8')) as FfprobeOutput, stderr: result.stderr };
  } catch (error) {
    throw new TrendflowError('video_unreadable', `ffprobe printed invalid JSON`, { path: input.path, cause: error });
  }
}

function audioInfo(stream: FfprobeStream, containerStart: number): AudioStreamInfo {
  const start = num(stream.start_time);
  return {
    index: stream.index ?? -1,
    codec: stream.codec_name ?? 'unknown',
    sample_rate: num(stream.sample_rate),
    channels: num(stream.channels ?? null),
    channel_layout: stream.channel_layout ?? null,
    duration_sec: num(stream.duration),
    start_time_sec: start === null ? null : round(start - containerStart),
    is_default: stream.disposition?.default === 1,
  };
}

function isAttachedPicture(stream: FfprobeStream): boolean {
  return stream.disposition?.attached_pic === 1 || stream.disposition?.timed_thumbnails === 1;
}

function toMediaProbe(input: InputFile, json: FfprobeOutput, tool: ToolInfo): MediaProbe {
  const format = json.format ?? {};
  const streams = json.streams ?? [];
  const containerStart = num(format.start_time) ?? 0;
  const audio = streams.filter((s) => s.codec_type === 'audio').map((s) => audioInfo(s, containerStart));
  return {
    path: input.path,
    size_bytes: input.size_bytes,
    format: format.format_name ?? 'unknown',
    format_long_name: format.format_long_name ?? null,
    duration_sec: num(format.duration),
    start_time_sec: num(format.start_time),
    bit_rate: num(format.bit_rate),
    video_streams: streams
      .filter((s) => s.codec_type === 'video')
      .map((s) => ({
        index: s.index ?? -1,
        codec: s.codec_name ?? 'unknown',
        width: num(s.width ?? null),
        height: num(s.height ?? null),
        is_attached_picture: isAttachedPicture(s),
      })),
    audio_streams: audio,
    has_audio: audio.length > 0,
    ffprobe: { path: tool.path, version: tool.version },
  };
}

/**
 * Describe any media file: container, duration, video and audio streams. Errors only for input problems
 * (`video_not_found`, `video_empty_file`, `video_unreadable`); an audio-only file is fine here.
 */
export async function probeMedia(file: string, options: ProbeOptions = {}): Promise<MediaProbe> {
  const input = await checkInputFile(file);
  const tool = await locateFfprobe();
  const { json } = await runFfprobe(input, ['-v', 'error', '-show_entries', 'format:stream'], options, tool);
  return toMediaProbe(input, json, tool);
}

// ---------------------------------------------------------------------------------------------------------------
// rotation

interface RotationResult {
  rotation: Rotation;
  source: VideoStreamInfo['rotation_source'];
  notes: string[];
}

function snapRotation(clockwise: number, what: string, notes: string[]): Rotation {
  const normalized = ((clockwise % 360) + 360) % 360;
  const quarter = Math.round(normalized / 90);
  if (Math.abs(normalized - quarter * 90) <= 1) return ((quarter * 90) % 360) as Rotation;
  notes.push(`${what} of ${round(normalized, 2)}° is not a multiple of 90°; ffmpeg does not apply it, so rotation_deg is 0`);
  return 0;
}

function readRotation(stream: FfprobeStream): RotationResult {
  const notes: string[] = [];
  const matrix = (stream.side_data_list ?? []).find((entry) => entry.side_data_type === 'Display Matrix');
  const matrixRotation = matrix ? num(matrix.rotation as string | number | undefined) : null;
  const tagRotation = num(stream.tags?.rotate);
  if (matrix && typeof matrix.displaymatrix === 'string') {
    // Rows `0000000i:  a  b  u`; a negative determinant of [[a b] [c d]] means the display is mirrored.
    const rows = matrix.displaymatrix
      .split('\n')
      .map((line) => line.split(':')[1]?.trim().split(/\s+/).map(Number))
      .filter((row): row is number[] => Array.isArray(row) && row.length >= 2);
    const [r0, r1] = rows;
    if (r0 && r1 && (r0[0] ?? 0) * (r1[1] ?? 0) - (r0[1] ?? 0) * (r1[0] ?? 0) < 0) {
      notes.push('the display matrix also mirrors the picture; only its rotation is reported and applied');
    }
  }
  if (matrixRotation !== null) {
    // ffprobe prints the display matrix angle counter-clockwise; rotation_deg is clockwise (like the rotate tag).
    const rotation = snapRotation(-matrixRotation, 'display matrix rotation', notes);
    if (tagRotation !== null && snapRotation(tagRotation, 'rotate tag', []) !== rotation) {
      notes.push(`rotate tag (${tagRotation}) disagrees with the display matrix; the display matrix is used`);
    }
    return { rotation, source: 'display_matrix', notes };
  }
  if (tagRotation !== null) {
    return { rotation: snapRotation(tagRotation, 'rotate tag', notes), source: 'rotate_tag', notes };
  }
  return { rotation: 0, source: 'none', notes };
}

// ---------------------------------------------------------------------------------------------------------------
// packet timestamps: variable frame rate and truncation

interface TimedPacket {
  stream: number;
  /** Presentation time (the decode time when the packet has none). */
  time: number;
  /** Decode time, when given. */
  decode: number | null;
  keyframe: boolean;
  duration: number | null;
}

function timedPackets(packets: FfprobePacket[] | undefined): TimedPacket[] {
  const out: TimedPacket[] = [];
  for (const packet of packets ?? []) {
    if (packet.flags?.includes('D')) continue; // discarded (e.g. pre-roll before an edit list start)
    const time = num(packet.pts_time) ?? num(packet.dts_time);
    if (time === null || packet.stream_index === undefined) continue;
    out.push({ stream: packet.stream_index, time, decode: num(packet.dts_time), keyframe: packet.flags?.includes('K') ?? false, duration: num(packet.duration_time) });
  }
  return out;
}

interface WindowStats {
  count: number;
  min: number;
  median: number;
  max: number;
  irregular: boolean;
}

/**
 * The presentation times of a window that cannot have gaps from the window's own edges. Packets come in decode
 * order: frames shown before the window's first keyframe may belong to a GOP only partly read, and a frame shown
 * after the last decode time read may have B-frames before it that were not read yet (a constant 30 fps x264 file
 * would otherwise show a 2-frame gap at the end of each window and look variable). Every frame shown between the
 * first keyframe and the last decode time read has been read, since a frame is decoded no later than it is shown.
 */
function completePresentationTimes(packets: TimedPacket[]): number[] {
  const firstKey = packets.find((p) => p.keyframe)?.time ?? Number.NEGATIVE_INFINITY;
  const decodes = packets.map((p) => p.decode).filter((d): d is number => d !== null);
  const lastDecode = decodes.length > 0 ? Math.max(...decodes) : Number.POSITIVE_INFINITY;
  return packets.filter((p) => p.time >= firstKey && p.time <= lastDecode).map((p) => p.time);
}

/** Intervals between consecutive presentation times of one window. */
function windowStats(times: number[], tickSec: number): WindowStats | null {
  const sorted = [...times].sort((a, b) => a - b);
  const deltas: number[] = [];
  for (let i = 1; i < sorted.length; i++) deltas.push((sorted[i] ?? 0) - (sorted[i - 1] ?? 0));
  if (deltas.length < 2) return null;
  const ordered = [...deltas].sort((a, b) => a - b);
  const median = ordered[Math.floor(ordered.length / 2)] ?? 0;
  const min = ordered[0] ?? 0;
  const max = ordered[ordered.length - 1] ?? 0;
  const tolerance = intervalTolerance(median, tickSec);
  return {
    count: sorted.length,
    min,
    median,
    max,
    irregular: median <= 0 || min <= 0 || median - min > tolerance || max - median > tolerance,
  };
}

/**
 * Two frame intervals count as equal within 1.5 time-base ticks (timestamps are integers in the stream time base,
 * so 29.97 fps in a 1/1000 time base alternates 33 and 34 ms), 1% of the interval, and 2 µs of ffprobe's
 * printed precision.
 */
function intervalTolerance(median: number, tickSec: number): number {
  return Math.max(1.5 * tickSec, 0.01 * median) + 2e-6;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? null;
}

// ---------------------------------------------------------------------------------------------------------------
// probeVideo

function fail(code: 'video_unreadable' | 'video_no_video_stream' | 'video_zero_duration' | 'video_truncated', input: InputFile, message: string): never {
  throw new TrendflowError(code, `${message}`, { path: input.path });
}

/**
 * Probe a video for ingest. Errors (all name the file): `video_not_found`, `video_empty_file`,
 * `video_unreadable` (not a media file, text, unreadable, no frame size, unknown duration),
 * `video_no_video_stream` (audio-only, cover art only, still image), `video_zero_duration`,
 * `video_truncated` (the container promises more than the file holds), `ffmpeg_not_found`.
 */
export async function probeVideo(file: string, options: ProbeOptions = {}): Promise<VideoProbe> {
  const input = await checkInputFile(file);
  const tool = await locateFfprobe();
  const { json, stderr } = await runFfprobe(
    input,
    [
      '-v',
      'warning',
      '-show_entries',
      'format:stream:packet=stream_index,pts_time,dts_time,duration_time,flags',
      '-read_intervals',
      `%+#${START_PACKETS}`,
    ],
    options,
    tool,
  );
  const media = toMediaProbe(input, json, tool);
  const notes: string[] = [];
  const formatName = media.format;
  if (TEXT_FORMATS.has(formatName)) {
    fail('video_unreadable', input, `not a video file (ffprobe reads it as ${formatName}: text or ANSI art)`);
  }

  const streams = json.streams ?? [];
  const stream = streams.find((s) => s.codec_type === 'video' && !isAttachedPicture(s));
  if (!stream || stream.index === undefined) {
    const recognizable = streams.some((s) => (s.codec_type === 'audio' || s.codec_type === 'video' || s.codec_type === 'subtitle') && s.codec_name);
    if (!recognizable) {
      const what = streams.length === 0 ? 'no streams' : `only ${streams.map((s) => `${s.codec_type ?? 'unknown'} (${s.codec_name ?? 'unknown codec'})`).join(', ')}`;
      fail('video_unreadable', input, `damaged or not a media file (ffprobe finds ${what})`);
    }
    const kinds = streams.map((s) => (s.codec_type === 'video' && isAttachedPicture(s) ? 'cover art' : `${s.codec_type ?? 'unknown'} (${s.codec_name ?? '?'})`));
    const what = streams.length === 0 ? 'no streams at all' : `only ${kinds.join(', ')}`;
    fail('video_no_video_stream', input, `has no video stream (${what})`);
  }
  if (isStillImageFormat(formatName)) {
    fail('video_no_video_stream', input, `is a still image (${formatName}, ${stream.codec_name ?? '?'}), not a video`);
  }
  const width = num(stream.width ?? null);
  const height = num(stream.height ?? null);
  if (width === null || height === null || width <= 0 || height <= 0) {
    fail('video_unreadable', input, `the video stream (${stream.codec_name ?? 'unknown codec'}) has no frame size; the file is damaged or the codec is not supported`);
  }

  const containerStart = num(json.format?.start_time) ?? 0;
  const streamStart = num(stream.start_time);
  const streamDuration = num(stream.duration);
  const containerDuration = num(json.format?.duration);
  const declaredFrames = num(stream.nb_frames);
  const durationEstimated = stderr.text.includes('Estimating duration from bitrate');
  if (durationEstimated) notes.push('ffprobe estimated the duration from the bit rate; it may be inaccurate');
  const declaredDuration = streamDuration ?? containerDuration;
  if (declaredDuration === null) {
    fail('video_unreadable', input, 'duration unknown (a truncated file, or a raw stream without timestamps)');
  }
  if (declaredDuration <= 0 || declaredFrames === 0) {
    fail('video_zero_duration', input, `the video has zero duration (${declaredDuration} s, ${declaredFrames ?? 'unknown'} frames)`);
  }

  // Packet timestamps: the start window came with the first call; read the middle and the end when it did not
  // reach the end of the file.
  const tickSec = rate(stream.time_base) ?? 0;
  const startPackets = timedPackets(json.packets);
  const wholeFile = (json.packets?.length ?? 0) < START_PACKETS;
  const videoIndex = stream.index;
  const videoTimes = (packets: TimedPacket[]): number[] => completePresentationTimes(packets.filter((p) => p.stream === videoIndex));
  const windows: number[][] = [videoTimes(startPackets)];
  let endPackets = startPackets;
  if (!wholeFile) {
    const absoluteStart = streamStart ?? containerStart;
    const middle = absoluteStart + declaredDuration / 2;
    const endFrom = Math.max(absoluteStart, absoluteStart + declaredDuration - END_WINDOW_SEC);
    const entries = 'packet=stream_index,pts_time,dts_time,duration_time,flags';
    const [mid, end] = await Promise.all([
      runFfprobe(
        input,
        ['-v', 'error', '-select_streams', String(videoIndex), '-show_entries', entries, '-read_intervals', `${middle.toFixed(6)}%+#${MIDDLE_PACKETS}`],
        options,
        tool,
      ),
      runFfprobe(input, ['-v', 'error', '-show_entries', entries, '-read_intervals', `${endFrom.toFixed(6)}%`], options, tool),
    ]);
    windows.push(videoTimes(timedPackets(mid.json.packets)));
    endPackets = timedPackets(end.json.packets);
    windows.push(videoTimes(endPackets));
  }

  const stats = windows.map((w) => windowStats(w, tickSec)).filter((s): s is WindowStats => s !== null);
  const medians = stats.map((s) => s.median);
  const pooledMedian = median(medians);
  const sampledFps = pooledMedian !== null && pooledMedian > 0 ? round(1 / pooledMedian, 3) : null;
  const avgFps = rate(stream.avg_frame_rate);
  const rFps = rate(stream.r_frame_rate);
  const irregular = stats.some((s) => s.irregular);
  const windowsDisagree =
    pooledMedian !== null && medians.some((m) => Math.abs(m - pooledMedian) > intervalTolerance(pooledMedian, tickSec));
  let avgMismatch = false;
  let method: FrameRateCheck['method'];
  if (stats.length === 0) {
    method = 'frame_rate_fields';
    avgMismatch = avgFps !== null && rFps !== null && Math.abs(avgFps - rFps) / rFps > 0.01;
  } else if (wholeFile) {
    method = 'packet_timestamps_whole_file';
  } else {
    method = 'packet_timestamps_sampled';
    avgMismatch = avgFps !== null && sampledFps !== null && Math.abs(avgFps - sampledFps) / sampledFps > 0.01;
  }
  const frameRateCheck: FrameRateCheck = {
    method,
    sampled_packets: stats.reduce((sum, s) => sum + s.count, 0),
    min_interval_sec: stats.length ? round(Math.min(...stats.map((s) => s.min))) : null,
    median_interval_sec: pooledMedian === null ? null : round(pooledMedian),
    max_interval_sec: stats.length ? round(Math.max(...stats.map((s) => s.max))) : null,
    irregular_intervals: irregular,
    windows_disagree: windowsDisagree,
    avg_rate_mismatch: avgMismatch,
  };

  // Truncation: the last packets must reach (close to) where the container says the video ends.
  const lastVideo = endPackets.filter((p) => p.stream === videoIndex);
  const endOf = (packets: TimedPacket[]): number | null =>
    packets.length === 0 ? null : Math.max(...packets.map((p) => p.time + (p.duration ?? pooledMedian ?? 0)));
  const videoEnd = endOf(lastVideo);
  const anyEnd = endOf(endPackets);
  const tolerance = Math.max(1, 0.05 * declaredDuration, 3 * (pooledMedian ?? 0));
  if (!durationEstimated) {
    if (streamDuration !== null) {
      const expected = (streamStart ?? containerStart) + streamDuration;
      if (videoEnd === null || expected - videoEnd > tolerance) {
        const got = videoEnd === null ? 'no video data near the end' : `video data ends at ${round(videoEnd - containerStart, 3)} s`;
        fail('video_truncated', input, `truncated or damaged: the container promises ${round(streamDuration, 3)} s of video but ${got}`);
      }
    } else if (containerDuration !== null) {
      const expected = containerStart + containerDuration;
      if (anyEnd === null || expected - anyEnd > tolerance) {
        const got = anyEnd === null ? 'no data near the end' : `data ends at ${round(anyEnd - containerStart, 3)} s`;
        fail('video_truncated', input, `truncated or damaged: the container promises ${round(containerDuration, 3)} s but ${got}`);
      }
    }
  }

  // Video duration: the stream's own; else where its last packet ends; else the container's.
  let videoDuration = streamDuration;
  if (videoDuration === null && videoEnd !== null) videoDuration = videoEnd - (streamStart ?? containerStart);
  videoDuration ??= declaredDuration;

  const rotation = readRotation(stream);
  notes.push(...rotation.notes);
  const sar = aspect(stream.sample_aspect_ratio);
  const squareWidth = Math.max(1, Math.round(width * sar));
  const quarterTurn = rotation.rotation === 90 || rotation.rotation === 270;
  const countedFrames = wholeFile && stats.length > 0 ? windows[0]?.length ?? null : null;

  const isVfr = irregular || windowsDisagree || avgMismatch;
  const frames = declaredFrames ?? countedFrames;
  // For variable frame rate the mean rate over the whole video (frames / duration) is the honest single figure;
  // containers often store the first segment's rate as avg_frame_rate (Matroska's default duration).
  const meanFps = frames !== null && frames > 0 && videoDuration > 0 ? frames / videoDuration : null;
  const bestFps = isVfr
    ? (meanFps ?? avgFps)
    : (avgFps ?? sampledFps ?? rFps);
  const video: VideoStreamInfo = {
    index: videoIndex,
    codec: stream.codec_name ?? 'unknown',
    codec_long_name: stream.codec_long_name ?? null,
    profile: stream.profile ?? null,
    width,
    height,
    sample_aspect_ratio: round(sar),
    display_width: quarterTurn ? height : squareWidth,
    display_height: quarterTurn ? squareWidth : height,
    rotation_deg: rotation.rotation,
    rotation_source: rotation.source,
    avg_fps: avgFps === null ? null : round(avgFps),
    r_fps: rFps === null ? null : round(rFps),
    fps: bestFps === null ? null : round(bestFps, 3),
    is_variable_frame_rate: isVfr,
    frame_rate_check: frameRateCheck,
    nb_frames: frames,
    pix_fmt: stream.pix_fmt ?? null,
    color_space: stream.color_space ?? null,
    color_range: stream.color_range ?? null,
    color_primaries: stream.color_primaries ?? null,
    color_transfer: stream.color_transfer ?? null,
    duration_sec: round(videoDuration),
    start_time_sec: round((streamStart ?? containerStart) - containerStart),
    bit_rate: num(stream.bit_rate),
    time_base: stream.time_base ?? null,
  };
  return {
    path: input.path,
    size_bytes: input.size_bytes,
    format: formatName,
    format_long_name: media.format_long_name,
    duration_sec: round(containerDuration ?? videoDuration),
    start_time_sec: containerStart,
    bit_rate: media.bit_rate,
    video,
    audio_streams: media.audio_streams,
    has_audio: media.has_audio,
    notes,
    ffprobe: media.ffprobe,
  };
}
