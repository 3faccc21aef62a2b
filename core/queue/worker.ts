/**
 * The queue worker (`trendflow worker`): takes analysis jobs from Redis and runs each through the orchestrator's
 * `analyzeVideo`, the same function `trendflow analyze` and the workstation call. A run is computed in a local
 * scratch workspace and then published whole into the shared store through a RunStorage, so a killed worker
 * never leaves half a run there and the shared store needs no locking that NFS cannot give.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { isTrendflowError, TrendflowError, type ErrorCode } from '../contracts/errors.js';
import type { Manifest } from '../contracts/manifest.js';
import type { AnalysisEvent } from '../pipeline/events.js';
import { analyzeVideo, type RunOutcome } from '../pipeline/orchestrator.js';
import { loadProfile } from '../pipeline/profile.js';
import { COMPONENTS } from '../pipeline/registry.js';
import { RUN_REQUESTS_DIR, runRequestPath } from '../pipeline/request.js';
import { resolveRunConfig } from '../pipeline/run-config.js';
import { Scheduler } from '../pipeline/scheduler.js';
import { OnnxSessionRegistry } from '../runtime/onnx/sessions.js';
import { loadRegistry, type ModelRegistry } from '../runtime/registry/index.js';
import { LocalFsStorage, type RunStorage } from '../storage/index.js';
import { configHash } from '../store/identity.js';
import { isProcessAlive } from '../store/lock.js';
import { framesDir, RESULT_STORE_DIR } from '../store/paths.js';
import { connectionOptions, CONNECT_TIMEOUT_MS, failureReason, QUEUE_NAME, waitReady, type AnalysisJobData, type AnalysisJobResult } from './queue.js';

/**
 * Failures worth another try: the shared store or a server was briefly away, memory was short because other jobs
 * ran. Every other TrendflowError is a property of the video or the config — a bad video gives the same error
 * every time — so it fails the job at once. An error without a code (a dropped connection…) is retried.
 */
export const TRANSIENT_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'store_io_failed',
  'run_locked',
  'index_failed',
  'insufficient_memory',
  'insufficient_gpu_memory',
  'triton_unavailable',
  'triton_request_failed',
  'model_download_failed',
  'queue_unavailable',
]);

const DEFAULT_SCRATCH_ROOT = path.join(os.tmpdir(), 'trendflow-worker');

export interface WorkerSettings {
  redisUrl: string;
  /** The shared workspace (an NFS mount shared by every worker): finished runs go into its result_store, their requests into run_requests. */
  workspace: string;
  modelsDir: string;
  /** Videos analysed at once by this process. */
  concurrency: number;
  /** Local disk where runs are computed before publishing (default: a folder under the OS temp dir). */
  scratchDir?: string;
  /** Where runs are published (default: LocalFsStorage on the workspace). */
  storage?: RunStorage;
  /** How long a job's lock lasts without renewal; a worker killed mid-job gives its job back after this (default 30 s). */
  lockDurationMs?: number;
  /** How often workers look for jobs whose lock expired (default 30 s). */
  stalledIntervalMs?: number;
  /** A job whose worker dies more often than this fails (default 2). */
  maxStalledCount?: number;
  log?: (line: string) => void;
}

/** A started worker; `close()` finishes the jobs in hand, `close({ cancel: true })` gives them back to the queue. */
export interface QueueWorker {
  readonly worker: Worker<AnalysisJobData, AnalysisJobResult>;
  readonly scratchDir: string;
  close(options?: { cancel?: boolean }): Promise<void>;
}

/** The progress a job reports (job.progress): what it is doing and a rough share done. */
export interface JobProgress {
  run_id: string | null;
  stage: 'checking' | 'segmenting' | 'components' | 'publishing' | 'done';
  component: string | null;
  components_done: number;
  components_total: number;
  percent: number;
}

