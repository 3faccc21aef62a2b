import { describe, expect, it } from 'vitest';
import { BLAZEFACE_FRONT_ANCHORS, ssdAnchors } from './anchors.js';

describe('MediaPipe SSD anchors', () => {
  it('gives BlazeFace short-range its 896 anchors in MediaPipe order', () => {
    const anchors = ssdAnchors(BLAZEFACE_FRONT_ANCHORS);
    expect(anchors).toHaveLength(896);
    // stride 8: 16×16 cells, 2 anchors each (aspect 1 and the interpolated scale), row-major
    expect(anchors[0]).toEqual({ cx: 0.5 / 16, cy: 0.5 / 16, w: 1, h: 1 });
    expect(anchors[1]).toEqual(anchors[0]);
    expect(anchors[2]).toEqual({ cx: 1.5 / 16, cy: 0.5 / 16, w: 1, h: 1 });
    expect(anchors[32]).toEqual({ cx: 0.5 / 16, cy: 1.5 / 16, w: 1, h: 1 });
    // the three stride-16 layers share one 8×8 map: 6 anchors per cell
    for (let k = 512; k < 518; k++) expect(anchors[k]).toEqual({ cx: 0.5 / 8, cy: 0.5 / 8, w: 1, h: 1 });
    expect(anchors[518]).toEqual({ cx: 1.5 / 8, cy: 0.5 / 8, w: 1, h: 1 });
    expect(anchors[895]).toEqual({ cx: 7.5 / 8, cy: 7.5 / 8, w: 1, h: 1 });
  });

  it('sizes anchors by layer scale when they are not fixed', () => {
    const anchors = ssdAnchors({ ...BLAZEFACE_FRONT_ANCHORS, fixedAnchorSize: false });
    // layer 0: scale 0.1484375, then the geometric mean with layer 1's scale (0.1484375 + (0.75 − 0.1484375) / 3)
    expect(anchors[0]!.w).toBeCloseTo(0.1484375, 12);
    expect(anchors[1]!.w).toBeCloseTo(Math.sqrt(0.1484375 * (0.1484375 + (0.75 - 0.1484375) / 3)), 12);
    // the last stride-16 layer interpolates towards 1.0
    expect(anchors[517]!.w).toBeCloseTo(Math.sqrt(0.75 * 1.0), 12);
  });
});
