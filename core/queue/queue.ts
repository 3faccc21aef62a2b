/**
 * The batch queue (seed 002 §9, DESIGN.md §9): one BullMQ queue on Redis, one job per video. Everything that
 * talks to Redis opens it here, so the queue name, the job's data shape and the connection rules live in one place.
 */
import { Queue, type ConnectionOptions } from 'bullmq';
import type { ComponentName } from '../contracts/components.js';
import { isTrendflowError, TrendflowError } from '../contracts/errors.js';
import { redactRedisUrl } from './url.js';

export { redactRedisUrl } from './url.js';

export const QUEUE_NAME = 'trendflow-analyze';
/** The job name of an analysis job (the only kind on the queue). */
export const ANALYZE_JOB = 'analyze';
export const REDIS_URL_ENV = 'TRENDFLOW_REDIS_URL';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** How long a CLI command waits for Redis before it says `queue_unavailable`. */
export const CONNECT_TIMEOUT_MS = 5000;

/** What a job carries: everything a worker on any machine needs to analyse the video and check it is the same one. */
export interface AnalysisJobData {
  /** The video's absolute path; on every worker machine it must resolve to the same bytes (a shared mount). */
  video: string;
  video_sha256: string;
  video_bytes: number;
  platform_id: string;
  video_id: string;
  /** The config_hash of the run the enqueuer resolved; a worker whose registry resolves another one refuses the job. */
  config_hash: string;
  /** A built-in profile name or a profile file path (visible to the workers). */
  profile: string;
  components: ComponentName[] | null;
  enqueued_at: string;
}

/** What a finished job returns (job.returnvalue). */
export interface AnalysisJobResult {
  run_id: string;
  /** The run folder's key in the shared workspace: `result_store/<platform>/<video>/<run>`. */
  run_key: string;
  status: 'ok' | 'error' | 'cancelled' | 'interrupted' | 'running';
  error_code: string | null;
  /** True when the shared store already held an ok run of this video and config, so nothing was analysed. */
  reused: boolean;
}

/** `--redis URL`, else `$TRENDFLOW_REDIS_URL`, else redis://127.0.0.1:6379; a URL that is not redis:// or rediss:// is refused. */
export function resolveRedisUrl(explicit?: string | undefined, env: Record<string, string | undefined> = process.env): string {
  const chosen = explicit || env[REDIS_URL_ENV] || DEFAULT_REDIS_URL;
  let url: URL;
  try {
    url = new URL(chosen);
  } catch {
    throw new TrendflowError('invalid_argument', `not a Redis URL: ${JSON.stringify(chosen)}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new TrendflowError('invalid_argument', `not a Redis URL (redis:// or rediss://): ${redactRedisUrl(chosen)}`);
  return chosen;
}

/**
 * Connection options for BullMQ. A worker waits through a Redis restart (`maxRetriesPerRequest: null`, which BullMQ
 * requires for its blocking commands); a command-line client or the workstation fails after a few reconnects
 * instead of hanging.
 */
export function connectionOptions(redisUrl: string, role: 'worker' | 'client'): ConnectionOptions {
  return { url: redisUrl, maxRetriesPerRequest: role === 'worker' ? null : 3 };
}

export type AnalysisQueue = Queue<AnalysisJobData, AnalysisJobResult, typeof ANALYZE_JOB>;

/** Opens the queue and waits until Redis answers (at most `timeoutMs`, then `queue_unavailable`). */
export async function openQueue(redisUrl: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<AnalysisQueue> {
  const queue: AnalysisQueue = new Queue(QUEUE_NAME, { connection: connectionOptions(redisUrl, 'client') });
  // ioredis reports a refused connection as an 'error' event; the timeout below turns it into queue_unavailable
  queue.on('error', () => undefined);
  await waitReady(queue, redisUrl, timeoutMs);
  return queue;
}

/** ioredis's ways of saying the connection went away in the middle of a command. */
function isConnectionLoss(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return error.name === 'MaxRetriesPerRequestError' || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code ?? '') || /connection is closed/i.test(error.message);
}

/**
 * Opens the queue, runs `use` on it and closes it. Redis unreachable at the start, or lost in the middle of a
 * command, is `queue_unavailable`; every other error passes through.
 */
export async function withQueue<T>(redisUrl: string, use: (queue: AnalysisQueue) => Promise<T>): Promise<T> {
  const queue = await openQueue(redisUrl);
  try {
    return await use(queue);
  } catch (error) {
    if (isTrendflowError(error) || !isConnectionLoss(error)) throw error;
    throw new TrendflowError('queue_unavailable', `lost the connection to Redis at ${redactRedisUrl(redisUrl)}: ${(error as Error).message}`, { cause: error });
  } finally {
    await queue.close().catch(() => undefined);
  }
}

/** Waits for a queue or worker to be connected, closing it and throwing `queue_unavailable` after `timeoutMs`. */
export async function waitReady(client: { waitUntilReady(): Promise<unknown>; close(): Promise<void> }, redisUrl: string, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([client.waitUntilReady(), timeout]);
  } catch (error) {
    await client.close().catch(() => undefined);
    throw new TrendflowError('queue_unavailable', `cannot reach Redis at ${redactRedisUrl(redisUrl)}: ${(error as Error).message}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** `<code>: <message>`: how a worker words a job's failure, so the status can give the error code back. */
export function failureReason(code: string, message: string): string {
  return `${code}: ${message}`;
}

/** The error code and message of a job's failedReason (`failureReason`); code null for a foreign message. */
export function parseFailure(failedReason: string | undefined): { error_code: string | null; message: string } {
  const match = /^([a-z][a-z0-9_]*): ([\s\S]*)$/.exec(failedReason ?? '');
  return match ? { error_code: match[1]!, message: match[2]! } : { error_code: null, message: failedReason ?? '' };
}
