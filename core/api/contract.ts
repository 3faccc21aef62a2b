/**
 * The workstation API contract (DESIGN.md §2, §11): one table of methods, their parameters and results, used by
 * Electron IPC (main/ + preload/) and by browser mode (`trendflow serve`). Types only, so that renderer/ and
 * preload/ can import it with `import type` (test/architecture/layering.test.ts).
 *
 * Large numeric data travels as typed arrays (structured clone over IPC, the binary envelope of core/api/wire.ts
 * over HTTP), never as JSON numbers; each view asks only for what it draws. Missing values are NaN in float arrays
 * or null in JSON fields, never 0.
 */
import type { ComponentKind, ComponentName } from '../contracts/components.js';
import type { ErrorCode } from '../contracts/errors.js';
import type { Manifest } from '../contracts/manifest.js';
import type { ModelUsed } from '../contracts/meta.js';
import type { EmptyReason, RunStatus } from '../contracts/status.js';
import type { QueueStatus } from '../queue/status.js';

export type { QueueFailure, QueueStatus } from '../queue/status.js';

/** A run of the result_store, by identity; the only way a caller names data. */
export interface RunRef {
  platform_id: string;
  video_id: string;
  run_id: string;
}

export interface ApiError {
  code: ErrorCode;
  message: string;
}

export type ApiResponse<T> = { ok: true; value: T } | { ok: false; error: ApiError };

/** Why a part of a view has no data; the renderer shows `message` as the honest empty state. */
export type UnavailableReason =
  /** the component is not in the run's manifest */
  | 'component_not_in_run'
  /** the component ran and is `empty` (see `empty_reason`) */
  | 'component_empty'
  /** the component failed (see the manifest's error) */
  | 'component_error'
  /** the run's frames_dir (intermediate, short TTL) is gone or unfinished */
  | 'frames_dir_missing';

export interface Unavailable {
  available: false;
  why: UnavailableReason;
  message: string;
}

export type Maybe<T> = ({ available: true } & T) | Unavailable;

// ---- runs

export interface RunSummary extends RunRef {
  /** null when the manifest cannot be read; `problem` says why. */
  status: RunStatus | null;
  created_at: string | null;
  updated_at: string | null;
  /** File name of the analysed video (`manifest.run.source_path`), when the run came from a local file. */
  source_name: string | null;
  source_bytes: number | null;
  components: { ok: number; empty: number; error: number };
  component_names: ComponentName[];
  /** Sum of the components' duration_ms. */
  compute_ms: number;
  problem: ApiError | null;
}

export interface ListRunsParams {
  /** Case-insensitive substring of platform, video, run id or source file name. */
  query?: string;
  status?: RunStatus[];
  /** Newest first; at most this many (default 500). */
  limit?: number;
}

export interface ListRunsResult {
  store: string;
  /** Runs matching the filter, newest run_id first. */
  runs: RunSummary[];
  /** Runs in the store before filtering. */
  total: number;
}

export interface ValidationProblem {
  code: string;
  message: string;
  file: string | null;
  key: string | null;
}

/** The run's frames_dir as the segmenter left it (null fields where it is gone). */
export interface FramesInfo {
  count: number;
  width: number;
  height: number;
  analysis_fps: number;
  duration_sec: number;
  source: { name: string; width: number; height: number; fps: number | null; codec: string; has_audio: boolean; rotation_deg: number };
  warnings: string[];
}

export interface RunOverview {
  summary: RunSummary;
  manifest: Manifest;
  /** `trendflow validate` of the run folder: manifest, every artifact against its schema and sha256. */
  validation: { ok: boolean; problems: ValidationProblem[] };
  frames: Maybe<FramesInfo>;
}

export interface ComponentSide {
  status: 'ok' | 'empty' | 'error';
  empty_reason: EmptyReason | null;
  error: ApiError | null;
  duration_ms: number;
  device_used: string | null;
  producer_version: string;
  schema_version: string;
  model_signature: string | null;
  models: ModelUsed[];
  cache_hit: boolean;
}

