/**
 * Short-time power spectra and mel filter banks, shared by tempo_extractor (onset strength) and clap_extractor
 * (CLAP's log-mel input). The FFT is fft.js (radix-4, real input); framing, windows and mel filters follow
 * librosa / transformers' `audio_utils` (`spectrogram`, `mel_filter_bank`) so that a model trained on their
 * features gets the same numbers here.
 */
import FFT from 'fft.js';

/** Hann window of length n; `periodic` (the default of torch/librosa/transformers for spectra) or symmetric. */
export function hannWindow(n: number, periodic = true): Float64Array {
  const window = new Float64Array(n);
  const denominator = periodic ? n : n - 1;
  for (let i = 0; i < n; i++) window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / denominator);
  return window;
}

export interface StftOptions {
  /** FFT size = frame length (a power of two). */
  nFft: number;
  hop: number;
  /** Pad nFft/2 on both sides so frame t is centred on sample t·hop (librosa/transformers `center=True`). */
  center: boolean;
  /** How the centring pad is filled: mirrored without repeating the edge sample (numpy `reflect`), or zeros. */
  padMode?: 'reflect' | 'constant';
}

/** Sample i of the centred, padded signal. */
function padded(samples: Float32Array, i: number, mode: 'reflect' | 'constant'): number {
  const n = samples.length;
  if (i >= 0 && i < n) return samples[i]!;
  if (mode === 'constant' || n === 1) return 0;
  // numpy 'reflect' (period 2n − 2), repeated for pads longer than the signal
  const period = 2 * n - 2;
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - j;
  return samples[j]!;
}

/** Number of frames `powerSpectrogram` produces. */
export function frameCount(length: number, options: StftOptions): number {
  const total = options.center ? length + 2 * Math.floor(options.nFft / 2) : length;
  return total < options.nFft ? 0 : 1 + Math.floor((total - options.nFft) / options.hop);
}

/**
 * |STFT|² with a periodic Hann window: (frames, nFft/2 + 1) row-major. `onFrame(t, power)` may consume each
 * frame instead (then nothing is stored and an empty array is returned).
 */
export function powerSpectrogram(samples: Float32Array, options: StftOptions, onFrame?: (t: number, power: Float64Array) => void): Float64Array {
  const { nFft, hop } = options;
  if (!Number.isInteger(Math.log2(nFft))) throw new RangeError(`nFft must be a power of two, got ${nFft}`);
  const mode = options.padMode ?? 'reflect';
  const offset = options.center ? -Math.floor(nFft / 2) : 0;
  const frames = frameCount(samples.length, options);
  const bins = nFft / 2 + 1;
  const window = hannWindow(nFft);
  const fft = new FFT(nFft);
  const input = new Float64Array(nFft);
  const spectrum = fft.createComplexArray() as number[];
  const power = new Float64Array(bins);
  const out = onFrame ? new Float64Array(0) : new Float64Array(frames * bins);
  for (let t = 0; t < frames; t++) {
    const start = t * hop + offset;
    const inside = start >= 0 && start + nFft <= samples.length;
    for (let i = 0; i < nFft; i++) input[i] = (inside ? samples[start + i]! : padded(samples, start + i, mode)) * window[i]!;
    fft.realTransform(spectrum, input);
    for (let k = 0; k < bins; k++) power[k] = spectrum[2 * k]! ** 2 + spectrum[2 * k + 1]! ** 2;
    if (onFrame) onFrame(t, power);
    else out.set(power, t * bins);
  }
  return out;
}

export interface MelOptions {
  sampleRate: number;
  nFft: number;
  nMels: number;
  fMin: number;
  fMax: number;
  /** `slaney` (librosa's default, linear below 1 kHz, logarithmic above) or `htk` (2595·log10(1 + f/700)). */
  scale: 'slaney' | 'htk';
  /** `slaney`: each triangle has unit area (2 / bandwidth); null: peak 1. */
  norm: 'slaney' | null;
}

const SLANEY_LOG_STEP = Math.log(6.4) / 27;

function hzToMel(hz: number, scale: 'slaney' | 'htk'): number {
  if (scale === 'htk') return 2595 * Math.log10(1 + hz / 700);
  return hz < 1000 ? (3 * hz) / 200 : 15 + Math.log(hz / 1000) / SLANEY_LOG_STEP;
}

function melToHz(mel: number, scale: 'slaney' | 'htk'): number {
  if (scale === 'htk') return 700 * (10 ** (mel / 2595) - 1);
  return mel < 15 ? (200 * mel) / 3 : 1000 * Math.exp(SLANEY_LOG_STEP * (mel - 15));
}

/** A mel filter bank as sparse rows: filter m covers bins [start, start + weights.length). */
export interface MelFilterBank {
  nMels: number;
  bins: number;
  filters: { start: number; weights: Float64Array }[];
}

/** Triangular mel filters over the FFT bins, as transformers' `mel_filter_bank` and librosa's `filters.mel`. */
export function melFilterBank(options: MelOptions): MelFilterBank {
  const { sampleRate, nFft, nMels, fMin, fMax, scale } = options;
  const bins = nFft / 2 + 1;
  const melMin = hzToMel(fMin, scale);
  const melMax = hzToMel(fMax, scale);
  const edges = Array.from({ length: nMels + 2 }, (_, i) => melToHz(melMin + ((melMax - melMin) * i) / (nMels + 1), scale));
  const filters: MelFilterBank['filters'] = [];
  for (let m = 0; m < nMels; m++) {
    const [left, centre, right] = [edges[m]!, edges[m + 1]!, edges[m + 2]!];
    const scaleBy = options.norm === 'slaney' ? 2 / (right - left) : 1;
    const values = new Float64Array(bins);
    let first = -1;
    let last = -1;
    for (let k = 0; k < bins; k++) {
      const hz = (k * sampleRate) / nFft;
      const value = Math.max(0, Math.min((hz - left) / (centre - left), (right - hz) / (right - centre)));
      values[k] = value * scaleBy;
      if (value > 0) {
        if (first < 0) first = k;
        last = k;
      }
    }
    filters.push(first < 0 ? { start: 0, weights: new Float64Array(0) } : { start: first, weights: values.slice(first, last + 1) });
  }
  return { nMels, bins, filters };
}

/** Mel energies of one power frame. */
export function applyMel(bank: MelFilterBank, power: Float64Array, out: Float64Array): void {
  for (let m = 0; m < bank.nMels; m++) {
    const { start, weights } = bank.filters[m]!;
    let sum = 0;
    for (let i = 0; i < weights.length; i++) sum += weights[i]! * power[start + i]!;
    out[m] = sum;
  }
}
