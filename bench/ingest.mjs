// @ts-check
/**
 * Ingest benchmark (DESIGN.md §12, issue 3): segmentVideo (probe + segmenter + frames_dir) wall time ÷ the wall
 * time of `ffmpeg -v error -i FILE -f null -` on the same generated 1280x720 30 fps 40 s clip, interleaved in
 * one run, plus diagnostics that split the ingest time into ffmpeg scaling, pipe transfer, core/video framing,
 * probing, JavaScript work and durability. Run through bench/run.mjs (`npm run bench`).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, fmtMiB, maxOrNull, measure, median, medianOrNull, min, waitForQuiet } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = new URL('../dist/core/', import.meta.url);
const CHILD = path.join(here, 'child.mjs');
/** A measured run during which other processes kept more CPUs than this busy (on average) counts as disturbed. */
export const BUSY_LIMIT = 0.25;

/** The clip: four 10 s scenes with hard cuts at 10, 20 and 30 s, light temporal grain, x264 like a web upload. */
export const CLIP = {
  width: 1280,
  height: 720,
  fps: 30,
  duration_sec: 40,
  x264: ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-g', '60', '-pix_fmt', 'yuv420p'],
  scenes: [
    'testsrc2 (moving test pattern)',
    'mandelbrot zoom (full-frame motion, fine detail)',
    'animated gradients blended with Game of Life (texture, slow drift)',
    'camera pan over a 1920x1080 testsrc2 (global motion)',
  ],
};

/** @param {string} ffmpeg @param {string} out @returns {[string, string[]]} */
function clipArgs(ffmpeg, out) {
  const { width: w, height: h, fps: r } = CLIP;
  const d = CLIP.duration_sec / 4;
  const inputs = [
    `testsrc2=s=${w}x${h}:r=${r}:d=${d}`,
    `mandelbrot=s=512x288:r=${r}:maxiter=256:end_pts=20:end_scale=1.5,trim=duration=${d},scale=${w}:${h}:flags=bicubic`,
    `gradients=s=${w}x${h}:r=${r}:d=${d}:speed=0.02:nb_colors=4:seed=3`,
    `life=s=320x180:r=${r}:mold=10:ratio=0.5:life_color=#33cc55:death_color=#402010:seed=1,trim=duration=${d},scale=${w}:${h}:flags=neighbor`,
    `testsrc2=s=1920x1080:r=${r}:d=${d},crop=${w}:${h}:x='320+320*sin(0.6*t)':y='180+180*sin(0.45*t)'`,
  ];
  const graph = '[2][3]blend=all_mode=average[c];[0][1][c][4]concat=n=4:v=1:a=0,noise=alls=3:allf=t:all_seed=7,format=yuv420p[v]';
  return [
    ffmpeg,
    ['-v', 'error', '-nostdin', '-y', ...inputs.flatMap((i) => ['-f', 'lavfi', '-i', i]), '-filter_complex', graph, '-map', '[v]', ...CLIP.x264, '-movflags', '+faststart', '-an', out],
  ];
}

/**
 * The segmenter's ffmpeg command with its raw pipe outputs replaced by the null muxer (same decode, same filter
 * graph, no transfer to Node).
 * @param {string[]} args
 */
function toNullOutputs(args) {
  return args.map((a, i) => (a === 'rawvideo' && args[i - 1] === '-f' ? 'null' : /^pipe:\d+$/.test(a) ? '-' : a));
}

/** Extra pipes (fd 3…) a command writes to. @param {string[]} args */
function extraPipes(args) {
  const fds = args.map((a) => /^pipe:(\d+)$/.exec(a)?.[1]).filter((x) => x !== undefined).map(Number);
  return Math.max(0, ...fds.map((fd) => fd - 2));
}