export async function startWorker(settings: WorkerSettings): Promise<QueueWorker> {
  const log = settings.log ?? (() => undefined);
  const scratchDir = path.resolve(settings.scratchDir ?? path.join(DEFAULT_SCRATCH_ROOT, `${os.hostname()}-${process.pid}`));
  if (!settings.scratchDir) await removeDeadScratch(DEFAULT_SCRATCH_ROOT);
  await fs.mkdir(scratchDir, { recursive: true });
  const storage = settings.storage ?? new LocalFsStorage(settings.workspace);
  const registry = await loadRegistry({ modelsDir: settings.modelsDir });
  // one process: models load once and inference is serialized across the jobs in flight (scheduler.ts)
  const sessions = new OnnxSessionRegistry();
  const scheduler = new Scheduler();
  const context: JobContext = { settings, registry, storage, scratchDir, sessions, scheduler, log };
  const lockDuration = settings.lockDurationMs ?? 30_000;
  const worker = new Worker<AnalysisJobData, AnalysisJobResult>(QUEUE_NAME, (job, token, signal) => processJob(context, job, token, signal), {
    connection: connectionOptions(settings.redisUrl, 'worker'),
    concurrency: settings.concurrency,
    lockDuration,
    stalledInterval: settings.stalledIntervalMs ?? 30_000,
    maxStalledCount: settings.maxStalledCount ?? 2,
    autorun: false,
  });
  worker.on('error', (error) => log(`worker: redis: ${error.message}`));
  worker.on('failed', (job, error) => {
    if (job && !(error instanceof WaitingError)) log(`job ${job.id}: ${job.data.video}: failed (attempt ${job.attemptsMade} of ${job.opts.attempts ?? 1}): ${error.message}`);
  });
  await waitReady(worker, settings.redisUrl, CONNECT_TIMEOUT_MS);
  void worker.run().catch((error: Error) => log(`worker: stopped: ${error.message}`));
  let closing: Promise<void> | null = null;
  return {
    worker,
    scratchDir,
    async close(options = {}) {
      if (options.cancel) worker.cancelAllJobs('the worker is shutting down');
      closing ??= (async () => {
        await worker.close();
        await sessions.releaseAll();
        await fs.rm(scratchDir, { recursive: true, force: true });
      })();
      await closing;
    },
  };
}

/** Removes default scratch folders (`<host>-<pid>`) of this host's workers that were killed: their pid is gone. */
async function removeDeadScratch(root: string): Promise<void> {
  const names = await fs.readdir(root).catch(() => [] as string[]);
  const prefix = `${os.hostname()}-`;
  for (const name of names) {
    const pid = Number(name.slice(prefix.length));
    if (!name.startsWith(prefix) || !Number.isInteger(pid) || pid <= 0 || pid === process.pid || isProcessAlive(pid)) continue;
    await fs.rm(path.join(root, name), { recursive: true, force: true });
  }
}

interface JobContext {
  settings: WorkerSettings;
  registry: ModelRegistry;
  storage: RunStorage;
  scratchDir: string;
  sessions: OnnxSessionRegistry;
  scheduler: Scheduler;
  log: (line: string) => void;
}

