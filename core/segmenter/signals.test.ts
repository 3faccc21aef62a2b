import { describe, expect, it } from 'vitest';
import { CutDetector, DEFAULT_CUT_PARAMS, histogramDistance, HIST_BINS, SignalComputer, type CutDecision } from './signals.js';

const W = 16;
const H = 12;

/** A deterministic textured frame: base colour plus small pseudo-random noise (so histograms are spread). */
function frame(base: [number, number, number], seed: number, noise = 12): Uint8Array {
  const out = new Uint8Array(W * H * 3);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let p = 0; p < W * H; p++) {
    for (let c = 0; c < 3; c++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      out[p * 3 + c] = Math.max(0, Math.min(255, base[c]! + ((x % (2 * noise + 1)) - noise)));
    }
  }
  return out;
}

const A: [number, number, number] = [90, 120, 60];
const B: [number, number, number] = [200, 40, 160];
const C: [number, number, number] = [30, 30, 200];
const WHITE: [number, number, number] = [250, 250, 250];

/** Runs a sequence of frames through SignalComputer and CutDetector; returns every decision in order. */
function detect(frames: Uint8Array[], fps = 12): CutDecision[] {
  const signals = new SignalComputer(W, H);
  const detector = new CutDetector(DEFAULT_CUT_PARAMS, fps);
  const decisions: CutDecision[] = [];
  frames.forEach((f, i) => {
    const out = detector.push(signals.push(f));
    // decisions come in order, each once, `lookahead` frames late
    for (const d of out) expect(d.index).toBeLessThanOrEqual(i - detector.lookahead);
    decisions.push(...out);
  });
  decisions.push(...detector.finish());
  expect(decisions.map((d) => d.index)).toEqual(frames.map((_, i) => i));
  return decisions;
}

const cuts = (decisions: CutDecision[]): number[] => decisions.filter((d) => d.cut).map((d) => d.index);

function shot(base: [number, number, number], length: number, seed: number): Uint8Array[] {
  return Array.from({ length }, (_, k) => frame(base, seed + k));
}

describe('SignalComputer', () => {
  it('luma, histogram difference and motion', () => {
    const signals = new SignalComputer(W, H);
    const first = signals.push(frame(A, 1));
    expect(first.hist_diff).toBe(0);
    expect(first.motion).toBe(0);
    expect(first.hist).toHaveLength(HIST_BINS);
    expect(first.hist.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    const same = signals.push(frame(A, 1));
    expect(same.hist_diff).toBe(0);
    expect(same.motion).toBe(0);
    const noisy = signals.push(frame(A, 2));
    expect(noisy.hist_diff).toBeLessThan(0.2);
    expect(noisy.motion).toBeGreaterThan(0);
    expect(noisy.motion).toBeLessThan(0.1);
    const other = signals.push(frame(B, 3));
    expect(other.hist_diff).toBeGreaterThan(0.9);
    const white = new SignalComputer(W, H).push(frame(WHITE, 1, 0));
    expect(white.luma).toBeCloseTo(250 / 255, 2);
    expect(() => signals.push(new Uint8Array(5))).toThrow(/bytes/);
  });

  it('histogramDistance is the total-variation distance', () => {
    const a = new Float32Array(HIST_BINS);
    const b = new Float32Array(HIST_BINS);
    a[0] = 1;
    b[1] = 1;
    expect(histogramDistance(a, b)).toBe(1);
    expect(histogramDistance(a, a)).toBe(0);
    b[0] = 0.5;
    b[1] = 0.5;
    expect(histogramDistance(a, b)).toBeCloseTo(0.5, 6);
  });
});

describe('CutDetector', () => {
  it('a hard cut is a candidate at the first frame of the new shot', () => {
    const decisions = detect([...shot(A, 15, 0), ...shot(B, 15, 100), ...shot(C, 15, 200)]);
    expect(cuts(decisions)).toEqual([15, 30]);
    expect(decisions[15]!.score).toBeGreaterThan(0.9);
  });

  it('a one-frame flash is not a cut (neither its start nor its return)', () => {
    const frames = [...shot(A, 10, 0), frame(WHITE, 50), ...shot(A, 10, 60)];
    expect(cuts(detect(frames))).toEqual([]);
    // at 24 fps a flash may last two frames
    const two = [...shot(A, 20, 0), frame(WHITE, 50), frame(WHITE, 51), ...shot(A, 20, 60)];
    expect(cuts(detect(two, 24))).toEqual([]);
  });

  it('a flash right before a real cut does not hide the cut', () => {
    const frames = [...shot(A, 10, 0), frame(WHITE, 50), ...shot(B, 12, 60)];
    const found = cuts(detect(frames));
    expect(found.length).toBe(1);
    expect(found[0]).toBeGreaterThanOrEqual(10);
    expect(found[0]).toBeLessThanOrEqual(11);
  });

  it('noise within a shot is not a cut; candidates closer than min_shot_sec are dropped', () => {
    expect(cuts(detect(shot(A, 40, 0)))).toEqual([]);
    // A A A … B C C C: B is a cut, C one frame later is too close (12 fps: 2 frames minimum)
    const frames = [...shot(A, 10, 0), frame(B, 40), ...shot(C, 10, 80)];
    expect(cuts(detect(frames))).toEqual([10]);
  });

  it('the first frame and a cut at the very end are decided', () => {
    const decisions = detect([...shot(A, 10, 0), frame(B, 40)]);
    expect(decisions[0]!.cut).toBe(false);
    expect(cuts(decisions)).toEqual([10]);
  });
});
