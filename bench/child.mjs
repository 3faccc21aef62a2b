// @ts-check
/**
 * One measured run in a fresh Node process (started by bench/ingest.mjs; prints one JSON line).
 *
 *   node bench/child.mjs segment FILE OUT_DIR [--no-durable]   segmentVideo (probe + segmenter + frames_dir)
 *   node bench/child.mjs stream FILE SPEC_JSON                 probeVideo, then streamFramesMulti with the
 *                                                              segmenter's outputs, frames discarded (no JS work)
 *
 * `wall_s` is timed around the library call only (Node start-up and module loading excluded; the parent also
 * times the whole process).
 */
import { childrenCpuSeconds } from './lib.mjs';

const dist = new URL('../dist/core/', import.meta.url);
const [mode, file, arg, ...flags] = process.argv.slice(2);

if (mode === 'segment' && file && arg) {
  const { segmentVideo } = await import(new URL('segmenter/index.js', dist).href);
  /** @type {number | null} */
  let firstFrameAt = null;
  const t0 = performance.now();
  const { metadata } = await segmentVideo(file, {
    outDir: arg,
    durable: !flags.includes('--no-durable'),
    onProgress: (/** @type {{ frames: number }} */ p) => {
      if (firstFrameAt === null && p.frames >= 1) firstFrameAt = performance.now() - t0;
    },
  });
  const wall = (performance.now() - t0) / 1000;
  const usage = process.resourceUsage();
  print({
    wall_s: wall,
    first_frame_s: firstFrameAt === null ? null : firstFrameAt / 1000,
    node_maxrss_kb: usage.maxRSS,
    node_cpu_s: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    frame_count: metadata.frame_count,
    frame_shape: metadata.frame_shape,
    frames_bytes: metadata.ingest.frames_bytes,
    analysis_fps: metadata.analysis_fps,
    analysis_frame_count: metadata.analysis_frame_count,
    cut_candidate_count: metadata.cheap_signals.cut_candidate_count,
    signal_size: [metadata.cheap_signals.width, metadata.cheap_signals.height],
    is_variable_frame_rate: metadata.source.is_variable_frame_rate,
    ffmpeg_command: metadata.ingest.ffmpeg_command,
    components: Object.fromEntries(metadata.components.map((/** @type {string} */ c) => [c, metadata[c]?.frame_indices?.length ?? 0])),
  });
} else if (mode === 'stream' && file && arg) {
  const { probeVideo, streamFramesMulti } = await import(new URL('video/index.js', dist).href);
  /** @type {{ fps: number, outputs: { width: number, height: number, pixelFormat: string }[] }} */
  const spec = JSON.parse(arg);
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  const probe = await probeVideo(file);
  const t1 = performance.now();
  const probeCpu = cpuSeconds() - cpu0;
  let frames = 0;
  let bytes = 0;
  for await (const frame of streamFramesMulti(file, { fps: spec.fps, probe, outputs: spec.outputs })) {
    frames++;
    for (const data of frame.data) bytes += data.length;
  }
  const t2 = performance.now();
  const usage = process.resourceUsage();
  print({
    wall_s: (t2 - t1) / 1000,
    probe_s: (t1 - t0) / 1000,
    probe_cpu_s: probeCpu,
    frames,
    bytes,
    node_maxrss_kb: usage.maxRSS,
    node_cpu_s: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
  });
} else {
  process.stderr.write('usage: node bench/child.mjs segment FILE OUT_DIR [--no-durable] | stream FILE SPEC_JSON\n');
  process.exit(2);
}

/** CPU seconds of this process and the children it waited for (ffprobe). */
function cpuSeconds() {
  const usage = process.resourceUsage();
  return (usage.userCPUTime + usage.systemCPUTime) / 1e6 + (childrenCpuSeconds() ?? 0);
}

/** @param {unknown} value */
function print(value) {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
