/**
 * MediaPipe's SSD anchors (SsdAnchorsCalculator), needed to decode BlazeFace: the raw box offsets are relative to
 * one anchor per output row, in the calculator's order (feature-map row, column, anchor).
 */

export interface SsdAnchorOptions {
  inputWidth: number;
  inputHeight: number;
  minScale: number;
  maxScale: number;
  anchorOffsetX: number;
  anchorOffsetY: number;
  strides: number[];
  aspectRatios: number[];
  /** Adds one anchor per cell at the geometric mean of this and the next layer's scale (1.0 in MediaPipe). */
  interpolatedScaleAspectRatio: number;
  /** Every anchor has width = height = 1 (the box regressor then predicts absolute sizes). */
  fixedAnchorSize: boolean;
}

/** An anchor, normalized to the model input: centre and size in [0, 1]. */
export interface Anchor {
  cx: number;
  cy: number;
  w: number;
  h: number;
}

/** BlazeFace short-range (face_detection_front): 16×16×2 + 8×8×6 = 896 anchors. */
export const BLAZEFACE_FRONT_ANCHORS: SsdAnchorOptions = {
  inputWidth: 128,
  inputHeight: 128,
  minScale: 0.1484375,
  maxScale: 0.75,
  anchorOffsetX: 0.5,
  anchorOffsetY: 0.5,
  strides: [8, 16, 16, 16],
  aspectRatios: [1.0],
  interpolatedScaleAspectRatio: 1.0,
  fixedAnchorSize: true,
};

function layerScale(min: number, max: number, index: number, count: number): number {
  return count === 1 ? (min + max) / 2 : min + ((max - min) * index) / (count - 1);
}

export function ssdAnchors(o: SsdAnchorOptions): Anchor[] {
  const anchors: Anchor[] = [];
  const layers = o.strides.length;
  let layer = 0;
  while (layer < layers) {
    const sizes: { w: number; h: number }[] = [];
    // layers sharing a stride share one feature map: their anchors are emitted together per cell
    let last = layer;
    while (last < layers && o.strides[last] === o.strides[layer]) {
      const scale = layerScale(o.minScale, o.maxScale, last, layers);
      for (const ratio of o.aspectRatios) sizes.push({ w: scale * Math.sqrt(ratio), h: scale / Math.sqrt(ratio) });
      if (o.interpolatedScaleAspectRatio > 0) {
        const next = last === layers - 1 ? 1.0 : layerScale(o.minScale, o.maxScale, last + 1, layers);
        const scale2 = Math.sqrt(scale * next);
        const ratio = o.interpolatedScaleAspectRatio;
        sizes.push({ w: scale2 * Math.sqrt(ratio), h: scale2 / Math.sqrt(ratio) });
      }
      last++;
    }
    const stride = o.strides[layer]!;
    const rows = Math.ceil(o.inputHeight / stride);
    const cols = Math.ceil(o.inputWidth / stride);
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < cols; x++) {
        for (const size of sizes) {
          anchors.push({
            cx: (x + o.anchorOffsetX) / cols,
            cy: (y + o.anchorOffsetY) / rows,
            w: o.fixedAnchorSize ? 1 : size.w,
            h: o.fixedAnchorSize ? 1 : size.h,
          });
        }
      }
    }
    layer = last;
  }
  return anchors;
}
