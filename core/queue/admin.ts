/** `trendflow queue retry|clean`: put failed jobs back on the queue, remove finished jobs from Redis. */
import { TrendflowError } from '../contracts/errors.js';
import { withQueue, type AnalysisQueue } from './queue.js';

/**
 * Moves failed jobs back to waiting, attempts reset: the listed ids, or every failed job when none are given.
 * Returns the ids retried. An id that is not a failed job is `invalid_argument`.
 */
export async function retryFailedJobs(redisUrl: string, jobIds: readonly string[] = []): Promise<string[]> {
  return withQueue(redisUrl, async (queue) => {
    const ids = jobIds.length > 0 ? [...jobIds] : await failedJobIds(queue);
    const jobs = await Promise.all(ids.map(async (id) => ({ id, job: await queue.getJob(id) })));
    for (const { id, job } of jobs) {
      if (!job || (await job.getState()) !== 'failed') throw new TrendflowError('invalid_argument', `job ${id} is not a failed job on the queue`);
    }
    for (const { job } of jobs) await job!.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return ids;
  });
}

/** Every failed job's id, read before any is retried (a retried job may fail again while we go on). */
async function failedJobIds(queue: AnalysisQueue): Promise<string[]> {
  const ids: string[] = [];
  const page = 1000;
  for (let start = 0; ; start += page) {
    const jobs = await queue.getJobs('failed', start, start + page - 1, true);
    ids.push(...jobs.map((job) => String(job.id)));
    if (jobs.length < page) return ids;
  }
}

export type CleanState = 'completed' | 'failed';

/**
 * Removes `state` jobs that finished more than `olderThanMs` ago from Redis; returns how many. Removing a completed
 * job lets its video be enqueued again: a worker then finds the run in the shared store and does not redo it.
 */
export async function cleanJobs(redisUrl: string, state: CleanState, olderThanMs: number): Promise<number> {
  if (!Number.isFinite(olderThanMs) || olderThanMs < 0) throw new TrendflowError('invalid_argument', 'the age of the jobs to remove must be ≥ 0 ms');
  return withQueue(redisUrl, async (queue) => {
    let removed = 0;
    for (;;) {
      const batch = await queue.clean(olderThanMs, 1000, state);
      removed += batch.length;
      if (batch.length < 1000) return removed;
    }
  });
}
