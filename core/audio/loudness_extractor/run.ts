/**
 * loudness_extractor: BS.1770-4 / EBU R128 loudness of the video's first audio stream, on its own channels with
 * their BS.1770 weights, streamed from ffmpeg (memory does not grow with the video's length). See README.md.
 */
import { isTrendflowError } from '../../contracts/errors.js';
import type { EmptyReason } from '../../contracts/status.js';
import { ndarray } from '../../npz/index.js';
import { artifactMeta, writeArtifact } from '../../pipeline/artifact.js';
import type { ComponentOutcome, ComponentRunContext } from '../../pipeline/component.js';
import type { AudioStreamInfo } from '../../video/probe.js';
import { ABSOLUTE_GATE_LUFS, LoudnessMeter, type LoudnessMeasurement } from '../shared/bs1770.js';
import { channelLayout, streamChannels, streamSampleRate, type ChannelLayout } from '../shared/channels.js';
import { analysedStream, audioOutcome, SILENT_NOTE, streamMeta } from '../shared/component.js';

export const LOUDNESS_PRODUCER_VERSION = '1.0.0';
export const LOUDNESS_SCHEMA_VERSION = 'audio_npz_v2';
export const LOUDNESS_ARTIFACT = 'loudness.npz';

/** The scalar features, in `feature_names` order. */
export const LOUDNESS_FEATURES = [
  'integrated_lufs',
  'relative_gate_lufs',
  'loudness_range_lu',
  'lra_low_lufs',
  'lra_high_lufs',
  'momentary_max_lufs',
  'short_term_max_lufs',
  'short_term_std_lu',
  'sample_peak_dbfs',
  'true_peak_dbtp',
  'rms_dbfs',
  'crest_factor_db',
  'rms_p10_dbfs',
  'rms_p50_dbfs',
  'rms_p90_dbfs',
  'silent_fraction',
  'duration_sec',
] as const;
export type LoudnessFeature = (typeof LOUDNESS_FEATURES)[number];

export type LoudnessContext = Pick<ComponentRunContext, 'identity' | 'runDir' | 'videoPath' | 'probe' | 'signal'>;

function dB(linear: number): number {
  return 20 * Math.log10(linear);
}

function maxOf(values: Float64Array): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
}

/** numpy.percentile's default (linear interpolation between closest ranks) over sorted values. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * p;
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

/** Sample standard deviation (ddof = 1); NaN below two values. */
function std(values: Float64Array): number {
  if (values.length < 2) return Number.NaN;
  const m = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / (values.length - 1));
}

/** The scalar features of a measurement (NaN where undefined, −∞ for the levels of digital silence). */
export function loudnessFeatures(m: LoudnessMeasurement): Record<LoudnessFeature, number> {
  const audible = m.momentary.lufs.map((l) => (l > ABSOLUTE_GATE_LUFS ? 1 : 0));
  const audibleRms = Float64Array.from(m.blockRmsDbfs.filter((_, j) => audible[j] === 1)).sort();
  const rmsDbfs = 10 * Math.log10(m.meanSquare);
  return {
    integrated_lufs: m.integratedLufs,
    relative_gate_lufs: m.relativeGateLufs,
    loudness_range_lu: m.loudnessRangeLu,
    lra_low_lufs: m.lraLowLufs,
    lra_high_lufs: m.lraHighLufs,
    momentary_max_lufs: maxOf(m.momentary.lufs),
    short_term_max_lufs: maxOf(m.shortTerm.lufs),
    short_term_std_lu: std(m.lraGatedShortTerm),
    sample_peak_dbfs: dB(m.samplePeak),
    true_peak_dbtp: dB(m.truePeak),
    rms_dbfs: rmsDbfs,
    crest_factor_db: dB(m.samplePeak) - rmsDbfs,
    rms_p10_dbfs: percentile(audibleRms, 0.1),
    rms_p50_dbfs: percentile(audibleRms, 0.5),
    rms_p90_dbfs: percentile(audibleRms, 0.9),
    silent_fraction: audible.length === 0 ? Number.NaN : 1 - audible.reduce((a, b) => a + b, 0) / audible.length,
    duration_sec: m.durationSec,
  };
}

