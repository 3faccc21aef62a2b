/**
 * The data of each view, read from a run's artifacts (through their schemas' keys) and its frames_dir, shaped as
 * the renderer draws it: typed arrays, only what the view shows.
 */
import { isTrendflowError, TrendflowError } from '../contracts/errors.js';
import type { EmptyReason } from '../contracts/status.js';
import { getArray, getMeta, getStringList, PyFloat, type NpzContents, type PyValue } from '../npz/index.js';
import { loadSchema } from '../schema/index.js';
import { readComponentArtifact, type OpenRun } from './catalog.js';
import type { ClipData, CurveTrack, FaceLandmarks, FacesData, FeatureTable, Maybe, PacingData, PredictionData, ShotThumbnails, TimelineData } from './contract.js';
import { readFramesMeta, readSignals, unionTimes } from './frames.js';

const FACE_POINTS = 468 * 3;

export async function timelineView(run: OpenRun, framesDir: string): Promise<TimelineData> {
  const meta = await readFramesMeta(framesDir);
  const frames: TimelineData['frames'] = meta.available
    ? {
        available: true,
        count: meta.metadata.frame_count,
        width: meta.metadata.analysis_width,
        height: meta.metadata.analysis_height,
        analysis_fps: meta.metadata.analysis_fps,
        times: Float64Array.from(meta.metadata.union_timestamps_sec),
      }
    : meta;
  const signals = meta.available ? await readSignals(framesDir) : meta;

  let faces: TimelineData['faces'];
  // presence only: not the 468-point meshes
  const faceArtifact = await readComponentArtifact(run, 'core_face_landmarks', { keys: ['frame_indices', 'face_present'] });
  if (!faceArtifact.available) faces = faceArtifact;
  else if (!meta.available) faces = meta;
  else {
    const { npz, file } = faceArtifact;
    const indices = getArray(npz, 'frame_indices', 'int32', file).data;
    const present = getArray(npz, 'face_present', 'bool', file);
    const slots = present.shape[1]!;
    const counts = new Uint8Array(indices.length);
    for (let row = 0; row < indices.length; row++) {
      let count = 0;
      for (let slot = 0; slot < slots; slot++) count += present.data[row * slots + slot]!;
      counts[row] = count;
    }
    faces = { available: true, times: unionTimes(meta.metadata, indices, file), counts, slots };
  }

  // not the thumbnails (most of the file): views.shot_thumbnails serves them
  const cut = await readComponentArtifact(run, 'cut_detection', { keys: ['shot_start_sec', 'shot_end_sec', 'transition_type', 'transition_confidence', 'thumbnail_present'] });
  let shots: TimelineData['shots'];
  if (!cut.available) shots = cut;
  else {
    const { npz, file } = cut;
    shots = {
      available: true,
      start_sec: getArray(npz, 'shot_start_sec', 'float64', file).data,
      end_sec: getArray(npz, 'shot_end_sec', 'float64', file).data,
      transition: getStringList(npz, 'transition_type', file),
      confidence: getArray(npz, 'transition_confidence', 'float32', file).data,
      thumbnail_present: getArray(npz, 'thumbnail_present', 'bool', file).data,
    };
  }

  const curves: CurveTrack[] = [];
  const loudness = await readComponentArtifact(run, 'loudness_extractor');
  if (loudness.available) {
    curves.push({
      id: 'loudness_momentary',
      label: 'loudness (momentary, 400 ms)',
      unit: 'LUFS',
      component: 'loudness_extractor',
      times: Float64Array.from(getArray(loudness.npz, 'momentary_times_sec', 'float32', loudness.file).data),
      values: getArray(loudness.npz, 'momentary_lufs', 'float32', loudness.file).data,
    });
  }
  const tempo = await readComponentArtifact(run, 'tempo_extractor');
  if (tempo.available) {
    curves.push({
      id: 'tempo_bpm',
      label: 'tempo',
      unit: 'BPM',
      component: 'tempo_extractor',
      times: Float64Array.from(getArray(tempo.npz, 'windowed_times_sec', 'float32', tempo.file).data),
      values: getArray(tempo.npz, 'windowed_bpm', 'float32', tempo.file).data,
    });
  }

  return {
    run: run.ref,
    components: run.manifest.components.map((c) => ({ name: c.name, status: c.status })),
    duration_sec: meta.available ? meta.metadata.source.duration_sec : null,
    frames,
    signals,
    shots,
    faces,
    curves,
  };
}

