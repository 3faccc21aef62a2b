import { describe, expect, it } from 'vitest';
import type { ComponentName } from '../contracts/components.js';
import { FRAME_COMPONENTS, planSampling } from './policy.js';
import { OnlineSelector, windowOrder, type RingFrame } from './selector.js';
import type { CutDecision } from './signals.js';

const LOOKAHEAD = 2;

/**
 * Feeds `total` frames (1 byte each) through an OnlineSelector planned for `expected` frames, with cut decisions
 * at `cutAt`, delivered `LOOKAHEAD` frames late as CutDetector does. Returns what was written and the selections.
 */
function run(components: readonly ComponentName[], expected: number, total: number, cutAt: readonly number[], maxRingBytes?: number) {
  const plan = planSampling(components, expected / 12, expected);
  const selector = new OnlineSelector(plan, { lookahead: LOOKAHEAD, frameBytes: 1, ...(maxRingBytes ? { maxRingBytes } : {}) });
  const cuts = new Set(cutAt);
  const decision = (index: number): CutDecision => ({ index, cut: cuts.has(index), score: cuts.has(index) ? 0.9 : 0.01 });
  const written: RingFrame[] = [];
  for (let i = 0; i < total; i++) {
    const decisions = i - LOOKAHEAD >= 0 ? [decision(i - LOOKAHEAD)] : [];
    written.push(...selector.push({ index: i, timestamp_sec: i / 12, rgb: Uint8Array.of(i & 0xff) }, decisions));
  }
  const rest: CutDecision[] = [];
  for (let d = Math.max(0, total - LOOKAHEAD); d < total; d++) rest.push(decision(d));
  written.push(...selector.finish(rest));
  const selections = selector.selections();
  return { plan, selector, written: written.map((f) => f.index), selections };
}

function check(result: ReturnType<typeof run>, total: number): void {
  const { written, selections } = result;
  // the union is written once, in order, and is exactly the union of the components' frames
  expect(written.every((v, k) => k === 0 || v > written[k - 1]!)).toBe(true);
  const union = new Set(selections.flatMap((s) => s.frames));
  expect([...union].sort((a, b) => a - b)).toEqual(written);
  for (const s of selections) {
    expect(s.frames.every((v, k) => k === 0 || v > s.frames[k - 1]!), s.name).toBe(true);
    expect(s.frames.every((f) => f >= 0 && f < total), s.name).toBe(true);
    expect(s.counts.total).toBe(s.frames.length);
    expect(s.counts.uniform + s.counts.per_shot + s.counts.window).toBe(s.frames.length);
    const budget = result.plan.components.find((c) => c.name === s.name)!.budget;
    expect(s.frames.length, s.name).toBeLessThanOrEqual(budget.max);
  }
}

