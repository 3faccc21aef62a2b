/** The timeline's geometry and keyboard navigation (renderer/src/timeline.ts). */
import { describe, expect, it } from 'vitest';
import { columnTicks, keyNavigate, nearestIndex, panToInclude, segmentAt, segmentsFrom, zoomAround, type TimelineFacts, type TimelineState } from '../../renderer/src/timeline.js';

const frameTimes = Float64Array.from({ length: 96 }, (_, i) => i / 12);
const segments = segmentsFrom([2, 4, 6], 8);
const facts: TimelineFacts = { frameTimes, segments, duration: 8, minSpan: 0.5 };
const start: TimelineState = { cursor: 0, view: [0, 8], selected: null };

function press(state: TimelineState, ...keys: string[]): TimelineState {
  return keys.reduce((s, key) => {
    const shift = key.startsWith('Shift+');
    return keyNavigate(shift ? key.slice(6) : key, shift, s, facts)!;
  }, state);
}

describe('timeline geometry', () => {
  it('finds the nearest value, the segments and the segment of a time', () => {
    expect(nearestIndex(frameTimes, 0.99)).toBe(12);
    expect(nearestIndex(frameTimes, -5)).toBe(0);
    expect(nearestIndex(frameTimes, 50)).toBe(95);
    expect(nearestIndex([], 1)).toBe(-1);
    expect(segments).toEqual([
      { start: 0, end: 2 },
      { start: 2, end: 4 },
      { start: 4, end: 6 },
      { start: 6, end: 8 },
    ]);
    expect(segmentsFrom([0, 9, 3], 8)).toEqual([
      { start: 0, end: 3 },
      { start: 3, end: 8 },
    ]);
    expect([segmentAt(segments, 0), segmentAt(segments, 2), segmentAt(segments, 7.99), segmentAt(segments, 8)]).toEqual([0, 1, 3, 3]);
  });

  it('zooms around a point within bounds and pans only as far as needed', () => {
    expect(zoomAround([0, 8], 4, 0.5, 8, 0.5)).toEqual([2, 6]);
    expect(zoomAround([0, 8], 0, 0.5, 8, 0.5)).toEqual([0, 4]);
    expect(zoomAround([0, 1], 0.5, 0.1, 8, 0.5)).toEqual([0.25, 0.75]);
    expect(zoomAround([2, 6], 4, 4, 8, 0.5)).toEqual([0, 8]);
    expect(panToInclude([2, 4], 3, 8)).toEqual([2, 4]);
    expect(panToInclude([2, 4], 5, 8)).toEqual([3, 5]);
    expect(panToInclude([2, 4], 0.5, 8)).toEqual([0.5, 2.5]);
  });

  it('labels evenly spaced heatmap columns with their times', () => {
    expect(columnTicks([0, 1, 2, 3, 4], 5, 3, (t) => `${t}s`)).toEqual([
      { col: 0, label: '0s' },
      { col: 2, label: '2s' },
      { col: 4, label: '4s' },
    ]);
    expect(columnTicks(null, 2, 6, String)).toEqual([
      { col: 0, label: '#0' },
      { col: 1, label: '#1' },
    ]);
  });
});

describe('timeline keys', () => {
  it('steps frame by frame and cut by cut', () => {
    expect(press(start, 'ArrowRight').cursor).toBeCloseTo(1 / 12);
    expect(press(start, 'ArrowRight', 'ArrowRight', 'ArrowLeft').cursor).toBeCloseTo(1 / 12);
    expect(press(start, 'ArrowLeft').cursor).toBe(0);
    expect(press(start, 'Shift+ArrowRight').cursor).toBe(2);
    expect(press(start, 'Shift+ArrowRight', 'Shift+ArrowRight', 'Shift+ArrowRight').cursor).toBe(6);
    expect(press(start, 'End').cursor).toBeCloseTo(95 / 12);
    expect(press(start, 'End', 'Shift+ArrowLeft').cursor).toBe(6);
    expect(press(start, 'End', 'Home').cursor).toBe(0);
    // a cursor between stored frames moves to the next one in the direction asked
    expect(keyNavigate('ArrowRight', false, { ...start, cursor: 1.01 }, facts)!.cursor).toBeCloseTo(13 / 12);
    expect(keyNavigate('ArrowLeft', false, { ...start, cursor: 1.01 }, facts)!.cursor).toBeCloseTo(1);
  });

  it('zooms around the cursor, fits, and keeps the cursor in view', () => {
    const zoomed = press({ ...start, cursor: 4 }, '+', '+');
    expect(zoomed.view).toEqual([3, 5]);
    expect(press(zoomed, '-').view).toEqual([2, 6]);
    expect(press(zoomed, '0').view).toEqual([0, 8]);
    const moved = press(zoomed, 'Shift+ArrowRight');
    expect(moved.cursor).toBe(6);
    expect(moved.view).toEqual([4, 6]);
    expect(press({ ...start, cursor: 4 }, '+', '+', '+', '+', '+', '+').view[1] - press({ ...start, cursor: 4 }, '+', '+', '+', '+', '+', '+').view[0]).toBe(0.5);
  });

  it('selects the shot under the cursor and clears it; other keys are not handled', () => {
    const selected = press({ ...start, cursor: 4.5 }, 'Enter');
    expect(selected.selected).toBe(2);
    expect(press(selected, 'Escape').selected).toBeNull();
    expect(keyNavigate('a', false, start, facts)).toBeNull();
  });
});
