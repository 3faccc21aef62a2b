/**
 * A workspace with two real runs for the workstation's API, browser-mode and UI tests, made the way an analyst
 * makes them: the built CLI's `trendflow analyze` (dist/, spawned) on a generated video — four 2 s shots, the third
 * a real face photo; a sine whose level steps up at 4 s with a click every 0.5 s (VideoFixtures.shotsWithPhoto) —
 * with --meta, --snapshots, a profile file and --prediction-model. The fixture writes no artifact itself.
 *
 * Models: core_clip on the generated CLIP-contract encoders (the real CLIP is not available here), core_face_landmarks
 * on the real YuNet + FaceMesh of ../shared/models (linked, never copied), prediction on a baseline trained here on
 * a generated bundle (core/predict/baseline, test/helpers/synthetic-dataset.ts).
 *
 *   run A (ok, 12 fps):    tier0 without the models this machine lacks (clap_extractor) and without
 *                          scene_classification, plus video_aggregates and prediction: the primary model folder is
 *                          missing, so the trained baseline predicts and the forecast is `degraded`, the primary's
 *                          prediction_model_missing its fallback reason
 *   run B (error, 8 fps):  the same profile without core_face_landmarks and video_pacing (the views' "not in this
 *                          run" states), with scene_classification, clap_extractor optional (it fails:
 *                          model_not_found), and prediction (required) given only the missing folder: it fails with
 *                          prediction_model_missing, which ends the run `error`. The components whose inputs did not
 *                          change (audio, snapshots) are cache hits from run A.
 */
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RunRef } from '../../core/api/contract.js';
import { PROFILE_FORMAT } from '../../core/pipeline/profile.js';
import { trainBaseline } from '../../core/predict/baseline/train.js';
import { storeDir } from '../../core/store/index.js';
import { prepareClipModelsDir, TEST_CLIP_IMAGE_ID, TEST_CLIP_TEXT_ID } from '../helpers/clip-models.js';
import { SHARED_MODELS_DIR } from '../helpers/shared-models.js';
import { syntheticDataset, writeSyntheticBundle } from '../helpers/synthetic-dataset.js';
import { VideoFixtures } from '../helpers/video-fixtures.js';
import { linkModels } from '../helpers/vision-models.js';

const execFileAsync = promisify(execFile);

export const RUN_A_ID = '20260301T100000Z-0000000a';
export const RUN_B_ID = '20260301T110000Z-0000000b';
/** The analysis frame rates of the two runs (the profiles' segmenter settings). */
export const RUN_A_FPS = 12;
export const RUN_B_FPS = 8;
/** The photo of the video's third shot (4–6 s). */
export const FACE_PHOTO = path.resolve(SHARED_MODELS_DIR, '..', 'media', 'faces', 'max_neutral.jpeg');

export interface WorkstationStore {
  workspace: string;
  store: string;
  a: RunRef;
  b: RunRef;
  /** core_clip's contract models, the face models (links) and the vocabulary. */
  modelsDir: string;
  /** The folder of the trained baseline (run A's fallback) and the missing primary folder both runs were given. */
  baselineDir: string;
  missingModelDir: string;
}

const repoRoot = path.resolve(import.meta.dirname, '../..');

/** The outcome `analyze --json` prints per video (core/cli/commands/analyze.ts outcomeJson). */
interface AnalyzeOutcome extends RunRef {
  status: string;
  components: Record<string, { status: string }>;
}