/** @param {string[]} args @param {(graph: string) => string} edit */
function editGraph(args, edit) {
  const i = args.indexOf('-filter_complex');
  if (i < 0) throw new Error('the segmenter command has no -filter_complex');
  const out = [...args];
  out[i + 1] = edit(/** @type {string} */ (args[i + 1]));
  return out;
}

/**
 * @typedef {import('./lib.mjs').Measurement & { inner_s?: number, info?: any }} Sample
 * @typedef {{ key: string, label: string, command: string, run: () => Promise<Sample> }} Case
 */

/**
 * `quietWait`: before each measurement wait up to this many seconds for other processes to leave the CPUs idle.
 * `retries`: how many measurements (in all) may be discarded and run again because other processes kept more
 * than BUSY_LIMIT CPUs busy during them.
 * @param {{ reps: number, diagReps: number, quietWait: number, retries: number, clip?: string, keep: boolean, log: (line: string) => void }} options
 */
export async function runIngestBench(options) {
  const { reps, diagReps, log } = options;
  const video = await import(new URL('video/index.js', dist).href);
  const ffmpegTool = await video.locateFfmpeg();
  const ffprobeTool = await video.locateFfprobe();
  const ffmpeg = ffmpegTool.path;
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'trendflow-bench-'));
  const started = new Date();
  const loadBefore = os.loadavg();
  try {
    // ---- the clip
    let clip = options.clip ? path.resolve(options.clip) : path.join(tmp, 'clip_1280x720_30fps_40s.mp4');
    let generation_s = null;
    if (!options.clip) {
      const [cmd, args] = clipArgs(ffmpeg, clip);
      log(`generating ${path.basename(clip)} with ${ffmpeg} (lavfi + libx264) …`);
      const t0 = performance.now();
      await measure(cmd, args, { tmpDir: tmp }).catch((error) => {
        throw new Error(`cannot generate the clip (does ${ffmpeg} have libx264 and the lavfi sources?): ${error.message}`);
      });
      generation_s = (performance.now() - t0) / 1000;
    }
    const probe = await video.probeVideo(clip);
    const clipInfo = {
      path: options.clip ? clip : null,
      generated: !options.clip,
      generation_s,
      size_bytes: probe.size_bytes,
      bit_rate: probe.bit_rate,
      duration_sec: probe.video.duration_sec,
      fps: probe.video.fps,
      width: probe.video.width,
      height: probe.video.height,
      codec: probe.video.codec,
      profile: probe.video.profile,
      pix_fmt: probe.video.pix_fmt,
      nb_frames: probe.video.nb_frames,
      is_variable_frame_rate: probe.video.is_variable_frame_rate,
      frame_rate_check: probe.video.frame_rate_check,
    };
    log(`clip: ${clipInfo.width}x${clipInfo.height} ${clipInfo.fps} fps ${fmt(clipInfo.duration_sec, 1)} s, ${clipInfo.codec}, ${(clipInfo.size_bytes / 2 ** 20).toFixed(1)} MiB, ${fmt((clipInfo.bit_rate ?? 0) / 1e6, 2)} Mbit/s`);

    let outCounter = 0;
    const segmentRun = async (/** @type {boolean} */ durable) => {
      const out = path.join(tmp, `frames_${outCounter++}`);
      try {
        const m = await measure(process.execPath, [CHILD, 'segment', clip, out, ...(durable ? [] : ['--no-durable'])], { tmpDir: tmp, capture: true });
        const info = JSON.parse(m.stdout.trim().split('\n').pop() ?? '{}');
        return { ...m, inner_s: info.wall_s, info };
      } finally {
        await fs.rm(out, { recursive: true, force: true });
      }
    };
    const baselineArgs = ['-v', 'error', '-nostdin', '-i', clip, '-f', 'null', '-'];

    // ---- warm-up (page cache, and the segmenter's exact ffmpeg command for the diagnostics)
    log('warm-up …');
    await measure(ffmpeg, baselineArgs, { tmpDir: tmp });
    const warm = await segmentRun(true);
    const segInfo = warm.info;
    /** @type {string[]} */
    const segCommand = segInfo.ffmpeg_command;
    if (!Array.isArray(segCommand) || segCommand.length < 2) throw new Error('metadata.ingest.ffmpeg_command is missing');
    const segArgs = segCommand.slice(1);
    const graphIndex = segArgs.indexOf('-filter_complex');
    const graph = /** @type {string} */ (segArgs[graphIndex + 1]);
    const sampler = /^(\[0:\d+\]fps=[^,;\[]+)/.exec(graph)?.[1];
    if (!sampler) throw new Error(`unexpected segmenter filter graph: ${graph}`);
    const [analysisW, analysisH] = [segInfo.frame_shape[2], segInfo.frame_shape[1]];
    const streamSpec = JSON.stringify({
      fps: segInfo.analysis_fps,
      outputs: [
        { width: segInfo.signal_size[0], height: segInfo.signal_size[1], pixelFormat: 'rgb24' },
        { width: analysisW, height: analysisH, pixelFormat: 'rgb24' },
      ],
    });

    /** @type {Case[]} */
    const main = [
      {
        key: 'baseline',
        label: 'baseline: ffmpeg decode to null',
        command: '`ffmpeg -v error -i FILE -f null -`',
        run: () => measure(ffmpeg, baselineArgs, { tmpDir: tmp }),
      },
      {
        key: 'ingest',
        label: 'ingest: segmentVideo (probe + segmenter + frames_dir, fsync)',
        command: '`segmentVideo(FILE, { outDir })` in a fresh Node process, timed around the call',
        run: () => segmentRun(true),
      },
    ];
    const nullGraph = toNullOutputs(segArgs);
    const noAccurateRnd = editGraph(nullGraph, (g) => g.replaceAll('+accurate_rnd', ''));
    /** @type {Case[]} */
    const diagnostics = [
      {
        key: 'decode_fps',
        label: 'ffmpeg: decode + the segmenter\'s fps sampler, to null',
        command: `\`-filter_complex "${sampler}" -f null -\``,
        run: () => measure(ffmpeg, ['-v', 'error', '-nostdin', '-i', clip, '-filter_complex', `${sampler}[o]`, '-map', '[o]', '-f', 'null', '-'], { tmpDir: tmp }),
      },
      {
        key: 'graph_null',
        label: 'ffmpeg: the segmenter\'s exact command, outputs to null',
        command: 'metadata.ingest.ffmpeg_command with each `-f rawvideo … pipe:N` → `-f null -`',
        run: () => measure(ffmpeg, nullGraph, { tmpDir: tmp }),
      },
      {
        key: 'graph_pipes',
        label: 'ffmpeg: the segmenter\'s exact command, raw pipes drained by Node',
        command: 'metadata.ingest.ffmpeg_command as is; this Node process reads both pipes and discards the bytes (its CPU counted)',
        run: () => measure(ffmpeg, segArgs, { tmpDir: tmp, pipes: extraPipes(segArgs), countSelf: true }),
      },
      {
        key: 'stream',
        label: 'core/video: probeVideo + streamFramesMulti, frames discarded',
        command: 'child process; `wall` = the stream only, probe timed separately',
        run: async () => {
          const m = await measure(process.execPath, [CHILD, 'stream', clip, streamSpec], { tmpDir: tmp, capture: true });
          const info = JSON.parse(m.stdout.trim().split('\n').pop() ?? '{}');
          return { ...m, inner_s: info.wall_s, info };
        },
      },
      {
        key: 'ingest_nodurable',
        label: 'segmentVideo with durable: false (no fsync)',
        command: '`segmentVideo(FILE, { outDir, durable: false })`',
        run: () => segmentRun(false),
      },
      {
        key: 'variant_no_accurate_rnd',
        label: 'variant: segmenter command to null, `+accurate_rnd` dropped',
        command: 'same graph, `flags=area+full_chroma_int`',
        run: () => measure(ffmpeg, noAccurateRnd, { tmpDir: tmp }),
      },
      {
        key: 'variant_skip_noref',
        label: 'variant: baseline decode with `-skip_frame noref` (non-reference frames not decoded)',
        command: '`ffmpeg -v error -skip_frame noref -i FILE -f null -`',
        run: () => measure(ffmpeg, ['-v', 'error', '-nostdin', '-skip_frame', 'noref', '-i', clip, '-f', 'null', '-'], { tmpDir: tmp }),
      },
    ];

    /** @type {Record<string, Sample[]>} */
    const samples = {};
    let waited = 0;
    const push = (/** @type {string} */ key, /** @type {Sample} */ s) => (samples[key] ??= []).push(s);
    let retriesLeft = options.retries;
    let discarded = 0;
    /** Runs one case, again (up to the retry budget) while other processes competed for the CPUs. */
    const runClean = async (/** @type {Case} */ c) => {
      for (;;) {
        waited += await waitForQuiet(options.quietWait);
        const s = await c.run();
        if ((s.other_cores ?? 0) <= BUSY_LIMIT || retriesLeft <= 0) return s;
        retriesLeft--;
        discarded++;
        log(`  ${c.key}: other processes kept ${fmt(s.other_cores, 1)} CPUs busy: measuring again`);
      }
    };
    for (let r = 0; r < reps; r++) {
      // alternate which of the pair goes first, so neither always follows the other's cache/writeback state
      const pair = r % 2 === 0 ? main : [...main].reverse();
      const cases = r < diagReps ? [...pair, ...diagnostics] : pair;
      for (const c of cases) {
        const s = await runClean(c);
        push(c.key, s);
        if (c.key === 'ingest') push('ingest_process', { ...s, inner_s: undefined });
      }
      const b = samples.baseline?.[r]?.wall_s ?? NaN;
      const i = samples.ingest?.[r]?.inner_s ?? NaN;
      const other = Math.max(samples.baseline?.[r]?.other_cores ?? 0, samples.ingest?.[r]?.other_cores ?? 0);
      log(`rep ${r + 1}/${reps}: baseline ${fmt(b)} s, ingest ${fmt(i)} s, ratio ${fmt(i / b)}; other processes kept ${fmt(other, 1)} CPUs busy${r < diagReps ? ' (+ diagnostics)' : ''}`);
    }

    const wall = (/** @type {string} */ key) => (samples[key] ?? []).map((s) => s.inner_s ?? s.wall_s);
    const stat = (/** @type {string} */ key) => {
      const list = samples[key] ?? [];
      return {
        n: list.length,
        median_s: median(wall(key)),
        min_s: min(wall(key)),
        max_s: Math.max(...wall(key)),
        cpu_median_s: medianOrNull(list.map((s) => s.cpu_s)),
        maxrss_kb: maxOrNull(list.map((s) => s.maxrss_kb)),
        node_maxrss_kb: maxOrNull(list.map((s) => s.info?.node_maxrss_kb ?? null)),
        node_cpu_median_s: medianOrNull(list.map((s) => s.info?.node_cpu_s ?? null)),
        walls_s: wall(key),
        other_cores_median: medianOrNull(list.map((s) => s.other_cores)),
        other_cores: list.map((s) => s.other_cores),
      };
    };
    /** @type {Record<string, ReturnType<typeof stat>>} */
    const stats = {};
    for (const key of Object.keys(samples)) stats[key] = stat(key);
    const base = /** @type {ReturnType<typeof stat>} */ (stats.baseline);
    const ing = /** @type {ReturnType<typeof stat>} */ (stats.ingest);
    const paired = ing.walls_s.map((w, k) => w / (base.walls_s[k] ?? NaN));
    const busyElsewhere = Math.max(0, ...[...(samples.baseline ?? []), ...(samples.ingest ?? [])].map((x) => x.other_cores ?? 0));
    const probeSamples = (samples.stream ?? []).map((s) => s.info?.probe_s).filter((x) => typeof x === 'number');
    const probeCpu = (samples.stream ?? []).map((s) => s.info?.probe_cpu_s).filter((x) => typeof x === 'number');
    const firstFrame = (samples.ingest ?? []).map((s) => s.info?.first_frame_s).filter((x) => typeof x === 'number');
    return {
      benchmark: 'ingest',
      started_at: started.toISOString(),
      finished_at: new Date().toISOString(),
      reps,
      diag_reps: Math.min(diagReps, reps),
      quiet_wait: { max_s: options.quietWait, waited_s: waited },
      retries: { budget: options.retries, discarded },
      ffmpeg: { path: ffmpeg, source: ffmpegTool.source, banner: ffmpegTool.banner, version: ffmpegTool.version },
      ffprobe: { path: ffprobeTool.path, version: ffprobeTool.version },
      tmp_dir: os.tmpdir(),
      clip: clipInfo,
      segmenter: {
        frame_count: segInfo.frame_count,
        frame_shape: segInfo.frame_shape,
        frames_bytes: segInfo.frames_bytes,
        analysis_fps: segInfo.analysis_fps,
        analysis_frame_count: segInfo.analysis_frame_count,
        cut_candidate_count: segInfo.cut_candidate_count,
        signal_size: segInfo.signal_size,
        components: segInfo.components,
        ffmpeg_command: segCommand,
      },
      cases: Object.fromEntries([...main, ...diagnostics].map((c) => [c.key, { label: c.label, command: c.command }])),
      stats,
      probe_median_s: probeSamples.length ? median(probeSamples) : null,
      probe_cpu_median_s: probeCpu.length ? median(probeCpu) : null,
      loadavg: { before: loadBefore, after: os.loadavg() },
      first_frame_median_s: firstFrame.length ? median(firstFrame) : null,
      ratio: {
        median: ing.median_s / base.median_s,
        min: ing.min_s / base.min_s,
        paired_median: median(paired),
        paired: paired,
        cpu_median: ing.cpu_median_s !== null && base.cpu_median_s !== null ? ing.cpu_median_s / base.cpu_median_s : null,
        target: 1.3,
      },
      /** The most CPUs other processes kept busy during a measured baseline or ingest run. */
      busy_elsewhere_max: busyElsewhere,
      /** Wall-time verdicts are meaningful only when nothing else competed for the CPUs. */
      reliable: busyElsewhere <= BUSY_LIMIT,
    };
  } finally {
    if (options.keep) log(`kept ${tmp}`);
    else await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** @typedef {Awaited<ReturnType<typeof runIngestBench>>} IngestResult */

/**
 * The "where the time goes" split: differences of medians (noise can make a step slightly negative), for wall
 * time and for CPU time (user + system of every process involved).
 */
export function breakdown(/** @type {IngestResult} */ r) {
  const m = (/** @type {string} */ key) => r.stats[key]?.median_s ?? NaN;
  const c = (/** @type {string} */ key) => r.stats[key]?.cpu_median_s ?? NaN;
  const probe = r.probe_median_s ?? NaN;
  const probeCpu = r.probe_cpu_median_s ?? NaN;
  /** @type {[string, number, number, string][]} */
  const steps = [
    ['decode (the baseline)', m('baseline'), c('baseline'), 'ffmpeg … -f null -'],
    ['fps sampler', m('decode_fps') - m('baseline'), c('decode_fps') - c('baseline'), 'decode+fps → null − baseline'],
    ['scaling + RGB conversion (two outputs)', m('graph_null') - m('decode_fps'), c('graph_null') - c('decode_fps'), 'segmenter graph → null − decode+fps → null'],
    ['raw pipes to Node', m('graph_pipes') - m('graph_null'), c('graph_pipes') - c('graph_null'), 'graph → pipes − graph → null'],
    ['core/video framing (streamFramesMulti; CPU includes Node start-up)', m('stream') - m('graph_pipes'), c('stream') - probeCpu - c('graph_pipes'), 'stream − graph → pipes'],
    ['probe (probeVideo: 3 ffprobe runs)', probe, probeCpu, 'timed inside the stream run'],
    ['segmenter JS: signals, selection, frames.npy writes, signals.npz, metadata', m('ingest_nodurable') - m('stream') - probe, c('ingest_nodurable') - c('stream'), 'segmentVideo(durable: false) − stream − probe'],
    ['fsync + rename (durable)', m('ingest') - m('ingest_nodurable'), c('ingest') - c('ingest_nodurable'), 'segmentVideo − segmentVideo(durable: false)'],
  ];
  return steps.map(([step, seconds, cpu, how]) => ({ step, seconds, cpu, how }));
}

/** Markdown section for docs/BENCHMARKS.md. @param {IngestResult} r @param {ReturnType<typeof import('./lib.mjs').machineInfo>} machine */
export function ingestMarkdown(r, machine) {
  const s = r.stats;
  const base = /** @type {NonNullable<typeof s.baseline>} */ (s.baseline);
  const met = r.ratio.median <= r.ratio.target;
  const verdict = !r.reliable ? 'not decidable from this run (other processes competed for the CPUs)' : met ? 'met' : 'not met';
  const lines = [];
  lines.push('## Ingest: segmenter vs. one ffmpeg decode');
  lines.push('');
  lines.push(
    `**ingest ÷ baseline = ${fmt(r.ratio.median)}** (medians; min ÷ min ${fmt(r.ratio.min)}, median of per-rep ratios ${fmt(r.ratio.paired_median)}; ` +
      `CPU-time ratio ${fmt(r.ratio.cpu_median)}). Target ≤ ${r.ratio.target}: **${verdict}**.`,
  );
  const otherMax = r.busy_elsewhere_max;
  if (!r.reliable) {
    lines.push('');
    lines.push(
      `> Other processes shared the machine during this run (up to ${fmt(otherMax, 1)} of ${machine.nproc} CPUs busy elsewhere during a measured run; ` +
        `1-min load average ${fmt(r.loadavg.before[0])} before, ${fmt(r.loadavg.after[0])} after): wall times are inflated and noisy; ` +
        'the min ÷ min and CPU-time ratios are the steadier figures.',
    );
  }
  lines.push('');
  lines.push('| run | |');
  lines.push('|---|---|');
  lines.push(`| date | ${r.started_at} |`);
  lines.push(`| machine | ${machine.nproc} CPUs (nproc), ${machine.cpu_model}, ${machine.memory_gib} GiB RAM, ${machine.os} |`);
  lines.push(`| ffmpeg | ${r.ffmpeg.banner.split(' Copyright')[0]} (\`${r.ffmpeg.path}\`, found via ${r.ffmpeg.source}) |`);
  lines.push(`| Node | ${machine.node} |`);
  lines.push(
    `| clip | ${r.clip.generated ? 'generated: ' : ''}${r.clip.width}x${r.clip.height} ${r.clip.fps} fps ${fmt(r.clip.duration_sec, 1)} s, ${r.clip.codec} ${r.clip.profile ?? ''} ${r.clip.pix_fmt ?? ''}, ` +
      `${(r.clip.size_bytes / 2 ** 20).toFixed(1)} MiB (${fmt((r.clip.bit_rate ?? 0) / 1e6, 2)} Mbit/s), no audio${r.clip.generation_s !== null ? `; generated in ${fmt(r.clip.generation_s, 1)} s` : ''}; ` +
      `probeVideo: is_variable_frame_rate ${r.clip.is_variable_frame_rate} (${r.clip.frame_rate_check?.method ?? '?'}, intervals ${r.clip.frame_rate_check?.min_interval_sec ?? '?'}–${r.clip.frame_rate_check?.max_interval_sec ?? '?'} s) |`,
  );
  lines.push(
    `| other load | 1-min load average ${fmt(r.loadavg.before[0])} before, ${fmt(r.loadavg.after[0])} after; ` +
      `${r.quiet_wait.max_s > 0 ? `waited up to ${r.quiet_wait.max_s} s for idle CPUs before each measurement (${fmt(r.quiet_wait.waited_s, 0)} s in all)` : 'no waiting for idle CPUs'}; ` +
      `${r.retries.discarded} disturbed measurement(s) discarded and repeated (budget ${r.retries.budget}) |`,
  );
  lines.push(`| repetitions | ${r.reps} interleaved pairs (order alternating), diagnostics in the first ${r.diag_reps}; after one warm-up of each |`);
  lines.push(
    `| frames stored | ${r.segmenter.frame_count} of ${r.segmenter.analysis_frame_count} analysis frames (${r.segmenter.analysis_fps} fps), ` +
      `shape ${JSON.stringify(r.segmenter.frame_shape)}, frames.npy ${(r.segmenter.frames_bytes / 2 ** 20).toFixed(0)} MiB; ${r.segmenter.cut_candidate_count} cut candidates |`,
  );
  lines.push('');
  lines.push('| measurement | median s | min s | max s | × baseline (median) | CPU s (median, user+sys, whole tree) | peak RSS | CPUs busy elsewhere (median) |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  const row = (/** @type {string} */ key, /** @type {string} */ label, /** @type {string} */ rss) => {
    const x = s[key];
    if (!x) return;
    lines.push(`| ${label} | ${fmt(x.median_s)} | ${fmt(x.min_s)} | ${fmt(x.max_s)} | ${fmt(x.median_s / base.median_s)} | ${fmt(x.cpu_median_s)} | ${rss} | ${fmt(x.other_cores_median, 2)} |`);
  };
  row('baseline', '**baseline**: `ffmpeg -v error -i FILE -f null -`', fmtMiB(base.maxrss_kb));
  const ing = s.ingest;
  row('ingest', '**ingest**: `segmentVideo` (probe + segmenter + frames_dir, fsync)', ing ? `Node ${fmtMiB(ing.node_maxrss_kb)}; largest process ${fmtMiB(ing.maxrss_kb)}` : '–');
  row('ingest_process', 'ingest as a process (Node start-up and imports included)', '');
  lines.push('');
  lines.push(`Per-rep ingest ÷ baseline: ${r.ratio.paired.map((x) => fmt(x)).join(', ')}.`);
  lines.push('');
  lines.push(`Per-rep wall s — baseline: ${base.walls_s.map((x) => fmt(x)).join(', ')}; ingest: ${(ing?.walls_s ?? []).map((x) => fmt(x)).join(', ')}.`);
  lines.push('');
  lines.push('### Diagnostics: where the ingest time goes');
  lines.push('');
  lines.push('| measurement | median s | min s | × baseline | CPU s (median) | peak RSS | CPUs busy elsewhere |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const key of Object.keys(r.cases)) {
    if (key === 'baseline' || key === 'ingest') continue;
    const x = s[key];
    if (!x) continue;
    const rss = x.node_maxrss_kb ? `Node ${fmtMiB(x.node_maxrss_kb)}; largest ${fmtMiB(x.maxrss_kb)}` : fmtMiB(x.maxrss_kb);
    lines.push(`| ${r.cases[key]?.label} | ${fmt(x.median_s)} | ${fmt(x.min_s)} | ${fmt(x.median_s / base.median_s)} | ${fmt(x.cpu_median_s)} | ${rss} | ${fmt(x.other_cores_median, 2)} |`);
  }
  if (r.probe_median_s !== null) lines.push(`| probeVideo alone (inside the stream run) | ${fmt(r.probe_median_s)} | | | ${fmt(r.probe_cpu_median_s)} | | |`);
  if (r.first_frame_median_s !== null) lines.push(`| segmentVideo start → first analysis frame (probe + ffmpeg start-up) | ${fmt(r.first_frame_median_s)} | | | | | |`);
  lines.push('');
  lines.push('Split of the ingest median (differences of medians, so noise can make a step slightly negative):');
  lines.push('');
  lines.push('| step | wall s | share of ingest wall | CPU s | share of ingest CPU | from |');
  lines.push('|---|---:|---:|---:|---:|---|');
  for (const b of breakdown(r)) {
    lines.push(
      `| ${b.step} | ${fmt(b.seconds)} | ${fmt((100 * b.seconds) / (ing?.median_s ?? NaN), 0)} % | ${fmt(b.cpu)} | ${fmt((100 * b.cpu) / (ing?.cpu_median_s ?? NaN), 0)} % | ${b.how} |`,
    );
  }
  lines.push('');
  lines.push('The segmenter\'s ffmpeg command in this run (`metadata.ingest.ffmpeg_command`):');
  lines.push('');
  lines.push('```');
  lines.push(r.segmenter.ffmpeg_command.map((a) => (/[\s;[\]'"]/.test(a) ? `'${a}'` : a)).join(' '));
  lines.push('```');
  lines.push('');
  lines.push('### How measured');
  lines.push('');
  lines.push(
    [
      `- The clip is generated in a temporary folder with ffmpeg lavfi sources and libx264 (\`${CLIP.x264.join(' ')}\`, +faststart, no audio, so the baseline decodes nothing the segmenter skips): ` +
        `${CLIP.scenes.join('; ')}, ${CLIP.duration_sec / 4} s each, hard cuts between them, light temporal grain (\`noise=alls=3:allf=t\`).`,
      '- Each repetition runs the baseline and the ingest back to back (the order alternates), then, in the first repetitions, the diagnostics. ' +
        'One warm-up of each comes first (page cache; it also yields the segmenter\'s exact ffmpeg command). The frames_dir is deleted after each run, outside the timing.',
      '- baseline: wall time of the ffmpeg process, spawn to exit. ingest: `segmentVideo` from `dist/core` (probe, one ffmpeg decode, signals, selection, ' +
        'frames.npy + signals.npz + metadata.json in a temporary folder, fsync, rename) timed inside a fresh Node process around the call; the same run timed from outside is the "as a process" row.',
      '- CPU s: user + system time of the whole process tree (this process\'s `cutime + cstime` from /proc/self/stat around each child). ' +
        'Peak RSS: GNU time `%M` (largest single process of the tree: Node or ffmpeg) and Node\'s own `process.resourceUsage().maxRSS`.',
      `- Frames go to \`os.tmpdir()\` (\`${r.tmp_dir}\`). Medians and minima over the repetitions; the ratio uses medians.`,
      '- CPUs busy elsewhere: machine-wide busy time (/proc/stat) during a measured run minus the CPU time of the measured process tree and of the harness, ÷ wall time. ' +
        'Anything well above 0 means another workload competed for the CPUs and the wall time of that run is inflated. ' +
        `A measurement during which other processes kept more than ${BUSY_LIMIT} CPUs busy is discarded and repeated, up to \`--retries N\` times in all (default 3); ` +
        '`--quiet-wait S` makes the harness wait up to S seconds before each measurement for a second in which other processes use under 15 % of the CPUs.',
      '- Reproduce: `npm run bench` (compiles core/ first; options after `--`: `--reps N`, `--diag-reps N`, `--retries N`, `--quiet-wait S`, `--clip FILE`, `--keep`, `--no-write`, `--json FILE`).',
    ].join('\n'),
  );
  return lines.join('\n');
}
