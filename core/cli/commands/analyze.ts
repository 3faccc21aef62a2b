/**
 * `trendflow analyze VIDEO... [--components a,b] [--profile P] [--meta FILE] [--snapshots DIR] [--store DIR]
 * [--models-dir DIR] [--run-id ID] [--no-cache] [--json] [--prediction-model DIR...]` (DESIGN.md §2): one run per video through the
 * orchestrator (core/pipeline). Progress goes to stderr; stdout gets one summary per video (one JSON object per
 * line with --json). Exit code 0 when every run is ok, 1 when any failed, 130 when cancelled (Ctrl-C), 2 for usage.
 * Before the first video the models the config names are checked (core/pipeline/preflight.ts): a required
 * component's missing model ends the command with exit 1 and one line per file, nothing analysed.
 */
import os from 'node:os';
import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { isComponentName, type ComponentName } from '../../contracts/components.js';
import { isTrendflowError } from '../../contracts/errors.js';
import type { AnalysisEvent } from '../../pipeline/events.js';
import type { RunOutcome } from '../../pipeline/orchestrator.js';
import type { RunConfig } from '../../pipeline/run-config.js';
import type { ChecklistEntry } from '../../runtime/planner/checklist.js';

interface AnalyzeCliOptions {
  components?: ComponentName[];
  profile?: string;
  meta?: string;
  snapshots?: string;
  store?: string;
  modelsDir?: string;
  runId?: string;
  cache: boolean;
  json?: boolean;
  predictionModel: string[];
}

/** Exit code of a run cancelled by SIGINT/SIGTERM (128 + SIGINT, the shell convention). */
export const EXIT_CANCELLED = 130;

export function parseComponents(value: string): ComponentName[] {
  const names = value.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !isComponentName(name));
  if (names.length === 0 || unknown.length > 0) throw new InvalidArgumentError(`unknown component(s): ${unknown.join(', ') || '(none given)'}`);
  return names as ComponentName[];
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export const STORE_OPTION_HELP = 'workspace holding result_store/, frames/, run_requests/ and index.sqlite (default: $TRENDFLOW_WORKSPACE, else ./trendflow-data)';

export function registerAnalyzeCommand(program: Command): void {
  program
    .command('analyze')
    .description('run the pipeline on videos: one run (result_store/<platform>/<video>/<run>/ with manifest.json) per video')
    .argument('<videos...>', 'video files')
    .option('--components <list>', 'run just these components (comma-separated) and what they require', parseComponents)
    .option('--profile <name|file>', 'a built-in profile (tier0, full, quick) or a profile JSON file (default tier0)')
    .option('--meta <file>', "the video's metadata JSON (platform_id, video_id, …); one video only")
    .option('--snapshots <dir>', 'folder of snapshot JSON files for the temporal components; one video only')
    .option('--store <dir>', STORE_OPTION_HELP)
    .option('--models-dir <dir>', 'models folder (default: $TRENDFLOW_MODELS_DIR, else the per-user data folder + trendflow/models)')
    .option('--run-id <id>', 'the run_id to use (default: generated, time-sortable); one video only')
    .option('--no-cache', 'compute every component even when an identical earlier result exists')
    .option('--json', 'one JSON object per video on stdout')
    .option('--prediction-model <dir>', 'add the prediction component with this model folder; repeat for fallbacks, primary first (v2, v1, baseline)', collect, [])
    .addHelpText('after', '\nProgress goes to stderr. Exit codes: 0 every run ok, 1 a run not ok or an input error (one line per failure on\nstderr: trendflow: <input>: <code>: <message>), 2 a usage error, 130 cancelled (Ctrl-C / SIGTERM).')
    .action(async (videos: string[], options: AnalyzeCliOptions, command: Command) => {
      if (videos.length > 1) {
        const single = (['meta', 'snapshots', 'runId'] as const).filter((key) => options[key] !== undefined);
        if (single.length > 0) command.error(`error: ${single.map((k) => `--${k === 'runId' ? 'run-id' : k}`).join(', ')} apply to one video; ${videos.length} were given`, { exitCode: 2 });
      }
      process.exitCode = await analyze(videos, options);
    });
}

/**
 * The command's work. The pipeline (every component and its runtime) is imported here, not at the top, so the
 * other commands of the CLI start without loading it.
 */