async function analyze(args: string[], env: NodeJS.ProcessEnv): Promise<AnalyzeOutcome> {
  if (!existsSync(path.join(repoRoot, 'dist/core/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  // exit code 1 is a run that is not ok (run B, on purpose); the JSON line on stdout says what happened either way
  const result = await execFileAsync(process.execPath, ['bin/trendflow.js', 'analyze', ...args, '--json'], { cwd: repoRoot, env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }).catch(
    (error: { code?: number; stdout?: string; stderr?: string }) => {
      if (error.code === 1 && error.stdout) return { stdout: error.stdout, stderr: error.stderr ?? '' };
      throw new Error(`trendflow analyze failed (${error.code}): ${error.stderr}`);
    },
  );
  return JSON.parse(result.stdout) as AnalyzeOutcome;
}

export async function buildWorkstationStore(work: string): Promise<WorkstationStore> {
  const fixtures = await VideoFixtures.create();
  try {
    const workspace = path.join(work, 'workspace');
    const models = await prepareClipModelsDir(work, 32);
    await linkModels(SHARED_MODELS_DIR, work, ['yunet-2023mar', 'mediapipe-facemesh-468']);

    // a real baseline on a small generated bundle: fewer, shallower trees than the default to train in about a second
    const bundle = path.join(work, 'bundle');
    await fs.mkdir(bundle);
    await writeSyntheticBundle(bundle, syntheticDataset({ rows: 3_000, channels: 300, seed: 11 }));
    const baselineDir = path.join(work, 'prediction-models', 'baseline');
    await trainBaseline(bundle, baselineDir, { seed: 1, params: { trees: 40, maxDepth: 4, bins: 32 } });
    const missingModelDir = path.join(work, 'prediction-models', 'v2');

    const meta = path.join(work, 'meta.json');
    await fs.writeFile(meta, JSON.stringify({ platform_id: 'youtube', video_id: 'wsFixture01', title: 'Four shots and a face', publishedAt: '2026-02-20T09:00:00Z' }));
    const snapshots = path.join(work, 'snapshots');
    await fs.mkdir(snapshots);
    await fs.writeFile(path.join(snapshots, 's1.json'), JSON.stringify({ collected_at: '2026-02-25T09:00:00Z', viewCount: 5200, likeCount: 310, commentCount: 24, subscriberCount: 48_000 }));

    const profileA = path.join(work, 'workstation-a.json');
    await fs.writeFile(
      profileA,
      JSON.stringify({
        format: PROFILE_FORMAT,
        name: 'workstation-a',
        description: 'tier0 without clap_extractor (no CLAP model here), scene_classification and the targets, with the aggregates; CLIP on the contract models',
        extends: 'tier0',
        segmenter: { analysis_fps: RUN_A_FPS },
        components: {
          core_clip: { params: { image_model: TEST_CLIP_IMAGE_ID, text_model: TEST_CLIP_TEXT_ID } },
          scene_classification: null,
          clap_extractor: null,
          targets_builder_multi_horizon: null,
          video_aggregates: { required: true },
        },
      }),
    );
    const profileB = path.join(work, 'workstation-b.json');
    await fs.writeFile(
      profileB,
      JSON.stringify({
        format: PROFILE_FORMAT,
        name: 'workstation-b',
        description: 'workstation-a at a lower frame rate without faces and pacing, with scene_classification, and clap_extractor optional',
        extends: './workstation-a.json',
        segmenter: { analysis_fps: RUN_B_FPS },
        components: { core_face_landmarks: null, video_pacing: null, scene_classification: { required: true }, clap_extractor: { required: false } },
      }),
    );

    const video = await fixtures.shotsWithPhoto(FACE_PHOTO);
    const env = { ...process.env, TRENDFLOW_WORKSPACE: '', TRENDFLOW_MODELS_DIR: '' };
    const common = [video, '--meta', meta, '--snapshots', snapshots, '--store', workspace, '--models-dir', models.modelsDir];
    const a = await analyze([...common, '--profile', profileA, '--run-id', RUN_A_ID, '--prediction-model', missingModelDir, '--prediction-model', baselineDir], env);
    if (a.status !== 'ok') throw new Error(`run A ended ${a.status}: ${JSON.stringify(a.components)}`);
    const b = await analyze([...common, '--profile', profileB, '--run-id', RUN_B_ID, '--prediction-model', missingModelDir], env);
    if (b.status !== 'error') throw new Error(`run B ended ${b.status}, not error: ${JSON.stringify(b.components)}`);
    const ref = (outcome: AnalyzeOutcome): RunRef => ({ platform_id: outcome.platform_id, video_id: outcome.video_id, run_id: outcome.run_id });
    return { workspace, store: storeDir(workspace), a: ref(a), b: ref(b), modelsDir: models.modelsDir, baselineDir, missingModelDir };
  } finally {
    await fixtures.cleanup();
  }
}
