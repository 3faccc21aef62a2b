/**
 * A workspace with real runs for the workstation's API, browser-mode and UI tests, written the way the pipeline
 * writes them: the Segmenter's frames_dir of a generated video (core/segmenter), then the components on it —
 * core_clip with the generated CLIP-contract encoders, cut_detection, loudness_extractor on the video's audio —
 * each artifact through the validated writer, and the manifest through core/store's ManifestWriter.
 *
 * The face provider needs faces and its real models; the video has none, so core_face_landmarks is a
 * contract-valid stand-in written through the same validated writer: a synthetic FaceMesh (rings of points that
 * move across shots 2–3). When `trendflow analyze` (issue 8) exists, this fixture becomes one call to it.
 *
 *   run A (ok):       core_clip, cut_detection, core_face_landmarks (faces in shots 2–3), loudness_extractor,
 *                     video_pacing (on cut_detection and loudness_extractor), prediction (a stand-in like the faces:
 *                     written to schemas/prediction.json, degraded to the baseline, 7 quantiles; PREDICTION below)
 *   run B (partial):  the same video at 8 fps analysis: the same components, core_face_landmarks empty
 *                     (no_faces_in_video), scene_classification failed (model_not_found) and prediction failed
 *                     (prediction_model_missing)
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { RunRef } from '../../core/api/contract.js';
import type { ComponentKind, ComponentName } from '../../core/contracts/components.js';
import type { ManifestArtifact, ManifestComponent } from '../../core/contracts/manifest.js';
import type { ModelUsed, RunIdentity } from '../../core/contracts/meta.js';
import { ndarray } from '../../core/npz/index.js';
import { standaloneRunContext } from '../helpers/run-context.js';
import { LOUDNESS_SCHEMA_VERSION, runLoudnessExtractor } from '../../core/audio/loudness_extractor/index.js';
import { CUT_DETECTION_SCHEMA_VERSION, DEFAULT_CUT_DETECTION_PARAMS, runCutDetection } from '../../core/modules/cut_detection/index.js';
import { inputFromArtifact } from '../../core/modules/common/inputs.js';
import { DEFAULT_VIDEO_PACING_CONFIG, runVideoPacing, VIDEO_PACING_SCHEMA_VERSION } from '../../core/modules/video_pacing/index.js';
import { artifactMeta, writeArtifact } from '../../core/pipeline/artifact.js';
import { CORE_CLIP_SCHEMA_VERSION, DEFAULT_CORE_CLIP_CONFIG, runCoreClip, setupCoreClip } from '../../core/providers/core_clip/index.js';
import { OnnxSessionRegistry } from '../../core/runtime/onnx/sessions.js';
import { segmentVideo } from '../../core/segmenter/index.js';
import { framesDir, ManifestWriter, resolveRunIdentity, runDir, storeDir } from '../../core/store/index.js';
import { prepareClipModelsDir, TEST_CLIP_IMAGE_ID, TEST_CLIP_TEXT_ID } from '../helpers/clip-models.js';
import { VideoFixtures } from '../helpers/video-fixtures.js';

export const RUN_A_ID = '20260301T100000Z-0000000a';
export const RUN_B_ID = '20260301T110000Z-0000000b';

export interface WorkstationStore {
  workspace: string;
  store: string;
  a: RunRef;
  b: RunRef;
  modelsDir: string;
}

const FACE_MODEL: ModelUsed = {
  model_name: 'mediapipe-facemesh-468',
  model_version: 'fixture',
  weights_digest: `sha256:${'0'.repeat(64)}`,
  runtime: 'inprocess',
  engine: 'onnxruntime',
  precision: 'fp32',
  device: 'cpu',
};

const FACE_SIGNATURE = `msig1:${'1'.repeat(64)}`;

const PREDICTION_MODEL: ModelUsed = {
  model_name: 'trendflow-baseline-quantile',
  model_version: 'fixture-2026-03',
  weights_digest: `sha256:${'2'.repeat(64)}`,
  runtime: 'inprocess',
  engine: 'trendflow_baseline',
  precision: 'fp64',
  device: 'cpu',
};

/**
 * The fixture's forecast: per head (views, likes × 7/14/21 d) p50 in log1p and the spread of each quantile from it;
 * wider for later horizons, as a calibrated model gives. Quantiles 0.025 … 0.975 (Q = 7).
 */
