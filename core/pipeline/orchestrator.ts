/**
 * The orchestrator (DESIGN.md §9, seed 002 §4 and §9): one video → one run. It resolves the run config, writes the
 * run request and the manifest (its only writer), probes the video, segments it once (frames for the selected
 * components only, and only when a component that reads frames has to compute), then runs the component DAG:
 * each component starts when the components it depends on are settled, through the process-wide scheduler.
 *
 * - Cache: a component whose key (cache.ts) matches an earlier ok/empty result reuses its artifacts.
 * - Model pre-flight (preflight.ts): before the video is probed, a required component's missing model ends the run;
 *   an optional one's is recorded as its error without running it.
 * - Required components fail fast: the run stops with status error and the component's error code, the others
 *   are cancelled. Optional ones are best-effort: their error is recorded and the run goes on.
 * - A component whose required dependency is missing becomes empty with `dependency_missing`.
 * - Every artifact is validated against its schema right after the component returns (invalid → component error).
 * - Progress events, cancellation (AbortSignal → run status cancelled), and resume: a run killed mid-way (shown as
 *   interrupted) is finished by `resumeRun` without redoing its finished components.
 */
import { setMaxListeners } from 'node:events';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { ComponentName } from '../contracts/components.js';
import { isTrendflowError, TrendflowError } from '../contracts/errors.js';
import type { ComponentMetrics, Manifest, ManifestComponent, ManifestError } from '../contracts/manifest.js';
import type { EmptyReason, RunStatus } from '../contracts/status.js';
import { OnnxSessionRegistry } from '../runtime/onnx/sessions.js';
import { findChecklistEntry, loadChecklist, type Checklist } from '../runtime/planner/checklist.js';
import { probeMemory, type MemorySnapshot } from '../runtime/planner/planner.js';
import { loadRegistry, type ModelRegistry } from '../runtime/registry/index.js';
import { formatProblem, loadSchema, validateNpzFile } from '../schema/index.js';
import { FRAME_COMPONENTS, readFramesMetadata, segmentVideo } from '../segmenter/index.js';
import { describeArtifact, ManifestWriter } from '../store/manifest.js';
import { hashFile } from '../store/hash.js';
import { resolveRunIdentity } from '../store/identity.js';
import { framesDir as framesDirOf, manifestPath, runDir as runDirOf, storeDir } from '../store/paths.js';
import { extractAudio, type AudioSamples } from '../video/audio.js';
import { checkInputFile } from '../video/process.js';
import { probeVideo, type VideoProbe } from '../video/probe.js';
import { fixedBatch, plannedBatch, type PlannedBatch } from './batch.js';
import { cacheKey, reuseCached, type CacheLookup } from './cache.js';
import type { BatchingSpec, ComponentDefinition, ComponentInput, ComponentOutcome, ComponentRunContext } from './component.js';
import { estimateRemainingMs, type AnalysisEvent, type AnalysisEventListener } from './events.js';
import { digestFolder, readMetadataInput } from './inputs.js';
import { PeakRssSampler } from './metrics.js';
import type { Profile } from './profile.js';
import { checkModelFiles, componentModelFailures, requiredModelsFailure } from './preflight.js';
import { COMPONENTS } from './registry.js';
import { readRunRequest, RUN_REQUEST_FORMAT, writeRunRequest, type RunRequest } from './request.js';
import { resolveRunConfig, type ComponentTable, type ResolvedComponent } from './run-config.js';
import { Scheduler, type Pool } from './scheduler.js';

/** Where the cache looks and what is recorded after every manifest change (core/index's RunIndex fits). */
export interface RunRecorder extends CacheLookup {
  recordManifest(runDir: string, manifest: Manifest, profile: string | null): void;
}