/** cut_detection's per-shot thumbnails (uint8 S×H×W×3 in the artifact), the shots asked for. */
export async function shotThumbnails(run: OpenRun, shots: number[]): Promise<ShotThumbnails> {
  const artifact = await readComponentArtifact(run, 'cut_detection');
  if (!artifact.available) throw new TrendflowError('invalid_argument', artifact.message);
  const thumbnails = getArray(artifact.npz, 'thumbnails', 'uint8', artifact.file);
  const [count, height, width] = thumbnails.shape as [number, number, number, 3];
  const size = height * width * 3;
  const rgb = new Uint8Array(shots.length * size);
  shots.forEach((shot, k) => {
    if (shot >= count) throw new TrendflowError('invalid_argument', `shot ${shot} is out of range: cut_detection has ${count} shots`);
    rgb.set(thumbnails.data.subarray(shot * size, (shot + 1) * size), k * size);
  });
  return { shots: [...shots], width, height, rgb };
}

/** Evenly spread positions 0…count-1 (all of them when count ≤ limit). */
export function spreadRows(count: number, limit: number): number[] {
  if (count <= limit) return Array.from({ length: count }, (_, i) => i);
  return Array.from({ length: limit }, (_, i) => Math.round((i * (count - 1)) / (limit - 1)));
}

/** Rows of a (rows, dim) matrix scaled to unit length; a zero row stays zero (its cosine is then 0, not NaN). */
function unitRows(matrix: Float32Array, rows: readonly number[], dim: number): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((row, k) => {
    let sum = 0;
    for (let j = 0; j < dim; j++) sum += matrix[row * dim + j]! ** 2;
    const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    for (let j = 0; j < dim; j++) out[k * dim + j] = matrix[row * dim + j]! * scale;
  });
  return out;
}

/** a (n×dim) · b (m×dim)ᵀ → n×m, both unit rows: cosine similarities. */
function cosine(a: Float32Array, n: number, b: Float32Array, m: number, dim: number, symmetric: boolean): Float32Array {
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = symmetric ? i : 0; j < m; j++) {
      let dot = 0;
      for (let k = 0; k < dim; k++) dot += a[i * dim + k]! * b[j * dim + k]!;
      out[i * m + j] = dot;
      if (symmetric) out[j * m + i] = dot;
    }
  }
  return out;
}

export async function clipView(run: OpenRun, framesDir: string, maxFrames: number): Promise<Maybe<ClipData>> {
  const artifact = await readComponentArtifact(run, 'core_clip');
  if (!artifact.available) return artifact;
  const { npz, file, component } = artifact;
  const indices = getArray(npz, 'frame_indices', 'int32', file).data;
  const embeddings = getArray(npz, 'frame_embeddings', 'float32', file);
  const texts = getArray(npz, 'shot_quality_text_embeddings', 'float32', file);
  const prompts = getStringList(npz, 'shot_quality_prompts', file);
  const dim = embeddings.shape[1]!;
  if (embeddings.shape[0] !== indices.length || texts.shape[1] !== dim || texts.shape[0] !== prompts.length) {
    throw new TrendflowError('artifact_invalid', 'core_clip arrays disagree in shape (see trendflow validate)', { path: file });
  }
  const rows = spreadRows(indices.length, maxFrames);
  const frameUnits = unitRows(embeddings.data, rows, dim);
  const promptUnits = unitRows(texts.data, prompts.map((_, i) => i), dim);
  const shownIndices = Int32Array.from(rows, (row) => indices[row]!);

  const meta = await readFramesMeta(framesDir);
  const times = meta.available ? unionTimes(meta.metadata, shownIndices, file) : null;
  const boundaries: number[] = [];
  let boundarySource: ClipData['boundary_source'] = null;
  if (meta.available && times) {
    // a row starts a new shot when a shot start (cut_detection, else a segmenter cut candidate) lies between it and the row before
    const cut = await readComponentArtifact(run, 'cut_detection');
    boundarySource = cut.available ? 'cut_detection' : 'segmenter_cut_candidates';
    const cuts = cut.available ? Array.from(getArray(cut.npz, 'shot_start_sec', 'float64', cut.file).data).slice(1) : meta.metadata.cheap_signals.cut_candidates.map((c) => c.time_sec);
    for (let r = 1; r < times.length; r++) if (cuts.some((t) => t > times[r - 1]! && t <= times[r]!)) boundaries.push(r);
  }
  return {
    available: true,
    frame_count: indices.length,
    rows: rows.length,
    frame_indices: shownIndices,
    times,
    embedding_dim: dim,
    model_name: component.models_used[0]?.model_name ?? null,
    similarity: cosine(frameUnits, rows.length, frameUnits, rows.length, dim, true),
    prompts,
    prompt_scores: cosine(promptUnits, prompts.length, frameUnits, rows.length, dim, false),
    boundaries,
    boundary_source: boundarySource,
  };
}

