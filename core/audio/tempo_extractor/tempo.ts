/**
 * Tempo estimation from an onset strength envelope (see README.md for the method and its choices):
 *
 * 1. onset strength: log-mel spectral flux (librosa's `onset_strength`: 64 mel bands, dB with an 80 dB floor below
 *    the loudest bin, positive first difference, mean over bands), one value per 256 samples at 22.05 kHz;
 * 2. periodicity: the autocorrelation of the Hann-windowed, mean-removed envelope over 8 s windows every 2 s,
 *    each normalised to 1 at lag 0; the global periodicity is their mean;
 * 3. tempo: the autocorrelation peak that maximises peak height × a log-normal prior (120 BPM, σ = 1 octave), then
 *    one octave up when the half period is nearly as periodic (≥ 0.8 × the peak) and stays a plausible beat
 *    (≤ 200 BPM) — a pulse train at T is also one at 2T, only the faster level tells them apart; the period is
 *    refined to a fraction of a frame from the first four multiples of the peak;
 * 4. confidence: the normalised autocorrelation at the chosen period (≈ 1 for a metronome, low for speech).
 */
import FFT from 'fft.js';
import { applyMel, hannWindow, melFilterBank, powerSpectrogram } from '../shared/spectrum.js';

export interface TempoParameters {
  sampleRate: number;
  nFft: number;
  hop: number;
  nMels: number;
  windowSec: number;
  windowHopSec: number;
  minBpm: number;
  maxBpm: number;
  priorBpm: number;
  priorOctaves: number;
  /** The octave-up correction applies only while the faster tempo stays at or below this. */
  maxBeatBpm: number;
  octaveRatio: number;
  /** Windowed tempo: the prior is centred on the global tempo with this width (keeps windows on one octave). */
  windowPriorOctaves: number;
  /** Below this confidence the global tempo gets a "no clear beat" warning. */
  minConfidence: number;
  /** A window whose periodicity at its tempo is below this has no beat (NaN). */
  windowMinConfidence: number;
}

export const TEMPO_PARAMETERS: Readonly<TempoParameters> = {
  sampleRate: 22_050,
  nFft: 1024,
  hop: 256,
  nMels: 64,
  windowSec: 8,
  windowHopSec: 2,
  minBpm: 30,
  maxBpm: 300,
  priorBpm: 120,
  priorOctaves: 1,
  maxBeatBpm: 200,
  octaveRatio: 0.8,
  windowPriorOctaves: 0.5,
  minConfidence: 0.3,
  windowMinConfidence: 0.2,
};

/** Envelope frames per second. */
export function frameRate(p: TempoParameters): number {
  return p.sampleRate / p.hop;
}

/** librosa-style onset strength: mean positive log-mel flux per frame (frame t centred at t·hop samples). */
export function onsetStrength(samples: Float32Array, p: TempoParameters): Float64Array {
  const bank = melFilterBank({ sampleRate: p.sampleRate, nFft: p.nFft, nMels: p.nMels, fMin: 0, fMax: p.sampleRate / 2, scale: 'slaney', norm: 'slaney' });
  const mel = new Float64Array(p.nMels);
  const frames: Float32Array[] = [];
  let loudest = Number.NEGATIVE_INFINITY;
  powerSpectrogram(samples, { nFft: p.nFft, hop: p.hop, center: true, padMode: 'constant' }, (_, power) => {
    applyMel(bank, power, mel);
    const db = new Float32Array(p.nMels);
    for (let m = 0; m < p.nMels; m++) {
      db[m] = 10 * Math.log10(Math.max(1e-10, mel[m]!));
      if (db[m]! > loudest) loudest = db[m]!;
    }
    frames.push(db);
  });
  const floor = loudest - 80;
  const envelope = new Float64Array(frames.length);
  for (let t = 1; t < frames.length; t++) {
    const now = frames[t]!;
    const before = frames[t - 1]!;
    let sum = 0;
    for (let m = 0; m < p.nMels; m++) sum += Math.max(0, Math.max(now[m]!, floor) - Math.max(before[m]!, floor));
    envelope[t] = sum / p.nMels;
  }
  return envelope;
}