export const PREDICTION = {
  targets: ['y_views_7d', 'y_views_14d', 'y_views_21d', 'y_likes_7d', 'y_likes_14d', 'y_likes_21d'],
  quantiles: [0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975],
  p50_log1p: [9.2, 9.9, 10.3, 5.8, 6.4, 6.7],
  spread: [-2.2, -1.8, -1.2, 0, 1.2, 1.8, 2.2],
  widen: [1, 1.25, 1.5, 1, 1.25, 1.5],
  fallback_reason: 'prediction_model_missing: no model.onnx in the primary model folder',
} as const;

/** prediction through the validated writer, as the component writes it (core/predict/prediction). */
async function writePrediction(run: string, identity: RunIdentity): Promise<ManifestArtifact> {
  const { targets, quantiles, p50_log1p, spread, widen } = PREDICTION;
  const log1p = targets.flatMap((_, t) => spread.map((d) => p50_log1p[t]! + d * widen[t]!));
  const value = log1p.map((v) => Math.expm1(Math.fround(v)));
  const q = (t: number, k: number) => value[t * quantiles.length + k]!;
  const width = targets.map((_, t) => Math.fround(log1p[t * 7 + 4]!) - Math.fround(log1p[t * 7 + 2]!));
  const features = ['video_aggregates.duration_sec', 'text_processor.title_length'];
  return writeArtifact(
    run,
    'prediction',
    'prediction.npz',
    {
      target_names: ndarray.objectArray([...targets]),
      quantiles: ndarray.float32([...quantiles]),
      pred_log1p: ndarray.float32(log1p, [targets.length, quantiles.length]),
      pred_value: ndarray.float64(value, [targets.length, quantiles.length]),
      point_value: ndarray.float64(targets.map((_, t) => q(t, 3))),
      interval_low_value: ndarray.float64(targets.map((_, t) => q(t, 2))),
      interval_high_value: ndarray.float64(targets.map((_, t) => q(t, 4))),
      interval_width_log1p: ndarray.float32(width),
      confidence_score: ndarray.float32(width.map((w) => Math.min(1, Math.max(0, 1 - w / Math.log(100))))),
      prediction_status: ndarray.str(['degraded'], []),
      model_type: ndarray.str(['baseline'], []),
      model_version: ndarray.str(['fixture-2026-03'], []),
      feature_schema_version: ndarray.str(['features_v1'], []),
      fallback_reason: ndarray.objectScalar(PREDICTION.fallback_reason),
      primary_error_code: ndarray.objectScalar('prediction_model_missing'),
      age_bucket: ndarray.objectScalar('1_30d'),
      feature_names: ndarray.objectArray(features),
      feature_values: ndarray.float32([8, Number.NaN]),
      feature_present: ndarray.bool([true, false]),
    },
    artifactMeta({
      identity,
      producer: 'prediction',
      producerVersion: '1.0.0',
      schemaVersion: 'prediction_npz_v1',
      status: 'ok',
      extra: {
        dependencies: {},
        models_used: [{ ...PREDICTION_MODEL }],
        model_signature: `msig1:${'3'.repeat(64)}`,
        batch_size: 1,
        feature_schema_version: 'features_v1',
        model_dir: '/models/prediction/baseline',
        models_tried: [
          { model_dir: '/models/prediction/v2', outcome: 'failed', error_code: 'prediction_model_missing' },
          { model_dir: '/models/prediction/baseline', outcome: 'used', error_code: null },
        ],
        optional_sources_missing: ['text_processor'],
      },
    }),
  );
}

function ref(identity: RunIdentity): RunRef {
  return { platform_id: identity.platform_id, video_id: identity.video_id, run_id: identity.run_id };
}

function entry(name: ComponentName, kind: ComponentKind, artifacts: ManifestArtifact[], fields: Partial<ManifestComponent>, started: number, durationMs: number): ManifestComponent {
  return {
    name,
    kind,
    status: 'ok',
    empty_reason: null,
    error: null,
    artifacts,
    producer_version: '1.0.0',
    schema_version: `${name}_npz_v1`,
    started_at: new Date(started).toISOString(),
    finished_at: new Date(started + durationMs).toISOString(),
    duration_ms: durationMs,
    device_used: null,
    notes: [],
    models_used: [],
    model_signature: null,
    cache_hit: false,
    cache_source_run_id: null,
    ...fields,
  } as ManifestComponent;
}