async function processJob(context: JobContext, job: Job<AnalysisJobData, AnalysisJobResult>, token: string | undefined, signal: AbortSignal | undefined): Promise<AnalysisJobResult> {
  const { settings, storage, log } = context;
  const data = job.data;
  const progress = new ProgressReporter(job);
  progress.set({ stage: 'checking' });
  const profile = await loadProfile(data.profile).catch(rethrowForQueue);
  const config = (() => {
    try {
      return resolveRunConfig({ profile, only: data.components ?? undefined, components: COMPONENTS, registry: context.registry });
    } catch (error) {
      return rethrowForQueue(error);
    }
  })();
  const workerHash = configHash(config);
  if (workerHash !== data.config_hash) {
    throw unrecoverable('queue_job_mismatch', `this worker resolves the job's profile to another config (its models registry or program version differs from the enqueuer's): job ${data.config_hash.slice(0, 16)}, worker ${workerHash.slice(0, 16)}`);
  }
  const reused = await findOkRun(storage, data);
  if (reused) {
    log(`job ${job.id}: ${data.video}: already in the shared store as ${reused.run_id}; nothing to do`);
    await progress.finish();
    return { run_id: reused.run_id, run_key: reused.key, status: 'ok', error_code: null, reused: true };
  }
  let outcome: RunOutcome;
  try {
    outcome = await analyzeVideo(
      { video: data.video, profile, only: data.components ?? undefined },
      {
        workspace: context.scratchDir,
        modelsDir: settings.modelsDir,
        registry: context.registry,
        // the SQLite index is per machine and rebuilt from the shared manifests (`index rebuild`): workers keep none
        index: null,
        sessions: context.sessions,
        scheduler: context.scheduler,
        ...(signal ? { signal } : {}),
        onEvent: (event) => progress.event(event),
        memoryShare: 0.5 / settings.concurrency,
      },
    );
  } catch (error) {
    return rethrowForQueue(error);
  }
  const key = [RESULT_STORE_DIR, outcome.platform_id, outcome.video_id, outcome.run_id].join('/');
  try {
    if (outcome.status === 'cancelled' && signal?.aborted) {
      // shutting down: the job goes back to the queue as it was (no attempt counted) for another worker
      log(`job ${job.id}: cancelled by shutdown; back to the queue`);
      if (token) await job.moveToWait(token);
      throw new WaitingError();
    }
    if (outcome.video_id !== data.video_id) throw unrecoverable('queue_job_mismatch', `the video changed since it was enqueued (now ${outcome.video_id}, enqueued as ${data.video_id})`);
    const code = outcome.error?.error_code ?? null;
    if (outcome.status !== 'ok' && (code === null || TRANSIENT_ERROR_CODES.has(code as ErrorCode))) {
      throw new Error(failureReason(code ?? 'internal_error', outcome.error?.message ?? `run ${outcome.status}`));
    }
    progress.set({ stage: 'publishing' });
    // a job taken over while its first worker was still alive (a stalled-check false alarm) must not give two runs
    const raced = outcome.status === 'ok' ? await findOkRun(storage, data) : null;
    if (raced) {
      log(`job ${job.id}: ${data.video}: another worker published ${raced.run_id} meanwhile; this run is dropped`);
      await progress.finish();
      return { run_id: raced.run_id, run_key: raced.key, status: 'ok', error_code: null, reused: true };
    }
    await storage.commitRun(outcome.run_dir, key).catch(rethrowForQueue);
    // the request after the run, so a failed publish leaves no orphan; it only names the run's profile for the index
    const request = runRequestPath(context.scratchDir, outcome);
    await fs
      .readFile(request)
      .then((bytes) => storage.put([RUN_REQUESTS_DIR, outcome.platform_id, outcome.video_id, path.basename(request)].join('/'), bytes))
      .catch((error: Error) => log(`job ${job.id}: warning: run ${outcome.run_id} published without its run request: ${error.message}`));
    log(`job ${job.id}: ${data.video}: run ${outcome.run_id} ${outcome.status}${code ? ` (${code})` : ''}, published to ${storage.location}`);
    // a failed run is published too (its manifest says why); the job fails once, with the run's error code
    if (outcome.status !== 'ok') throw unrecoverable(code ?? 'internal_error', outcome.error?.message ?? `run ${outcome.status}`);
    await progress.finish();
    return { run_id: outcome.run_id, run_key: key, status: outcome.status, error_code: null, reused: false };
  } finally {
    await discardScratch(context.scratchDir, outcome);
  }
}

/**
 * A job failure for BullMQ: deterministic TrendflowErrors fail at once, transient ones and errors without a code are
 * retried. Every reason starts with an error code (`internal_error` for the uncoded), which the status reads back.
 */
