// @ts-check
/**
 * Batch queue throughput (issue 11): videos per minute drained by 1 and by 2 `trendflow worker` processes on this
 * machine, and the ratio 2 ÷ 1. A private redis-server (Debian's) on a loopback port, generated clips, the built
 * CLI (`bin/trendflow.js` over dist/), one video at a time per worker (`--concurrency 1`).
 *
 *   node bench/queue.mjs [--videos N] [--reps N] [--components a,b] [--quiet-wait S] [--no-write]   (npm run bench runs it)
 *
 * --quiet-wait S  before each measurement, wait up to S seconds for other processes to leave the CPUs idle (default 0)
 *
 * Throughput is taken from the jobs' own timestamps: N ÷ (last finishedOn − first processedOn), so the workers'
 * start-up (Node, module loading) is not counted; the wall time from spawning the workers to the last job is
 * reported beside it. Runs alternate 1 and 2 workers; the median of the reps is reported.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { fmt, machineInfo, median, waitForQuiet, writeSection } from './lib.mjs';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (/** @type {string} */ p) => import(path.join(root, 'dist', p));
const { values } = parseArgs({
  options: {
    videos: { type: 'string', default: '16' },
    reps: { type: 'string', default: '2' },
    components: { type: 'string', default: 'cut_detection' },
    'quiet-wait': { type: 'string', default: '0' },
    'no-write': { type: 'boolean', default: false },
  },
});
const count = Number(values.videos);
const reps = Number(values.reps);
const components = values.components.split(',');
const quietWait = Number(values['quiet-wait']);
const log = (/** @type {string} */ line) => console.error(`bench queue: ${line}`);
if (!Number.isInteger(count) || count < 4) throw new Error('--videos must be an integer ≥ 4');
if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps must be an integer ≥ 1');
const redisServer = ['/usr/bin/redis-server', ...(process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'redis-server'))].find((p) => existsSync(p));
if (!redisServer) {
  console.error('bench queue: redis-server not found (apt-get install redis-server)');
  process.exit(2);
}

const { enqueueVideos } = await dist('core/queue/enqueue.js');
const { openQueue } = await dist('core/queue/queue.js');
const { locateFfmpeg } = await dist('core/video/tools.js');

