/**
 * Loudness measurement after ITU-R BS.1770-4 and EBU R128 (Tech 3341 meters, Tech 3342 loudness range), streaming:
 * samples are pushed in chunks, only 100 ms energy sums are kept, so memory does not grow with the sample count.
 *
 * Written here rather than taken from npm: the packages that exist (ebur128-wasm: integrated loudness and true peak
 * of whole mono/stereo buffers, built for bundlers; browser Web Audio meters) give neither momentary/short-term
 * series, nor loudness range, nor surround weights, nor streaming. The arithmetic follows the Recommendation:
 * K-weighting (pre-filter shelf + RLB high-pass) derived for the actual sample rate from the analogue prototype the
 * 48 kHz coefficients of BS.1770 Table 1/2 come from (as libebur128 does), 400 ms gating blocks with 75 % overlap,
 * absolute gate −70 LUFS, relative gate −10 LU; loudness range from 3 s short-term values with −70 LUFS and −20 LU
 * gates and the 10th–95th percentile spread; true peak from the 4× polyphase interpolator of BS.1770-4 Annex 2.
 */
import { TrendflowError } from '../../contracts/errors.js';

/** BS.1770's −0.691 dB offset, which makes a 997 Hz sine read the same in LUFS as its RMS level in dBFS. */
export const LOUDNESS_OFFSET_DB = -0.691;
export const ABSOLUTE_GATE_LUFS = -70;
export const RELATIVE_GATE_LU = -10;
export const LRA_RELATIVE_GATE_LU = -20;
/** Energy sums are kept per 100 ms: the step of the momentary and short-term series and of the gating blocks. */
export const SUB_BLOCKS_PER_SECOND = 10;
export const MOMENTARY_SUB_BLOCKS = 4; // 400 ms
export const SHORT_TERM_SUB_BLOCKS = 30; // 3 s

/**
 * BS.1770-4 Annex 2: the order-48 interpolation filter for 4× oversampling, as four phases of 12 taps
 * (phase 3 is phase 0 reversed, phase 2 is phase 1 reversed).
 */
export const TRUE_PEAK_PHASES: readonly (readonly number[])[] = [
  [0.001708984375, 0.010986328125, -0.0196533203125, 0.033203125, -0.0594482421875, 0.1373291015625, 0.97216796875, -0.102294921875, 0.047607421875, -0.0266113281250, 0.014892578125, -0.00830078125],
  [-0.0291748046875, 0.029296875, -0.0517578125, 0.089111328125, -0.16650390625, 0.465087890625, 0.77978515625, -0.2003173828125, 0.1015625, -0.0582275390625, 0.0330810546875, -0.0189208984375],
  [-0.0189208984375, 0.0330810546875, -0.0582275390625, 0.1015625, -0.2003173828125, 0.77978515625, 0.465087890625, -0.16650390625, 0.089111328125, -0.0517578125, 0.029296875, -0.0291748046875],
  [-0.00830078125, 0.014892578125, -0.0266113281250, 0.047607421875, -0.102294921875, 0.97216796875, 0.1373291015625, -0.0594482421875, 0.033203125, -0.0196533203125, 0.010986328125, 0.001708984375],
];
const TAPS = 12;
const PHASE_TAPS = TRUE_PEAK_PHASES.map((phase) => Float64Array.from(phase));
const TRUE_PEAK_BLOCK = 32;
/** No interpolated value can exceed max|x| in its 12 inputs times this: blocks below the running peak are skipped. */
const TRUE_PEAK_GAIN_BOUND = Math.max(...TRUE_PEAK_PHASES.map((phase) => phase.reduce((sum, c) => sum + Math.abs(c), 0)));

export interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/**
 * The two K-weighting stages at `sampleRate`: the high-frequency shelf (stage 1) and the RLB high-pass (stage 2),
 * bilinear transforms of the analogue prototypes whose 48 kHz instances are BS.1770-4 Tables 1 and 2.
 */
