/**
 * The batch queue end to end (issue 11): a real redis-server, worker processes of the built CLI (`bin/trendflow.js`,
 * so `npm run build` first), tiny generated videos and the light cut_detection component (a job takes about a
 * second). Waits poll the queue with generous deadlines: the machine may be loaded.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openQueue, type AnalysisQueue } from '../../core/queue/queue.js';
import type { QueueStatus } from '../../core/queue/status.js';
import { validateRunDir } from '../../core/schema/index.js';
import { listRuns } from '../../core/store/runs.js';
import { storeDir } from '../../core/store/paths.js';
import { redisAvailableOrCi, startRedis, type RedisServer } from '../helpers/redis.js';
import { useTempDirs } from '../helpers/tmp.js';
import { VideoFixtures } from '../helpers/video-fixtures.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');
/** Per test: generous, since every wait polls with its own deadline and a loaded 2-core machine is slow. */
const TEST_TIMEOUT_MS = 240_000;
const tmp = useTempDirs('batch-');

interface WorkerProcess {
  child: ChildProcess;
  log: () => string;
  exited: Promise<number | null>;
}

describe.skipIf(!redisAvailableOrCi)('batch queue: Redis, worker processes, shared store', () => {
  let redis: RedisServer;
  let fixtures: VideoFixtures;
  let shared: string;
  let modelsDir: string;
  let videos: string[];
  let queue: AnalysisQueue;
  const workers: WorkerProcess[] = [];

  const env = (): NodeJS.ProcessEnv => ({ ...process.env, TRENDFLOW_REDIS_URL: redis.url, TRENDFLOW_MODELS_DIR: modelsDir });

  function trendflow(...args: string[]) {
    return spawnSync(process.execPath, ['bin/trendflow.js', ...args], { cwd: repoRoot, env: env(), encoding: 'utf8', timeout: 120_000 });
  }

  function startWorkerProcess(...extra: string[]): WorkerProcess {
    const child = spawn(process.execPath, ['bin/trendflow.js', 'worker', '--store', shared, '--concurrency', '1', ...extra], { cwd: repoRoot, env: env(), stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const worker = { child, log: () => log, exited };
    workers.push(worker);
    return worker;
  }

  async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 120_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  function status(): QueueStatus {
    const result = trendflow('queue', 'status', '--json');
    expect(result.status, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as QueueStatus;
  }

  async function runsOf(videoId: string) {
    return (await listRuns(storeDir(shared))).filter((run) => run.video_id === videoId);
  }

  beforeAll(async () => {
    [redis, fixtures] = await Promise.all([startRedis(), VideoFixtures.create()]);
    shared = await tmp();
    modelsDir = await tmp();
    videos = await fixtures.distinctShorts(20);
    queue = await openQueue(redis.url);
  });

  afterAll(async () => {
    for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await queue?.close();
    await redis?.stop();
    await fixtures?.cleanup();
  });

  it('20 videos are queued once, drained by 2 worker processes into one valid run each, and the status counts match', async () => {
    const list = path.join(fixtures.dir, 'videos.txt');
    await fs.writeFile(list, `# twenty short videos\n${videos.map((video) => path.basename(video)).join('\n')}\n\n`);
    const first = trendflow('enqueue', '--list', list, '--components', 'cut_detection', '--json');
    expect(first.status, first.stderr).toBe(0);
    const queued = first.stdout.trim().split('\n').map((line) => JSON.parse(line) as { outcome: string; job_id: string });
    expect(queued.map((q) => q.outcome)).toEqual(Array(20).fill('queued'));
    expect(new Set(queued.map((q) => q.job_id)).size).toBe(20);
    // the same videos again, one by path, the rest from the list: nothing is added
    const again = trendflow('enqueue', videos[0]!, '--list', list, '--components', 'cut_detection', '--json');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { outcome: string }).outcome)).toEqual(Array(21).fill('exists'));
    expect(status().counts).toMatchObject({ waiting: 20, active: 0, completed: 0, failed: 0 });

    const pair = [startWorkerProcess(), startWorkerProcess()];
    await waitFor('20 completed jobs', async () => (await queue.getJobCounts('completed')).completed === 20);

    const runs = await listRuns(storeDir(shared));
    expect(runs).toHaveLength(20);
    expect(new Set(runs.map((run) => run.video_id)).size).toBe(20);
    for (const run of runs) {
      const validation = await validateRunDir(run.run_dir);
      expect(validation.problems, run.run_dir).toEqual([]);
      expect(validation.manifest?.run.status).toBe('ok');
    }
    const jobs = await queue.getJobs('completed');
    expect(jobs.map((job) => job.attemptsMade)).toEqual(Array(20).fill(1));
    expect(new Set(jobs.map((job) => job.returnvalue.run_key))).toEqual(new Set(runs.map((run) => path.relative(shared, run.run_dir).split(path.sep).join('/'))));
    expect(jobs.every((job) => job.returnvalue.reused === false)).toBe(true);
    // both processes took jobs
    for (const worker of pair) expect(worker.log()).toMatch(/published to/);

    const counts = status();
    expect(counts.counts).toEqual({ waiting: 0, active: 0, completed: 20, failed: 0, delayed: 0, paused: 0 });
    expect(counts.workers).toBe(2);
    expect(counts.throughput.completed).toBe(20);
    expect(counts.failures).toEqual([]);
  }, TEST_TIMEOUT_MS);

  it('a corrupt video fails once, with its error code, and is not retried', async () => {
    const bad = await fixtures.randomBytes();
    const result = trendflow('enqueue', bad, '--components', 'cut_detection', '--json');
    expect(result.status, result.stderr).toBe(0);
    const { job_id } = JSON.parse(result.stdout) as { job_id: string };
    await waitFor('the corrupt video to fail', async () => (await queue.getJob(job_id))?.failedReason);
    const job = (await queue.getJob(job_id))!;
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/^video_unreadable: /);
    const { failures, counts } = status();
    expect(failures.find((f) => f.job_id === job_id)).toMatchObject({ video: bad, error_code: 'video_unreadable', attempts: 1 });
    expect(counts).toMatchObject({ completed: 20, failed: 1 });
    // a file that is not there is not queued at all
    const missing = trendflow('enqueue', path.join(fixtures.dir, 'no-such-video.mp4'), '--components', 'cut_detection');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/no-such-video\.mp4: video_not_found: /);
    // its run is in the shared store with the reason, like any failed analysis
    const [run] = await runsOf(job.data.video_id);
    expect((await validateRunDir(run!.run_dir)).manifest?.run.error?.error_code).toBe('video_unreadable');
    // `queue retry` puts it back with its attempts reset; it fails once more, the same way
    const retried = trendflow('queue', 'retry', '--json');
    expect(JSON.parse(retried.stdout)).toEqual({ retried: [job_id] });
    const again = await waitFor('the retried job to fail again', async () => {
      const found = await queue.getJob(job_id);
      return found?.failedReason && (await found.getState()) === 'failed' ? found : null;
    });
    expect(again.attemptsMade).toBe(1);
    expect(again.failedReason).toMatch(/^video_unreadable: /);
  }, TEST_TIMEOUT_MS);

  it('a video enqueued again after `queue clean` removed its job is found in the shared store, not analysed again', async () => {
    const cleaned = trendflow('queue', 'clean', '--json');
    expect(JSON.parse(cleaned.stdout)).toEqual({ state: 'completed', removed: 20 });
    const result = trendflow('enqueue', videos[3]!, '--components', 'cut_detection', '--json');
    const { job_id, outcome } = JSON.parse(result.stdout) as { job_id: string; outcome: string };
    expect(outcome).toBe('queued');
    const job = await waitFor('the job to complete', async () => {
      const found = await queue.getJob(job_id);
      return found?.finishedOn ? found : null;
    });
    expect(job.returnvalue).toMatchObject({ status: 'ok', reused: true });
    expect(await runsOf(job.data.video_id)).toHaveLength(1);
  }, TEST_TIMEOUT_MS);

  it('SIGTERM: the workers stop cleanly and remove their scratch folders', async () => {
    const running = workers.filter((worker) => worker.child.exitCode === null);
    expect(running).toHaveLength(2);
    for (const worker of running) worker.child.kill('SIGTERM');
    expect(await Promise.all(running.map((worker) => worker.exited))).toEqual([0, 0]);
    for (const worker of running) expect(existsSync(scratchOf(worker))).toBe(false);
  }, TEST_TIMEOUT_MS);

  it('a second SIGTERM gives the job in hand back to the queue; a SIGKILLed worker\'s job is picked up again and completes', async () => {
    const slow = await fixtures.slowJob();
    const result = trendflow('enqueue', slow, '--components', 'cut_detection', '--json');
    const { job_id } = JSON.parse(result.stdout) as { job_id: string };
    const short = ['--lock-duration', '2000', '--stalled-interval', '1000'];
    const analysing = async () => {
      const job = await queue.getJob(job_id);
      const progress = job?.progress as { stage?: string } | undefined;
      return job && (await job.getState()) === 'active' && (progress?.stage === 'segmenting' || progress?.stage === 'components') ? job : null;
    };

    // graceful stop, twice: the analysis is cancelled and the job goes back without an attempt counted
    const stopped = startWorkerProcess(...short);
    await waitFor('the slow job to be analysed', analysing);
    stopped.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    stopped.child.kill('SIGTERM');
    expect(await stopped.exited).toBe(0);
    const released = (await queue.getJob(job_id))!;
    expect(await released.getState()).toBe('waiting');
    expect(released.attemptsMade).toBe(0);
    expect(await runsOf(released.data.video_id)).toEqual([]);

    // killed mid-job: the lock expires, another worker's stalled check puts the job back and it is analysed again
    const killed = startWorkerProcess(...short);
    await waitFor('the slow job to be analysed again', analysing);
    killed.child.kill('SIGKILL');
    await killed.exited;
    const rescuer = startWorkerProcess(...short);
    const done = await waitFor('the stalled job to complete', async () => {
      const job = await queue.getJob(job_id);
      return job?.finishedOn ? job : null;
    });
    expect(await done.getState()).toBe('completed');
    expect(done.returnvalue).toMatchObject({ status: 'ok', reused: false });
    expect(done.stalledCounter).toBeGreaterThanOrEqual(1);
    const runs = await runsOf(done.data.video_id);
    expect(runs).toHaveLength(1);
    expect((await validateRunDir(runs[0]!.run_dir)).problems).toEqual([]);
    // the rescuer removed the killed worker's scratch folder (its pid is dead)
    expect(existsSync(scratchOf(killed))).toBe(false);
    rescuer.child.kill('SIGTERM');
    expect(await rescuer.exited).toBe(0);
  }, TEST_TIMEOUT_MS);
});

/** A worker's default scratch folder (core/queue/worker.ts). */
function scratchOf(worker: WorkerProcess): string {
  return path.join(os.tmpdir(), 'trendflow-worker', `${os.hostname()}-${worker.child.pid}`);
}
