/**
 * `trendflow worker [--concurrency N] [--redis URL] [--store DIR] [--models-dir DIR] [--scratch DIR]`: analyses
 * queued videos until stopped (core/queue/worker.ts). SIGTERM or Ctrl-C: finish the jobs in hand, then exit; a
 * second signal, or --shutdown-timeout after the first, cancels them and gives them back to the queue.
 */
import os from 'node:os';
import type { Command } from 'commander';
import { cpuChecklistEntries } from './analyze.js';
import { parsePositiveInteger, REDIS_OPTION_HELP } from './enqueue.js';

interface WorkerCliOptions {
  concurrency?: number;
  redis?: string;
  store?: string;
  modelsDir?: string;
  scratch?: string;
  lockDuration?: number;
  stalledInterval?: number;
  shutdownTimeout: number;
}

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('analyse videos from the batch queue (Redis) with the same pipeline as analyze; runs are published into the shared store')
    .option('--concurrency <n>', 'videos analysed at once (default: planned from cores, free memory and the measured models)', parsePositiveInteger)
    .option('--redis <url>', REDIS_OPTION_HELP)
    .option('--store <dir>', 'the shared workspace (an NFS mount): finished runs are published into its result_store/ and run_requests/, no index is written there (default: $TRENDFLOW_WORKSPACE, else ./trendflow-data)')
    .option('--models-dir <dir>', 'models folder (default: $TRENDFLOW_MODELS_DIR, else the per-user data folder + trendflow/models)')
    .option('--scratch <dir>', 'local folder where runs are computed before publishing (default: the OS temp folder)')
    .option('--lock-duration <ms>', "how long a job's lock lasts; a killed worker's job is picked up again after about this (default 30000)", parsePositiveInteger)
    .option('--stalled-interval <ms>', 'how often to look for jobs of killed workers (default 30000)', parsePositiveInteger)
    .option('--shutdown-timeout <s>', 'after SIGTERM, seconds to let jobs in hand finish before cancelling them back to the queue', parsePositiveInteger, 300)
    .action(async (options: WorkerCliOptions) => {
      process.exitCode = await runWorker(options);
    });
}

async function runWorker(options: WorkerCliOptions): Promise<number> {
  const [{ startWorker }, { resolveRedisUrl, redactRedisUrl }, { planVideoConcurrency }, { DEFAULT_PROFILE, loadProfile }, { COMPONENTS }, { resolveRunConfig }, { probeMemory }, { loadRegistry, resolveModelsDir }, { resolveWorkspace }] =
    await Promise.all([
      import('../../queue/worker.js'),
      import('../../queue/queue.js'),
      import('../../pipeline/batch.js'),
      import('../../pipeline/profile.js'),
      import('../../pipeline/registry.js'),
      import('../../pipeline/run-config.js'),
      import('../../runtime/planner/planner.js'),
      import('../../runtime/registry/index.js'),
      import('../../store/paths.js'),
    ]);
  const redisUrl = resolveRedisUrl(options.redis);
  const workspace = resolveWorkspace({ workspace: options.store });
  const modelsDir = resolveModelsDir(options.modelsDir === undefined ? {} : { modelsDir: options.modelsDir });
  let concurrency = options.concurrency;
  if (concurrency === undefined) {
    // jobs may name any profile; the default one stands for them when planning (its models are the measured ones)
    const config = resolveRunConfig({ profile: await loadProfile(DEFAULT_PROFILE), components: COMPONENTS, registry: await loadRegistry({ modelsDir }) });
    const cores = os.availableParallelism();
    const plan = planVideoConcurrency({ videos: cores, cores, memory: await probeMemory(), entries: await cpuChecklistEntries(config, modelsDir) });
    concurrency = plan.videos;
    process.stderr.write(`worker: ${plan.reason}\n`);
  }
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const worker = await startWorker({
    redisUrl,
    workspace,
    modelsDir,
    concurrency,
    ...(options.scratch ? { scratchDir: options.scratch } : {}),
    ...(options.lockDuration ? { lockDurationMs: options.lockDuration } : {}),
    ...(options.stalledInterval ? { stalledIntervalMs: options.stalledInterval } : {}),
    log,
  });
  log(`worker ${process.pid}: ${redactRedisUrl(redisUrl)}, ${concurrency} at once, publishing into ${workspace}`);
  return new Promise<number>((resolve) => {
    let signals = 0;
    let timer: NodeJS.Timeout | undefined;
    const stop = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals === 1) {
        log(`worker: ${signal}: finishing the jobs in hand (again to cancel them back to the queue)`);
        timer = setTimeout(() => void worker.close({ cancel: true }), options.shutdownTimeout * 1000);
        void worker.close().then(() => {
          clearTimeout(timer);
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          log('worker: stopped');
          resolve(0);
        });
      } else {
        log(`worker: ${signal}: cancelling the jobs in hand; they go back to the queue`);
        void worker.close({ cancel: true });
      }
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
