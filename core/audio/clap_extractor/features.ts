/**
 * CLAP's audio input: the log-mel spectrogram of transformers' `ClapFeatureExtractor` as configured for
 * laion/clap-htsat-unfused (truncation `rand_trunc`, padding `repeatpad`): 48 kHz mono, 10 s (480 000 samples;
 * shorter audio is repeated whole as often as it fits, then zero-padded), centred STFT of 1024 with a periodic Hann
 * window and hop 480 (1001 frames), power, 64 Slaney mel bands (Slaney-normalised) from 50 Hz to 14 kHz,
 * 10·log10 with a 1e-10 floor. The random 10 s crop of longer audio is replaced by fixed windows (run.ts).
 */
import { applyMel, frameCount, melFilterBank, powerSpectrogram, type MelFilterBank } from '../shared/spectrum.js';

export const CLAP_PRESET = 'clap_htsat_unfused_48k';

export const CLAP_INPUT = {
  sampleRate: 48_000,
  nFft: 1024,
  hop: 480,
  nMels: 64,
  fMin: 50,
  fMax: 14_000,
  maxSamples: 480_000,
  /** 1 + 480 000 / 480 */
  frames: 1001,
} as const;

let bank: MelFilterBank | null = null;

function clapMelBank(): MelFilterBank {
  bank ??= melFilterBank({ sampleRate: CLAP_INPUT.sampleRate, nFft: CLAP_INPUT.nFft, nMels: CLAP_INPUT.nMels, fMin: CLAP_INPUT.fMin, fMax: CLAP_INPUT.fMax, scale: 'slaney', norm: 'slaney' });
  return bank;
}

/** `repeatpad`: the clip repeated floor(max / length) times, then zeros up to 10 s. */
export function repeatPad(clip: Float32Array): Float32Array {
  if (clip.length === 0) throw new RangeError('cannot pad an empty clip');
  if (clip.length >= CLAP_INPUT.maxSamples) return clip.subarray(0, CLAP_INPUT.maxSamples);
  const out = new Float32Array(CLAP_INPUT.maxSamples);
  const repeats = Math.floor(CLAP_INPUT.maxSamples / clip.length);
  for (let r = 0; r < repeats; r++) out.set(clip, r * clip.length);
  return out;
}

/** The (1001, 64) log-mel features of one clip of at most 10 s, time-major, written into `out` at `offset`. */
export function clapLogMel(clip: Float32Array, out: Float32Array, offset = 0): void {
  const padded = repeatPad(clip);
  const mels = clapMelBank();
  const row = new Float64Array(CLAP_INPUT.nMels);
  const frames = frameCount(padded.length, { nFft: CLAP_INPUT.nFft, hop: CLAP_INPUT.hop, center: true });
  if (frames !== CLAP_INPUT.frames) throw new RangeError(`expected ${CLAP_INPUT.frames} frames, got ${frames}`);
  powerSpectrogram(padded, { nFft: CLAP_INPUT.nFft, hop: CLAP_INPUT.hop, center: true, padMode: 'reflect' }, (t, power) => {
    applyMel(mels, power, row);
    const base = offset + t * CLAP_INPUT.nMels;
    for (let m = 0; m < CLAP_INPUT.nMels; m++) out[base + m] = 10 * Math.log10(Math.max(1e-10, row[m]!));
  });
}
