/**
 * video_aggregates: the tabular aggregate set of the video (seed 002 §7) in `video_aggregates/aggregates.npz`
 * (README.md). Reads only artifacts; every input is optional, and a feature without its input is NaN + mask.
 */
import type { ManifestArtifact } from '../../contracts/manifest.js';
import { getArray, getStringList, ndarray, type NpzContents } from '../../npz/index.js';
import { artifactMeta, writeArtifact } from '../../pipeline/artifact.js';
import { dependencySignatures, loadInput, type LoadedInput, type ModuleContext } from '../common/inputs.js';
import { AGGREGATE_FEATURE_SET_VERSION, AGGREGATE_FEATURES, THRESHOLDS, type AggregateInputs } from './features.js';

export const VIDEO_AGGREGATES_PRODUCER_VERSION = '1.0.0';
export const VIDEO_AGGREGATES_SCHEMA_VERSION = 'video_aggregates_npz_v1';
export const VIDEO_AGGREGATES_ARTIFACT = 'aggregates.npz';

/** The schema version of each input read (the modules of this folder, and core_clip). */
const SOURCES = {
  shot_quality: 'shot_quality_npz_v1',
  video_pacing: 'video_pacing_npz_v1',
  shot_sequence: 'shot_sequence_npz_v1',
  scene_classification: 'scene_classification_npz_v1',
  core_clip: 'core_clip_npz_v1',
} as const;

export interface VideoAggregatesResult {
  status: 'ok' | 'empty';
  artifact: ManifestArtifact;
  names: string[];
  values: Float32Array;
}

/** Rows of a (rows, width) matrix as arrays, keeping the rows `keep` selects. */
function rows(data: Float32Array, width: number, keep: (row: number) => boolean): number[][] {
  const out: number[][] = [];
  for (let r = 0; r < data.length / width; r++) if (keep(r)) out.push(Array.from(data.subarray(r * width, (r + 1) * width)));
  return out;
}

/** A column of a (rows, names.length) matrix by name, NaN where `present` is False. */
function column(npz: NpzContents, key: string, names: string[], file: string): (name: string) => number[] {
  const matrix = getArray(npz, key, 'float32', file).data;
  return (name) => {
    const c = names.indexOf(name);
    if (c < 0) return [];
    return Array.from({ length: matrix.length / names.length }, (_, r) => matrix[r * names.length + c]!);
  };
}

function qualityInputs(loaded: LoadedInput): AggregateInputs['quality'] {
  const { npz, input } = loaded;
  const file = input.path;
  const clipPresent = getArray(npz, 'shot_clip_present', 'bool', file).data;
  const measured = getArray(npz, 'frame_face_measured', 'bool', file).data;
  const facePresent = getArray(npz, 'frame_face_present', 'bool', file).data;
  const counts = getArray(npz, 'frame_face_count', 'float32', file).data;
  const faceNames = getStringList(npz, 'face_metric_names', file);
  const faceMetric = column(npz, 'frame_face_metrics', faceNames, file);
  return {
    shotImage: column(npz, 'shot_image_metrics', getStringList(npz, 'image_metric_names', file), file),
    shotClip: clipPresent.some(Boolean) ? column(npz, 'shot_clip_scores', getStringList(npz, 'clip_score_names', file), file) : null,
    faceMeasured: measured.some(Boolean),
    faceCounts: Array.from(counts).filter((_, r) => measured[r]),
    faceAreas: faceMetric('face_area_share').filter((_, r) => facePresent[r]),
    faceOffsets: faceMetric('face_center_offset').filter((_, r) => facePresent[r]),
  };
}

function pacingInputs(loaded: LoadedInput): AggregateInputs['pacing'] {
  const { npz, input } = loaded;
  const file = input.path;
  const names = getStringList(npz, 'feature_names', file);
  const values = getArray(npz, 'feature_values', 'float32', file).data;
  const curve = (key: string, mask: string): number[] | null => {
    const present = getArray(npz, mask, 'bool', file).data;
    return present.some(Boolean) ? Array.from(getArray(npz, key, 'float32', file).data) : null;
  };
  return {
    feature: (name) => (names.includes(name) ? values[names.indexOf(name)]! : Number.NaN),
    motion: Array.from(getArray(npz, 'motion_energy', 'float32', file).data),
    flow: curve('flow_motion_energy', 'flow_present'),
    loudness: curve('loudness_lufs', 'loudness_present'),
  };
}

