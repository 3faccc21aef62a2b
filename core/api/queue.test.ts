/**
 * queue.status through the API: nothing without a Redis URL in the settings, `queue_unavailable` for a Redis that
 * does not answer, and against a real redis-server (test/helpers/redis.ts) with a worker of core/queue: the counts,
 * the failure with its error code and the throughput of the jobs it ran.
 */
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueVideos } from '../queue/enqueue.js';
import { startWorker, type QueueWorker } from '../queue/worker.js';
import { redisAvailableOrCi, startRedis, type RedisServer } from '../../test/helpers/redis.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { VideoFixtures } from '../../test/helpers/video-fixtures.js';
import { createWorkstationApi, type WorkstationApi } from './api.js';
import type { ApiMethod, ApiParams, ApiResult, QueueStatus } from './contract.js';

const tmp = useTempDirs('api-queue-');
let api: WorkstationApi;

async function call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<M>> {
  const response = await api.invoke(method, params);
  if (!response.ok) throw new Error(`${method}: ${response.error.code}: ${response.error.message}`);
  return response.value as ApiResult<M>;
}

beforeAll(async () => {
  api = createWorkstationApi({ workspace: await tmp(), mode: 'browser' });
});

afterAll(() => api?.close());

describe('queue.status', () => {
  it('shows nothing without a Redis URL; a bad URL is refused; a Redis that does not answer is queue_unavailable', async () => {
    expect(await call('queue.status', {})).toEqual({ configured: false });
    expect(await api.invoke('settings.update', { patch: { redis_url: 'http://queue:6379' } })).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as net.AddressInfo;
        server.close(() => resolve(free));
      });
    });
    await call('settings.update', { patch: { redis_url: `redis://127.0.0.1:${port}` } });
    expect(await api.invoke('queue.status', {})).toMatchObject({ ok: false, error: { code: 'queue_unavailable' } });
    await call('settings.update', { patch: { redis_url: null } });
  });
});

describe.skipIf(!redisAvailableOrCi)('queue.status on a real Redis with a worker', () => {
  let redis: RedisServer;
  let fixtures: VideoFixtures;
  let worker: QueueWorker | null = null;

  beforeAll(async () => {
    [redis, fixtures] = await Promise.all([startRedis(), VideoFixtures.create()]);
  });

  afterAll(async () => {
    await worker?.close();
    await redis?.stop();
    await fixtures?.cleanup();
  });

  it('counts the jobs a worker ran, lists the failed one with its error code, and the throughput', async () => {
    const [good, doomed] = await fixtures.distinctShorts(2);
    const modelsDir = await tmp();
    const queued = await enqueueVideos({ redisUrl: redis.url, videos: [good!, doomed!], components: ['cut_detection'], modelsDir, attempts: 1 });
    expect(queued.map((q) => q.outcome)).toEqual(['queued', 'queued']);
    // the second video is gone before a worker takes it: video_not_found, a property of the job, not retried
    await fs.rm(doomed!);
    await call('settings.update', { patch: { redis_url: redis.url } });
    const waiting = await call('queue.status', {});
    expect(waiting).toMatchObject({ configured: true, status: { counts: { waiting: 2, active: 0, completed: 0, failed: 0 }, workers: 0, failures: [] } });

    worker = await startWorker({ redisUrl: redis.url, workspace: await tmp(), modelsDir, concurrency: 1, scratchDir: path.join(await tmp(), 'scratch') });
    const deadline = Date.now() + 60_000;
    let status: QueueStatus;
    for (;;) {
      const view = await call('queue.status', {});
      if (!view.configured) throw new Error('the settings lost their Redis URL');
      status = view.status;
      if (status.counts.completed + status.counts.failed === 2) break;
      if (Date.now() > deadline) throw new Error(`the jobs did not end: ${JSON.stringify(status.counts)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status.counts).toMatchObject({ waiting: 0, active: 0, completed: 1, failed: 1 });
    expect(status.workers).toBe(1);
    expect(status.redis_url).toBe(redis.url);
    expect(status.failures).toHaveLength(1);
    expect(status.failures[0]).toMatchObject({ job_id: queued[1]!.job_id, video: doomed, error_code: 'video_not_found', attempts: 1 });
    expect(status.throughput).toMatchObject({ completed: 1, window_minutes: 10, per_minute: 0.1 });
  }, 90_000);
});