describe('OnlineSelector', () => {
  it('keeps the uniform frames (start, middle, end) and writes nothing else without cuts', () => {
    const result = run(['core_depth_midas'], 2400, 2400, []);
    check(result, 2400);
    const [depth] = result.selections;
    expect(depth!.frames).toEqual(result.plan.components[0]!.uniform);
    expect(depth!.frames).toHaveLength(120);
    expect(depth!.frames).toContain(0);
    expect(depth!.frames).toContain(2399);
    expect(depth!.frames.some((f) => Math.abs(f - 1199.5) <= 1)).toBe(true);
    expect(result.selector.cutCandidates).toEqual([]);
  });

  it('dense windows around every cut for cut_detection; at least one frame per shot for core_clip', () => {
    const cutAt = [100, 103, 500, 507, 900, 1600, 2390];
    const result = run(['cut_detection', 'core_clip', 'core_depth_midas'], 2400, 2400, cutAt);
    check(result, 2400);
    const by = Object.fromEntries(result.selections.map((s) => [s.name, s]));
    const cutFrames = new Set(by.cut_detection!.frames);
    for (const c of cutAt) {
      for (const f of [c - 2, c - 1, c, c + 1]) expect(cutFrames.has(f), `cut ${c}: frame ${f}`).toBe(true);
    }
    expect(by.cut_detection!.counts.window).toBeGreaterThan(0);
    const bounds = [0, ...cutAt, 2400];
    const clip = by.core_clip!.frames;
    for (let k = 1; k < bounds.length; k++) {
      const [start, end] = [bounds[k - 1]!, bounds[k]!];
      expect(clip.some((f) => f >= start && f < end), `core_clip shot [${start}, ${end})`).toBe(true);
    }
    expect(by.core_clip!.shots_uncovered).toBe(0);
    expect(by.core_clip!.counts.per_shot).toBeGreaterThan(0);
    // a component without event strategies is untouched by cuts
    expect(by.core_depth_midas!.frames).toEqual(result.plan.components.find((c) => c.name === 'core_depth_midas')!.uniform);
    expect(result.selector.cutCandidates.map((c) => c.index)).toEqual(cutAt);
  });

  it('per-shot frames reuse frames already in the union when they can', () => {
    // cut_detection stores the window frames; core_clip's frame for the short shot [500, 503) can be one of them
    const result = run(['cut_detection', 'core_clip'], 2400, 2400, [500, 503]);
    check(result, 2400);
    const clip = result.selections.find((s) => s.name === 'core_clip')!.frames;
    const window = new Set(result.selections.find((s) => s.name === 'cut_detection')!.frames);
    const inShot = clip.filter((f) => f >= 500 && f < 503);
    expect(inShot.length).toBeGreaterThanOrEqual(1);
    expect(inShot.every((f) => window.has(f))).toBe(true);
  });

  it('every cut at the limit: event frames stay within the allowance, paced over the video', () => {
    const cutAt = Array.from({ length: 799 }, (_, k) => 3 * (k + 1));
    const result = run(FRAME_COMPONENTS, 2400, 2400, cutAt);
    check(result, 2400);
    const union = new Set(result.written);
    expect(union.size).toBeLessThanOrEqual(result.plan.union_bound);
    const cutDetection = result.selections.find((s) => s.name === 'cut_detection')!;
    expect(cutDetection.events_refused).toBeGreaterThan(0);
    const allowance = result.plan.components.find((c) => c.name === 'cut_detection')!.event_allowance;
    expect(cutDetection.counts.window).toBeLessThanOrEqual(allowance);
    // window frames are spread: some in the last quarter of the video too
    const uniform = new Set(result.plan.components.find((c) => c.name === 'cut_detection')!.uniform);
    const events = cutDetection.frames.filter((f) => !uniform.has(f));
    expect(events.some((f) => f >= 1800)).toBe(true);
  });

  it('places the end picks on the real last frame when the video is shorter or longer than probed', () => {
    for (const total of [2390, 2405]) {
      const result = run(['core_clip', 'core_optical_flow'], 2400, total, []);
      check(result, total);
      for (const s of result.selections) {
        expect(s.frames[0], `${total} ${s.name}`).toBe(0);
        expect(s.frames[s.frames.length - 1], `${total} ${s.name}`).toBe(total - 1);
      }
    }
  });

  it('the ring is capped by memory but never smaller than the windows need', () => {
    const plan = planSampling(FRAME_COMPONENTS, 200, 2400);
    const small = new OnlineSelector(plan, { lookahead: LOOKAHEAD, frameBytes: 1000, maxRingBytes: 1000 });
    expect(small.ringSize).toBe(LOOKAHEAD + 2 + 2);
    const big = new OnlineSelector(plan, { lookahead: LOOKAHEAD, frameBytes: 1 });
    expect(big.ringSize).toBeGreaterThan(small.ringSize);
    const result = run(['cut_detection'], 2400, 2400, [50, 1000], 1);
    expect(result.selections[0]!.frames).toEqual(expect.arrayContaining([48, 49, 50, 51, 998, 999, 1000, 1001]));
  });

  it('windowOrder: nearest to the boundary first', () => {
    expect(windowOrder(10, 2, 2)).toEqual([9, 10, 8, 11]);
    expect(windowOrder(10, 1, 3)).toEqual([9, 10, 11, 12]);
  });
});
