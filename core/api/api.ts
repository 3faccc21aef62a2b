/**
 * The workstation API: the one handler table of core/api/contract.ts, bound to a result_store, a workspace and a
 * settings file. Electron's main process (IPC) and `trendflow serve` (HTTP) both call `invoke`, which validates
 * the method and its parameters before any handler runs and turns every failure into `{ code, message }`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { isTrendflowError, TrendflowError } from '../contracts/errors.js';
import { DATAPROCESSOR_VERSION } from '../contracts/version.js';
import type { ComponentName } from '../contracts/components.js';
import { loadRegistry, resolveModelsDir } from '../runtime/registry/index.js';
import { readMetadataInput } from '../pipeline/inputs.js';
import { storeDir } from '../store/index.js';
import { checkInputFile } from '../video/process.js';
import { checkInputPath, defaultVideoDirs, listProfiles, listVideoFiles, resolveProfileReference } from './analysis.js';
import { RunCatalog } from './catalog.js';
import type { ApiHandlers, ApiMethod, ApiResponse, ApiResult, RunOverview, SettingsState } from './contract.js';
import { ApiEventHub } from './events.js';
import { createExport } from './export.js';
import { AnalysisJobs, analysisWorkerEntry, type AnalysisWorkerSpawner } from './jobs.js';
import { framesInfo, readFramePreviews, readFramesMeta } from './frames.js';
import { modelsStatus } from './models.js';
import { compareRuns } from './compare.js';
import { checkParams } from './params.js';
import { SETTINGS_FILE_NAME, SettingsFile } from './settings.js';
import { clipView, faceLandmarksView, facesView, featureTables, pacingView, predictionView, shotThumbnails, timelineView } from './views.js';
import { RunValidationCache } from './validation-cache.js';
import { redactRedisUrl } from '../queue/url.js';

export interface WorkstationApiOptions {
  /** The workspace: frames_dirs under `frames/`, settings in `settings.json`. */
  workspace: string;
  /** The result_store (default `<workspace>/result_store`). */
  store?: string;
  /** Default `<workspace>/settings.json`. */
  settingsFile?: string;
  /** A models dir fixed by the host (a CLI flag); otherwise the settings' models_dir, else the default. */
  modelsDir?: string;
  mode: 'electron' | 'browser';
  /** How often the store is polled for `runs.changed` while someone listens (ms). */
  pollMs?: number;
  /**
   * Folders analysis inputs may come from. Browser mode default: `$TRENDFLOW_VIDEO_DIRS`, else `<workspace>/videos`;
   * Electron default null: any local file (the user picks it in the native dialog).
   */
  videoDirs?: string[] | null;
  /** How analysis workers are started: a forked Node child by default; Electron passes a utilityProcess one. */
  spawnWorker?: AnalysisWorkerSpawner;
}

export interface WorkstationApi {
  handlers: ApiHandlers;
  events: ApiEventHub;
  /** Validates and runs one call; never throws. */
  invoke(method: unknown, params: unknown): Promise<ApiResponse<unknown>>;
  close(): void;
}

const DEFAULT_CLIP_ROWS = 1000;

/** The settings as the API shows them: the Redis password stays in the settings file (browser mode serves any tab holding the token). */
function withoutSecrets(state: SettingsState): SettingsState {
  const url = state.settings.redis_url;
  return url === null ? state : { ...state, settings: { ...state.settings, redis_url: redactRedisUrl(url) } };
}