export function kWeightingFilters(sampleRate: number): [Biquad, Biquad] {
  // stage 1: shelf, f0 ≈ 1681.97 Hz, +4 dB, Q ≈ 0.7072
  let f0 = 1681.974450955533;
  const gainDb = 3.999843853973347;
  let q = 0.7071752369554196;
  let k = Math.tan((Math.PI * f0) / sampleRate);
  const vh = 10 ** (gainDb / 20);
  const vb = vh ** 0.4996667741545416;
  let a0 = 1 + k / q + k * k;
  const shelf: Biquad = {
    b0: (vh + (vb * k) / q + k * k) / a0,
    b1: (2 * (k * k - vh)) / a0,
    b2: (vh - (vb * k) / q + k * k) / a0,
    a1: (2 * (k * k - 1)) / a0,
    a2: (1 - k / q + k * k) / a0,
  };
  // stage 2: RLB high-pass, f0 ≈ 38.135 Hz, Q ≈ 0.5003; numerator 1, −2, 1 as in Table 2
  f0 = 38.13547087602444;
  q = 0.5003270373238773;
  k = Math.tan((Math.PI * f0) / sampleRate);
  a0 = 1 + k / q + k * k;
  const highPass: Biquad = { b0: 1, b1: -2, b2: 1, a1: (2 * (k * k - 1)) / a0, a2: (1 - k / q + k * k) / a0 };
  return [shelf, highPass];
}

/** 10·log10 of an energy as loudness (−∞ for zero energy). */
export function energyToLufs(energy: number): number {
  return LOUDNESS_OFFSET_DB + 10 * Math.log10(energy);
}

/** A time series of one window length, sampled every 100 ms; `timesSec` are window centres. */
export interface LoudnessSeries {
  timesSec: Float64Array;
  /** LUFS per window; −∞ where the window holds digital silence. */
  lufs: Float64Array;
}

export interface LoudnessMeasurement {
  sampleRate: number;
  channels: number;
  /** Samples per channel that were measured. */
  frames: number;
  durationSec: number;
  /** 400 ms windows (momentary loudness, also the gating blocks of the integrated loudness). */
  momentary: LoudnessSeries;
  /** 3 s windows (short-term loudness, the input of the loudness range). */
  shortTerm: LoudnessSeries;
  /** Gated integrated loudness; NaN when no 400 ms block is above the absolute gate (silence, or too short). */
  integratedLufs: number;
  /** The relative gate of the integrated loudness (NaN with it). */
  relativeGateLufs: number;
  /** Momentary blocks that passed both gates. */
  gatedBlocks: number;
  /** EBU Tech 3342 loudness range and its 10th/95th percentiles; NaN when no short-term value passes its gates. */
  loudnessRangeLu: number;
  lraLowLufs: number;
  lraHighLufs: number;
  /** Short-term values that passed the loudness-range gates (LUFS). */
  lraGatedShortTerm: Float64Array;
  /** Largest |sample| over all channels (linear, 1 = full scale). */
  samplePeak: number;
  /** Largest |value| of the 4× oversampled signal over all channels (linear). */
  truePeak: number;
  /** Unweighted mean square over all samples of all channels. */
  meanSquare: number;
  /** Unweighted RMS level of each 400 ms window in dBFS (20·log10 RMS, full-scale square = 0 dBFS; −∞ for zeros). */
  blockRmsDbfs: Float64Array;
}

/**
 * A streaming BS.1770 meter. `weights[c]` is channel c's weight G (1 for L, R, C; 1.41 for the surrounds; 0 for
 * LFE). Push interleaved float samples with `push`, then call `finish` once.
 */
