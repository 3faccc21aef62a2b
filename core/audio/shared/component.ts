/**
 * What the three audio components share (DESIGN.md §7, seed 001 §8): which audio stream they read, how a missing,
 * unreadable or silent track becomes status empty with `audio_missing_or_extract_failed` (never an error for a
 * valid video), the audio facts recorded in meta, and the outcome they report.
 */
import { isTrendflowError } from '../../contracts/errors.js';
import type { ManifestArtifact } from '../../contracts/manifest.js';
import type { ModelUsed } from '../../contracts/meta.js';
import type { EmptyReason } from '../../contracts/status.js';
import type { PyValue } from '../../npz/index.js';
import type { ComponentOutcome, ComponentRunContext } from '../../pipeline/component.js';
import type { AudioSamples } from '../../video/audio.js';
import type { AudioStreamInfo } from '../../video/probe.js';
import { ABSOLUTE_GATE_LUFS, measureMono } from './bs1770.js';

/** Extraction failures that make an audio component empty instead of failing the run. */
const UNUSABLE_AUDIO = new Set(['audio_missing', 'audio_extract_failed']);

/** The stream every audio component analyses: the first audio stream, as `ctx.audio` / `extractAudio` pick it. */
export function analysedStream(ctx: Pick<ComponentRunContext, 'probe'>): AudioStreamInfo | null {
  return ctx.probe.audio_streams[0] ?? null;
}

/** The stream's facts as a meta dict. */
export function streamMeta(stream: AudioStreamInfo): { [key: string]: PyValue } {
  return {
    index: stream.index,
    codec: stream.codec,
    sample_rate: stream.sample_rate,
    channels: stream.channels,
    channel_layout: stream.channel_layout,
  };
}

export type MonoAudio = { samples: AudioSamples } | { unusable: string };

/**
 * The track as mono at `sampleRate` from `ctx.audio`, or why it cannot be used: no audio stream, or one ffmpeg
 * cannot decode (`audio_missing` / `audio_extract_failed` become the reason; any other failure is thrown).
 */
export async function monoAudio(ctx: Pick<ComponentRunContext, 'audio'>, sampleRate: number): Promise<MonoAudio> {
  try {
    const samples = await ctx.audio(sampleRate);
    return samples ? { samples } : { unusable: 'the video has no audio stream' };
  } catch (error) {
    if (isTrendflowError(error) && UNUSABLE_AUDIO.has(error.code)) return { unusable: `the audio could not be extracted: ${error.message}` };
    throw error;
  }
}

/**
 * Silence as BS.1770 defines what it measures: no 400 ms block of the track reaches the −70 LUFS absolute gate,
 * so its integrated loudness is undefined. Digital zeros, a muted track and a −90 dBFS noise floor are all silent.
 */
export function silenceOf(samples: AudioSamples): { silent: boolean; maxMomentaryLufs: number } {
  const momentary = measureMono(samples.samples, samples.sample_rate).momentary.lufs;
  const max = momentary.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
  return { silent: momentary.length > 0 && !(max > ABSOLUTE_GATE_LUFS), maxMomentaryLufs: momentary.length > 0 ? max : Number.NaN };
}

export const SILENT_NOTE = 'the audio track is silent: no 400 ms block reaches the −70 LUFS absolute gate';

export interface AudioModelFacts {
  models_used: ModelUsed[];
  model_signature: string | null;
  device_used: string | null;
}

/** The outcome of an audio component that wrote `artifact`. */
export function audioOutcome(
  artifact: ManifestArtifact,
  status: 'ok' | 'empty',
  emptyReason: EmptyReason | null,
  notes: string[],
  models: AudioModelFacts = { models_used: [], model_signature: null, device_used: null },
): ComponentOutcome {
  return { status, empty_reason: status === 'empty' ? emptyReason : null, artifacts: [artifact], ...models, notes };
}