export interface OrchestratorOptions {
  /** The workspace: result_store/, frames/, run_requests/ (core/store resolveWorkspace). */
  workspace: string;
  modelsDir: string;
  /** Loaded from `modelsDir` when absent. */
  registry?: ModelRegistry;
  /** The components that exist (default: core/pipeline/registry.ts). */
  components?: ComponentTable;
  /** The run index: cache lookups and a record of every change. Null: no cache, nothing indexed. */
  index?: RunRecorder | null;
  /** Shared ONNX sessions (a batch of videos loads each model once); a private one is made and released otherwise. */
  sessions?: OnnxSessionRegistry;
  scheduler?: Scheduler;
  signal?: AbortSignal;
  onEvent?: AnalysisEventListener;
  /** Free memory for batch planning (default: probeMemory). */
  memory?: () => Promise<MemorySnapshot>;
  /** Share of the free memory one component's batch may plan on (default 0.5; lower when videos run at once). */
  memoryShare?: number;
}

export interface AnalyzeInput {
  video: string;
  profile: Profile;
  /** `--components`: just these and what they require. */
  only?: readonly ComponentName[] | undefined;
  metadataFile?: string | null | undefined;
  snapshotsDir?: string | null | undefined;
  runId?: string | undefined;
  /** `--no-cache`: compute every component. */
  noCache?: boolean | undefined;
}

export interface ComponentSummary {
  /** `cancelled`: not run, because the run failed, was cancelled or was killed before it. */
  status: 'ok' | 'empty' | 'error' | 'cancelled';
  required: boolean;
  cache_hit: boolean;
  duration_ms: number | null;
  empty_reason: EmptyReason | null;
  error: ManifestError | null;
}

export interface RunOutcome {
  /** The analysed file (absolute path). */
  video: string;
  run_id: string;
  run_dir: string;
  platform_id: string;
  video_id: string;
  config_hash: string;
  profile: string;
  status: RunStatus;
  error: ManifestError | null;
  components: Partial<Record<ComponentName, ComponentSummary>>;
  not_implemented: ComponentName[];
  /** Problems that did not change the run's result (the index could not be updated…). */
  warnings: string[];
}

/**
 * Analyses one video. Problems found before the run exists — a missing or unreadable video, a bad metadata file,
 * a bad profile or param — throw. Once the run exists every failure ends in its manifest (status error with a code)
 * and in the returned outcome.
 */
export async function analyzeVideo(input: AnalyzeInput, options: OrchestratorOptions): Promise<RunOutcome> {
  const videoPath = path.resolve(input.video);
  try {
    await checkInputFile(videoPath);
  } catch (error) {
    // an empty file still has an identity (the digest of no bytes): it gets a run whose manifest says why it failed
    if (!isTrendflowError(error) || error.code !== 'video_empty_file') throw error;
  }
  const metadata = input.metadataFile ? await readMetadataInput(input.metadataFile) : null;
  const snapshots = input.snapshotsDir ? await digestFolder(input.snapshotsDir) : null;
  const components = options.components ?? COMPONENTS;
  const registry = options.registry ?? (await loadRegistry({ modelsDir: options.modelsDir }));
  const config = resolveRunConfig({ profile: input.profile, only: input.only, components, registry });
  const { identity, source } = await resolveRunIdentity({ videoPath, platformId: metadata?.platform_id, videoId: metadata?.video_id, runId: input.runId, config });
  const runDirectory = runDirOf(storeDir(options.workspace), identity);
  if (existsSync(manifestPath(runDirectory))) throw new TrendflowError('run_exists', 'run already has a manifest; resume it, or choose another --run-id', { path: runDirectory });
  // the request before the manifest: a run that exists can always be resumed (a crash in between leaves only an
  // orphan request, which gc removes). Two processes racing for one --run-id: the manifest decides the winner, and
  // resume refuses a request whose config_hash is not the manifest's.
  const request: RunRequest = {
    format: RUN_REQUEST_FORMAT,
    identity,
    profile: { name: input.profile.name, file: input.profile.file },
    config,
    inputs: {
      video: { path: videoPath, bytes: source.source_bytes, sha256: source.source_sha256 },
      metadata: metadata ? { path: metadata.path, sha256: metadata.sha256 } : null,
      snapshots,
    },
    options: { no_cache: input.noCache ?? false },
    created_at: new Date().toISOString(),
  };
  await writeRunRequest(options.workspace, request);
  const writer = await ManifestWriter.create(runDirectory, { identity, source });
  return new RunExecution(writer, request, { ...options, registry, components }, false).execute();
}

