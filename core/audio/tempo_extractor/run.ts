/** tempo_extractor: global and windowed tempo of the video's audio track (tempo.ts; README.md). */
import type { EmptyReason } from '../../contracts/status.js';
import { ndarray } from '../../npz/index.js';
import { artifactMeta, writeArtifact } from '../../pipeline/artifact.js';
import type { ComponentOutcome, ComponentRunContext } from '../../pipeline/component.js';
import { analysedStream, audioOutcome, monoAudio, silenceOf, SILENT_NOTE, streamMeta } from '../shared/component.js';
import { analyseTempo, TEMPO_PARAMETERS, type TempoAnalysis } from './tempo.js';

export const TEMPO_PRODUCER_VERSION = '1.0.0';
export const TEMPO_SCHEMA_VERSION = 'audio_npz_v1';
export const TEMPO_ARTIFACT = 'tempo.npz';
/** Below this the envelope holds too few periods of the slowest tempo (30 BPM) to measure. */
export const MIN_TEMPO_DURATION_SEC = 2;

export const TEMPO_FEATURES = [
  'tempo_bpm',
  'tempo_confidence',
  'windowed_bpm_median',
  'windowed_bpm_iqr',
  'beat_window_fraction',
  'onset_rate_per_sec',
  'duration_sec',
] as const;
export type TempoFeature = (typeof TEMPO_FEATURES)[number];

export type TempoContext = Pick<ComponentRunContext, 'identity' | 'runDir' | 'probe' | 'audio'>;

/** numpy.percentile's default (linear interpolation) of the finite values; NaN when there are none. */
function percentile(values: number[], p: number): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * p;
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

export function tempoFeatures(a: TempoAnalysis): Record<TempoFeature, number> {
  const withBeat = a.windowBpm.filter(Number.isFinite);
  return {
    tempo_bpm: a.bpm,
    tempo_confidence: a.confidence,
    windowed_bpm_median: percentile(withBeat, 0.5),
    windowed_bpm_iqr: percentile(withBeat, 0.75) - percentile(withBeat, 0.25),
    beat_window_fraction: a.windowBpm.length === 0 ? Number.NaN : withBeat.length / a.windowBpm.length,
    onset_rate_per_sec: a.onsetRatePerSec,
    duration_sec: a.durationSec,
  };
}

export async function runTempoExtractor(ctx: TempoContext): Promise<ComponentOutcome> {
  const audio = await monoAudio(ctx, TEMPO_PARAMETERS.sampleRate);
  if ('unusable' in audio) return writeTempo(ctx, null, 'audio_missing_or_extract_failed', [audio.unusable]);
  const { samples } = audio;
  if (samples.duration_sec < MIN_TEMPO_DURATION_SEC) {
    return writeTempo(ctx, null, 'video_too_short', [`the audio lasts ${samples.duration_sec.toFixed(2)} s; a tempo needs at least ${MIN_TEMPO_DURATION_SEC} s`]);
  }
  if (silenceOf(samples).silent) return writeTempo(ctx, null, 'audio_missing_or_extract_failed', [`${SILENT_NOTE}: no beat to measure`]);
  const analysis = analyseTempo(samples.samples, TEMPO_PARAMETERS);
  return writeTempo(ctx, analysis, null, analysis.warnings);
}

async function writeTempo(ctx: TempoContext, analysis: TempoAnalysis | null, emptyReason: EmptyReason | null, warnings: string[]): Promise<ComponentOutcome> {
  const status = emptyReason === null ? 'ok' : 'empty';
  const features = analysis ? tempoFeatures(analysis) : null;
  const stream = analysedStream(ctx);
  const meta = artifactMeta({
    identity: ctx.identity,
    producer: 'tempo_extractor',
    producerVersion: TEMPO_PRODUCER_VERSION,
    schemaVersion: TEMPO_SCHEMA_VERSION,
    status,
    emptyReason,
    extra: {
      audio_stream: stream ? streamMeta(stream) : null,
      method: 'log-mel spectral flux onset envelope; windowed autocorrelation; log-normal tempo prior with octave-up check',
      parameters: { ...TEMPO_PARAMETERS },
    },
  });
  const times = analysis?.windowTimesSec ?? [];
  const artifact = await writeArtifact(
    ctx.runDir,
    'tempo_extractor',
    TEMPO_ARTIFACT,
    {
      feature_names: ndarray.objectArray([...TEMPO_FEATURES]),
      feature_values: ndarray.float32(TEMPO_FEATURES.map((name) => (features ? features[name] : Number.NaN)), [TEMPO_FEATURES.length]),
      tempo_estimates: ndarray.float32(analysis?.estimates ?? [], [analysis?.estimates.length ?? 0]),
      windowed_times_sec: ndarray.float32(times, [times.length]),
      windowed_bpm: ndarray.float32(analysis?.windowBpm ?? [], [times.length]),
      warnings: ndarray.objectArray(warnings),
    },
    meta,
  );
  return audioOutcome(artifact, status, emptyReason, warnings);
}