/** Autocorrelation of the Hann-windowed, mean-removed segment, normalised to 1 at lag 0; null when flat. */
function segmentAutocorrelation(envelope: Float64Array, start: number, length: number): Float64Array | null {
  let mean = 0;
  for (let i = 0; i < length; i++) mean += envelope[start + i]!;
  mean /= length;
  const size = 2 ** Math.ceil(Math.log2(2 * length));
  const fft = new FFT(size);
  const input = new Float64Array(size);
  const window = hannWindow(length, false);
  for (let i = 0; i < length; i++) input[i] = (envelope[start + i]! - mean) * window[i]!;
  const spectrum = fft.createComplexArray() as number[];
  fft.realTransform(spectrum, input);
  fft.completeSpectrum(spectrum);
  for (let k = 0; k < size; k++) {
    spectrum[2 * k] = spectrum[2 * k]! ** 2 + spectrum[2 * k + 1]! ** 2;
    spectrum[2 * k + 1] = 0;
  }
  const back = fft.createComplexArray() as number[];
  fft.inverseTransform(back, spectrum);
  const zero = back[0]!;
  if (!(zero > 1e-12)) return null;
  const acf = new Float64Array(length);
  for (let lag = 0; lag < length; lag++) acf[lag] = back[2 * lag]! / zero;
  return acf;
}

/**
 * The peak of acf near `centre`: the integer argmax in [centre − 1, centre + 1], refined by a parabola through it and
 * its neighbours; `height` is the parabola's vertex (a peak between two lags is not under-read).
 */
function refinePeak(acf: Float64Array, centre: number): { lag: number; height: number } {
  let best = Math.round(centre);
  for (const candidate of [best - 1, best + 1]) if (candidate >= 1 && candidate < acf.length - 1 && acf[candidate]! > acf[best]!) best = candidate;
  if (best < 1 || best >= acf.length - 1) return { lag: best, height: acf[best] ?? Number.NaN };
  const [a, b, c] = [acf[best - 1]!, acf[best]!, acf[best + 1]!];
  const curvature = a - 2 * b + c;
  if (!(curvature < 0)) return { lag: best, height: b };
  const offset = (0.5 * (a - c)) / curvature;
  return { lag: best + offset, height: b - 0.25 * (a - c) * offset };
}

/** The period of a peak near `lag`, from its first (up to) four multiples: least squares over k·τ ≈ peak_k. */
function refinePeriod(acf: Float64Array, lag: number): number {
  let numerator = 0;
  let denominator = 0;
  for (let k = 1; k <= 4 && k * lag < acf.length - 2; k++) {
    const peak = refinePeak(acf, k * lag);
    const weight = Math.max(peak.height, 0);
    numerator += k * peak.lag * weight;
    denominator += k * k * weight;
  }
  return denominator > 0 ? numerator / denominator : lag;
}

const logNormal = (centreBpm: number, octaves: number) => (bpm: number) => Math.exp(-0.5 * (Math.log2(bpm / centreBpm) / octaves) ** 2);

interface Candidate {
  lag: number;
  bpm: number;
  strength: number;
  score: number;
}

/** Local maxima of the autocorrelation in the tempo range, scored by strength × prior, best first. */
function candidates(acf: Float64Array, fps: number, p: TempoParameters, prior: (bpm: number) => number): Candidate[] {
  const minLag = Math.max(1, Math.floor((60 * fps) / p.maxBpm));
  const maxLag = Math.min(acf.length - 2, Math.ceil((60 * fps) / p.minBpm));
  const found: Candidate[] = [];
  for (let lag = minLag; lag <= maxLag; lag++) {
    const value = acf[lag]!;
    if (value > 0 && value >= acf[lag - 1]! && value >= acf[lag + 1]!) {
      const peak = refinePeak(acf, lag);
      const bpm = (60 * fps) / peak.lag;
      found.push({ lag: peak.lag, bpm, strength: peak.height, score: peak.height * prior(bpm) });
    }
  }
  return found.sort((a, b) => b.score - a.score);
}

/** The tempo of one autocorrelation: the best candidate, moved up an octave when the faster level is as periodic. */
function chooseTempo(acf: Float64Array, fps: number, p: TempoParameters, prior: (bpm: number) => number): { bpm: number; strength: number; ranked: Candidate[] } | null {
  const ranked = candidates(acf, fps, p, prior);
  const best = ranked[0];
  if (!best) return null;
  let peak = { lag: best.lag, height: best.strength };
  const half = refinePeak(acf, peak.lag / 2);
  if ((60 * fps) / half.lag <= p.maxBeatBpm && half.height >= p.octaveRatio * peak.height) peak = half;
  const period = refinePeriod(acf, peak.lag);
  return { bpm: (60 * fps) / period, strength: Math.min(1, Math.max(0, peak.height)), ranked };
}

export interface TempoAnalysis {
  /** Global estimates in BPM, the chosen tempo first, then the other autocorrelation peaks by score (≤ 5, > 4 % apart). */
  estimates: number[];
  bpm: number;
  confidence: number;
  windowTimesSec: number[];
  windowBpm: number[];
  onsetRatePerSec: number;
  warnings: string[];
  durationSec: number;
}

