import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRuns } from '../store/runs.js';
import { storeDir } from '../store/paths.js';
import { LocalFsStorage } from '../storage/index.js';
import { redisAvailableOrCi, startRedis, type RedisServer } from '../../test/helpers/redis.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { VideoFixtures } from '../../test/helpers/video-fixtures.js';
import { enqueueVideos } from './enqueue.js';
import { openQueue, parseFailure, redactRedisUrl, resolveRedisUrl, withQueue } from './queue.js';
import { readQueueStatus } from './status.js';
import { startWorker } from './worker.js';

const tmp = useTempDirs('queue-');

describe('queue settings', () => {
  it('takes the Redis URL from --redis, then TRENDFLOW_REDIS_URL, then the local default', () => {
    expect(resolveRedisUrl('redis://a:1', { TRENDFLOW_REDIS_URL: 'redis://b:2' })).toBe('redis://a:1');
    expect(resolveRedisUrl(undefined, { TRENDFLOW_REDIS_URL: 'rediss://b:2' })).toBe('rediss://b:2');
    expect(resolveRedisUrl(undefined, {})).toBe('redis://127.0.0.1:6379');
    expect(() => resolveRedisUrl('http://host:6379', {})).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    expect(() => resolveRedisUrl('not a url', {})).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });

  it('never shows a password', () => {
    expect(redactRedisUrl('redis://user:secret@host:6379/0')).toBe('redis://user:***@host:6379/0');
  });

  it("reads the error code back from a job's failure reason", () => {
    expect(parseFailure('video_unreadable: /v.mp4: not a media file')).toEqual({ error_code: 'video_unreadable', message: '/v.mp4: not a media file' });
    expect(parseFailure('job stalled more than allowable limit')).toEqual({ error_code: null, message: 'job stalled more than allowable limit' });
  });

  it('a Redis that does not answer is queue_unavailable, promptly', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as net.AddressInfo;
        server.close(() => resolve(free));
      });
    });
    await expect(openQueue(`redis://127.0.0.1:${port}`, 1000)).rejects.toMatchObject({ code: 'queue_unavailable' });
  });
});

describe.skipIf(!redisAvailableOrCi)('a Redis lost in the middle of a command', () => {
  it('is queue_unavailable too, not an internal error', async () => {
    const lost = await startRedis();
    let stopped = false;
    try {
      const failure = await withQueue(lost.url, async (queue) => {
        await lost.stop();
        stopped = true;
        return queue.getJobCounts();
      }).then(
        () => null,
        (error: unknown) => error,
      );
      expect(failure).toMatchObject({ code: 'queue_unavailable', message: expect.stringContaining('lost the connection to Redis') });
    } finally {
      if (!stopped) await lost.stop();
    }
  }, 60_000);
});

describe.skipIf(!redisAvailableOrCi)('queue with a worker in this process', () => {
  let redis: RedisServer;
  let fixtures: VideoFixtures;

  beforeAll(async () => {
    [redis, fixtures] = await Promise.all([startRedis(), VideoFixtures.create()]);
  });

  afterAll(async () => {
    await redis?.stop();
    await fixtures?.cleanup();
  });

  it('retries a transient failure with backoff and completes; the job carries progress and one published run', async () => {
    const workspace = await tmp();
    const modelsDir = await tmp();
    const [video] = await fixtures.distinctShorts(1);
    // a shared store that is away for the first publish: store_io_failed, as a dropped NFS mount gives
    const shared = new LocalFsStorage(workspace);
    let failuresLeft = 1;
    const flaky: LocalFsStorage = Object.assign(Object.create(shared) as LocalFsStorage, {
      async commitRun(localRunDir: string, runPrefix: string) {
        if (failuresLeft-- > 0) {
          const { TrendflowError } = await import('../contracts/errors.js');
          throw new TrendflowError('store_io_failed', 'cannot publish the run: ESTALE');
        }
        return shared.commitRun(localRunDir, runPrefix);
      },
    });
    const [queued] = await enqueueVideos({ redisUrl: redis.url, videos: [video!], components: ['cut_detection'], modelsDir, backoffMs: 200 });
    expect(queued).toMatchObject({ outcome: 'queued' });
    const worker = await startWorker({ redisUrl: redis.url, workspace, modelsDir, concurrency: 1, storage: flaky, scratchDir: path.join(await tmp(), 'scratch') });
    const queue = await openQueue(redis.url);
    try {
      const deadline = Date.now() + 60_000;
      let job = await queue.getJob(queued!.job_id!);
      while ((await job!.getState()) !== 'completed' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        job = await queue.getJob(queued!.job_id!);
      }
      expect(await job!.getState()).toBe('completed');
      expect(job!.attemptsMade).toBe(2);
      expect(job!.returnvalue).toMatchObject({ status: 'ok', reused: false });
      expect(job!.progress).toMatchObject({ stage: 'done', percent: 100, components_done: 1, components_total: 1 });
      const runs = await listRuns(storeDir(workspace));
      expect(runs.map((run) => run.run_id)).toEqual([job!.returnvalue.run_id]);
      // the request went into the shared workspace too (the index reads the profile from it)
      expect(await fs.readdir(path.join(workspace, 'run_requests', 'local', runs[0]!.video_id))).toEqual([`${runs[0]!.run_id}.json`]);
      const status = await readQueueStatus(redis.url);
      expect(status.counts).toMatchObject({ completed: 1, failed: 0, waiting: 0, active: 0 });
      expect(status.throughput.completed).toBe(1);
    } finally {
      await queue.close();
      await worker.close();
    }
    // the worker's scratch is gone with it
    await expect(fs.access(worker.scratchDir)).rejects.toThrow();
  }, 120_000);

  it('refuses, once, a job whose config the worker resolves differently or whose video bytes changed (queue_job_mismatch)', async () => {
    const workspace = await tmp();
    const modelsDir = await tmp();
    const [first, second] = await fixtures.distinctShorts(3).then((files) => files.slice(1));
    const video = path.join(await tmp(), 'replaced.mp4');
    await fs.copyFile(first!, video);
    const [changed, other] = await enqueueVideos({ redisUrl: redis.url, videos: [video, second!], components: ['cut_detection'], modelsDir });
    // the file's bytes change after enqueue; the other job's data says another config than the worker resolves
    await fs.copyFile(second!, video);
    const queue = await openQueue(redis.url);
    const job = (await queue.getJob(other!.job_id!))!;
    await job.updateData({ ...job.data, config_hash: 'f'.repeat(64) });
    const worker = await startWorker({ redisUrl: redis.url, workspace, modelsDir, concurrency: 1, scratchDir: path.join(await tmp(), 'scratch') });
    try {
      for (const id of [changed!.job_id!, other!.job_id!]) {
        const deadline = Date.now() + 60_000;
        while (!(await queue.getJob(id))?.failedReason && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
        const failed = (await queue.getJob(id))!;
        expect(failed.attemptsMade, id).toBe(1);
        expect(parseFailure(failed.failedReason).error_code, failed.failedReason).toBe('queue_job_mismatch');
      }
      // neither run reached the shared store
      expect(await listRuns(storeDir(workspace))).toEqual([]);
    } finally {
      await queue.close();
      await worker.close();
    }
  }, 120_000);
});