export async function facesView(run: OpenRun, framesDir: string): Promise<Maybe<FacesData>> {
  const artifact = await readComponentArtifact(run, 'core_face_landmarks', { allowEmpty: true });
  if (!artifact.available) return artifact;
  const { npz, file, component } = artifact;
  const indices = getArray(npz, 'frame_indices', 'int32', file).data;
  const present = getArray(npz, 'face_present', 'bool', file);
  const scores = npz.has('face_scores') ? getArray(npz, 'face_scores', 'float32', file).data : null;
  const meta = await readFramesMeta(framesDir);
  return {
    available: true,
    status: component.status === 'empty' ? 'empty' : 'ok',
    empty_reason: component.status === 'empty' ? (component.empty_reason as EmptyReason) : null,
    frame_indices: indices,
    times: meta.available ? unionTimes(meta.metadata, indices, file) : null,
    slots: present.shape[1]!,
    present: present.data,
    scores,
  };
}

export async function faceLandmarksView(run: OpenRun, row: number): Promise<FaceLandmarks> {
  const artifact = await readComponentArtifact(run, 'core_face_landmarks', { allowEmpty: true });
  if (!artifact.available) throw new TrendflowError('invalid_argument', artifact.message);
  const { npz, file } = artifact;
  const indices = getArray(npz, 'frame_indices', 'int32', file).data;
  if (row >= indices.length) throw new TrendflowError('invalid_argument', `row ${row} is out of range: core_face_landmarks has ${indices.length} frames`);
  const present = getArray(npz, 'face_present', 'bool', file);
  const slots = present.shape[1]!;
  const landmarks = getArray(npz, 'face_landmarks', 'float32', file).data;
  const boxes = npz.has('face_boxes') ? getArray(npz, 'face_boxes', 'float32', file).data : null;
  return {
    row,
    frame_index: indices[row]!,
    slots,
    present: present.data.slice(row * slots, (row + 1) * slots),
    landmarks: landmarks.slice(row * slots * FACE_POINTS, (row + 1) * slots * FACE_POINTS),
    boxes: boxes ? boxes.slice(row * slots * 4, (row + 1) * slots * 4) : null,
  };
}

/** Every component of the run whose schema has feature_names/feature_values (audio, text, aggregates…). */
export async function featureTables(run: OpenRun): Promise<FeatureTable[]> {
  const tables: FeatureTable[] = [];
  for (const component of run.manifest.components) {
    if (component.status === 'error') continue;
    let keys: string[];
    try {
      keys = Object.keys(loadSchema(component.name).keys);
    } catch (error) {
      // a component whose schema this build does not have yet has no features it can read
      if (isTrendflowError(error) && error.code === 'schema_not_found') continue;
      throw error;
    }
    if (!keys.includes('feature_names') || !keys.includes('feature_values')) continue;
    const artifact = await readComponentArtifact(run, component.name, { allowEmpty: true });
    if (!artifact.available) continue;
    const names = getStringList(artifact.npz, 'feature_names', artifact.file);
    const values = getArray(artifact.npz, 'feature_values', 'float32', artifact.file).data;
    if (values.length !== names.length) throw new TrendflowError('artifact_invalid', 'feature_names and feature_values differ in length', { path: artifact.file });
    tables.push({
      component: component.name,
      status: component.status,
      empty_reason: component.status === 'empty' ? component.empty_reason : null,
      names,
      values,
    });
  }
  return tables;
}

/** A numeric meta value (a Python int or float) as a number; null for anything else. */
function numberOf(value: PyValue | undefined): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return value instanceof PyFloat ? value.value : null;
}

/** A float series with NaN wherever its mask is False: the mask decides what is missing, whatever the array holds there. */
function masked(npz: NpzContents, key: string, mask: string, file: string): { values: Float32Array; present: Uint8Array } {
  const values = getArray(npz, key, 'float32', file).data.slice();
  const present = getArray(npz, mask, 'bool', file).data;
  if (present.length !== values.length) throw new TrendflowError('artifact_invalid', `${key} and ${mask} differ in length`, { path: file });
  for (let i = 0; i < values.length; i++) if (!present[i]) values[i] = Number.NaN;
  return { values, present };
}