export interface RunComparison {
  a: RunSummary;
  b: RunSummary;
  /** Identity and config fields of both runs. */
  identity: Array<{ field: string; a: string | null; b: string | null; same: boolean }>;
  /** Every component of either run, in the order of run a then b. */
  /** `same_models`: equal model_signature; null when a run lacks the component or neither side calls a model. */
  components: Array<{ name: ComponentName; kind: ComponentKind; a: ComponentSide | null; b: ComponentSide | null; same_models: boolean | null }>;
  /** Scalar features (feature_names/feature_values artifacts) of either run; null where a run has no value. */
  features: Array<{ component: ComponentName; name: string; a: number | null; b: number | null; delta: number | null }>;
}

// ---- views (binary slices)

export interface SignalsTrack {
  /** Seconds of each analysis frame. */
  times: Float64Array;
  luma: Float32Array;
  motion: Float32Array;
  hist_diff: Float32Array;
  /** The segmenter's cut candidates (cheap signals), not cut_detection's final shots. */
  cut_times: Float64Array;
  cut_scores: Float32Array;
}

/** cut_detection's shots. */
export interface ShotsTrack {
  start_sec: Float64Array;
  end_sec: Float64Array;
  /** How each shot begins: `video_start` for the first, else the transition (hard_cut, fade, dissolve…). */
  transition: string[];
  /** Confidence of the incoming transition in [0, 1]; NaN for the first shot. */
  confidence: Float32Array;
  /** 1 where the shot has a thumbnail (views.shot_thumbnails). */
  thumbnail_present: Uint8Array;
}

export interface CurveTrack {
  id: string;
  label: string;
  unit: string;
  component: ComponentName;
  times: Float64Array;
  /** NaN where the component has no value. */
  values: Float32Array;
}

export interface TimelineData {
  run: RunRef;
  /** The run's components and their status, so the view can say which tracks are missing and why. */
  components: Array<{ name: ComponentName; status: 'ok' | 'empty' | 'error' }>;
  duration_sec: number | null;
  /** The stored (union) frames that thumbnails and frame previews can show. */
  frames: Maybe<{ count: number; width: number; height: number; analysis_fps: number; times: Float64Array }>;
  signals: Maybe<SignalsTrack>;
  shots: Maybe<ShotsTrack>;
  /** Number of faces per core_face_landmarks frame. */
  faces: Maybe<{ times: Float64Array; counts: Uint8Array; slots: number }>;
  curves: CurveTrack[];
}

/**
 * video_pacing's series on its fixed grid (schemas/video_pacing.json), for the timeline. A series is NaN wherever
 * its `*_present` mask is 0 (the mask is applied here, so a gap is always a NaN); loudness is -Infinity in a bin of
 * digital silence (present, but no level).
 */
export interface PacingData {
  /** Centres of the grid bins, seconds; every bin is `grid_step_sec` wide. */
  times: Float64Array;
  grid_step_sec: number;
  /** Width of the sliding window the cut rate counts boundaries in. */
  cut_rate_window_sec: number;
  cut_rate_per_min: Float32Array;
  /** The Segmenter's motion proxy (mean |Δluma|, 0–1) averaged over the bin. */
  motion_energy: Float32Array;
  motion_present: Uint8Array;
  /** core_optical_flow's motion energy ((frame diagonals per second)²); all NaN without that component. */
  flow_motion_energy: Float32Array;
  flow_present: Uint8Array;
  /** Momentary loudness of the bin (LUFS, energy mean); all NaN without audio. */
  loudness_lufs: Float32Array;
  loudness_present: Uint8Array;
}

/**
 * The prediction component's forecast (schemas/prediction.json): per target head (views and likes × 7/14/21 days,
 * the gain after snapshot 1) a set of quantiles, in log1p and back in counts.
 */
export interface PredictionData {
  /** ok: the primary model predicted; degraded: a fallback model did, `fallback_reason` says why. */
  status: 'ok' | 'degraded';
  fallback_reason: string | null;
  primary_error_code: string | null;
  model_type: string;
  model_version: string;
  /** The model's name and version as recorded in models_used (null when none is recorded). */
  model_name: string | null;
  feature_schema_version: string;
  /** The video's age at snapshot 1 (lt_24h, 1_30d, gt_30d); null when unknown. */
  age_bucket: string | null;
  /** Head names (`y_<metric>_<days>d`), and each parsed: metric and horizon, null when the name has another form. */
  targets: Array<{ name: string; metric: string | null; horizon_days: number | null }>;
  /** Quantile levels, ascending (0.1, 0.5, 0.9 always). */
  quantiles: Float32Array;
  /** T×Q, row-major: log1p of the predicted gain, and the gain itself (expm1). */
  pred_log1p: Float32Array;
  pred_value: Float64Array;
  /** Per head, in [0, 1]: clip(1 − (p90 − p10) / ln 100, 0, 1) on log1p. */
  confidence_score: Float32Array;
  /** Feature columns the model was given, and how many held a value. */
  features: { total: number; present: number };
  /** Optional feature sources the run lacked (their columns are NaN). */
  optional_sources_missing: string[];
}