/**
 * Finishes a run that was interrupted, cancelled or failed: components already ok or empty are kept as they are,
 * the others run again with the run's own config. The inputs must be unchanged (same digests), else
 * `run_not_resumable`; a run another process is writing is `run_locked`.
 */
export async function resumeRun(runDirectory: string, options: OrchestratorOptions & { noCache?: boolean }): Promise<RunOutcome> {
  const writer = await ManifestWriter.open(path.resolve(runDirectory));
  let request: RunRequest;
  let registry: ModelRegistry;
  const components = options.components ?? COMPONENTS;
  try {
    const run = writer.manifest.run;
    const found = await readRunRequest(options.workspace, run);
    if (!found) throw new TrendflowError('run_not_resumable', `no run request for ${run.run_id} in ${options.workspace}: the run was not started from this workspace`, { path: writer.runDir });
    if (found.identity.config_hash !== run.config_hash || found.identity.run_id !== run.run_id) {
      throw new TrendflowError('run_not_resumable', 'the run request does not belong to this run (config_hash differs)', { path: writer.runDir });
    }
    await checkUnchanged(found.inputs.video.path, found.inputs.video.sha256, 'video');
    if (found.inputs.metadata) await checkUnchanged(found.inputs.metadata.path, found.inputs.metadata.sha256, 'metadata JSON');
    if (found.inputs.snapshots && (await digestFolder(found.inputs.snapshots.path)).digest !== found.inputs.snapshots.digest) {
      throw new TrendflowError('run_not_resumable', 'the snapshots folder changed since the run started', { path: found.inputs.snapshots.path });
    }
    const missing = Object.keys(found.config.components).filter((name) => !components.has(name as ComponentName));
    if (missing.length > 0) throw new TrendflowError('run_not_resumable', `the run needs components this program does not have: ${missing.join(', ')}`, { path: writer.runDir });
    registry = options.registry ?? (await loadRegistry({ modelsDir: options.modelsDir }));
    request = options.noCache === undefined ? found : { ...found, options: { ...found.options, no_cache: options.noCache } };
  } catch (error) {
    await writer.close();
    throw error;
  }
  return new RunExecution(writer, request, { ...options, registry, components }, true).execute();
}

async function checkUnchanged(file: string, sha256: string, what: string): Promise<void> {
  let digest;
  try {
    digest = await hashFile(file);
  } catch (error) {
    throw new TrendflowError('run_not_resumable', `the run's ${what} cannot be read any more: ${(error as Error).message}`, { path: file, cause: error });
  }
  if (digest.sha256 !== sha256) throw new TrendflowError('run_not_resumable', `the run's ${what} changed since the run started (sha256 differs)`, { path: file });
}

