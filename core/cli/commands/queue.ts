/**
 * `trendflow queue status|retry|clean [--redis URL] [--json]`: the batch queue's state, failed jobs back to the
 * queue, finished jobs out of Redis (core/queue).
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { QueueStatus } from '../../queue/status.js';
import { REDIS_OPTION_HELP } from './enqueue.js';

function parseMinutes(value: string): number {
  const minutes = Number(value);
  if (value.trim() === '' || !Number.isFinite(minutes) || minutes < 0) throw new InvalidArgumentError('expected minutes ≥ 0');
  return minutes;
}

export function registerQueueCommand(program: Command): void {
  const queue = program.command('queue').description('the batch queue on Redis: status, retry failed jobs, clean finished ones');
  queue
    .command('status')
    .description('job counts, workers, recent failures with their error codes, throughput')
    .option('--redis <url>', REDIS_OPTION_HELP)
    .option('--window <minutes>', 'throughput window (default 10)', parseMinutes, 10)
    .option('--json', 'one JSON object on stdout')
    .action(async (options: { redis?: string; window: number; json?: boolean }) => {
      const [{ readQueueStatus }, { resolveRedisUrl }] = await Promise.all([import('../../queue/status.js'), import('../../queue/queue.js')]);
      const status = await readQueueStatus(resolveRedisUrl(options.redis), { windowMinutes: options.window });
      process.stdout.write(options.json ? `${JSON.stringify(status)}\n` : formatStatus(status));
    });
  queue
    .command('retry')
    .description('move failed jobs back to the queue with their attempts reset (the listed ids, or all failed jobs)')
    .argument('[jobs...]', 'job ids (as shown by queue status)')
    .option('--redis <url>', REDIS_OPTION_HELP)
    .option('--json', 'one JSON object on stdout')
    .action(async (jobs: string[], options: { redis?: string; json?: boolean }) => {
      const [{ retryFailedJobs }, { resolveRedisUrl }] = await Promise.all([import('../../queue/admin.js'), import('../../queue/queue.js')]);
      const retried = await retryFailedJobs(resolveRedisUrl(options.redis), jobs);
      process.stdout.write(options.json ? `${JSON.stringify({ retried })}\n` : `retried ${retried.length} job(s)\n`);
    });
  queue
    .command('clean')
    .description('remove finished jobs from Redis (the runs stay in the store; a removed video can be enqueued again and is not redone)')
    .option('--failed', 'remove failed jobs instead of completed ones')
    .option('--older-than <minutes>', 'only jobs finished at least this many minutes ago (0: all)', parseMinutes, 0)
    .option('--redis <url>', REDIS_OPTION_HELP)
    .option('--json', 'one JSON object on stdout')
    .action(async (options: { failed?: boolean; olderThan: number; redis?: string; json?: boolean }) => {
      const [{ cleanJobs }, { resolveRedisUrl }] = await Promise.all([import('../../queue/admin.js'), import('../../queue/queue.js')]);
      const state = options.failed ? 'failed' : 'completed';
      const removed = await cleanJobs(resolveRedisUrl(options.redis), state, options.olderThan * 60_000);
      process.stdout.write(options.json ? `${JSON.stringify({ state, removed })}\n` : `removed ${removed} ${state} job(s)\n`);
    });
}

function formatStatus(status: QueueStatus): string {
  const c = status.counts;
  const lines = [
    `queue ${status.queue} on ${status.redis_url}: ${status.workers} worker(s)`,
    `  waiting ${c.waiting}  active ${c.active}  delayed ${c.delayed}  paused ${c.paused}  completed ${c.completed}  failed ${c.failed}`,
    `  throughput ${status.throughput.per_minute.toFixed(1)} videos/min (${status.throughput.completed} in the last ${status.throughput.window_minutes} min)`,
  ];
  if (status.failures.length > 0) lines.push('  recent failures:');
  for (const failure of status.failures) lines.push(`    ${failure.job_id}  ${failure.error_code ?? '?'}  attempts ${failure.attempts}  ${failure.video}: ${failure.message}`);
  return `${lines.join('\n')}\n`;
}
