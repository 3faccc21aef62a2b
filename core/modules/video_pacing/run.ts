/**
 * video_pacing: editing rhythm and energy over time on a fixed grid (cut rate, motion, optical-flow motion energy,
 * loudness) and shot-length statistics, in `video_pacing/pacing.npz` (README.md).
 */
import type { ManifestArtifact } from '../../contracts/manifest.js';
import { getArray, ndarray } from '../../npz/index.js';
import { artifactMeta, writeArtifact } from '../../pipeline/artifact.js';
import { framesDirSignatures, readCheapSignals } from '../common/frames-dir.js';
import { dependencySignatures, loadInput, type ModuleContext } from '../common/inputs.js';
import { readShots, SHOTS_SCHEMA_VERSION, type Shots } from '../common/shots.js';
import { nanMean, nanPercentile, nanStd } from '../common/stats.js';
import { binned, cutRate, energyMeanLufs, gridCentres, mean } from './curves.js';

export const VIDEO_PACING_PRODUCER_VERSION = '1.0.0';
export const VIDEO_PACING_SCHEMA_VERSION = 'video_pacing_npz_v1';
export const VIDEO_PACING_ARTIFACT = 'pacing.npz';

export interface VideoPacingConfig {
  /** Width of the grid bins, seconds. */
  grid_step_sec: number;
  /** Sliding window of the cut rate, seconds. */
  cut_rate_window_sec: number;
  /** Shots shorter than this are "short", longer than long_shot_sec "long" (seed 002 §7: fast cuts, long takes). */
  short_shot_sec: number;
  long_shot_sec: number;
}

export const DEFAULT_VIDEO_PACING_CONFIG: Readonly<VideoPacingConfig> = { grid_step_sec: 0.5, cut_rate_window_sec: 10, short_shot_sec: 1, long_shot_sec: 5 };

/** Shot-length and cut statistics, in this order (`pacing_features_v1`). */
export const PACING_FEATURE_NAMES = [
  'duration_sec',
  'shot_count',
  'shots_per_min',
  'cuts_per_min',
  'hard_cut_share',
  'gradual_transition_share',
  'shot_duration_mean_sec',
  'shot_duration_median_sec',
  'shot_duration_std_sec',
  'shot_duration_min_sec',
  'shot_duration_max_sec',
  'shot_duration_p10_sec',
  'shot_duration_p90_sec',
  'short_shot_share',
  'long_shot_share',
  'cut_rate_max_per_min',
  'cut_rate_std_per_min',
] as const;
export const PACING_FEATURE_SET_VERSION = 'pacing_features_v1';

export type VideoPacingResult = { status: 'ok'; artifact: ManifestArtifact } | { status: 'empty'; artifact: null };

function pacingFeatures(shots: Shots, rate: Float32Array, config: VideoPacingConfig): number[] {
  const durations = Array.from(shots.endSec, (end, s) => end - shots.startSec[s]!);
  const boundaries = shots.transitionType.slice(1);
  const minutes = shots.durationSec / 60;
  const share = (count: number, of: number) => (of > 0 ? count / of : Number.NaN);
  return [
    shots.durationSec,
    shots.count,
    shots.count / minutes,
    boundaries.length / minutes,
    share(boundaries.filter((t) => t === 'hard_cut').length, boundaries.length),
    share(boundaries.filter((t) => t !== 'hard_cut').length, boundaries.length),
    nanMean(durations),
    nanPercentile(durations, 50),
    nanStd(durations),
    Math.min(...durations),
    Math.max(...durations),
    nanPercentile(durations, 10),
    nanPercentile(durations, 90),
    share(durations.filter((d) => d < config.short_shot_sec).length, durations.length),
    share(durations.filter((d) => d > config.long_shot_sec).length, durations.length),
    Math.max(...rate),
    nanStd(rate),
  ];
}

export async function runVideoPacing(ctx: ModuleContext, config: VideoPacingConfig): Promise<VideoPacingResult> {
  const cut = await loadInput(ctx, 'cut_detection', SHOTS_SCHEMA_VERSION);
  if (!cut) return { status: 'empty', artifact: null };
  const loudness = await loadInput(ctx, 'loudness_extractor', 'audio_npz_v2');
  const flow = await loadInput(ctx, 'core_optical_flow', 'core_optical_flow_npz_v1');
  const shots = readShots(cut);
  const signals = await readCheapSignals(ctx.framesDir);
  const step = config.grid_step_sec;
  const grid = gridCentres(shots.durationSec, step);
  const G = grid.length;

  const cutTimes = Array.from(shots.startSec).slice(1);
  const rate = cutRate(cutTimes, grid, config.cut_rate_window_sec, shots.durationSec);
  // the Segmenter's motion proxy of each analysis frame: mean absolute luma change from the frame before (frame 0 has none)
  const motion = binned(signals.timeSec.subarray(1), signals.motion.subarray(1), grid, step, mean);

  const none = { values: new Float32Array(G).fill(Number.NaN), present: new Array<boolean>(G).fill(false) };
  const flowCurve = flow
    ? binned(getArray(flow.npz, 'time_sec', 'float64', flow.input.path).data, getArray(flow.npz, 'motion_energy', 'float32', flow.input.path).data, grid, step, mean)
    : none;
  const loudnessCurve =
    loudness && loudness.input.status === 'ok'
      ? binned(
          getArray(loudness.npz, 'momentary_times_sec', 'float32', loudness.input.path).data,
          getArray(loudness.npz, 'momentary_lufs', 'float32', loudness.input.path).data,
          grid,
          step,
          energyMeanLufs,
        )
      : none;

  const meta = artifactMeta({
    identity: ctx.identity,
    producer: 'video_pacing',
    producerVersion: VIDEO_PACING_PRODUCER_VERSION,
    schemaVersion: VIDEO_PACING_SCHEMA_VERSION,
    status: 'ok',
    extra: {
      dependencies: dependencySignatures([cut, loudness, flow], await framesDirSignatures(ctx.framesDir)),
      parameters: { ...config },
      feature_set_version: PACING_FEATURE_SET_VERSION,
      duration_sec: shots.durationSec,
      motion_source: 'segmenter signals.npz motion (mean absolute luma difference between consecutive analysis frames, 0-1)',
      flow_source: flow ? { engine: flow.meta.engine ?? null, unit: 'frame diagonals per second, squared' } : null,
      loudness_source: loudness ? { status: loudness.input.status, empty_reason: loudness.meta.empty_reason ?? null, series: 'momentary (400 ms)' } : null,
    },
  });
  const artifact = await writeArtifact(
    ctx.runDir,
    'video_pacing',
    VIDEO_PACING_ARTIFACT,
    {
      grid_time_sec: ndarray.float64(grid),
      cut_rate_per_min: ndarray.float32(rate),
      motion_energy: ndarray.float32(motion.values),
      motion_present: ndarray.bool(motion.present),
      flow_motion_energy: ndarray.float32(flowCurve.values),
      flow_present: ndarray.bool(flowCurve.present),
      loudness_lufs: ndarray.float32(loudnessCurve.values),
      loudness_present: ndarray.bool(loudnessCurve.present),
      feature_names: ndarray.objectArray([...PACING_FEATURE_NAMES]),
      feature_values: ndarray.float32(pacingFeatures(shots, rate, config)),
    },
    meta,
  );
  return { status: 'ok', artifact };
}