/** Start frames of the analysis windows: every hop, plus one ending at the last frame when the hops miss ≥ half a hop. */
function windowStarts(frames: number, length: number, hop: number): number[] {
  if (frames <= length) return [0];
  const starts: number[] = [];
  for (let start = 0; start + length <= frames; start += hop) starts.push(start);
  const last = frames - length;
  if (last - starts[starts.length - 1]! >= hop / 2) starts.push(last);
  return starts;
}

/**
 * Onsets per second: librosa's `onset_detect` peak picking on the envelope scaled to [0, 1] (a local maximum over
 * the previous 30 ms, at least 0.07 above the mean of ±100 ms, 30 ms after the previous onset).
 */
export function onsetRate(envelope: Float64Array, fps: number, durationSec: number): number {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of envelope) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  if (!(max > min) || durationSec <= 0) return 0;
  const x = Float64Array.from(envelope, (v) => (v - min) / (max - min));
  const preMax = Math.round(0.03 * fps);
  const avg = Math.round(0.1 * fps);
  const wait = Math.round(0.03 * fps);
  let count = 0;
  let last = -Infinity;
  for (let n = 0; n < x.length; n++) {
    let isMax = true;
    for (let i = Math.max(0, n - preMax); i < n; i++) if (x[i]! > x[n]!) isMax = false;
    if (!isMax) continue;
    let sum = 0;
    const from = Math.max(0, n - avg);
    const to = Math.min(x.length, n + avg + 1);
    for (let i = from; i < to; i++) sum += x[i]!;
    if (x[n]! >= sum / (to - from) + 0.07 && n - last > wait) {
      count++;
      last = n;
    }
  }
  return count / durationSec;
}

/** Tempo of mono samples at `p.sampleRate`. */
export function analyseTempo(samples: Float32Array, p: TempoParameters = TEMPO_PARAMETERS): TempoAnalysis {
  const fps = frameRate(p);
  const durationSec = samples.length / p.sampleRate;
  const envelope = onsetStrength(samples, p);
  const length = Math.min(envelope.length, Math.round(p.windowSec * fps));
  const starts = windowStarts(envelope.length, length, Math.round(p.windowHopSec * fps));
  const windows = starts.map((start) => segmentAutocorrelation(envelope, start, length));
  const warnings: string[] = [];
  const usable = windows.filter((w): w is Float64Array => w !== null);
  const windowTimesSec = starts.map((start) => (start + length / 2) / fps);
  const onsetRatePerSec = onsetRate(envelope, fps, durationSec);
  if (usable.length === 0) {
    return { estimates: [], bpm: Number.NaN, confidence: 0, windowTimesSec, windowBpm: starts.map(() => Number.NaN), onsetRatePerSec, warnings: ['no onsets: the onset envelope is flat'], durationSec };
  }
  const global = new Float64Array(length);
  for (const w of usable) for (let lag = 0; lag < length; lag++) global[lag] = global[lag]! + w[lag]! / usable.length;
  const chosen = chooseTempo(global, fps, p, logNormal(p.priorBpm, p.priorOctaves));
  if (!chosen) {
    warnings.push(`no periodicity between ${p.minBpm} and ${p.maxBpm} BPM`);
    return { estimates: [], bpm: Number.NaN, confidence: 0, windowTimesSec, windowBpm: starts.map(() => Number.NaN), onsetRatePerSec, warnings, durationSec };
  }
  const estimates = [chosen.bpm];
  for (const candidate of chosen.ranked) {
    if (estimates.length >= 5) break;
    const bpm = (60 * fps) / refinePeriod(global, candidate.lag);
    if (estimates.every((e) => Math.abs(bpm / e - 1) > 0.04)) estimates.push(bpm);
  }
  const windowPrior = logNormal(chosen.bpm, p.windowPriorOctaves);
  const windowBpm = windows.map((acf) => {
    if (!acf) return Number.NaN;
    const local = chooseTempo(acf, fps, { ...p, octaveRatio: Number.POSITIVE_INFINITY }, windowPrior);
    return local && local.strength >= p.windowMinConfidence ? local.bpm : Number.NaN;
  });
  if (chosen.strength < p.minConfidence) {
    warnings.push(`no clear beat: the tempo confidence ${chosen.strength.toFixed(2)} is below ${p.minConfidence}`);
  }
  const withBeat = windowBpm.filter((b) => !Number.isNaN(b)).length;
  if (withBeat < windowBpm.length && chosen.strength >= p.minConfidence) {
    warnings.push(`a beat was found in ${withBeat} of ${windowBpm.length} windows of ${p.windowSec} s`);
  }
  if (envelope.length < Math.round(p.windowSec * fps)) {
    warnings.push(`the audio (${durationSec.toFixed(1)} s) is shorter than one ${p.windowSec} s analysis window`);
  }
  return { estimates, bpm: chosen.bpm, confidence: chosen.strength, windowTimesSec, windowBpm, onsetRatePerSec, warnings, durationSec };
}
