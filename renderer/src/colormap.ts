/**
 * Viridis (perceptually uniform, readable in grey and by colour-blind readers) as a 256-entry RGB table, from
 * Matt Zucker's degree-6 polynomial fit of matplotlib's viridis (max error below one 8-bit level): a few lines
 * instead of shipping a plotting library for one colour scale.
 */
const C0 = [0.2777273272234177, 0.005407344544966578, 0.3340998053353061];
const C1 = [0.1050930431085774, 1.404613529898575, 1.384590162594685];
const C2 = [-0.3308618287255563, 0.214847559468213, 0.09509516302823659];
const C3 = [-4.634230498983486, -5.799100973351585, -19.33244095627987];
const C4 = [6.228269936347081, 14.17993336680509, 56.69055260068105];
const C5 = [4.776384997670288, -13.74514537774601, -65.35303263337234];
const C6 = [-5.435455855934631, 4.645852612178535, 26.3124352495832];

export const VIRIDIS: Uint8Array = (() => {
  const table = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    for (let c = 0; c < 3; c++) {
      const v = C0[c]! + t * (C1[c]! + t * (C2[c]! + t * (C3[c]! + t * (C4[c]! + t * (C5[c]! + t * C6[c]!)))));
      table[i * 3 + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return table;
})();

/** CSS colour of a value in [min, max] on the viridis scale. */
export function viridisCss(value: number, min: number, max: number): string {
  const k = Math.round(Math.min(1, Math.max(0, (value - min) / (max - min || 1))) * 255) * 3;
  return `rgb(${VIRIDIS[k]}, ${VIRIDIS[k + 1]}, ${VIRIDIS[k + 2]})`;
}

/** Finite min and max of an array (NaN skipped); [0, 1] when there is no finite value. */
export function finiteRange(values: ArrayLike<number>): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return min <= max ? [min, max] : [0, 1];
}