export class LoudnessMeter {
  readonly channels: number;
  private readonly stages: [Biquad, Biquad];
  /** Per channel: x1, x2, y1, y2 of stage 1, then y1, y2 of stage 2 (stage 2's inputs are stage 1's outputs). */
  private readonly state: Float64Array;
  private readonly history: Float64Array[];
  private frames = 0;
  // 100 ms sub-blocks: K-weighted energy (channel-weighted sum of squares), unweighted sum of squares, samples
  private weighted: number[] = [];
  private unweighted: number[] = [];
  private counts: number[] = [];
  private accWeighted = 0;
  private accUnweighted = 0;
  private accCount = 0;
  private nextBoundary: number;
  private samplePeak = 0;
  private truePeak = 0;
  /** Plain squares of the completed sub-blocks. */
  private totalSquares = 0;
  private finished = false;

  /**
   * `options.truePeak: false` skips the oversampling (the costliest part) when only loudness is wanted; the true
   * peak then reads 0.
   */
  constructor(
    readonly sampleRate: number,
    private readonly weights: readonly number[],
    private readonly options: { truePeak: boolean } = { truePeak: true },
  ) {
    if (!Number.isInteger(sampleRate) || sampleRate < 1000) throw new TrendflowError('invalid_argument', `a loudness meter needs an integer sample rate ≥ 1000 Hz, got ${sampleRate}`);
    if (weights.length < 1 || weights.some((w) => !(w >= 0))) throw new TrendflowError('invalid_argument', 'a loudness meter needs one non-negative weight per channel');
    this.channels = weights.length;
    this.stages = kWeightingFilters(sampleRate);
    this.state = new Float64Array(this.channels * 6);
    this.history = Array.from({ length: this.channels }, () => new Float64Array(TAPS - 1));
    this.nextBoundary = this.subBlockEnd(0);
  }

  /** First sample after sub-block k (sub-blocks are exactly 100 ms on average; ±1 sample where 100 ms is fractional). */
  private subBlockEnd(k: number): number {
    return Math.floor(((k + 1) * this.sampleRate) / SUB_BLOCKS_PER_SECOND);
  }

  /** Interleaved samples, `channels` per frame. */
  push(interleaved: Float32Array): void {
    if (this.finished) throw new Error('the meter has finished');
    const { channels } = this;
    if (interleaved.length % channels !== 0) throw new RangeError(`${interleaved.length} samples are not whole frames of ${channels} channels`);
    const count = interleaved.length / channels;
    // per frame: the channel-weighted K-filtered squares, and the plain squares
    const weightedSquares = new Float64Array(count);
    const squares = new Float64Array(count);
    for (let c = 0; c < channels; c++) {
      this.filterChannel(interleaved, c, count, weightedSquares, squares);
      if (this.options.truePeak) this.updateTruePeak(interleaved, c, count);
    }
    for (let n = 0; n < count; n++) {
      this.accWeighted += weightedSquares[n]!;
      this.accUnweighted += squares[n]!;
      this.accCount++;
      this.frames++;
      if (this.frames === this.nextBoundary) {
        this.weighted.push(this.accWeighted);
        this.unweighted.push(this.accUnweighted);
        this.counts.push(this.accCount);
        this.totalSquares += this.accUnweighted;
        this.accWeighted = 0;
        this.accUnweighted = 0;
        this.accCount = 0;
        this.nextBoundary = this.subBlockEnd(this.weighted.length);
      }
    }
  }