export async function runLoudnessExtractor(ctx: LoudnessContext): Promise<ComponentOutcome> {
  const stream = analysedStream(ctx);
  if (!stream) return writeLoudness(ctx, null, 'audio_missing_or_extract_failed', ['the video has no audio stream']);
  const layout = await channelLayout(stream);
  const meter = new LoudnessMeter(streamSampleRate(stream), layout.weights);
  let warnings: string[];
  try {
    ({ warnings } = await streamChannels(ctx.videoPath, stream, (chunk) => meter.push(chunk), ctx.signal));
  } catch (error) {
    if (isTrendflowError(error) && error.code === 'audio_extract_failed') {
      return writeLoudness(ctx, null, 'audio_missing_or_extract_failed', [`the audio could not be extracted: ${error.message}`], { stream, layout });
    }
    throw error;
  }
  const measurement = meter.finish();
  const notes = warnings.map((line) => `ffmpeg: ${line}`);
  if (measurement.momentary.lufs.length === 0) {
    return writeLoudness(ctx, measurement, 'video_too_short', [...notes, `the audio lasts ${measurement.durationSec.toFixed(3)} s, shorter than one 400 ms block`], { stream, layout });
  }
  if (Number.isNaN(measurement.integratedLufs)) {
    return writeLoudness(ctx, measurement, 'audio_missing_or_extract_failed', [...notes, SILENT_NOTE], { stream, layout });
  }
  return writeLoudness(ctx, measurement, null, notes, { stream, layout });
}

async function writeLoudness(
  ctx: LoudnessContext,
  measurement: LoudnessMeasurement | null,
  emptyReason: EmptyReason | null,
  notes: string[],
  source?: { stream: AudioStreamInfo; layout: ChannelLayout },
): Promise<ComponentOutcome> {
  const status = emptyReason === null ? 'ok' : 'empty';
  const features = measurement ? loudnessFeatures(measurement) : null;
  const series = (values: Float64Array | undefined) => ndarray.float32(values ?? [], [values?.length ?? 0]);
  const meta = artifactMeta({
    identity: ctx.identity,
    producer: 'loudness_extractor',
    producerVersion: LOUDNESS_PRODUCER_VERSION,
    schemaVersion: LOUDNESS_SCHEMA_VERSION,
    status,
    emptyReason,
    extra: {
      standard: 'ITU-R BS.1770-4; EBU R128, Tech 3341, Tech 3342',
      audio_stream: source ? streamMeta(source.stream) : null,
      channel_names: source?.layout.names ?? null,
      channel_weights: source?.layout.weights ?? null,
      sample_rate: measurement?.sampleRate ?? null,
      silent: measurement !== null && measurement.momentary.lufs.length > 0 && Number.isNaN(measurement.integratedLufs),
      gated_blocks: measurement?.gatedBlocks ?? 0,
      notes,
    },
  });
  const artifact = await writeArtifact(
    ctx.runDir,
    'loudness_extractor',
    LOUDNESS_ARTIFACT,
    {
      feature_names: ndarray.objectArray([...LOUDNESS_FEATURES]),
      feature_values: ndarray.float32(LOUDNESS_FEATURES.map((name) => (features ? features[name] : Number.NaN)), [LOUDNESS_FEATURES.length]),
      lufs_present: ndarray.bool([status === 'ok'], []),
      momentary_times_sec: series(measurement?.momentary.timesSec),
      momentary_lufs: series(measurement?.momentary.lufs),
      short_term_times_sec: series(measurement?.shortTerm.timesSec),
      short_term_lufs: series(measurement?.shortTerm.lufs),
    },
    meta,
  );
  return audioOutcome(artifact, status, emptyReason, notes);
}
