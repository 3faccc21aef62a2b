/**
 * Timeline geometry and keyboard navigation as pure functions (no DOM), shared by the timeline and compare views
 * and tested in test/e2e-ui/timeline.test.ts.
 */

export type Viewport = [start: number, end: number];

export interface Segment {
  start: number;
  end: number;
}

/** Index of the value in a sorted array closest to t (-1 for an empty array). */
export function nearestIndex(sorted: ArrayLike<number>, t: number): number {
  const n = sorted.length;
  if (n === 0) return -1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(sorted[lo - 1]! - t) <= Math.abs(sorted[lo]! - t)) return lo - 1;
  return lo;
}

/** The segments between cut times over [0, duration]; cuts outside (0, duration) are ignored. */
export function segmentsFrom(cuts: ArrayLike<number>, duration: number): Segment[] {
  const inner = Array.from(cuts)
    .filter((t) => t > 0 && t < duration)
    .sort((a, b) => a - b);
  const bounds = [0, ...inner, duration];
  return bounds.slice(0, -1).map((start, i) => ({ start, end: bounds[i + 1]! }));
}

/** The segment holding t (the last one for t = duration). */
export function segmentAt(segments: Segment[], t: number): number {
  const index = segments.findIndex((s) => t >= s.start && t < s.end);
  return index >= 0 ? index : segments.length - 1;
}

function clampView(start: number, span: number, duration: number): Viewport {
  const width = Math.min(span, duration);
  const from = Math.min(Math.max(0, start), duration - width);
  return [from, from + width];
}

/** Zooms by `factor` (<1 in, >1 out) keeping `center` at the same place on screen. */
export function zoomAround(view: Viewport, center: number, factor: number, duration: number, minSpan: number): Viewport {
  const span = view[1] - view[0];
  const next = Math.min(duration, Math.max(minSpan, span * factor));
  const ratio = span > 0 ? (center - view[0]) / span : 0.5;
  return clampView(center - ratio * next, next, duration);
}

/** The viewport moved (not resized) just enough to show t. */
export function panToInclude(view: Viewport, t: number, duration: number): Viewport {
  const span = view[1] - view[0];
  if (t >= view[0] && t <= view[1]) return view;
  return clampView(t < view[0] ? t : t - span, span, duration);
}

export interface TimelineState {
  cursor: number;
  view: Viewport;
  /** Selected segment, or null. */
  selected: number | null;
}

export interface TimelineFacts {
  /** Times of the stored frames (where the cursor can stop). */
  frameTimes: ArrayLike<number>;
  segments: Segment[];
  duration: number;
  /** Narrowest viewport (seconds). */
  minSpan: number;
}

/**
 * The timeline's keys: ←/→ previous/next stored frame, Shift+←/→ previous/next cut, + and − zoom around the
 * cursor, 0 shows everything, Home/End jump to the ends, Enter selects the segment under the cursor, Escape
 * clears it. Returns null for keys it does not handle.
 */
export function keyNavigate(key: string, shift: boolean, state: TimelineState, facts: TimelineFacts): TimelineState | null {
  const { frameTimes, segments, duration, minSpan } = facts;
  const withCursor = (cursor: number): TimelineState => ({ ...state, cursor, view: panToInclude(state.view, cursor, duration) });
  switch (key) {
    case 'ArrowRight':
    case 'ArrowLeft': {
      const forward = key === 'ArrowRight';
      if (shift) {
        const starts = segments.map((s) => s.start).slice(1);
        const next = forward ? starts.find((t) => t > state.cursor + 1e-9) : [...starts].reverse().find((t) => t < state.cursor - 1e-9);
        return withCursor(next ?? (forward ? duration : 0));
      }
      if (frameTimes.length === 0) return withCursor(Math.min(duration, Math.max(0, state.cursor + (forward ? 1 : -1) / 12)));
      const at = nearestIndex(frameTimes, state.cursor);
      const here = frameTimes[at]!;
      let index = at;
      if (forward) index = here > state.cursor + 1e-9 ? at : Math.min(frameTimes.length - 1, at + 1);
      else index = here < state.cursor - 1e-9 ? at : Math.max(0, at - 1);
      return withCursor(frameTimes[index]!);
    }
    case '+':
    case '=':
      return { ...state, view: zoomAround(state.view, state.cursor, 0.5, duration, minSpan) };
    case '-':
    case '_':
      return { ...state, view: zoomAround(state.view, state.cursor, 2, duration, minSpan) };
    case '0':
      return { ...state, view: [0, duration] };
    case 'Home':
      return withCursor(0);
    case 'End':
      return withCursor(frameTimes.length > 0 ? frameTimes[frameTimes.length - 1]! : duration);
    case 'Enter':
      return segments.length > 0 ? { ...state, selected: segmentAt(segments, state.cursor) } : state;
    case 'Escape':
      return { ...state, selected: null };
    default:
      return null;
  }
}

/** About `count` evenly spaced columns of a heatmap whose columns are frames, labelled with their times. */
export function columnTicks(times: ArrayLike<number> | null, cols: number, count: number, format: (t: number) => string): Array<{ col: number; label: string }> {
  if (cols === 0) return [];
  const picks = new Set(Array.from({ length: Math.min(count, cols) }, (_, k) => Math.round((k * (cols - 1)) / Math.max(1, Math.min(count, cols) - 1))));
  return [...picks].map((col) => ({ col, label: times ? format(times[col]!) : `#${col}` }));
}
