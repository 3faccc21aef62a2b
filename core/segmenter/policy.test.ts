import { describe, expect, it } from 'vitest';
import { COMPONENT_NAMES, type ComponentName } from '../contracts/components.js';
import { SAMPLING_POLICY_VERSION } from '../contracts/version.js';
import {
  allowedEvents,
  analysisSize,
  checkPolicyParams,
  DEFAULT_POLICY_PARAMS,
  effectiveBudget,
  expectedAnalysisFrames,
  FRAME_COMPONENTS,
  latticeOrder,
  planSampling,
  SAMPLING_REQUIREMENTS,
  signalSize,
  uniformPicks,
} from './policy.js';

const { analysis_short_side: SHORT, analysis_max_long_side: LONG } = DEFAULT_POLICY_PARAMS;

function isSubset(small: readonly number[], big: readonly number[]): boolean {
  const set = new Set(big);
  return small.every((x) => set.has(x));
}

function sortedUnique(values: readonly number[]): boolean {
  return values.every((v, k) => k === 0 || v > values[k - 1]!);
}

/** Declared max frames of every component that gets frames. */
const DECLARED_MAX_SUM = FRAME_COMPONENTS.reduce((sum, name) => {
  const requirement = SAMPLING_REQUIREMENTS[name];
  return sum + (requirement.frames === 'sampled' ? requirement.budget.max : 0);
}, 0);

