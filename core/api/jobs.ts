/**
 * Analysis jobs of the workstation: each `analysis.start` runs the orchestrator (core/pipeline) in its own worker
 * process (analysis-worker.ts), never on the thread that answers the UI: decoding and ONNX inference would
 * otherwise stall every other call and the event stream. Browser mode forks it with node:child_process; Electron
 * passes a spawner built on utilityProcess (main/). The worker streams the orchestrator's progress events; this
 * class folds them into one `AnalysisJob` snapshot per job and publishes it as `analysis.progress`.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { ComponentName } from '../contracts/components.js';
import type { AnalysisEvent } from '../pipeline/events.js';
import type { RunStatus } from '../contracts/status.js';
import type { AnalysisJob, AnalysisJobComponent, ApiError, RunRef, WorkstationSettings } from './contract.js';
import type { ApiEventHub } from './events.js';
import { packageRoot } from './paths.js';

/** What the host asks the worker to run. Paths are absolute and already checked by the API. */
export interface WorkerJob {
  video: string;
  /** A built-in profile name or a profile file path (loadProfile). */
  profile: string;
  components: ComponentName[] | null;
  metadata: string | null;
  workspace: string;
  modelsDir: string;
  /** The workstation settings when the job was started, applied to the profile (run-settings.ts). */
  settings: WorkstationSettings;
}

export type ToWorker = { type: 'start'; job: WorkerJob } | { type: 'cancel' };

export type FromWorker =
  | { type: 'event'; event: AnalysisEvent }
  /** The run exists and ended (ok, error or cancelled): its manifest says the rest. */
  | { type: 'outcome'; status: RunStatus; error: ApiError | null; run_dir: string; platform_id: string; video_id: string; run_id: string }
  /** The run could not be started (the orchestrator threw before it existed). */
  | { type: 'failed'; error: ApiError };

/** The host's end of one worker process: a forked Node child, or an Electron utilityProcess. */
export interface AnalysisWorkerHandle {
  send(message: ToWorker): void;
  onMessage(listener: (message: FromWorker) => void): void;
  /** Called once, when the process has ended (code null when killed by a signal). */
  onExit(listener: (code: number | null) => void): void;
  kill(): void;
}

export type AnalysisWorkerSpawner = (entry: string) => AnalysisWorkerHandle;

/** The built worker (`npm run build`); workers always run the build, also when the host runs from sources. */
export function analysisWorkerEntry(): string {
  return path.join(packageRoot(), 'dist', 'core', 'api', 'analysis-worker.js');
}

/** Browser mode's spawner: a plain Node child with an IPC channel (no loader flags of the host inherited). */
export const forkAnalysisWorker: AnalysisWorkerSpawner = (entry) => {
  // the worker's stdout goes to the host's stderr: `trendflow serve` keeps stdout for its one URL line
  const child = fork(entry, [], { execArgv: [], stdio: ['ignore', 2, 'inherit', 'ipc'] });
  return {
    send: (message) => {
      if (child.connected) child.send(message);
    },
    onMessage: (listener) => child.on('message', (message) => listener(message as FromWorker)),
    onExit: (listener) => child.once('exit', (code) => listener(code)),
    kill: () => child.kill('SIGKILL'),
  };
};

/** Progress events are folded at once but published at most this often per job (state changes go out at once). */
const PUBLISH_INTERVAL_MS = 250;
/** A cancelled worker that has not ended by then is killed (the run is then `interrupted`, and resumable). */
const CANCEL_GRACE_MS = 20_000;
/** A worker that has posted its outcome but not exited by then is killed (it has nothing left to do). */
const EXIT_GRACE_MS = 5_000;
/** Ended jobs kept for `analysis.list`. */
const KEEP_ENDED = 50;

const MIN_FRACTION_FOR_ETA = 0.05;

const ENDED: ReadonlySet<AnalysisJob['state']> = new Set(['finished', 'cancelled', 'failed']);

interface Entry {
  job: AnalysisJob;
  request: WorkerJob;
  /** null while queued. */
  worker: AnalysisWorkerHandle | null;
  startedMs: number;
  lastPublished: number;
  pending: NodeJS.Timeout | null;
  killTimer: NodeJS.Timeout | null;
  exited: boolean;
}

export class AnalysisJobs {
  readonly #jobs = new Map<string, Entry>();
  #closed = false;

  /**
   * `parallel`: jobs running at once; the others wait `queued`. Default 1: each worker has its own scheduler and
   * ONNX sessions and already uses every core (core/pipeline/README.md, Concurrency), so two would only compete.
   */
  constructor(
    private readonly events: ApiEventHub,
    private readonly spawn: AnalysisWorkerSpawner = forkAnalysisWorker,
    private readonly entry: string = analysisWorkerEntry(),
    private readonly parallel = 1,
  ) {}