export interface FramesParams {
  run: RunRef;
  /** Union indices (frames.npy rows), at most 64 per call. */
  frames: number[];
  /** Frames wider than this are scaled down (aspect kept); never scaled up. */
  max_width: number;
}

export interface ShotThumbnails {
  shots: number[];
  width: number;
  height: number;
  /** B×H×W×3 RGB bytes (cut_detection's thumbnails), in the order asked. */
  rgb: Uint8Array;
}

export interface FramesSlice {
  frames: number[];
  times: number[];
  width: number;
  height: number;
  /** B×H×W×3 RGB bytes, the frames in the order asked. */
  rgb: Uint8Array;
}

export interface ClipData {
  /** Frames embedded by core_clip, and how many rows the matrices below hold (evenly subsampled above max_frames). */
  frame_count: number;
  rows: number;
  /** Union indices and times of the shown rows; times null when the frames_dir is gone. */
  frame_indices: Int32Array;
  times: Float64Array | null;
  embedding_dim: number;
  model_name: string | null;
  /** rows×rows cosine similarity of the frame embeddings. */
  similarity: Float32Array;
  prompts: string[];
  /** prompts×rows cosine similarity of each prompt's text embedding with each frame. */
  prompt_scores: Float32Array;
  /** Row positions where a new shot starts, for the heatmap's boundary lines. */
  boundaries: number[];
  /** Where the boundaries come from: cut_detection's shots, else the segmenter's cut candidates; null without times. */
  boundary_source: 'cut_detection' | 'segmenter_cut_candidates' | null;
}

export interface FacesData {
  status: 'ok' | 'empty';
  empty_reason: EmptyReason | null;
  frame_indices: Int32Array;
  times: Float64Array | null;
  slots: number;
  /** N×slots: 1 where a face is in the slot. */
  present: Uint8Array;
  /** N×slots detection scores, NaN where no face or no detector score. */
  scores: Float32Array | null;
}

export interface FaceLandmarks {
  /** Row of the artifact (0..N-1) and its union index. */
  row: number;
  frame_index: number;
  slots: number;
  present: Uint8Array;
  /** slots×468×3 FaceMesh points (x, y normalised; NaN where no face). */
  landmarks: Float32Array;
  /** slots×4 boxes (x_min, y_min, x_max, y_max) normalised, or null when the artifact has none. */
  boxes: Float32Array | null;
}

export interface FeatureTable {
  component: ComponentName;
  status: 'ok' | 'empty';
  empty_reason: EmptyReason | null;
  names: string[];
  /** NaN where a value is missing. */
  values: Float32Array;
}

// ---- settings and models

export interface WorkstationSettings {
  /** null: the default models dir (TRENDFLOW_MODELS_DIR, else the per-user folder). */
  models_dir: string | null;
  runtime: 'inprocess' | 'triton';
  device: 'cpu' | 'cuda';
  /** Base URL of the Triton server (runtime triton). */
  triton_url: string | null;
  /** Fixed batch sizes per component; a component not listed is planned from free memory. */
  batch_sizes: Partial<Record<ComponentName, number>>;
  /** The Redis of a shared analysis queue (`trendflow queue`, core/queue) to watch in the Queue view; null: none. */
  redis_url: string | null;
}

/** `queue.status`: nothing to show without a Redis URL in the settings; else the queue's counts, failures and throughput. */
export type QueueView = { configured: false } | { configured: true; status: QueueStatus };

export interface SettingsState {
  settings: WorkstationSettings;
  defaults: WorkstationSettings;
  file: string;
  /** False until the settings were saved once (the defaults apply). */
  saved: boolean;
}

