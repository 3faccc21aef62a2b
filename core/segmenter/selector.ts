/**
 * The online part of the sampling: a small ring of recent analysis frames, the fixed uniform frames of the plan,
 * and the event frames decided from cut candidates (dense windows, at least one frame per candidate shot).
 * Frames leave the ring in order; a frame that some component selected is handed back for writing, so the union
 * is written sorted and nothing is held longer than the ring. See README.md ("Online selection").
 */
import type { ComponentName } from '../contracts/components.js';
import { allowedEvents, type ComponentPlan, type SamplingPlan } from './policy.js';
import type { CutDecision } from './signals.js';

export interface RingFrame {
  /** Index on the analysis timeline. */
  index: number;
  timestamp_sec: number;
  /** Analysis-size RGB pixels. */
  rgb: Uint8Array;
}

export type EventKind = 'per_shot' | 'window';

export interface ComponentSelection {
  name: ComponentName;
  /** Selected analysis-timeline indices, sorted and unique. */
  frames: number[];
  counts: { uniform: number; per_shot: number; window: number; total: number };
  /** Event frames refused because the component's allowance was used up. */
  events_refused: number;
  /** Candidate shots left without a frame of this component (allowance used up). */
  shots_uncovered: number;
}

export interface SelectorOptions {
  /** Cut-decision delay in frames (CutDetector.lookahead). */
  lookahead: number;
  /** Bytes of one analysis frame. */
  frameBytes: number;
  /** Memory cap of the ring (default 256 MiB); the ring is never smaller than the dense windows need. */
  maxRingBytes?: number;
}

/** Uniform picks this close to the planned end are placed relative to the real end (resolved in finish()). */
const TAIL = 2;

interface ComponentState {
  plan: ComponentPlan;
  /** Uniform picks before the tail, sorted. */
  uniform: number[];
  /** Tail picks as distances from the last frame (0 = last frame). */
  tail: number[];
  selected: Set<number>;
  /** Event frames, sorted. */
  events: number[];
  eventKinds: Map<number, EventKind>;
  eventsRefused: number;
  shotsUncovered: number;
}

export class OnlineSelector {
  readonly ringSize: number;
  private readonly ring: RingFrame[] = [];
  private readonly states: ComponentState[];
  private readonly expected: number;
  private received = 0;
  private shotStart = 0;
  private readonly cuts: CutDecision[] = [];
  private finished = false;

  constructor(
    readonly plan: SamplingPlan,
    readonly options: SelectorOptions,
  ) {
    this.expected = plan.frames;
    this.states = plan.components.map((component) => {
      const uniform: number[] = [];
      const tail: number[] = [];
      for (const p of component.uniform) {
        if (p >= this.expected - TAIL) tail.push(this.expected - 1 - p);
        else uniform.push(p);
      }
      return {
        plan: component,
        uniform,
        tail,
        selected: new Set(uniform),
        events: [],
        eventKinds: new Map(),
        eventsRefused: 0,
        shotsUncovered: 0,
      };
    });
    const windowBefore = Math.max(0, ...plan.components.map((c) => c.requirement.dense_window?.before ?? 0));
    const windowAfter = Math.max(0, ...plan.components.map((c) => c.requirement.dense_window?.after ?? 0));
    const perShotGap = Math.max(0, ...plan.components.filter((c) => c.requirement.per_shot > 0).map((c) => c.max_uniform_gap));
    const needed = Math.max(options.lookahead + windowBefore + 2, TAIL + 2, windowAfter + 1);
    const wanted = Math.max(needed, options.lookahead + Math.ceil(perShotGap / 2) + 3);
    const byMemory = Math.floor((options.maxRingBytes ?? 256 * 1024 * 1024) / Math.max(1, options.frameBytes));
    this.ringSize = Math.max(needed, Math.min(wanted, byMemory));
  }

  /** Frames received so far. */
  get frameCount(): number {
    return this.received;
  }

  /** Cut candidates decided so far. */
  get cutCandidates(): readonly CutDecision[] {
    return this.cuts;
  }

  /**
   * Adds the next analysis frame and the cut decisions that became available with it (for frames up to
   * frame.index - lookahead). Returns the selected frames that left the ring, in order: write them.
   */
  push(frame: RingFrame, decisions: readonly CutDecision[]): RingFrame[] {
    if (this.finished) throw new Error('OnlineSelector: push after finish');
    if (frame.index !== this.received) throw new Error(`OnlineSelector: expected frame ${this.received}, got ${frame.index}`);
    this.received++;
    this.ring.push(frame);
    for (const decision of decisions) this.decide(decision);
    return this.evict(this.ringSize);
  }