const loadStart = os.loadavg()[0];
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'trendflow-bench-queue-'));
const port = await new Promise((resolve) => {
  const server = net.createServer().listen(0, '127.0.0.1', () => {
    const address = /** @type {net.AddressInfo} */ (server.address());
    server.close(() => resolve(address.port));
  });
});
const redisUrl = `redis://127.0.0.1:${port}`;
const redis = spawn(redisServer, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', work], { stdio: 'ignore' });
try {
  const ffmpeg = (await locateFfmpeg()).path;
  // 320x180 testsrc2 at 25 fps for 10 s, each with its own hue so every clip has its own bytes (its own job)
  const clips = [];
  for (let i = 0; i < count; i++) {
    const clip = path.join(work, `clip_${i}.mp4`);
    await run(ffmpeg, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=s=320x180:r=25:d=10,hue=h=${(i * 360) / count}`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip]);
    clips.push(clip);
  }
  const modelsDir = path.join(work, 'models');
  const queue = await openQueue(redisUrl, 30_000);
  /** @type {Record<number, { per_minute: number; wall_s: number }[]>} */
  const results = { 1: [], 2: [] };
  for (let rep = 0; rep < reps; rep++) {
    for (const workers of [1, 2]) {
      await queue.obliterate({ force: true });
      const store = path.join(work, `store-${rep}-${workers}`);
      await enqueueVideos({ redisUrl, videos: clips, components, modelsDir });
      const waited = await waitForQuiet(quietWait);
      if (waited >= quietWait && quietWait > 0) log(`the machine stayed busy for ${fmt(waited, 0)} s; measuring anyway`);
      const t0 = performance.now();
      const children = Array.from({ length: workers }, () =>
        spawn(process.execPath, ['bin/trendflow.js', 'worker', '--store', store, '--concurrency', '1', '--redis', redisUrl, '--models-dir', modelsDir], { cwd: root, stdio: 'ignore' }),
      );
      try {
        for (;;) {
          const counts = await queue.getJobCounts('completed', 'failed');
          if (counts.failed > 0) throw new Error(`${counts.failed} job(s) failed`);
          if (counts.completed === count) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        for (const child of children) child.kill('SIGTERM');
        await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))));
      }
      const wall = (performance.now() - t0) / 1000;
      const jobs = await queue.getJobs('completed');
      const span = (Math.max(...jobs.map((job) => job.finishedOn ?? 0)) - Math.min(...jobs.map((job) => job.processedOn ?? Infinity))) / 1000;
      const perMinute = (count / span) * 60;
      results[workers].push({ per_minute: perMinute, wall_s: wall });
      log(`rep ${rep + 1}: ${workers} worker(s): ${fmt(perMinute, 1)} videos/min (${count} in ${fmt(span, 1)} s of jobs, ${fmt(wall, 1)} s wall)`);
    }
  }
  await queue.close();
  const one = median(results[1].map((r) => r.per_minute));
  const two = median(results[2].map((r) => r.per_minute));
  const machine = machineInfo();
  // the load at the end includes the bench's own workers: only the load before it started says whether others competed
  const busy = loadStart > machine.nproc / 2;
  const body = `## Batch queue: videos per minute with 1 and 2 workers

**2 workers ÷ 1 worker = ${fmt(two / one, 2)}** (${fmt(one, 1)} → ${fmt(two, 1)} videos/min).
${busy ? `\n**Measured on a busy machine** (load average ${fmt(loadStart)} at the start on ${machine.nproc} CPUs): when other processes compete for the CPUs, two worker processes also win a larger share of them than one, so this ratio overstates what a second worker gives on an idle machine, and the per-rep numbers scatter.\n` : ''}
| workers | videos/min (median) | per rep | wall s per rep (incl. worker start-up) |
|---|---|---|---|
| 1 | ${fmt(one, 1)} | ${results[1].map((r) => fmt(r.per_minute, 1)).join(', ')} | ${results[1].map((r) => fmt(r.wall_s, 1)).join(', ')} |
| 2 | ${fmt(two, 1)} | ${results[2].map((r) => fmt(r.per_minute, 1)).join(', ')} | ${results[2].map((r) => fmt(r.wall_s, 1)).join(', ')} |

| run | |
|---|---|
| date | ${new Date().toISOString()} |
| machine | ${machine.nproc} CPUs, ${machine.cpu_model}, ${machine.memory_gib} GiB RAM, ${machine.os}, Node ${machine.node}; load average ${fmt(loadStart)} at the start, ${fmt(os.loadavg()[0])} at the end (other work on the machine lowers both numbers and pulls the ratio towards 1) |
| jobs | ${count} clips (320x180 testsrc2, 25 fps, 10 s, H.264), components ${components.join(', ')}, one job per clip |
| workers | \`trendflow worker --concurrency 1\` processes on this machine, one redis-server on loopback, shared store on local disk |
| repetitions | ${reps}, alternating 1 and 2 workers |

How: \`node bench/queue.mjs\` (run by \`npm run bench\`). Throughput = jobs ÷ (last finishedOn − first processedOn). On
${machine.nproc} CPUs a second worker can at most double it; what it gains depends on how much of one job already
keeps both cores busy (ffmpeg decodes in its own process while the worker's JavaScript runs the component).`;
  if (!values['no-write']) await writeSection(path.join(root, 'docs', 'BENCHMARKS.md'), 'queue', body, '# Benchmarks');
  else console.log(body);
} finally {
  redis.kill('SIGTERM');
  await new Promise((resolve) => (redis.exitCode !== null ? resolve(null) : redis.once('exit', resolve)));
  await fs.rm(work, { recursive: true, force: true });
}