  /** K-weighting of one channel (both biquads, direct form I, double precision), adding its squares per frame. */
  private filterChannel(interleaved: Float32Array, channel: number, count: number, weightedSquares: Float64Array, squares: Float64Array): void {
    const { channels, state } = this;
    const [s1, s2] = this.stages;
    const weight = this.weights[channel]!;
    const o = channel * 6;
    // the filter state lives in locals inside the loop (the hot path of the meter)
    let x1 = state[o]!;
    let x2 = state[o + 1]!;
    let y1 = state[o + 2]!;
    let y2 = state[o + 3]!;
    let z1 = state[o + 4]!;
    let z2 = state[o + 5]!;
    let peak = this.samplePeak;
    for (let n = 0, i = channel; n < count; n++, i += channels) {
      const x = interleaved[i]!;
      const magnitude = x < 0 ? -x : x;
      if (magnitude > peak) peak = magnitude;
      squares[n] = squares[n]! + x * x;
      const y = s1.b0 * x + s1.b1 * x1 + s1.b2 * x2 - s1.a1 * y1 - s1.a2 * y2;
      x2 = x1;
      x1 = x;
      const z = s2.b0 * y + s2.b1 * y1 + s2.b2 * y2 - s2.a1 * z1 - s2.a2 * z2;
      y2 = y1;
      y1 = y;
      z2 = z1;
      z1 = z;
      weightedSquares[n] = weightedSquares[n]! + weight * z * z;
    }
    this.samplePeak = peak;
    state[o] = x1;
    state[o + 1] = x2;
    state[o + 2] = y1;
    state[o + 3] = y2;
    state[o + 4] = z1;
    state[o + 5] = z2;
  }

  /**
   * 4× oversampled peak of one channel of a chunk, in blocks of 32 inputs: a block whose bound (its largest input,
   * history included, times the interpolator's largest gain) cannot beat the running peak is skipped.
   */
  private updateTruePeak(interleaved: Float32Array, channel: number, count: number): void {
    const { channels } = this;
    const history = this.history[channel]!;
    const span = TAPS - 1;
    const x = new Float64Array(span + count);
    x.set(history, 0);
    for (let n = 0, i = channel; n < count; n++, i += channels) x[span + n] = interleaved[i]!;
    let peak = this.truePeak;
    for (let block = span; block < x.length; block += TRUE_PEAK_BLOCK) {
      const end = Math.min(x.length, block + TRUE_PEAK_BLOCK);
      let maxAbs = 0;
      for (let i = block - span; i < end; i++) {
        const magnitude = x[i]! < 0 ? -x[i]! : x[i]!;
        if (magnitude > maxAbs) maxAbs = magnitude;
      }
      if (maxAbs * TRUE_PEAK_GAIN_BOUND <= peak) continue;
      for (const phase of PHASE_TAPS) {
        for (let n = block; n < end; n++) {
          let y = 0;
          for (let k = 0; k < TAPS; k++) y += phase[k]! * x[n - k]!;
          const magnitude = y < 0 ? -y : y;
          if (magnitude > peak) peak = magnitude;
        }
      }
    }
    this.truePeak = peak;
    history.set(x.subarray(x.length - span));
  }

