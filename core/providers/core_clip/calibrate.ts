/**
 * core_clip's checklist measurement (`trendflow bench calibrate`): memory of the loaded models, extra memory per
 * frame in a batch, and time per frame (preprocessing + image encoder) at increasing batch sizes, on synthetic
 * frames of a typical analysis size. Peak RSS only grows, so batch sizes are measured in ascending order and
 * each peak is the peak of the largest batch so far.
 */
import { TrendflowError } from '../../contracts/errors.js';
import type { ChecklistEntry, ChecklistMeasurement } from '../../runtime/planner/checklist.js';
import { CLIP_PRESETS, preprocessClipBatch, type RgbImage } from '../../runtime/clip/preprocess.js';
import type { CoreClipConfig, CoreClipSetup } from './setup.js';

export interface CalibrateOptions {
  batchSizes?: number[];
  /** Analysis frame size the frames are made at (default 640x360). */
  frameWidth?: number;
  frameHeight?: number;
  /** Timed repetitions per batch size after one warm-up (default 3). */
  repeats?: number;
  /** RSS of the process before the models were loaded. */
  rssBeforeLoad: number;
}

/** A stop in time-per-frame gain smaller than this ends the useful batch range. */
const MIN_GAIN = 0.05;

function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** Deterministic noise frames: the worst case for the resizer, no cache effects from repeated content. */
function syntheticFrames(count: number, width: number, height: number): RgbImage[] {
  let state = 12345;
  return Array.from({ length: count }, () => {
    const data = new Uint8Array(width * height * 3);
    for (let i = 0; i < data.length; i++) {
      state = (state * 1103515245 + 12345) >>> 0;
      data[i] = state >>> 24;
    }
    return { data, width, height };
  });
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den > 0 ? num / den : 0;
}

export async function calibrateCoreClip(config: CoreClipConfig, setup: CoreClipSetup, options: CalibrateOptions): Promise<ChecklistEntry> {
  const batchSizes = [...(options.batchSizes ?? [1, 2, 4, 8, 16, 32])].sort((a, b) => a - b);
  if (batchSizes.length < 2 || batchSizes.some((b) => !Number.isInteger(b) || b < 1)) {
    throw new TrendflowError('invalid_argument', `calibration needs at least two positive integer batch sizes, got ${batchSizes.join(',')}`);
  }
  const width = options.frameWidth ?? 640;
  const height = options.frameHeight ?? 360;
  const repeats = options.repeats ?? 3;
  const size = CLIP_PRESETS[setup.preset].size;
  const loaded = peakRss();
  const frames = syntheticFrames(batchSizes[batchSizes.length - 1]!, width, height);
  const measurements: ChecklistMeasurement[] = [];
  for (const batch of batchSizes) {
    const input = frames.slice(0, batch);
    const once = async (): Promise<void> => {
      await setup.encoders.encodeImages(await preprocessClipBatch(input, setup.preset), batch, size);
    };
    await once(); // warm-up: first-run allocations and kernel selection
    const started = performance.now();
    for (let r = 0; r < repeats; r++) await once();
    const ms = (performance.now() - started) / (repeats * batch);
    measurements.push({ batch_size: batch, ms_per_frame: Math.round(ms * 1000) / 1000, peak_bytes: peakRss() });
  }
  // memory per frame: how the peak grows with the batch (at least the frame, its tensor and the embedding)
  const floor = width * height * 3 + 3 * size * size * 4;
  const perFrame = Math.max(floor, Math.round(slope(measurements.map((m) => m.batch_size), measurements.map((m) => m.peak_bytes))));
  let maxBatch = measurements[measurements.length - 1]!.batch_size;
  for (let i = 1; i < measurements.length; i++) {
    if (measurements[i]!.ms_per_frame > (1 - MIN_GAIN) * measurements[i - 1]!.ms_per_frame) {
      maxBatch = measurements[i - 1]!.batch_size;
      break;
    }
  }
  return {
    component: 'core_clip',
    device: config.device,
    model_ids: [config.image_model, config.text_model],
    input_size: size,
    model_bytes: Math.max(0, loaded - options.rssBeforeLoad),
    bytes_per_frame: perFrame,
    max_batch_size: maxBatch,
    measurements,
    origin: 'measured',
  };
}