export interface ModelStatus {
  id: string;
  model_name: string;
  model_version: string;
  task: string;
  engine: string;
  license: string;
  bytes: number | null;
  /** Files present in the models dir. */
  state: 'installed' | 'partial' | 'missing';
  /** sha256 check of every file (only when asked with `verify`): ok, or the first problem. */
  verified: 'ok' | 'missing' | 'mismatch' | 'unpinned' | null;
}

export interface ModelsStatus {
  models_dir: string;
  models: ModelStatus[];
}

export interface AppInfo {
  version: string;
  mode: 'electron' | 'browser';
  store: string;
  workspace: string;
  /** What this build can do; a false feature answers `feature_unavailable`. */
  features: { analysis: boolean; export: boolean };
  /** Browser mode: the folders videos and metadata files may be taken from (absolute). Electron: null (any local file the user picks). */
  video_dirs: string[] | null;
}

export interface StartAnalysisParams {
  video_path: string;
  metadata_path?: string;
  /** A built-in profile name (profiles/), or a profile of the workspace (`<workspace>/profiles/<name>.json`). Default tier0. */
  profile?: string;
  /** Just these components and what they require (`trendflow analyze --components`). */
  components?: ComponentName[];
}

export interface ProfileInfo {
  name: string;
  description: string;
  /** `builtin`: profiles/ of the program; `workspace`: `<workspace>/profiles/`. */
  source: 'builtin' | 'workspace';
  /** The profile's components after `extends`; `implemented` false for those this build does not have yet (not run). */
  components: Array<{ name: ComponentName; required: boolean; implemented: boolean }>;
}

/** A profile file that cannot be loaded is listed with its problem, not hidden. */
export interface ProfilesResult {
  profiles: ProfileInfo[];
  problems: Array<{ file: string; error: ApiError }>;
  default_profile: string;
}

/** A video file the analyst may pick in browser mode (under one of `video_dirs`). */
export interface VideoFileEntry {
  path: string;
  name: string;
  bytes: number;
  modified_at: string;
}

export type AnalysisJobState =
  /** waiting for the job before it to end (one analysis at a time: each already uses every core) */
  | 'queued'
  /** the worker process is starting or checking the inputs (no run yet) */
  | 'starting'
  | 'running'
  /** cancel was asked; the orchestrator is stopping the components */
  | 'cancelling'
  /** the run ended ok or error (see run_status) */
  | 'finished'
  | 'cancelled'
  /** the run could not start (bad video, profile, metadata…) or the worker died; see error */
  | 'failed';

export interface AnalysisJobComponent {
  name: ComponentName;
  /** `cancelled`: not finished when the job was cancelled or failed (not recorded in the manifest; resume redoes it). */
  state: 'pending' | 'running' | 'ok' | 'empty' | 'error' | 'cancelled';
  /** Units done of total (frames, batches, windows…: `unit`); 0/0 until the component reports. */
  done: number;
  total: number;
  unit: string;
  eta_sec: number | null;
  cache_hit: boolean;
  /** How long it took, once finished (from the moment it got its slot); null before. */
  duration_ms: number | null;
}

/** One analysis started from the workstation, as the host process sees it. */
export interface AnalysisJob {
  job_id: string;
  video_path: string;
  profile: string;
  state: AnalysisJobState;
  started_at: string;
  finished_at: string | null;
  /** The run, once the orchestrator created it. */
  run: RunRef | null;
  run_status: RunStatus | null;
  error: ApiError | null;
  /** Decoding and sampling the frames once for every component (skipped when no component needs to compute). */
  /** `skipped`: the job ended without segmenting (every component a cache hit, or it stopped before). */
  segmenter: { state: 'pending' | 'running' | 'done' | 'skipped'; done: number; total: number; eta_sec: number | null };
  components: AnalysisJobComponent[];
  /** The whole job: the segmenter and every component weigh one part each; ETA from the rate so far. */
  overall: { fraction: number; eta_sec: number | null };
}

// ---- export

export interface ExportParams {
  /** The runs to export; or `all: true` for every run of the store (runs not ok are skipped and listed). */
  runs?: RunRef[];
  all?: boolean;
  /**
   * Electron only: the folder picked in the native dialog; the bundle is a new folder inside it. Browser mode
   * refuses it (`access_denied`): its bundles go under `<workspace>/exports`, the default in both modes.
   */
  parent_dir?: string;
}