  finish(): LoudnessMeasurement {
    if (this.finished) throw new Error('the meter has finished');
    this.finished = true;
    // the flush: 11 zeros push the last inputs through every phase of the interpolator
    if (this.options.truePeak) this.updateTruePeakTail();
    const subBlocks = this.weighted.length;
    const momentary = this.windows(MOMENTARY_SUB_BLOCKS, subBlocks);
    const shortTerm = this.windows(SHORT_TERM_SUB_BLOCKS, subBlocks);

    // integrated loudness: BS.1770-4 §2.8, two-stage gating over the 400 ms blocks
    const blockEnergies = momentary.energies;
    const aboveAbsolute = blockEnergies.filter((e) => energyToLufs(e) > ABSOLUTE_GATE_LUFS);
    let integratedLufs = Number.NaN;
    let relativeGateLufs = Number.NaN;
    let gatedBlocks = 0;
    if (aboveAbsolute.length > 0) {
      relativeGateLufs = energyToLufs(mean(aboveAbsolute)) + RELATIVE_GATE_LU;
      const gated = aboveAbsolute.filter((e) => energyToLufs(e) > relativeGateLufs);
      gatedBlocks = gated.length;
      integratedLufs = energyToLufs(mean(gated));
    }

    // loudness range: EBU Tech 3342 over the short-term values
    const shortAbove = shortTerm.energies.filter((e) => energyToLufs(e) > ABSOLUTE_GATE_LUFS);
    let lra = Number.NaN;
    let low = Number.NaN;
    let high = Number.NaN;
    let lraGated = new Float64Array(0);
    if (shortAbove.length > 0) {
      const gate = energyToLufs(mean(shortAbove)) + LRA_RELATIVE_GATE_LU;
      lraGated = Float64Array.from(shortAbove.map(energyToLufs).filter((l) => l > gate)).sort();
      if (lraGated.length > 0) {
        low = nearestRankPercentile(lraGated, 0.1);
        high = nearestRankPercentile(lraGated, 0.95);
        lra = high - low;
      }
    }

    const blockRmsDbfs = new Float64Array(momentary.energies.length);
    for (let j = 0; j < blockRmsDbfs.length; j++) {
      const squares = sumRange(this.unweighted, j, MOMENTARY_SUB_BLOCKS);
      const samples = sumRange(this.counts, j, MOMENTARY_SUB_BLOCKS) * this.channels;
      blockRmsDbfs[j] = 10 * Math.log10(squares / samples);
    }

    return {
      sampleRate: this.sampleRate,
      channels: this.channels,
      frames: this.frames,
      durationSec: this.frames / this.sampleRate,
      momentary: { timesSec: momentary.timesSec, lufs: Float64Array.from(momentary.energies, energyToLufs) },
      shortTerm: { timesSec: shortTerm.timesSec, lufs: Float64Array.from(shortTerm.energies, energyToLufs) },
      integratedLufs,
      relativeGateLufs,
      gatedBlocks,
      loudnessRangeLu: lra,
      lraLowLufs: low,
      lraHighLufs: high,
      lraGatedShortTerm: lraGated,
      samplePeak: this.samplePeak,
      truePeak: this.truePeak,
      // the trailing partial sub-block counts here (every sample), though not in any window
      meanSquare: this.frames > 0 ? (this.totalSquares + this.accUnweighted) / (this.frames * this.channels) : Number.NaN,
      blockRmsDbfs,
    };
  }

  private updateTruePeakTail(): void {
    const zeros = new Float32Array((TAPS - 1) * this.channels);
    for (let c = 0; c < this.channels; c++) this.updateTruePeak(zeros, c, TAPS - 1);
  }

  /** Mean K-weighted energies of every complete window of `length` sub-blocks, stepping one sub-block. */
  private windows(length: number, subBlocks: number): { energies: number[]; timesSec: Float64Array } {
    const count = Math.max(0, subBlocks - length + 1);
    const energies: number[] = new Array<number>(count);
    const timesSec = new Float64Array(count);
    for (let j = 0; j < count; j++) {
      energies[j] = sumRange(this.weighted, j, length) / sumRange(this.counts, j, length);
      const start = j === 0 ? 0 : this.subBlockEnd(j - 1);
      const end = this.subBlockEnd(j + length - 1);
      timesSec[j] = (start + end) / 2 / this.sampleRate;
    }
    return { energies, timesSec };
  }
}

function sumRange(values: number[], start: number, length: number): number {
  let sum = 0;
  for (let i = start; i < start + length; i++) sum += values[i]!;
  return sum;
}

function mean(values: number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** EBU Tech 3342's percentile: the value at sorted position round((n − 1)·p) (0-based). */
export function nearestRankPercentile(sorted: Float64Array, p: number): number {
  return sorted[Math.round((sorted.length - 1) * p)]!;
}

/** Loudness of a whole mono signal held in memory, without true peak: for components that ask whether it is silent. */
export function measureMono(samples: Float32Array, sampleRate: number): LoudnessMeasurement {
  const meter = new LoudnessMeter(sampleRate, [1], { truePeak: false });
  meter.push(samples);
  return meter.finish();
}