  start(request: WorkerJob, components: ComponentName[]): AnalysisJob {
    const job: AnalysisJob = {
      job_id: `job-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
      video_path: request.video,
      profile: request.profile,
      state: 'queued',
      started_at: new Date().toISOString(),
      finished_at: null,
      run: null,
      run_status: null,
      error: null,
      segmenter: { state: 'pending', done: 0, total: 0, eta_sec: null },
      components: components.map((name) => pendingComponent(name)),
      overall: { fraction: 0, eta_sec: null },
    };
    const entry: Entry = { job, request, worker: null, startedMs: Date.now(), lastPublished: 0, pending: null, killTimer: null, exited: false };
    this.#jobs.set(job.job_id, entry);
    this.#prune();
    if (!this.#launchNext()) this.#publish(entry, true);
    return structuredClone(job);
  }

  /** Starts the oldest queued job when a slot is free; true when it started one. */
  #launchNext(): boolean {
    if (this.#closed) return false;
    const all = [...this.#jobs.values()];
    if (all.filter((e) => e.worker !== null && !ENDED.has(e.job.state)).length >= this.parallel) return false;
    const next = all.find((e) => e.job.state === 'queued');
    if (!next) return false;
    let worker: AnalysisWorkerHandle;
    try {
      worker = this.spawn(this.entry);
    } catch (error) {
      next.job.error = { code: 'internal_error', message: `cannot start the analysis worker: ${(error as Error).message}` };
      this.#end(next, 'failed');
      return true;
    }
    next.worker = worker;
    next.startedMs = Date.now();
    next.job.state = 'starting';
    worker.onMessage((message) => this.#onMessage(next, message));
    worker.onExit((code) => this.#onExit(next, code));
    worker.send({ type: 'start', job: next.request });
    this.#publish(next, true);
    return true;
  }

  /** Asks the job's orchestrator to stop (AbortSignal in the worker); false when the job had already ended. */
  cancel(jobId: string): { cancelled: boolean; job: AnalysisJob } | null {
    const entry = this.#jobs.get(jobId);
    if (!entry) return null;
    if (ENDED.has(entry.job.state) || entry.job.state === 'cancelling') return { cancelled: entry.job.state === 'cancelling', job: structuredClone(entry.job) };
    if (entry.worker === null) {
      this.#end(entry, 'cancelled');
      return { cancelled: true, job: structuredClone(entry.job) };
    }
    entry.job.state = 'cancelling';
    entry.worker.send({ type: 'cancel' });
    entry.killTimer = setTimeout(() => entry.worker?.kill(), CANCEL_GRACE_MS);
    entry.killTimer.unref();
    this.#publish(entry, true);
    return { cancelled: true, job: structuredClone(entry.job) };
  }

  list(): AnalysisJob[] {
    return [...this.#jobs.values()].map((entry) => structuredClone(entry.job)).reverse();
  }

  /** Stops every worker (the host is closing): running runs end `interrupted` and can be resumed; queued jobs never start. */
  close(): void {
    this.#closed = true;
    for (const entry of this.#jobs.values()) {
      if (entry.pending) clearTimeout(entry.pending);
      if (entry.killTimer) clearTimeout(entry.killTimer);
      if (!ENDED.has(entry.job.state)) entry.worker?.kill();
    }
  }

  #onMessage(entry: Entry, message: FromWorker): void {
    const { job } = entry;
    if (ENDED.has(job.state)) return;
    switch (message.type) {
      case 'event':
        this.#fold(entry, message.event);
        return;
      case 'outcome':
        job.run = { platform_id: message.platform_id, video_id: message.video_id, run_id: message.run_id };
        job.run_status = message.status;
        job.error = message.error;
        this.#end(entry, message.status === 'cancelled' ? 'cancelled' : 'finished');
        return;
      case 'failed':
        // a job cancelled before its run existed has nothing to show but that it was cancelled
        job.error = job.state === 'cancelling' ? null : message.error;
        this.#end(entry, job.state === 'cancelling' ? 'cancelled' : 'failed');
        return;
    }
  }

  #onExit(entry: Entry, code: number | null): void {
    entry.exited = true;
    if (entry.killTimer) clearTimeout(entry.killTimer);
    if (ENDED.has(entry.job.state)) return;
    const how = code === null ? 'was killed' : `exited with code ${code}`;
    const cancelled = entry.job.state === 'cancelling';
    entry.job.error = { code: 'internal_error', message: `the analysis worker ${how} before the run ended${cancelled ? ' (cancel took too long; the run is interrupted and can be resumed)' : ''}` };
    this.#end(entry, cancelled ? 'cancelled' : 'failed');
  }

  #fold(entry: Entry, event: AnalysisEvent): void {
    const { job } = entry;
    let change = false;
    const component = (name: ComponentName): AnalysisJobComponent => {
      let found = job.components.find((c) => c.name === name);
      if (!found) job.components.push((found = pendingComponent(name)));
      return found;
    };
    switch (event.type) {
      case 'run_started': {
        job.run = runRefOf(event.run_dir);
        if (job.state === 'starting') job.state = 'running';
        // the orchestrator's selection (with the dependencies pulled in) replaces the profile's list
        job.components = event.components.map((name) => job.components.find((c) => c.name === name) ?? pendingComponent(name));
        change = true;
        break;
      }
      case 'segmenter_progress':
        job.segmenter = { state: 'running', done: event.done, total: event.total, eta_sec: seconds(event.eta_ms) };
        break;
      case 'segmenter_finished': {
        // progress counted analysis frames; keep that unit when there was progress, else the stored frames
        const total = job.segmenter.total > 0 ? job.segmenter.total : event.frames;
        job.segmenter = { state: 'done', done: total, total, eta_sec: null };
        change = true;
        break;
      }
      case 'component_started':
        component(event.component).state = 'running';
        change = true;
        break;
      case 'component_progress':
        Object.assign(component(event.component), { state: 'running', done: event.done, total: event.total, unit: event.unit, eta_sec: seconds(event.eta_ms) });
        break;
      case 'component_finished': {
        const c = component(event.component);
        Object.assign(c, { state: event.status, cache_hit: event.cache_hit, eta_sec: null, duration_ms: event.duration_ms });
        if (c.total > 0) c.done = c.total;
        change = true;
        break;
      }
      case 'run_finished':
        job.run_status = event.status;
        change = true;
        break;
    }
    job.overall = overall(job, Date.now() - entry.startedMs);
    this.#publish(entry, change);
  }

  #end(entry: Entry, state: 'finished' | 'cancelled' | 'failed'): void {
    const { job } = entry;
    job.state = state;
    job.finished_at = new Date().toISOString();
    for (const c of job.components) {
      c.eta_sec = null;
      if (c.state === 'pending' || c.state === 'running') c.state = 'cancelled';
    }
    if (job.segmenter.state === 'pending') job.segmenter.state = 'skipped';
    job.overall = { fraction: state === 'finished' ? 1 : job.overall.fraction, eta_sec: null };
    if (entry.killTimer) clearTimeout(entry.killTimer);
    if (entry.worker && !entry.exited) {
      entry.killTimer = setTimeout(() => entry.worker?.kill(), EXIT_GRACE_MS);
      entry.killTimer.unref();
    }
    this.#publish(entry, true);
    this.#launchNext();
  }

  /** Publishes the snapshot now (`now`) or once the interval since the last one has passed. */
  #publish(entry: Entry, now: boolean): void {
    const send = (): void => {
      entry.pending = null;
      entry.lastPublished = Date.now();
      this.events.emit({ type: 'analysis.progress', job: structuredClone(entry.job) });
    };
    if (now || Date.now() - entry.lastPublished >= PUBLISH_INTERVAL_MS) {
      if (entry.pending) clearTimeout(entry.pending);
      send();
    } else if (!entry.pending) {
      entry.pending = setTimeout(send, PUBLISH_INTERVAL_MS - (Date.now() - entry.lastPublished));
      entry.pending.unref();
    }
  }

  #prune(): void {
    const ended = [...this.#jobs.values()].filter((entry) => ENDED.has(entry.job.state));
    for (const entry of ended.slice(0, Math.max(0, ended.length - KEEP_ENDED))) this.#jobs.delete(entry.job.job_id);
  }
}

function pendingComponent(name: ComponentName): AnalysisJobComponent {
  return { name, state: 'pending', done: 0, total: 0, unit: '', eta_sec: null, cache_hit: false, duration_ms: null };
}

function seconds(ms: number | null): number | null {
  return ms === null ? null : Math.ceil(ms / 1000);
}

/** `<store>/<platform>/<video>/<run>` → its identity. */
function runRefOf(runDir: string): RunRef {
  const parts = path.resolve(runDir).split(path.sep);
  return { platform_id: parts.at(-3)!, video_id: parts.at(-2)!, run_id: parts.at(-1)! };
}

/**
 * The job's share done: the segmenter and each component weigh one part (a finished one counts whole, a running
 * one by its done/total). The ETA extrapolates the elapsed time at that rate: coarse, since components differ in
 * cost, but it only moves forward from measured progress and is null until there is some.
 */
function overall(job: AnalysisJob, elapsedMs: number): AnalysisJob['overall'] {
  const part = (state: string, done: number, total: number): number => (state === 'done' || state === 'skipped' || state === 'ok' || state === 'empty' || state === 'error' ? 1 : state === 'running' && total > 0 ? Math.min(1, done / total) : 0);
  const parts = [part(job.segmenter.state, job.segmenter.done, job.segmenter.total), ...job.components.map((c) => part(c.state, c.done, c.total))];
  const fraction = parts.reduce((sum, value) => sum + value, 0) / parts.length;
  // below a few percent the extrapolation is noise (start-up costs dominate): no ETA rather than a wild one
  const eta = fraction >= MIN_FRACTION_FOR_ETA && fraction < 1 && elapsedMs >= 1000 ? Math.ceil(((elapsedMs / fraction) * (1 - fraction)) / 1000) : null;
  return { fraction, eta_sec: eta };
}