export interface ExportSummary {
  /** The bundle's folder (absolute): dataset.npz, dataset.parquet, README.md, export_report.json, SHA256SUMS, runs/. */
  out: string;
  /** Rows of dataset.npz (runs exported) and feature columns of X. */
  rows: number;
  features: number;
  feature_schema_version: string;
  exported: Array<RunRef & { bundle_path: string }>;
  /** Runs left out and why (not ok, unreadable artifacts, a copy of another run); `run` null for a folder outside the store. */
  skipped: Array<{ run: RunRef | null; reason: string }>;
}

// ---- the method table

export interface ApiMethods {
  'app.info': { params: Record<string, never>; result: AppInfo };
  'runs.list': { params: ListRunsParams; result: ListRunsResult };
  'runs.overview': { params: { run: RunRef }; result: RunOverview };
  'runs.compare': { params: { a: RunRef; b: RunRef }; result: RunComparison };
  'views.timeline': { params: { run: RunRef }; result: TimelineData };
  'views.frames': { params: FramesParams; result: FramesSlice };
  'views.shot_thumbnails': { params: { run: RunRef; shots: number[] }; result: ShotThumbnails };
  'views.clip': { params: { run: RunRef; max_frames?: number }; result: Maybe<ClipData> };
  'views.faces': { params: { run: RunRef }; result: Maybe<FacesData> };
  'views.face_landmarks': { params: { run: RunRef; row: number }; result: FaceLandmarks };
  'views.features': { params: { run: RunRef }; result: { tables: FeatureTable[] } };
  'views.pacing': { params: { run: RunRef }; result: Maybe<PacingData> };
  'views.prediction': { params: { run: RunRef }; result: Maybe<PredictionData> };
  'analysis.profiles': { params: Record<string, never>; result: ProfilesResult };
  'analysis.videos': { params: Record<string, never>; result: { video_dirs: string[] | null; videos: VideoFileEntry[]; truncated: boolean } };
  'analysis.start': { params: StartAnalysisParams; result: AnalysisJob };
  /** `cancelled` false when the job had already ended. */
  'analysis.cancel': { params: { job_id: string }; result: { cancelled: boolean; job: AnalysisJob } };
  /** Jobs of this host process, newest first (running ones and the last finished ones). */
  'analysis.list': { params: Record<string, never>; result: { jobs: AnalysisJob[] } };
  'export.create': { params: ExportParams; result: ExportSummary };
  'settings.get': { params: Record<string, never>; result: SettingsState };
  'settings.update': { params: { patch: Partial<WorkstationSettings> }; result: SettingsState };
  'models.status': { params: { verify?: boolean }; result: ModelsStatus };
  /** The shared analysis queue of `settings.redis_url`; `queue_unavailable` when Redis does not answer. */
  'queue.status': { params: Record<string, never>; result: QueueView };
}

export type ApiMethod = keyof ApiMethods;
export type ApiParams<M extends ApiMethod> = ApiMethods[M]['params'];
export type ApiResult<M extends ApiMethod> = ApiMethods[M]['result'];

/** The handler table: one async function per method, shared by IPC and HTTP. */
export type ApiHandlers = { [M in ApiMethod]: (params: ApiParams<M>) => Promise<ApiResult<M>> };

/** Pushed to every connected window (IPC) or event stream (SSE). */
export type ApiEvent =
  /** The set of runs in the store changed (a run was added, removed or finished). */
  | { type: 'runs.changed'; count: number }
  /** A job's state changed or it made progress (component done/total, ETA); at most a few per second per job. */
  | { type: 'analysis.progress'; job: AnalysisJob }
  /** The desktop menu asks the renderer to show a view. */
  | { type: 'ui.navigate'; route: '#/new' | '#/runs' | '#/settings' };

/** What preload/ exposes as `window.trendflow` (and nothing else). */
export interface TrendflowBridge {
  readonly mode: 'electron';
  call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResponse<ApiResult<M>>>;
  /** Subscribes to API events; returns the unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void;
  /** The native file dialog; null when the user cancels. */
  pickFile(kind: 'video' | 'metadata' | 'export_folder'): Promise<string | null>;
}