describe('analysis size', () => {
  it('scales the shorter side to the target, keeps the aspect and never upscales', () => {
    expect(analysisSize({ width: 1920, height: 1080 }, SHORT, LONG)).toEqual({ width: 640, height: 360 });
    expect(analysisSize({ width: 1080, height: 1920 }, SHORT, LONG)).toEqual({ width: 360, height: 640 });
    expect(analysisSize({ width: 3840, height: 2160 }, SHORT, LONG)).toEqual({ width: 640, height: 360 });
    expect(analysisSize({ width: 128, height: 72 }, SHORT, LONG)).toEqual({ width: 128, height: 72 });
    expect(analysisSize({ width: 360, height: 288 }, SHORT, LONG)).toEqual({ width: 360, height: 288 });
    expect(analysisSize({ width: 1280, height: 720 }, 720, LONG)).toEqual({ width: 1280, height: 720 });
    // odd results are fine (rgb24), the aspect is kept to the pixel
    expect(analysisSize({ width: 853, height: 480 }, SHORT, LONG)).toEqual({ width: 640, height: 360 });
    expect(analysisSize({ width: 1000, height: 999 }, SHORT, LONG)).toEqual({ width: 360, height: 360 });
  });

  it('keeps the longer side at most analysis_max_long_side (very wide videos)', () => {
    expect(analysisSize({ width: 4000, height: 300 }, SHORT, LONG)).toEqual({ width: 1280, height: 96 });
    expect(analysisSize({ width: 300, height: 4000 }, SHORT, LONG)).toEqual({ width: 96, height: 1280 });
  });

  it('the signal stream is small and never larger than the analysis frames', () => {
    expect(signalSize({ width: 640, height: 360 }, 64)).toEqual({ width: 64, height: 36 });
    expect(signalSize({ width: 360, height: 640 }, 64)).toEqual({ width: 36, height: 64 });
    expect(signalSize({ width: 32, height: 18 }, 64)).toEqual({ width: 32, height: 18 });
  });

  it('checks the user-settable parameters', () => {
    const ok = { ...DEFAULT_POLICY_PARAMS };
    expect(() => checkPolicyParams(ok)).not.toThrow();
    for (const bad of [{ analysis_fps: 0 }, { analysis_fps: 61 }, { analysis_fps: NaN }, { analysis_short_side: 8 }, { analysis_short_side: 721 }, { analysis_short_side: 360.5 }]) {
      expect(() => checkPolicyParams({ ...ok, ...bad }), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    }
  });
});

describe('analysis timeline', () => {
  it('counts the sampling instants k/fps before the end of the video', () => {
    expect(expectedAnalysisFrames(10, { num: 12, den: 1 })).toBe(120);
    expect(expectedAnalysisFrames(2.98, { num: 12, den: 1 })).toBe(36);
    expect(expectedAnalysisFrames(3, { num: 10, den: 1 })).toBe(30);
    expect(expectedAnalysisFrames(3.03, { num: 10, den: 1 })).toBe(31);
    expect(expectedAnalysisFrames(1, { num: 30000, den: 1001 })).toBe(30);
    expect(expectedAnalysisFrames(0.01, { num: 12, den: 1 })).toBe(1);
  });
});

describe('nested uniform lattice', () => {
  it('starts with start, end and middle, then quarters', () => {
    expect(latticeOrder(101, 5)).toEqual([0, 100, 50, 25, 75]);
    expect(latticeOrder(101, 9)).toEqual([0, 100, 50, 25, 75, 13, 63, 38, 88]);
    expect(latticeOrder(1, 5)).toEqual([0]);
    expect(latticeOrder(2, 5)).toEqual([0, 1]);
    expect(latticeOrder(7, 0)).toEqual([]);
  });

  it('gives min(count, frames) unique frames in range, and every frame when asked for all', () => {
    for (const frames of [1, 2, 3, 5, 7, 36, 100, 127, 128, 129, 1000]) {
      for (const count of [1, 2, 3, 4, 10, 50, 120, 400, 5000]) {
        const picks = uniformPicks(frames, count);
        expect(picks.length, `${frames}/${count}`).toBe(Math.min(frames, count));
        expect(sortedUnique(picks)).toBe(true);
        expect(picks[0]).toBe(0);
        expect(picks.every((p) => Number.isInteger(p) && p >= 0 && p < frames)).toBe(true);
        if (count >= 2) expect(picks[picks.length - 1]).toBe(frames - 1);
        if (count >= 3 && frames >= 3) expect(picks).toContain(Math.round((frames - 1) / 2));
      }
    }
  });

  it('smaller samples are contained in larger ones (nested) and spread evenly', () => {
    for (const frames of [10, 97, 360, 1000, 6000]) {
      const sizes = [2, 3, 7, 60, 120, 200, 400, 750, 1125, 1500].filter((c) => c <= frames);
      for (let k = 1; k < sizes.length; k++) {
        expect(isSubset(uniformPicks(frames, sizes[k - 1]!), uniformPicks(frames, sizes[k]!)), `${frames}: ${sizes[k - 1]} ⊂ ${sizes[k]}`).toBe(true);
      }
      for (const count of sizes) {
        const picks = uniformPicks(frames, count);
        let gap = 0;
        for (let j = 1; j < picks.length; j++) gap = Math.max(gap, picks[j]! - picks[j - 1]!);
        // never more than about twice the even spacing (a partly filled lattice level)
        expect(gap, `${frames}/${count}`).toBeLessThanOrEqual((2 * (frames - 1)) / (count - 1) + 1);
      }
    }
  });
});

describe('budgets', () => {
  it('scales the target with the duration between min and max', () => {
    const declared = { min: 200, max: 800, per_sec: 1 };
    expect(effectiveBudget(declared, 60, 1440)).toEqual({ min: 200, target: 200, max: 800 });
    expect(effectiveBudget(declared, 300, 3600)).toEqual({ min: 200, target: 300, max: 800 });
    expect(effectiveBudget(declared, 1500, 18000)).toEqual({ min: 200, target: 800, max: 800 });
  });

  it('never asks for more frames than exist (short videos)', () => {
    expect(effectiveBudget({ min: 400, max: 1500, per_sec: 2 }, 3, 36)).toEqual({ min: 36, target: 36, max: 36 });
    expect(effectiveBudget({ min: 400, max: 1500, per_sec: 2 }, 0.1, 1)).toEqual({ min: 1, target: 1, max: 1 });
  });

  it('declares the budgets of seed 002 §5', () => {
    const budget = (name: ComponentName) => {
      const requirement = SAMPLING_REQUIREMENTS[name];
      return requirement.frames === 'sampled' ? [requirement.budget.min, requirement.budget.max] : null;
    };
    expect(budget('cut_detection')).toEqual([400, 1500]);
    expect(budget('core_clip')).toEqual([200, 800]);
    expect(budget('core_depth_midas')).toEqual([120, 400]);
    expect(budget('core_face_landmarks')).toEqual([200, 800]);
    expect(budget('shot_quality')).toEqual([200, 1000]);
  });

  it('components that need no frames (audio, text, artifact readers) get none', () => {
    for (const name of ['loudness_extractor', 'tempo_extractor', 'clap_extractor', 'text_processor', 'video_aggregates', 'prediction'] as const) {
      expect(SAMPLING_REQUIREMENTS[name].frames, name).toBe('none');
      expect(FRAME_COMPONENTS).not.toContain(name);
    }
    expect(FRAME_COMPONENTS.length).toBeGreaterThan(0);
    const plan = planSampling(COMPONENT_NAMES, 600, 7200);
    expect(plan.components.map((c) => c.name)).toEqual(FRAME_COMPONENTS);
    expect(planSampling(['loudness_extractor', 'tempo_extractor', 'clap_extractor'], 600, 7200)).toMatchObject({
      components: [],
      lattice_size: 0,
      union_bound: 0,
    });
  });
});

describe('planSampling', () => {
  it('short videos: never more frames than exist; every component gets every frame it can', () => {
    for (const frames of [1, 2, 3, 5, 30, 36, 120, 399]) {
      const plan = planSampling(FRAME_COMPONENTS, frames / 12, frames);
      expect(plan.policy_version).toBe(SAMPLING_POLICY_VERSION);
      expect(plan.union_bound, `${frames}`).toBeLessThanOrEqual(frames);
      for (const c of plan.components) {
        expect(c.budget.max, `${frames} ${c.name}`).toBeLessThanOrEqual(frames);
        expect(c.budget.min).toBeLessThanOrEqual(frames);
        expect(c.uniform.every((p) => p >= 0 && p < frames)).toBe(true);
        expect(sortedUnique(c.uniform)).toBe(true);
        expect(c.uniform.length).toBeLessThanOrEqual(c.budget.max);
        if (!c.requirement.pairs) expect(c.uniform.length, `${frames} ${c.name}`).toBe(Math.min(frames, c.budget.min));
      }
    }
  });

  it('uniform samples cover start, middle and end and are nested across components', () => {
    const frames = 6000;
    const plan = planSampling(FRAME_COMPONENTS, 500, frames);
    const lattice = uniformPicks(frames, plan.lattice_size);
    for (const c of plan.components) {
      expect(c.uniform[0], c.name).toBe(0);
      expect(c.uniform[c.uniform.length - 1], c.name).toBe(frames - 1);
      const mid = (frames - 1) / 2;
      expect(c.uniform.some((p) => Math.abs(p - mid) <= 1), c.name).toBe(true);
      if (c.requirement.pairs) {
        // every anchor brings its next frame
        const set = new Set(c.uniform);
        const anchors = uniformPicks(frames, c.uniform_count);
        for (const a of anchors) expect(set.has(a + 1 < frames ? a + 1 : a - 1), `${c.name} anchor ${a}`).toBe(true);
        expect(isSubset(anchors, lattice)).toBe(true);
      } else {
        expect(isSubset(c.uniform, lattice), c.name).toBe(true);
      }
    }
  });

  it('long videos: the union is bounded whatever the duration (a 20–25 minute video stores a bounded number)', () => {
    const bounds: number[] = [];
    for (const minutes of [17, 20, 25, 60, 180]) {
      const frames = minutes * 60 * 12;
      const plan = planSampling(FRAME_COMPONENTS, minutes * 60, frames);
      for (const c of plan.components) {
        const requirement = c.requirement;
        expect(c.budget, `${minutes} min ${c.name}`).toEqual({ min: requirement.budget.min, target: requirement.budget.max, max: requirement.budget.max });
        // uniform frames plus every event frame it may add stay within its declared max
        expect(c.uniform.length + c.event_allowance, `${minutes} min ${c.name}`).toBeLessThanOrEqual(requirement.budget.max);
      }
      // the bound is a real upper bound of the union of all uniform frames plus all event allowances
      const uniformUnion = new Set(plan.components.flatMap((c) => c.uniform));
      const allowances = plan.components.reduce((sum, c) => sum + c.event_allowance, 0);
      expect(plan.union_bound).toBeGreaterThanOrEqual(Math.min(frames, uniformUnion.size + allowances));
      expect(plan.union_bound).toBeLessThanOrEqual(DECLARED_MAX_SUM);
      bounds.push(plan.union_bound);
    }
    // capped: the same bound from 17 minutes (every component at its max) to 3 hours, far below the frames that exist
    expect(new Set(bounds).size).toBe(1);
    expect(bounds[0]).toBeLessThanOrEqual(2200);
  });

  it('event allowances are paced over the video, with a little slack', () => {
    expect(allowedEvents(0, 100, 1000)).toBe(0);
    expect(allowedEvents(375, 0, 6000)).toBe(38); // slack of 10 %
    expect(allowedEvents(375, 2999, 6000)).toBe(187 + 38);
    expect(allowedEvents(375, 5999, 6000)).toBe(375);
    expect(allowedEvents(10, 0, 100)).toBe(4);
  });
});