/** video_pacing's curves on its grid (cut rate, motion, optical-flow and loudness energy) with their masks. */
export async function pacingView(run: OpenRun): Promise<Maybe<PacingData>> {
  const artifact = await readComponentArtifact(run, 'video_pacing');
  if (!artifact.available) return artifact;
  const { npz, file } = artifact;
  const times = getArray(npz, 'grid_time_sec', 'float64', file).data;
  const rate = getArray(npz, 'cut_rate_per_min', 'float32', file).data;
  const motion = masked(npz, 'motion_energy', 'motion_present', file);
  const flow = masked(npz, 'flow_motion_energy', 'flow_present', file);
  const loudness = masked(npz, 'loudness_lufs', 'loudness_present', file);
  if ([rate, motion.values, flow.values, loudness.values].some((series) => series.length !== times.length)) {
    throw new TrendflowError('artifact_invalid', 'video_pacing series differ in length from grid_time_sec (see trendflow validate)', { path: file });
  }
  const parameters = getMeta(npz, file).parameters as Record<string, PyValue> | undefined;
  const step = numberOf(parameters?.grid_step_sec);
  const window = numberOf(parameters?.cut_rate_window_sec);
  if (step === null || window === null) throw new TrendflowError('artifact_invalid', 'video_pacing meta.parameters lacks grid_step_sec or cut_rate_window_sec', { path: file });
  return {
    available: true,
    times,
    grid_step_sec: step,
    cut_rate_window_sec: window,
    cut_rate_per_min: rate,
    motion_energy: motion.values,
    motion_present: motion.present,
    flow_motion_energy: flow.values,
    flow_present: flow.present,
    loudness_lufs: loudness.values,
    loudness_present: loudness.present,
  };
}

/** A 0-d text value (`str`, or an object array holding a str or None); artifact_invalid for anything else. */
function scalarText(npz: NpzContents, key: string, file: string): string | null {
  const array = npz.get(key);
  const value = array?.shape.length === 0 && (array.dtype === 'str' || array.dtype === 'object') ? array.data[0] : undefined;
  if (value !== null && typeof value !== 'string') throw new TrendflowError('artifact_invalid', `'${key}' is not a 0-d str or None`, { path: file });
  return value;
}

const TARGET_NAME = /^y_([a-z]+)_(\d+)d$/;

/** The prediction component's forecast: quantiles per head in log1p and counts, its status and model. */
export async function predictionView(run: OpenRun): Promise<Maybe<PredictionData>> {
  const artifact = await readComponentArtifact(run, 'prediction');
  if (!artifact.available) return artifact;
  const { npz, file, component } = artifact;
  const targets = getStringList(npz, 'target_names', file);
  const quantiles = getArray(npz, 'quantiles', 'float32', file).data;
  const log1p = getArray(npz, 'pred_log1p', 'float32', file);
  const value = getArray(npz, 'pred_value', 'float64', file);
  const confidence = getArray(npz, 'confidence_score', 'float32', file).data;
  const expected = [targets.length, quantiles.length];
  if ([log1p.shape, value.shape].some((shape) => shape.join() !== expected.join()) || confidence.length !== targets.length) {
    throw new TrendflowError('artifact_invalid', 'prediction arrays disagree in shape (see trendflow validate)', { path: file });
  }
  const status = scalarText(npz, 'prediction_status', file);
  if (status !== 'ok' && status !== 'degraded') throw new TrendflowError('artifact_invalid', `prediction_status is ${JSON.stringify(status)}`, { path: file });
  const present = getArray(npz, 'feature_present', 'bool', file).data;
  const missing = getMeta(npz, file).optional_sources_missing;
  return {
    available: true,
    status,
    fallback_reason: scalarText(npz, 'fallback_reason', file),
    primary_error_code: scalarText(npz, 'primary_error_code', file),
    model_type: scalarText(npz, 'model_type', file) ?? '',
    model_version: scalarText(npz, 'model_version', file) ?? '',
    model_name: component.models_used[0]?.model_name ?? null,
    feature_schema_version: scalarText(npz, 'feature_schema_version', file) ?? '',
    age_bucket: scalarText(npz, 'age_bucket', file),
    targets: targets.map((name) => {
      const match = TARGET_NAME.exec(name);
      return { name, metric: match ? match[1]! : null, horizon_days: match ? Number(match[2]) : null };
    }),
    quantiles,
    pred_log1p: log1p.data,
    pred_value: value.data,
    confidence_score: confidence,
    features: { total: present.length, present: present.reduce((sum, v) => sum + v, 0) },
    optional_sources_missing: Array.isArray(missing) ? missing.filter((s): s is string => typeof s === 'string') : [],
  };
}