/** 468 points per face: 6 concentric ellipses of 78 points, centred at (cx, cy), radius r (normalised). */
function syntheticMesh(cx: number, cy: number, r: number): number[] {
  const points: number[] = [];
  for (let ring = 0; ring < 6; ring++) {
    const scale = (ring + 1) / 6;
    for (let k = 0; k < 78; k++) {
      const angle = (2 * Math.PI * k) / 78;
      points.push(cx + r * 0.8 * scale * Math.cos(angle), cy + r * scale * Math.sin(angle), 0.01 * ring);
    }
  }
  return points;
}

/** core_face_landmarks on the Segmenter's sample for it: slot 0 a face during 2–6 s, slot 1 during 4–6 s. */
async function writeFaces(run: string, identity: RunIdentity, frames: string, empty: boolean): Promise<ManifestArtifact> {
  const metadata = JSON.parse(await fs.readFile(path.join(frames, 'metadata.json'), 'utf8')) as { core_face_landmarks: { frame_indices: number[] }; union_timestamps_sec: number[] };
  const indices = metadata.core_face_landmarks.frame_indices;
  const slots = 2;
  const present: boolean[] = [];
  const landmarks: number[] = [];
  const boxes: number[] = [];
  const scores: number[] = [];
  for (const index of indices) {
    const t = metadata.union_timestamps_sec[index]!;
    for (let slot = 0; slot < slots; slot++) {
      const has = !empty && (slot === 0 ? t >= 2 && t < 6 : t >= 4 && t < 6);
      present.push(has);
      if (has) {
        const cx = slot === 0 ? 0.25 + 0.05 * (t - 2) : 0.72;
        const cy = 0.5;
        const r = slot === 0 ? 0.2 : 0.14;
        landmarks.push(...syntheticMesh(cx, cy, r));
        boxes.push(cx - 0.8 * r, cy - r, cx + 0.8 * r, cy + r);
        scores.push(slot === 0 ? 0.93 : 0.81);
      } else {
        landmarks.push(...new Array<number>(468 * 3).fill(Number.NaN));
        boxes.push(Number.NaN, Number.NaN, Number.NaN, Number.NaN);
        scores.push(Number.NaN);
      }
    }
  }
  const reason = empty ? 'no_faces_in_video' : null;
  const n = indices.length;
  return writeArtifact(
    run,
    'core_face_landmarks',
    'landmarks.npz',
    {
      frame_indices: ndarray.int32(indices),
      face_landmarks: ndarray.float32(landmarks, [n, slots, 468, 3]),
      face_present: ndarray.bool(present, [n, slots]),
      has_any_face: ndarray.bool([present.some(Boolean)], []),
      empty_reason: reason === null ? ndarray.objectScalar(null) : ndarray.str([reason], []),
      face_boxes: ndarray.float32(boxes, [n, slots, 4]),
      face_scores: ndarray.float32(scores, [n, slots]),
    },
    artifactMeta({
      identity,
      producer: 'core_face_landmarks',
      producerVersion: '1.0.0',
      schemaVersion: 'core_face_landmarks_npz_v1',
      status: empty ? 'empty' : 'ok',
      emptyReason: reason,
      extra: { models_used: [{ ...FACE_MODEL }], model_signature: FACE_SIGNATURE, batch_size: 8 },
    }),
  );
}