function manifestError(error: unknown): ManifestError {
  if (isTrendflowError(error)) {
    const where = error.details.path ? `${error.details.path}: ` : '';
    return { error_code: error.code, message: `${where}${error.message}`.trim() || error.code };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { error_code: 'internal_error', message: message || 'unknown error' };
}

type Env = OrchestratorOptions & { registry: ModelRegistry; components: ComponentTable };

/** One run's execution: the DAG over the manifest writer. */
class RunExecution {
  private readonly controller = new AbortController();
  private failure: ManifestError | null = null;
  private probe: VideoProbe | null = null;
  private frames: Promise<string> | null = null;
  private checklist: Promise<{ checklist: Checklist; file: string }> | null = null;
  private readonly audioByRate = new Map<number, Promise<AudioSamples | null>>();
  private readonly entries = new Map<ComponentName, Promise<ManifestComponent | null>>();
  private readonly names: ComponentName[];
  private readonly scheduler: Scheduler;
  private readonly sessions: OnnxSessionRegistry;
  private readonly warnings: string[] = [];
  /** Optional components whose models the pre-flight found unusable: recorded with this error, not run. */
  private modelFailures = new Map<ComponentName, TrendflowError>();
  private finished = 0;

  constructor(
    private readonly writer: ManifestWriter,
    private readonly request: RunRequest,
    private readonly env: Env,
    private readonly resumed: boolean,
  ) {
    this.names = Object.keys(request.config.components) as ComponentName[];
    // every component, the segmenter and the audio extraction listen to it: not a leak
    setMaxListeners(this.names.length * 4 + 16, this.controller.signal);
    this.scheduler = env.scheduler ?? new Scheduler();
    this.sessions = env.sessions ?? new OnnxSessionRegistry();
  }

  private get runDir(): string {
    return this.writer.runDir;
  }

  private get runId(): string {
    return this.request.identity.run_id;
  }

  private get videoPath(): string {
    return this.request.inputs.video.path;
  }

  async execute(): Promise<RunOutcome> {
    const external = this.env.signal;
    const onAbort = (): void => this.controller.abort(external?.reason);
    if (external?.aborted) onAbort();
    external?.addEventListener('abort', onAbort, { once: true });
    let final: Manifest;
    try {
      await this.guard(async () => {
        if (this.resumed) this.record(await this.writer.setRunStatus('running'));
        else this.record(this.writer.manifest);
        this.emit({ type: 'run_started', run_id: this.runId, run_dir: this.runDir, video: this.videoPath, components: [...this.names], resumed: this.resumed });
        const done = new Map(this.writer.manifest.components.map((c) => [c.name, c]));
        // the model pre-flight (preflight.ts), before the video is even probed: a required component's missing model
        // ends the run here; an optional one's is recorded as its error without running it (runComponent)
        const toRun = this.names.filter((name) => (done.get(name)?.status ?? 'error') === 'error');
        const problems = await checkModelFiles(this.request.config, this.env.modelsDir, this.env.registry, this.env.components, toRun);
        const stop = requiredModelsFailure(problems);
        if (stop) throw stop;
        this.modelFailures = componentModelFailures(problems);
        this.probe = await probeVideo(this.videoPath, { signal: this.controller.signal });
        for (const name of this.names) {
          const previous = done.get(name);
          if (previous && previous.status !== 'error') {
            this.finished++;
            this.entries.set(name, Promise.resolve(previous));
          } else {
            this.entries.set(name, this.guard(() => this.runComponent(name)));
          }
        }
        await Promise.all(this.entries.values());
      });
      const status: RunStatus = external?.aborted ? 'cancelled' : this.failure ? 'error' : 'ok';
      final = await this.writer.setRunStatus(status, status === 'error' ? this.failure : null);
    } finally {
      external?.removeEventListener('abort', onAbort);
      await this.writer.close();
      if (!this.env.sessions) await this.sessions.releaseAll();
    }
    this.record(final);
    this.emit({ type: 'run_finished', run_id: this.runId, status: final.run.status, error: final.run.error });
    return this.outcome(final);
  }

  /** Runs `work`; an error escaping it is a run-level failure (a bad input, the store failing). */
  private async guard<T>(work: () => Promise<T>): Promise<T | null> {
    try {
      return await work();
    } catch (error) {
      this.fail(error);
      return null;
    }
  }

  private fail(error: unknown): void {
    // errors caused by an abort already under way (cancellation, an earlier failure) are not the run's reason
    if (this.controller.signal.aborted && (this.failure || this.env.signal?.aborted)) return;
    this.failure = isManifestError(error) ? error : manifestError(error);
    this.controller.abort(new TrendflowError(this.failure.error_code, this.failure.message));
  }

  private emit(event: AnalysisEvent): void {
    this.env.onEvent?.(event);
  }

  private record(manifest: Manifest): void {
    try {
      this.env.index?.recordManifest(this.runDir, manifest, this.request.profile.name);
    } catch (error) {
      const line = `run index not updated: ${isTrendflowError(error) ? error.toLine() : (error as Error).message}`;
      if (!this.warnings.includes(line)) this.warnings.push(line);
    }
  }

  private async upsert(entry: ManifestComponent): Promise<ManifestComponent> {
    this.record(await this.writer.upsertComponent(entry));
    this.finished++;
    this.emit({
      type: 'component_finished',
      run_id: this.runId,
      component: entry.name,
      status: entry.status,
      cache_hit: entry.cache_hit,
      duration_ms: entry.duration_ms,
      error: entry.error,
      finished: this.finished,
      total: this.names.length,
    });
    return entry;
  }

  private definition(name: ComponentName): ComponentDefinition<unknown> {
    return this.env.components.get(name)!;
  }

  private async runComponent(name: ComponentName): Promise<ManifestComponent | null> {
    const definition = this.definition(name);
    const resolved = this.request.config.components[name]!;
    const upstream = await Promise.all(
      definition.dependencies.map(async (dependency) => ({ dependency, entry: (await this.entries.get(dependency.component)) ?? null })),
    );
    if (this.controller.signal.aborted) return null;
    const inputs: Partial<Record<ComponentName, ComponentInput>> = {};
    const signatures: Partial<Record<ComponentName, string | null>> = {};
    const missing: string[] = [];
    for (const { dependency, entry } of upstream) {
      const input = entry && entry.status !== 'error' ? this.inputOf(entry) : null;
      signatures[dependency.component] = input?.signature ?? null;
      if (input) inputs[dependency.component] = input;
      else if (dependency.need === 'required') {
        const why = !this.names.includes(dependency.component)
          ? this.request.config.not_implemented.includes(dependency.component)
            ? 'not implemented'
            : 'not selected'
          : `failed with ${entry?.error?.error_code ?? 'an error'}`;
        missing.push(`${dependency.component} (${why})`);
      }
    }

    const startedAt = new Date();
    const started = performance.now();
    try {
      if (missing.length > 0) return await this.recordDependencyMissing(name, resolved, inputs, missing, startedAt, started);
      const modelFailure = this.modelFailures.get(name);
      if (modelFailure) throw modelFailure;
      const key = cacheKey({
        identity: this.request.identity,
        definition,
        component: resolved,
        request: this.request,
        frameComponents: this.frameComponents(),
        dependencies: signatures,
        ...(definition.cacheInputs ? { external: await definition.cacheInputs(resolved.params, { modelsDir: this.env.modelsDir }) } : {}),
      });
      let skipped: string[] = [];
      if (!this.request.options.no_cache && this.env.index) {
        const reuse = await reuseCached(this.env.index, key, name, this.runDir, this.runId);
        skipped = reuse.skipped.map((why) => `cache candidate skipped: ${why}`);
        if (reuse.hit) {
          const { entry, how } = reuse.hit;
          const note = `cache hit: artifacts ${how === 'copy' ? 'copied' : 'hard-linked'} from run ${entry.cache_source_run_id}`;
          return await this.upsert({ ...entry, ...timing(startedAt, started), notes: [...entry.notes, note, ...skipped] });
        }
      }
      return await this.compute(name, definition, resolved, inputs, key, skipped);
    } catch (error) {
      await fs.rm(path.join(this.runDir, name), { recursive: true, force: true });
      // what an abort under way (cancellation, another failure) interrupted is not recorded: resume redoes it
      if (this.controller.signal.aborted) return null;
      const failure = manifestError(error);
      const entry = await this.upsert({
        name,
        kind: definition.kind,
        status: 'error',
        empty_reason: null,
        error: failure,
        artifacts: [],
        producer_version: definition.producerVersion,
        schema_version: definition.schemaVersion,
        ...timing(startedAt, started),
        device_used: null,
        notes: [],
        models_used: [],
        model_signature: null,
        cache_hit: false,
        cache_source_run_id: null,
        cache_key: null,
        metrics: null,
      });
      if (resolved.required) this.fail({ error_code: failure.error_code, message: `required component ${name} failed: ${failure.message}` });
      return entry;
    }
  }

  /** The input a dependant sees: the component's main artifact (the one its schema names) and its signature. */
  private inputOf(entry: ManifestComponent): ComponentInput | null {
    let main = entry.artifacts[0];
    try {
      const named = loadSchema(entry.name).artifact;
      main = entry.artifacts.find((a) => path.posix.basename(a.path) === named) ?? main;
    } catch {
      // no schema for it: its first artifact
    }
    if (!main || entry.status === 'error') return null;
    return {
      component: entry.name,
      status: entry.status,
      path: path.join(this.runDir, ...main.path.split('/')),
      artifact: main,
      signature: `sha256:${main.sha256}`,
    };
  }

  private frameComponents(): ComponentName[] {
    return FRAME_COMPONENTS.filter((name) => this.names.includes(name));
  }

  private async recordDependencyMissing(
    name: ComponentName,
    resolved: ResolvedComponent,
    inputs: Partial<Record<ComponentName, ComponentInput>>,
    missing: string[],
    startedAt: Date,
    started: number,
  ): Promise<ManifestComponent> {
    const definition = this.definition(name);
    let outcome: ComponentOutcome | null = null;
    if (definition.writeEmpty) {
      await fs.rm(path.join(this.runDir, name), { recursive: true, force: true });
      outcome = await definition.writeEmpty({ identity: this.request.identity, runDir: this.runDir, inputs, signal: this.controller.signal }, resolved.params, 'dependency_missing');
      if (outcome.status !== 'empty' || outcome.empty_reason !== 'dependency_missing') {
        throw new TrendflowError('internal_error', `${name}.writeEmpty returned status ${outcome.status} (${outcome.empty_reason}), not empty with dependency_missing`);
      }
      await this.checkOutcome(name, outcome);
    }
    return this.upsert({
      name,
      kind: definition.kind,
      status: 'empty',
      empty_reason: 'dependency_missing',
      error: null,
      artifacts: outcome?.artifacts ?? [],
      producer_version: definition.producerVersion,
      schema_version: definition.schemaVersion,
      ...timing(startedAt, started),
      device_used: outcome?.device_used ?? null,
      notes: [`required input missing: ${missing.join(', ')}`, ...(outcome ? outcome.notes : [`${name} defines no empty artifact, so none was written`])],
      models_used: outcome?.models_used ?? [],
      model_signature: outcome?.model_signature ?? null,
      cache_hit: false,
      cache_source_run_id: null,
      cache_key: null,
      metrics: null,
    });
  }

  private async compute(
    name: ComponentName,
    definition: ComponentDefinition<unknown>,
    resolved: ResolvedComponent,
    inputs: Partial<Record<ComponentName, ComponentInput>>,
    key: string,
    cacheNotes: string[],
  ): Promise<ManifestComponent> {
    const framesDir = definition.uses.frames || definition.uses.signals ? await this.ensureFrames() : framesDirOf(this.env.workspace, this.request.identity);
    const batching = definition.batching?.(resolved.params) ?? null;
    const pool: Pool = batching ? (batching.device === 'cuda' ? 'models_cuda' : 'models_cpu') : 'other';
    return this.scheduler.run(
      pool,
      async () => {
        // timings count from here: waiting for inputs and for a free slot is not the component's time
        const ranFrom = new Date();
        const ran = performance.now();
        const batch = batching ? await this.planBatch(name, batching) : null;
        this.emit({ type: 'component_started', run_id: this.runId, component: name, batch_size: batch?.batch_size ?? null });
        await fs.rm(path.join(this.runDir, name), { recursive: true, force: true });
        let unitsDone = 0;
        const ctx: ComponentRunContext = {
          identity: this.request.identity,
          runDir: this.runDir,
          framesDir,
          signal: this.controller.signal,
          onProgress: (progress) => {
            unitsDone = progress.done;
            const eta = estimateRemainingMs(ran, performance.now(), progress.done, progress.total);
            this.emit({ type: 'component_progress', run_id: this.runId, component: name, ...progress, eta_ms: eta });
          },
          videoPath: this.videoPath,
          probe: this.probe!,
          inputs,
          audio: (sampleRate) => this.audio(sampleRate),
          models: { registry: this.env.registry, modelsDir: this.env.modelsDir, sessions: this.sessions },
          batchSize: batch?.batch_size ?? null,
          metadataFile: this.request.inputs.metadata?.path ?? null,
          snapshotsDir: this.request.inputs.snapshots?.path ?? null,
        };
        const sampler = new PeakRssSampler();
        let outcome: ComponentOutcome;
        try {
          outcome = await definition.run(ctx, resolved.params);
        } finally {
          sampler.stop();
        }
        await this.checkOutcome(name, outcome);
        const time = timing(ranFrom, ran);
        const metrics: ComponentMetrics = {
          ...(batch ? { batch_size: batch.batch_size } : {}),
          peak_rss_bytes: sampler.stop(),
          ...(unitsDone > 0 ? { units_done: unitsDone, throughput_per_s: Math.round((unitsDone / Math.max(time.duration_ms, 1)) * 1e6) / 1e3 } : {}),
        };
        return this.upsert({
          name,
          kind: definition.kind,
          status: outcome.status,
          empty_reason: outcome.empty_reason,
          error: null,
          artifacts: outcome.artifacts,
          producer_version: definition.producerVersion,
          schema_version: definition.schemaVersion,
          ...time,
          device_used: outcome.device_used,
          notes: [...outcome.notes, ...(batch ? [batch.note] : []), ...cacheNotes],
          models_used: outcome.models_used,
          model_signature: outcome.model_signature,
          cache_hit: false,
          cache_source_run_id: null,
          cache_key: key,
          metrics,
        } as ManifestComponent);
      },
      this.controller.signal,
    );
  }

  private async planBatch(name: ComponentName, spec: BatchingSpec): Promise<PlannedBatch> {
    if (spec.fixed !== null) return fixedBatch(name, spec.fixed);
    this.checklist ??= loadChecklist(this.env.modelsDir);
    const { checklist, file } = await this.checklist;
    const memory = await (this.env.memory ?? probeMemory)();
    return plannedBatch(findChecklistEntry(checklist, name, spec.device, file), memory, this.env.memoryShare ?? 0.5);
  }

  /**
   * What the component reported must be what is on disk: every artifact under `<component>/`, with the digest
   * given, valid against the component's schema with meta status and run_id of this run, the schema's artifact
   * among them, and nothing else in the component's folder. Anything else is `artifact_invalid`.
   */
  private async checkOutcome(name: ComponentName, outcome: ComponentOutcome): Promise<void> {
    const invalid = (message: string, file?: string): never => {
      throw new TrendflowError('artifact_invalid', `${name}: ${message}`, file ? { path: file } : {});
    };
    if ((outcome.status === 'empty') !== (outcome.empty_reason !== null)) invalid(`status ${outcome.status} with empty_reason ${outcome.empty_reason}`);
    const listed = new Set<string>();
    for (const artifact of outcome.artifacts) {
      const file = path.join(this.runDir, ...artifact.path.split('/'));
      if (!artifact.path.startsWith(`${name}/`)) invalid(`artifact ${artifact.path} is outside ${name}/`, file);
      const actual = await describeArtifact(this.runDir, file);
      if (actual.sha256 !== artifact.sha256 || actual.bytes !== artifact.bytes) invalid(`artifact ${artifact.path} differs from what the component reported`, file);
      listed.add(artifact.path);
      if (!artifact.path.endsWith('.npz')) continue;
      const validation = await validateNpzFile(file, { schema: name });
      if (!validation.ok) invalid(`the artifact breaks its schema:\n${validation.problems.map(formatProblem).join('\n')}`, file);
      const meta = validation.meta ?? {};
      if (meta.status !== outcome.status) invalid(`meta status ${String(meta.status)} but the component reported ${outcome.status}`, file);
      if (meta.run_id !== this.runId) invalid(`meta run_id ${String(meta.run_id)} is not this run's ${this.runId}`, file);
    }
    const expected = loadSchema(name).artifact;
    if (![...listed].some((p) => path.posix.basename(p) === expected)) invalid(`reported ${outcome.status} without its artifact ${expected}`);
    for (const file of await listFiles(path.join(this.runDir, name), name)) {
      if (!listed.has(file)) invalid(`left a file it did not report: ${file}`, path.join(this.runDir, ...file.split('/')));
    }
  }

  /** The run's frames_dir, segmented once (for every selected component), or reused when a resume finds it done. */
  private ensureFrames(): Promise<string> {
    this.frames ??= this.scheduler.run('segmenter', () => this.segment(), this.controller.signal).catch((error: unknown) => {
      // a video that cannot be decoded fails the run with the video's error code
      if (!this.controller.signal.aborted) this.fail(error);
      throw error;
    });
    return this.frames;
  }

  private async segment(): Promise<string> {
    const dir = framesDirOf(this.env.workspace, this.request.identity);
    const settings = this.request.config.segmenter;
    const started = performance.now();
    const existing = await readFramesMetadata(dir).catch(() => null);
    const wanted = this.frameComponents();
    if (
      existing &&
      existing.source.path === this.videoPath &&
      existing.analysis_fps_requested === settings.analysis_fps &&
      existing.analysis_short_side_target === settings.analysis_short_side &&
      existing.components.length === wanted.length &&
      wanted.every((name) => existing.components.includes(name))
    ) {
      this.emit({ type: 'segmenter_finished', run_id: this.runId, frames: existing.frame_count, duration_ms: 0, reused: true });
      return dir;
    }
    // an unfinished or different frames_dir of this run (a crash, an older config) is rebuilt
    await fs.rm(dir, { recursive: true, force: true });
    const result = await segmentVideo(this.videoPath, {
      outDir: dir,
      analysisFps: settings.analysis_fps,
      analysisShortSide: settings.analysis_short_side,
      components: this.names,
      probe: this.probe!,
      signal: this.controller.signal,
      onProgress: (p) => this.emit({ type: 'segmenter_progress', run_id: this.runId, done: p.frames, total: p.expected, eta_ms: estimateRemainingMs(0, p.elapsed_ms, p.frames, p.expected) }),
    });
    this.emit({ type: 'segmenter_finished', run_id: this.runId, frames: result.metadata.frame_count, duration_ms: Math.round(performance.now() - started), reused: false });
    return dir;
  }

  /** Mono float32 audio at `sampleRate`, extracted once per rate for all components; null without an audio stream. */
  private audio(sampleRate: number): Promise<AudioSamples | null> {
    if (!this.probe!.has_audio) return Promise.resolve(null);
    let extracted = this.audioByRate.get(sampleRate);
    if (!extracted) {
      extracted = extractAudio(this.videoPath, { sampleRate, probe: this.probe!, signal: this.controller.signal });
      this.audioByRate.set(sampleRate, extracted);
    }
    return extracted;
  }

  private outcome(manifest: Manifest): RunOutcome {
    const byName = new Map(manifest.components.map((c) => [c.name, c]));
    const components: Partial<Record<ComponentName, ComponentSummary>> = {};
    for (const name of this.names) {
      const entry = byName.get(name);
      const required = this.request.config.components[name]!.required;
      components[name] = entry
        ? { status: entry.status, required, cache_hit: entry.cache_hit, duration_ms: entry.duration_ms, empty_reason: entry.empty_reason, error: entry.error }
        : { status: 'cancelled', required, cache_hit: false, duration_ms: null, empty_reason: null, error: null };
    }
    const run = manifest.run;
    return {
      video: this.videoPath,
      run_id: run.run_id,
      run_dir: this.runDir,
      platform_id: run.platform_id,
      video_id: run.video_id,
      config_hash: run.config_hash,
      profile: this.request.profile.name,
      status: run.status,
      error: run.error,
      components,
      not_implemented: [...this.request.config.not_implemented],
      warnings: [...this.warnings],
    };
  }
}

function isManifestError(value: unknown): value is ManifestError {
  return typeof value === 'object' && value !== null && 'error_code' in value && 'message' in value && !(value instanceof Error);
}

function timing(startedAt: Date, started: number): { started_at: string; finished_at: string; duration_ms: number } {
  const duration = Math.max(0, Math.round(performance.now() - started));
  return { started_at: startedAt.toISOString(), finished_at: new Date(startedAt.getTime() + duration).toISOString(), duration_ms: duration };
}

/** Files under `dir` as `<prefix>/<relative path>` with forward slashes (the manifest's form); none when absent. */
async function listFiles(dir: string, prefix: string): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: string[] = [];
  for (const entry of entries) {
    const relative = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await listFiles(path.join(dir, entry.name), relative)));
    else files.push(relative);
  }
  return files;
}