function rethrowForQueue(error: unknown): never {
  if (error instanceof UnrecoverableError || error instanceof WaitingError) throw error;
  if (isTrendflowError(error)) {
    const reason = failureReason(error.code, error.details.path ? `${error.details.path}: ${error.message}` : error.message);
    if (TRANSIENT_ERROR_CODES.has(error.code)) throw new Error(reason, { cause: error });
    throw new UnrecoverableError(reason);
  }
  throw new Error(failureReason('internal_error', error instanceof Error ? error.message : String(error)), { cause: error });
}

function unrecoverable(code: string, message: string): UnrecoverableError {
  return new UnrecoverableError(failureReason(code, message));
}

/** An ok run of this video and config already in the shared store (a job re-enqueued after `queue clean`). */
async function findOkRun(storage: RunStorage, data: AnalysisJobData): Promise<{ run_id: string; key: string } | null> {
  const keys = await storage.list(`${RESULT_STORE_DIR}/${data.platform_id}/${data.video_id}/`);
  for (const key of keys) {
    const parts = key.split('/');
    if (parts.length !== 5 || parts[4] !== 'manifest.json') continue;
    let manifest: Manifest;
    try {
      manifest = JSON.parse(Buffer.from(await storage.get(key)).toString('utf8')) as Manifest;
    } catch {
      continue; // unreadable: not a run to reuse
    }
    if (manifest.run?.status === 'ok' && manifest.run.config_hash === data.config_hash) return { run_id: manifest.run.run_id, key: parts.slice(0, 4).join('/') };
  }
  return null;
}

/** Removes a run's scratch copy, frames and request: once published (or given up) nothing local is needed. */
async function discardScratch(scratch: string, outcome: RunOutcome): Promise<void> {
  const run = { platform_id: outcome.platform_id, video_id: outcome.video_id, run_id: outcome.run_id };
  await Promise.all([
    fs.rm(outcome.run_dir, { recursive: true, force: true }),
    fs.rm(framesDir(scratch, run), { recursive: true, force: true }),
    fs.rm(runRequestPath(scratch, run), { force: true }),
  ]).catch(() => undefined);
}

/**
 * Reports orchestrator events to the job (job.updateProgress), in order and at most about once a second for the
 * frequent per-frame events, so a long run does not flood Redis.
 */
class ProgressReporter {
  private state: JobProgress = { run_id: null, stage: 'checking', component: null, components_done: 0, components_total: 0, percent: 0 };
  private chain: Promise<void> = Promise.resolve();
  private lastSent = 0;

  constructor(private readonly job: Job<AnalysisJobData, AnalysisJobResult>) {}

  event(event: AnalysisEvent): void {
    switch (event.type) {
      case 'run_started':
        this.set({ run_id: event.run_id, stage: 'segmenting', components_total: event.components.length });
        break;
      case 'segmenter_progress':
        this.set({ percent: Math.round((20 * event.done) / Math.max(1, event.total)) }, true);
        break;
      case 'segmenter_finished':
        this.set({ stage: 'components', percent: 20 });
        break;
      case 'component_started':
        this.set({ component: event.component }, true);
        break;
      case 'component_progress':
        this.set({ component: event.component }, true);
        break;
      case 'component_finished':
        this.set({ stage: 'components', component: event.component, components_done: event.finished, percent: 20 + Math.round((75 * event.finished) / Math.max(1, event.total)) });
        break;
      case 'run_finished':
        this.set({ component: null, percent: 95 });
        break;
    }
  }

  set(change: Partial<JobProgress>, throttled = false): void {
    this.state = { ...this.state, ...change };
    const now = Date.now();
    if (throttled && now - this.lastSent < 1000) return;
    this.lastSent = now;
    const snapshot = this.state;
    // progress is advisory: a failed update (Redis briefly away) must not fail the analysis
    this.chain = this.chain.then(() => this.job.updateProgress({ ...snapshot })).catch(() => undefined);
  }

  async finish(): Promise<void> {
    this.set({ stage: 'done', component: null, percent: 100 });
    await this.chain;
  }
}