export async function buildWorkstationStore(work: string): Promise<WorkstationStore> {
  const fixtures = await VideoFixtures.create();
  const sessions = new OnnxSessionRegistry();
  try {
    const video = await fixtures.fourShots();
    const workspace = path.join(work, 'workspace');
    const store = storeDir(workspace);
    const models = await prepareClipModelsDir(work, 32);
    const config = { ...DEFAULT_CORE_CLIP_CONFIG, image_model: TEST_CLIP_IMAGE_ID, text_model: TEST_CLIP_TEXT_ID };

    const writeRun = async (runId: string, analysisFps: number, variant: 'a' | 'b'): Promise<RunRef> => {
      const { identity, source } = await resolveRunIdentity({ videoPath: video, runId, config: { profile: 'fixture', analysis_fps: analysisFps } });
      const frames = framesDir(workspace, identity);
      await segmentVideo(video, { outDir: frames, analysisFps, components: ['core_clip', 'core_face_landmarks', 'cut_detection'], durable: false });
      const dir = runDir(store, identity);
      const writer = await ManifestWriter.create(dir, { identity, source });
      try {
        // each component runs for real (the face stand-in is only written); its entry records when and how long
        const record = async (name: ComponentName, kind: ComponentKind, run: () => Promise<{ artifacts: ManifestArtifact[]; fields: Partial<ManifestComponent> }>): Promise<void> => {
          const started = Date.now();
          const { artifacts, fields } = await run();
          await writer.upsertComponent(entry(name, kind, artifacts, fields, started, Date.now() - started));
        };
        await record('core_clip', 'core', async () => {
          const setup = await setupCoreClip(config, { registry: models.registry, modelsDir: models.modelsDir, sessions });
          const clip = await runCoreClip({ identity, runDir: dir, framesDir: frames }, { preset: setup.preset, batchSize: 8, encoders: setup.encoders, tokenizer: setup.tokenizer }).finally(() => setup.close());
          return { artifacts: [clip.artifact], fields: { schema_version: CORE_CLIP_SCHEMA_VERSION, device_used: 'cpu', models_used: clip.models_used, model_signature: clip.model_signature } };
        });
        let cutArtifact: ManifestArtifact | null = null;
        await record('cut_detection', 'module', async () => {
          const cuts = await runCutDetection({ identity, runDir: dir, framesDir: frames }, { ...DEFAULT_CUT_DETECTION_PARAMS });
          cutArtifact = cuts.artifact;
          return { artifacts: [cuts.artifact], fields: { schema_version: CUT_DETECTION_SCHEMA_VERSION } };
        });
        await record('core_face_landmarks', 'core', async () => ({
          artifacts: [await writeFaces(dir, identity, frames, variant === 'b')],
          fields: {
            schema_version: 'core_face_landmarks_npz_v1',
            device_used: 'cpu',
            models_used: [FACE_MODEL],
            model_signature: FACE_SIGNATURE,
            ...(variant === 'b' ? { status: 'empty', empty_reason: 'no_faces_in_video' } : {}),
          } as Partial<ManifestComponent>,
        }));
        let loudnessArtifact: ManifestArtifact | null = null;
        await record('loudness_extractor', 'audio', async () => {
          const loudness = await runLoudnessExtractor(await standaloneRunContext({ videoPath: video, identity, runDir: dir }));
          loudnessArtifact = loudness.artifacts[0]!;
          return { artifacts: loudness.artifacts, fields: { schema_version: LOUDNESS_SCHEMA_VERSION, notes: loudness.notes } };
        });
        if (variant === 'a') {
          await record('video_pacing', 'module', async () => {
            const input = (name: ComponentName, artifact: ManifestArtifact) => inputFromArtifact(dir, name, 'ok', path.join(dir, ...artifact.path.split('/')));
            const inputs = { cut_detection: await input('cut_detection', cutArtifact!), loudness_extractor: await input('loudness_extractor', loudnessArtifact!) };
            const pacing = await runVideoPacing({ identity, runDir: dir, framesDir: frames, inputs }, { ...DEFAULT_VIDEO_PACING_CONFIG });
            if (pacing.status !== 'ok') throw new Error('video_pacing found no cut_detection shots');
            return { artifacts: [pacing.artifact], fields: { schema_version: VIDEO_PACING_SCHEMA_VERSION } };
          });
        }
        if (variant === 'a') {
          await record('prediction', 'predict', async () => ({
            artifacts: [await writePrediction(dir, identity)],
            fields: { schema_version: 'prediction_npz_v1', device_used: 'cpu', models_used: [PREDICTION_MODEL], model_signature: `msig1:${'3'.repeat(64)}` },
          }));
          await writer.setRunStatus('ok');
        } else {
          await writer.upsertComponent(
            entry(
              'prediction',
              'predict',
              [],
              { status: 'error', error: { error_code: 'prediction_model_missing', message: 'no prediction model in the models dir: none of prediction/v2, prediction/baseline holds a model' } },
              Date.now(),
              0,
            ),
          );
          // what the orchestrator records for an optional component that failed: an entry with the error, no artifact
          await writer.upsertComponent(
            entry(
              'scene_classification',
              'module',
              [],
              { status: 'error', error: { error_code: 'model_not_found', message: 'model clip-vit-b32-text file model.onnx is not in the models dir: run `npx trendflow models fetch clip-vit-b32-text`' } },
              Date.now(),
              0,
            ),
          );
          await writer.setRunStatus('partial');
        }
      } finally {
        await writer.close();
      }
      return ref(identity);
    };

    const a = await writeRun(RUN_A_ID, 12, 'a');
    const b = await writeRun(RUN_B_ID, 8, 'b');
    return { workspace, store, a, b, modelsDir: models.modelsDir };
  } finally {
    await sessions.releaseAll();
    await fixtures.cleanup();
  }
}