async function analyze(videos: string[], options: AnalyzeCliOptions): Promise<number> {
  const [{ openIndex }, { planVideoConcurrency }, { analyzeVideo }, { checkModelFiles, problemLines }, { DEFAULT_PROFILE, loadProfile }, { COMPONENTS }, { resolveRunConfig }, { Scheduler }, { OnnxSessionRegistry }, { probeMemory }, { loadRegistry, resolveModelsDir }, { resolveWorkspace }] =
    await Promise.all([
      import('../../index/sync.js'),
      import('../../pipeline/batch.js'),
      import('../../pipeline/orchestrator.js'),
      import('../../pipeline/preflight.js'),
      import('../../pipeline/profile.js'),
      import('../../pipeline/registry.js'),
      import('../../pipeline/run-config.js'),
      import('../../pipeline/scheduler.js'),
      import('../../runtime/onnx/sessions.js'),
      import('../../runtime/planner/planner.js'),
      import('../../runtime/registry/index.js'),
      import('../../store/paths.js'),
    ]);
  const workspace = resolveWorkspace({ workspace: options.store });
  const modelsDir = resolveModelsDir(options.modelsDir === undefined ? {} : { modelsDir: options.modelsDir });
  const profile = await loadProfile(options.profile ?? DEFAULT_PROFILE);
  let only = options.components;
  if (options.predictionModel.length > 0) {
    // the same as a profile entry `prediction: { required: true, params: { models } }`, folders taken from here
    profile.components.set('prediction', { required: true, params: { models: options.predictionModel.map((dir) => path.resolve(dir)) } });
    if (only && !only.includes('prediction')) only = [...only, 'prediction'];
  }
  const registry = await loadRegistry({ modelsDir });
  // the config is resolved per run too; resolving it here first reports a bad profile or param before any video
  const config = resolveRunConfig({ profile, only, components: COMPONENTS, registry });
  // the model pre-flight once for the whole batch: a required component's unusable model stops here, one line per
  // file with the command that fixes it, before any video is decoded; an optional one's is said once, and each run
  // records that component's error without running it
  const problems = await checkModelFiles(config, modelsDir, registry, COMPONENTS);
  const stop = problems.some((problem) => problem.required);
  for (const { error_code, line } of problemLines(problems)) {
    process.stderr.write(stop ? `trendflow: ${error_code}: ${line}\n` : `trendflow: warning: ${error_code}: ${line} (recorded as that component's error; the run goes on)\n`);
  }
  if (stop) return 1;
  const index = await openIndex(workspace);
  const sessions = new OnnxSessionRegistry();
  const controller = new AbortController();
  const onSignal = (): void => controller.abort(new Error('cancelled by a signal'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress = new ProgressPrinter(process.stderr);
  try {
    let share = 0.5;
    let parallel = 1;
    if (videos.length > 1) {
      const plan = planVideoConcurrency({ videos: videos.length, cores: os.availableParallelism(), memory: await probeMemory(), entries: await cpuChecklistEntries(config, modelsDir) });
      parallel = plan.videos;
      share = 0.5 / parallel;
      process.stderr.write(`analyze: ${plan.reason}\n`);
    }
    const scheduler = new Scheduler();
    const outcomes = await mapLimit(videos, parallel, async (video) => {
      try {
        const outcome = await analyzeVideo(
          { video, profile, only, metadataFile: options.meta ?? null, snapshotsDir: options.snapshots ?? null, runId: options.runId, noCache: !options.cache },
          { workspace, modelsDir, registry, index, sessions, scheduler, signal: controller.signal, onEvent: (event) => progress.event(event), memoryShare: share },
        );
        progress.clear();
        printOutcome(outcome, options.json === true);
        return outcome.status;
      } catch (error) {
        progress.clear();
        printFailure(video, error, options.json === true);
        return 'error' as const;
      }
    });
    return controller.signal.aborted ? EXIT_CANCELLED : outcomes.every((status) => status === 'ok') ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await sessions.releaseAll();
    index.close();
  }
}

/** Checklist entries of the config's CPU model components (for how many videos run at once). */
export async function cpuChecklistEntries(config: RunConfig, modelsDir: string): Promise<ChecklistEntry[]> {
  const [{ COMPONENTS }, { findChecklistEntry, loadChecklist }] = await Promise.all([import('../../pipeline/registry.js'), import('../../runtime/planner/checklist.js')]);
  const { checklist, file } = await loadChecklist(modelsDir);
  const entries: ChecklistEntry[] = [];
  for (const [name, component] of Object.entries(config.components) as [ComponentName, NonNullable<RunConfig['components'][ComponentName]>][]) {
    const spec = COMPONENTS.get(name)?.batching?.(component.params);
    if (!spec || spec.device !== 'cpu') continue;
    try {
      entries.push(findChecklistEntry(checklist, name, 'cpu', file));
    } catch {
      // not measured: its batch is fixed by the config or its run will say so; it does not weigh here
    }
  }
  return entries;
}

/** Runs `work` over `items` with at most `limit` at once, keeping the order of the results. */
async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** The JSON summary of a run (`--json`): what scripts read. */
export function outcomeJson(outcome: RunOutcome): Record<string, unknown> {
  return {
    video: outcome.video,
    run_id: outcome.run_id,
    run_dir: outcome.run_dir,
    status: outcome.status,
    error: outcome.error,
    platform_id: outcome.platform_id,
    video_id: outcome.video_id,
    config_hash: outcome.config_hash,
    profile: outcome.profile,
    components: outcome.components,
    not_implemented: outcome.not_implemented,
    warnings: outcome.warnings,
  };
}

export function printOutcome(outcome: RunOutcome, json: boolean): void {
  if (outcome.status !== 'ok' && outcome.error) {
    // the manifest's message names the file it is about; the line names the video already
    const prefix = `${outcome.video}: `;
    const message = outcome.error.message.startsWith(prefix) ? outcome.error.message.slice(prefix.length) : outcome.error.message;
    process.stderr.write(`trendflow: ${outcome.video}: ${outcome.error.error_code}: ${message}\n`);
  }
  for (const warning of outcome.warnings) process.stderr.write(`trendflow: warning: ${warning}\n`);
  if (json) {
    process.stdout.write(`${JSON.stringify(outcomeJson(outcome))}\n`);
    return;
  }
  const lines = [`${outcome.video}`, `  run ${outcome.run_id}: ${outcome.status}${outcome.error ? ` (${outcome.error.error_code})` : ''}, profile ${outcome.profile}`, `  folder ${outcome.run_dir}`];
  const width = Math.max(0, ...Object.keys(outcome.components).map((name) => name.length));
  for (const [name, c] of Object.entries(outcome.components)) {
    const detail = c.cache_hit
      ? 'cache hit'
      : c.status === 'error'
        ? `${c.error!.error_code}: ${c.error!.message}`
        : c.status === 'empty'
          ? `${c.empty_reason}`
          : c.duration_ms !== null
            ? `${(c.duration_ms / 1000).toFixed(1)} s`
            : '';
    lines.push(`  ${name.padEnd(width)}  ${c.status.padEnd(9)} ${c.required ? 'required' : 'optional'}  ${detail}`);
  }
  if (outcome.not_implemented.length > 0) lines.push(`  not implemented yet (not run): ${outcome.not_implemented.join(', ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function printFailure(video: string, error: unknown, json: boolean): void {
  const line = isTrendflowError(error) ? error.toLine() : `internal_error: ${error instanceof Error ? error.message : String(error)}`;
  const named = isTrendflowError(error) && error.details.path ? line : `${path.resolve(video)}: ${line}`;
  process.stderr.write(`trendflow: ${named}\n`);
  if (json) {
    const code = isTrendflowError(error) ? error.code : 'internal_error';
    const message = error instanceof Error ? error.message : String(error);
    process.stdout.write(`${JSON.stringify({ video: path.resolve(video), run_id: null, run_dir: null, status: 'error', error: { error_code: code, message }, components: {} })}\n`);
  }
}

/**
 * Human progress on stderr: on a terminal one line redrawn in place (component, done/total, ETA); otherwise one
 * line per finished step, so logs stay readable.
 */
export class ProgressPrinter {
  private drawn = false;
  private readonly live: boolean;

  constructor(private readonly out: NodeJS.WriteStream) {
    this.live = out.isTTY === true;
  }

  event(event: AnalysisEvent): void {
    const run = event.run_id.slice(-8);
    switch (event.type) {
      case 'run_started':
        this.line(`[${run}] ${event.resumed ? 'resuming' : 'analysing'} ${event.video}: ${event.components.join(', ') || 'no components'}`);
        break;
      case 'segmenter_progress':
        this.draw(`[${run}] segmenting ${bar(event.done, event.total)} ${event.done}/${event.total} frames${eta(event.eta_ms)}`);
        break;
      case 'segmenter_finished':
        this.line(`[${run}] frames_dir ${event.reused ? 'reused' : 'ready'}: ${event.frames} frames${event.reused ? '' : ` in ${(event.duration_ms / 1000).toFixed(1)} s`}`);
        break;
      case 'component_started':
        this.draw(`[${run}] ${event.component} started${event.batch_size ? ` (batch ${event.batch_size})` : ''}`);
        break;
      case 'component_progress':
        this.draw(`[${run}] ${event.component} ${bar(event.done, event.total)} ${event.done}/${event.total} ${event.unit}${eta(event.eta_ms)}`);
        break;
      case 'component_finished': {
        const what = event.cache_hit ? 'cache hit' : event.status === 'error' ? `error ${event.error!.error_code}` : event.status;
        this.line(`[${run}] (${event.finished}/${event.total}) ${event.component}: ${what}, ${(event.duration_ms / 1000).toFixed(1)} s`);
        break;
      }
      case 'run_finished':
        this.line(`[${run}] run ${event.status}${event.error ? `: ${event.error.error_code}` : ''}`);
        break;
    }
  }

  clear(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }

  private draw(text: string): void {
    if (!this.live) return;
    this.out.write(`\r\x1b[K${text.slice(0, (this.out.columns || 100) - 1)}`);
    this.drawn = true;
  }

  private line(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
  }
}

function bar(done: number, total: number, width = 20): string {
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function eta(ms: number | null): string {
  return ms === null ? '' : `, ETA ${Math.ceil(ms / 1000)} s`;
}