export function createWorkstationApi(options: WorkstationApiOptions): WorkstationApi {
  const workspace = path.resolve(options.workspace);
  const store = path.resolve(options.store ?? storeDir(workspace));
  const catalog = new RunCatalog(store, workspace);
  const validations = new RunValidationCache();
  const settings = new SettingsFile(path.resolve(options.settingsFile ?? path.join(workspace, SETTINGS_FILE_NAME)));
  const events = new ApiEventHub(store, options.pollMs);
  const jobs = new AnalysisJobs(events, options.spawnWorker);
  const videoDirs = options.videoDirs !== undefined ? (options.videoDirs?.map((dir) => path.resolve(dir)) ?? null) : options.mode === 'browser' ? defaultVideoDirs(workspace) : null;

  const modelsDir = async (): Promise<string> => {
    if (options.modelsDir !== undefined) return path.resolve(options.modelsDir);
    const chosen = (await settings.read()).settings.models_dir;
    return resolveModelsDir(chosen === null ? {} : { modelsDir: chosen });
  };

  const handlers: ApiHandlers = {
    'app.info': async () => ({
      version: DATAPROCESSOR_VERSION,
      mode: options.mode,
      store,
      workspace,
      features: { analysis: true, export: true },
      video_dirs: videoDirs,
    }),

    'runs.list': async ({ query, status, limit }) => {
      const all = await catalog.list();
      const needle = query?.trim().toLowerCase() ?? '';
      const runs = all
        .map((entry) => entry.summary)
        .filter((run) => !status || (run.status !== null && status.includes(run.status)))
        .filter((run) => !needle || [run.platform_id, run.video_id, run.run_id, run.source_name ?? ''].some((field) => field.toLowerCase().includes(needle)))
        // run_ids sort by creation time (core/store identity), so newest first is a reverse sort
        .sort((x, y) => (x.run_id < y.run_id ? 1 : x.run_id > y.run_id ? -1 : 0))
        .slice(0, limit ?? 500);
      return { store, runs, total: all.length };
    },

    'runs.overview': async ({ run: ref }): Promise<RunOverview> => {
      const run = await catalog.open(ref);
      const validation = await validations.validate(run.dir);
      const meta = await readFramesMeta(catalog.framesDir(ref));
      return {
        summary: catalog.summary(ref, run.manifest),
        manifest: run.manifest,
        validation: {
          ok: validation.ok,
          problems: validation.problems.map((p) => ({
            code: p.code,
            message: p.message,
            file: p.path === undefined ? null : path.relative(run.dir, p.path) || '.',
            key: p.key ?? null,
          })),
        },
        frames: meta.available ? { available: true, ...framesInfo(meta.metadata) } : meta,
      };
    },

    'runs.compare': async ({ a, b }) => compareRuns(catalog, await catalog.open(a), await catalog.open(b)),

    'views.timeline': async ({ run: ref }) => timelineView(await catalog.open(ref), catalog.framesDir(ref)),

    'views.frames': async ({ run: ref, frames, max_width }) => {
      await catalog.locate(ref);
      return readFramePreviews(catalog.framesDir(ref), frames, max_width);
    },

    'views.shot_thumbnails': async ({ run: ref, shots }) => shotThumbnails(await catalog.open(ref), shots),

    'views.clip': async ({ run: ref, max_frames }) => clipView(await catalog.open(ref), catalog.framesDir(ref), max_frames ?? DEFAULT_CLIP_ROWS),

    'views.faces': async ({ run: ref }) => facesView(await catalog.open(ref), catalog.framesDir(ref)),

    'views.face_landmarks': async ({ run: ref, row }) => faceLandmarksView(await catalog.open(ref), row),

    'views.features': async ({ run: ref }) => ({ tables: await featureTables(await catalog.open(ref)) }),

    'views.pacing': async ({ run: ref }) => pacingView(await catalog.open(ref)),

    'views.prediction': async ({ run: ref }) => predictionView(await catalog.open(ref)),

    'analysis.profiles': async () => listProfiles(workspace),

    'analysis.videos': async () => (videoDirs === null ? { video_dirs: null, videos: [], truncated: false } : { video_dirs: videoDirs, ...(await listVideoFiles(videoDirs)) }),

    'analysis.start': async ({ video_path, metadata_path, profile, components }) => {
      if (!existsSync(analysisWorkerEntry())) throw new TrendflowError('feature_unavailable', `the analysis worker is not built (${analysisWorkerEntry()}); run \`npm run build\``);
      // everything that can be checked here is, so the caller hears of a bad input at once rather than as a failed job
      const video = await checkInputPath(video_path, videoDirs, 'video');
      await checkInputFile(video);
      const metadata = metadata_path === undefined ? null : await checkInputPath(metadata_path, videoDirs, 'metadata JSON');
      if (metadata !== null) await readMetadataInput(metadata);
      // the profile and its params are resolved as the worker will (run config): a bad one is refused here, and the
      // job lists the components that will run, dependencies included, from the start; the workstation settings
      // (device, runtime, batch sizes) are laid over it, and one that cannot apply is refused here (run-settings.ts);
      // so is a run whose required component's model is not in the models dir (the model pre-flight)
      const [{ DEFAULT_PROFILE, loadProfile }, { COMPONENTS }, { applyWorkstationSettings }, { checkModelFiles, requiredModelsFailure }] = await Promise.all([
        import('../pipeline/profile.js'),
        import('../pipeline/registry.js'),
        import('./run-settings.js'),
        import('../pipeline/preflight.js'),
      ]);
      const reference = await resolveProfileReference(profile ?? DEFAULT_PROFILE, workspace);
      const models = await modelsDir();
      const current = (await settings.read()).settings;
      const registry = await loadRegistry({ modelsDir: models });
      const { config } = applyWorkstationSettings(await loadProfile(reference), current, { only: components, components: COMPONENTS, registry });
      const missingModels = requiredModelsFailure(await checkModelFiles(config, models, registry, COMPONENTS));
      if (missingModels) throw missingModels;
      return jobs.start({ video, profile: reference, components: components ?? null, metadata, workspace, modelsDir: models, settings: current }, Object.keys(config.components) as ComponentName[]);
    },

    'analysis.cancel': async ({ job_id }) => {
      const result = jobs.cancel(job_id);
      if (!result) throw new TrendflowError('invalid_argument', `no analysis job ${job_id} in this session`);
      return result;
    },

    'analysis.list': async () => ({ jobs: jobs.list() }),
    'export.create': async (params) => createExport(params, catalog, workspace, options.mode),

    'settings.get': async () => withoutSecrets(await settings.read()),
    'settings.update': async ({ patch }) => {
      const stored = (await settings.read()).settings.redis_url;
      // the form sends back the URL it was shown: the redacted form of the stored one keeps the stored password
      const unchanged = stored !== null && typeof patch.redis_url === 'string' && patch.redis_url === redactRedisUrl(stored);
      return withoutSecrets(await settings.update(unchanged ? { ...patch, redis_url: stored } : patch));
    },

    'models.status': async ({ verify }) => modelsStatus(await modelsDir(), verify ?? false),

    'queue.status': async () => {
      const { redis_url } = (await settings.read()).settings;
      if (redis_url === null) return { configured: false };
      // BullMQ is loaded only by a workstation that watches a queue
      const { readQueueStatus } = await import('../queue/status.js');
      return { configured: true, status: await readQueueStatus(redis_url) };
    },
  };

  return {
    handlers,
    events,
    async invoke(method, params): Promise<ApiResponse<unknown>> {
      try {
        const checked = checkParams<ApiMethod>(method, params);
        const handler = handlers[checked.method] as (p: unknown) => Promise<ApiResult<ApiMethod>>;
        return { ok: true, value: await handler(checked.params) };
      } catch (error) {
        if (isTrendflowError(error)) return { ok: false, error: { code: error.code, message: error.message } };
        // a bug, not a user error: the caller gets the message, the host's stderr the stack
        process.stderr.write(`trendflow: api ${String(method)}: ${error instanceof Error ? error.stack : String(error)}\n`);
        return { ok: false, error: { code: 'internal_error', message: error instanceof Error ? error.message : String(error) } };
      }
    },
    close: () => {
      jobs.close();
      events.close();
    },
  };
}
