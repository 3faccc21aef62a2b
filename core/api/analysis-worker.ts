/**
 * The analysis worker: one process per workstation job (core/api/jobs.ts). It waits for `{ type: 'start' }`, runs
 * the orchestrator (analyzeVideo, as `trendflow analyze` does: the run index for the cache, the process's own
 * scheduler and sessions), posts every progress event, and ends with the run's outcome. `{ type: 'cancel' }` aborts
 * the orchestrator's signal: the run ends `cancelled` in its manifest.
 *
 * It speaks over a forked child's IPC channel (browser mode) or Electron's utilityProcess parentPort (desktop).
 */
import { isTrendflowError } from '../contracts/errors.js';
import type { ApiError } from './contract.js';
import type { FromWorker, ToWorker, WorkerJob } from './jobs.js';

interface ParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
  removeAllListeners(event?: string): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;

function post(message: FromWorker): Promise<void> {
  if (parentPort) {
    parentPort.postMessage(message);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

function onMessage(listener: (message: ToWorker) => void): void {
  if (parentPort) parentPort.on('message', (event) => listener(event.data as ToWorker));
  else process.on('message', (message) => listener(message as ToWorker));
}

/** Lets the process end once the outcome is out: nothing else keeps it alive but the channel. */
function hangUp(): void {
  if (parentPort) parentPort.removeAllListeners('message');
  else process.disconnect?.();
}

function apiError(error: unknown): ApiError {
  if (isTrendflowError(error)) return { code: error.code, message: error.details.path ? `${error.details.path}: ${error.message}` : error.message };
  return { code: 'internal_error', message: error instanceof Error ? error.message : String(error) };
}

const controller = new AbortController();
let started = false;

async function run(job: WorkerJob): Promise<void> {
  // the pipeline is imported here, after the start message, so a worker that is cancelled at once loads nothing
  const [{ analyzeVideo }, { loadProfile }, { openIndex }, { COMPONENTS }, { loadRegistry }, { applyWorkstationSettings }] = await Promise.all([
    import('../pipeline/orchestrator.js'),
    import('../pipeline/profile.js'),
    import('../index/sync.js'),
    import('../pipeline/registry.js'),
    import('../runtime/registry/index.js'),
    import('./run-settings.js'),
  ]);
  let outcome: FromWorker;
  try {
    const registry = await loadRegistry({ modelsDir: job.modelsDir });
    const only = job.components ?? undefined;
    // the settings as analysis.start applied them: the same overlay, so the worker runs the config the job announced
    const { profile } = applyWorkstationSettings(await loadProfile(job.profile), job.settings, { only, components: COMPONENTS, registry });
    const index = await openIndex(job.workspace);
    try {
      const result = await analyzeVideo(
        { video: job.video, profile, only, metadataFile: job.metadata },
        { workspace: job.workspace, modelsDir: job.modelsDir, registry, index, signal: controller.signal, onEvent: (event) => void post({ type: 'event', event }) },
      );
      outcome = {
        type: 'outcome',
        status: result.status,
        error: result.error ? { code: result.error.error_code, message: result.error.message } : null,
        run_dir: result.run_dir,
        platform_id: result.platform_id,
        video_id: result.video_id,
        run_id: result.run_id,
      };
    } finally {
      index.close();
    }
  } catch (error) {
    outcome = { type: 'failed', error: apiError(error) };
  }
  await post(outcome);
  hangUp();
}

// the host went away (fork mode): stop the run properly (manifest `cancelled`) instead of leaving it to look alive
process.on('disconnect', () => controller.abort(new Error('the workstation closed')));

onMessage((message) => {
  if (message.type === 'cancel') {
    controller.abort(new Error('cancelled from the workstation'));
    // cancelled before it began: there is no run, the host records the job as cancelled
    if (!started) void post({ type: 'failed', error: { code: 'invalid_argument', message: 'cancelled before the run started' } }).then(hangUp);
    return;
  }
  if (message.type === 'start' && !started) {
    started = true;
    run(message.job).catch((error: unknown) => {
      process.stderr.write(`trendflow: analysis worker: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = 1;
      hangUp();
    });
  }
});