  /**
   * The end of the video: the last decisions, tail picks placed relative to the real last frame, the last shot
   * closed. Returns the remaining selected frames, in order.
   */
  finish(decisions: readonly CutDecision[]): RingFrame[] {
    if (this.finished) throw new Error('OnlineSelector: finish twice');
    for (const decision of decisions) this.decide(decision);
    this.finished = true;
    const total = this.received;
    for (const state of this.states) {
      // picks on frames that never came (the video was shorter than planned)
      for (const p of [...state.selected]) if (p >= total) state.selected.delete(p);
      state.uniform = state.uniform.filter((p) => p < total);
      const tail = state.tail.map((distance) => total - 1 - distance).filter((p) => p >= 0);
      state.tail = [];
      for (const p of tail) {
        if (!state.selected.has(p)) state.uniform.push(p);
        state.selected.add(p);
      }
      state.uniform = [...new Set(state.uniform)].sort((a, b) => a - b);
    }
    if (total > 0) this.closeShot(this.shotStart, total, total - 1);
    return this.evict(0);
  }

  /** Per-component results (after finish). */
  selections(): ComponentSelection[] {
    if (!this.finished) throw new Error('OnlineSelector: selections before finish');
    return this.states.map((state) => {
      const frames = [...state.selected].sort((a, b) => a - b);
      let perShot = 0;
      let window = 0;
      for (const kind of state.eventKinds.values()) {
        if (kind === 'per_shot') perShot++;
        else window++;
      }
      return {
        name: state.plan.name,
        frames,
        counts: { uniform: frames.length - perShot - window, per_shot: perShot, window, total: frames.length },
        events_refused: state.eventsRefused,
        shots_uncovered: state.shotsUncovered,
      };
    });
  }

  // -------------------------------------------------------------------------------------------------------------

  private isSelected(index: number): boolean {
    return this.states.some((s) => s.selected.has(index));
  }

  private inRing(index: number): boolean {
    const oldest = this.ring[0]?.index ?? Infinity;
    return index >= oldest && index < this.received;
  }

  private evict(keep: number): RingFrame[] {
    const out: RingFrame[] = [];
    while (this.ring.length > keep) {
      const frame = this.ring.shift() as RingFrame;
      if (this.isSelected(frame.index)) out.push(frame);
    }
    return out;
  }

  private decide(decision: CutDecision): void {
    if (!decision.cut) return;
    this.cuts.push(decision);
    const c = decision.index;
    // dense windows first, so that per-shot coverage can reuse their frames
    for (const state of this.states) {
      const window = state.plan.requirement.dense_window;
      if (!window) continue;
      for (const f of windowOrder(c, window.before, window.after)) {
        if (f >= 0 && this.inRing(f)) this.addEvent(state, f, 'window', c);
      }
    }
    this.closeShot(this.shotStart, c, c);
    this.shotStart = c;
  }

  /** Makes sure every per-shot component has its frames in the shot [start, end). */
  private closeShot(start: number, end: number, decidedAt: number): void {
    if (end <= start) return;
    for (const state of this.states) {
      const k = state.plan.requirement.per_shot;
      if (k <= 0) continue;
      const have = this.countIn(state, start, end);
      for (let j = have; j < k; j++) {
        const target = start + Math.floor(((2 * j + 1) * (end - start)) / (2 * k));
        const pick = this.pickInShot(state, start, end, target);
        if (pick === null || !this.addEvent(state, pick, 'per_shot', decidedAt)) {
          state.shotsUncovered++;
          break;
        }
      }
    }
  }

  private countIn(state: ComponentState, start: number, end: number): number {
    let count = lowerBound(state.uniform, end) - lowerBound(state.uniform, start);
    count += lowerBound(state.events, end) - lowerBound(state.events, start);
    return count;
  }

  /**
   * A frame of the shot for this component: the union frame nearest to `target` (stores nothing new), else the
   * target itself, else (the target already left the ring) the oldest frame of the shot still in the ring.
   */
  private pickInShot(state: ComponentState, start: number, end: number, target: number): number | null {
    let best: number | null = null;
    for (const frame of this.ring) {
      const f = frame.index;
      if (f < start || f >= end || state.selected.has(f) || !this.isSelected(f)) continue;
      if (best === null || Math.abs(f - target) < Math.abs(best - target)) best = f;
    }
    if (best !== null) return best;
    if (this.inRing(target) && !state.selected.has(target)) return target;
    for (const frame of this.ring) {
      if (frame.index >= start && frame.index < end && !state.selected.has(frame.index)) return frame.index;
    }
    return null;
  }

  private addEvent(state: ComponentState, frame: number, kind: EventKind, decidedAt: number): boolean {
    if (state.selected.has(frame)) return true;
    const used = state.events.length;
    if (used >= allowedEvents(state.plan.event_allowance, decidedAt, this.expected)) {
      state.eventsRefused++;
      return false;
    }
    state.selected.add(frame);
    state.events.splice(lowerBound(state.events, frame), 0, frame);
    state.eventKinds.set(frame, kind);
    return true;
  }
}

/** Window frames around a cut at c, nearest to the boundary first: c-1, c, c-2, c+1, … */
export function windowOrder(c: number, before: number, after: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < Math.max(before, after); k++) {
    if (k < before) out.push(c - 1 - k);
    if (k < after) out.push(c + k);
  }
  return out;
}

/** First position in sorted `values` whose value is ≥ x. */
function lowerBound(values: readonly number[], x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
