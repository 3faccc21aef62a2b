/**
 * The queue at a glance (`trendflow queue status`, the workstation's queue view): job counts by state, the most
 * recent failures with their error codes, and throughput from the completed jobs' finishedOn.
 */
import { parseFailure, QUEUE_NAME, redactRedisUrl, withQueue, type AnalysisQueue } from './queue.js';

export interface QueueCounts {
  /** Jobs waiting for a worker, prioritized ones included. */
  waiting: number;
  active: number;
  completed: number;
  failed: number;
  /** Jobs waiting for their retry backoff to pass. */
  delayed: number;
  /** Jobs waiting while the queue is paused. */
  paused: number;
}

export interface QueueFailure {
  job_id: string;
  video: string;
  /** The TrendflowError code the worker failed the job with; null when the failure came from elsewhere. */
  error_code: string | null;
  message: string;
  /** Attempts made, the failing one included. */
  attempts: number;
  failed_at: string | null;
}

export interface QueueThroughput {
  window_minutes: number;
  /** Jobs completed within the window. */
  completed: number;
  per_minute: number;
}

export interface QueueStatus {
  /** The Redis URL without its password. */
  redis_url: string;
  queue: string;
  counts: QueueCounts;
  /** Workers connected now (BullMQ's worker registry). */
  workers: number;
  /** The most recent failures first. */
  failures: QueueFailure[];
  throughput: QueueThroughput;
  checked_at: string;
}

export interface QueueStatusOptions {
  /** How many recent failures to list (default 20). */
  failures?: number;
  /** The throughput window in minutes (default 10). */
  windowMinutes?: number;
  now?: number;
}

/** Reads the queue's status; Redis unreachable → `queue_unavailable`. */
export async function readQueueStatus(redisUrl: string, options: QueueStatusOptions = {}): Promise<QueueStatus> {
  return withQueue(redisUrl, (queue) => queueStatus(queue, redisUrl, options));
}

/** The status of an open queue. */
export async function queueStatus(queue: AnalysisQueue, redisUrl: string, options: QueueStatusOptions = {}): Promise<QueueStatus> {
  const now = options.now ?? Date.now();
  const windowMinutes = options.windowMinutes ?? 10;
  const raw = await queue.getJobCounts('waiting', 'prioritized', 'active', 'completed', 'failed', 'delayed');
  // BullMQ keeps the jobs of a paused queue where they were: they count as paused while the queue is
  const queued = (raw.waiting ?? 0) + (raw.prioritized ?? 0);
  const paused = await queue.isPaused();
  const counts: QueueCounts = {
    waiting: paused ? 0 : queued,
    active: raw.active ?? 0,
    completed: raw.completed ?? 0,
    failed: raw.failed ?? 0,
    delayed: raw.delayed ?? 0,
    paused: paused ? queued : 0,
  };
  const failedJobs = await queue.getJobs('failed', 0, (options.failures ?? 20) - 1, false);
  const failures = failedJobs.map((job) => ({
    job_id: String(job.id),
    video: job.data.video,
    ...parseFailure(job.failedReason),
    attempts: job.attemptsMade,
    failed_at: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
  }));
  const completed = await completedSince(queue, now - windowMinutes * 60_000);
  return {
    redis_url: redactRedisUrl(redisUrl),
    queue: QUEUE_NAME,
    counts,
    workers: (await queue.getWorkers()).length,
    failures,
    throughput: { window_minutes: windowMinutes, completed, per_minute: completed / windowMinutes },
    checked_at: new Date(now).toISOString(),
  };
}

/**
 * Completed jobs that finished at or after `since`. The completed set is ordered by finish time, so the newest are
 * read page by page until one finished before the window: the cost is bounded by the window, not the queue.
 */
async function completedSince(queue: AnalysisQueue, since: number): Promise<number> {
  const page = 200;
  let count = 0;
  for (let start = 0; ; start += page) {
    const jobs = await queue.getJobs('completed', start, start + page - 1, false);
    for (const job of jobs) {
      if ((job.finishedOn ?? 0) < since) return count;
      count++;
    }
    if (jobs.length < page) return count;
  }
}