/** The rows of an embedding matrix (where `mask` is True); null for a width of 0 (the modality was missing). */
function embeddingRows(loaded: LoadedInput, key: string, mask: string | null): number[][] | null {
  const matrix = getArray(loaded.npz, key, 'float32', loaded.input.path);
  const present = mask ? getArray(loaded.npz, mask, 'bool', loaded.input.path).data : null;
  const width = matrix.shape[1]!;
  return width > 0 ? rows(matrix.data, width, (r) => !present || present[r] === 1) : null;
}

function sceneInputs(loaded: LoadedInput): AggregateInputs['scenes'] {
  const { npz, input } = loaded;
  if (!getArray(npz, 'video_distribution_present', 'bool', input.path).data[0]) return null;
  const top = getArray(npz, 'shot_top_labels', 'int32', input.path);
  const present = getArray(npz, 'shot_present', 'bool', input.path).data;
  const k = top.shape[1]!;
  return {
    distribution: Array.from(getArray(npz, 'video_label_distribution', 'float32', input.path).data),
    shotTop1: Array.from(present).flatMap((p, s) => (p ? [top.data[s * k]!] : [])),
  };
}

export async function runVideoAggregates(ctx: ModuleContext): Promise<VideoAggregatesResult> {
  const loaded = {
    shot_quality: await loadInput(ctx, 'shot_quality', SOURCES.shot_quality),
    video_pacing: await loadInput(ctx, 'video_pacing', SOURCES.video_pacing),
    shot_sequence: await loadInput(ctx, 'shot_sequence', SOURCES.shot_sequence),
    scene_classification: await loadInput(ctx, 'scene_classification', SOURCES.scene_classification),
    core_clip: await loadInput(ctx, 'core_clip', SOURCES.core_clip),
  };
  const inputs: AggregateInputs = {
    quality: loaded.shot_quality ? qualityInputs(loaded.shot_quality) : null,
    pacing: loaded.video_pacing ? pacingInputs(loaded.video_pacing) : null,
    clipFrames: loaded.core_clip ? embeddingRows(loaded.core_clip, 'frame_embeddings', null) : null,
    shotEmbeddings: loaded.shot_sequence ? embeddingRows(loaded.shot_sequence, 'e_shot', 'e_shot_present') : null,
    scenes: loaded.scene_classification ? sceneInputs(loaded.scene_classification) : null,
  };

  const names = AGGREGATE_FEATURES.map((f) => f.name);
  const values = Float32Array.from(AGGREGATE_FEATURES, (f) => f.compute(inputs));
  const present = Array.from(values, (v) => !Number.isNaN(v));
  const found = Object.values(loaded).filter((l): l is LoadedInput => l !== null);
  const status = present.some(Boolean) ? 'ok' : 'empty';
  const meta = artifactMeta({
    identity: ctx.identity,
    producer: 'video_aggregates',
    producerVersion: VIDEO_AGGREGATES_PRODUCER_VERSION,
    schemaVersion: VIDEO_AGGREGATES_SCHEMA_VERSION,
    status,
    // nothing to aggregate: no input, or none that defines a feature
    emptyReason: status === 'empty' ? 'dependency_missing' : null,
    extra: {
      dependencies: dependencySignatures(found),
      feature_set_version: AGGREGATE_FEATURE_SET_VERSION,
      thresholds: { ...THRESHOLDS },
      inputs_found: found.map((l) => l.input.component),
      feature_sources: Object.fromEntries(AGGREGATE_FEATURES.map((f) => [f.name, [...f.sources]])),
    },
  });
  const artifact = await writeArtifact(
    ctx.runDir,
    'video_aggregates',
    VIDEO_AGGREGATES_ARTIFACT,
    {
      feature_names: ndarray.objectArray(names),
      feature_groups: ndarray.objectArray(AGGREGATE_FEATURES.map((f) => f.group)),
      feature_values: ndarray.float32(values),
      feature_present: ndarray.bool(present),
      any_feature_present: ndarray.bool([present.some(Boolean)], []),
    },
    meta,
  );
  return { status, artifact, names, values };
}
