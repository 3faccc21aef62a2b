/**
 * CLIP image preprocessing presets (seed 000: `triton_preprocess_preset` openai_clip_224 | openai_clip_336 |
 * openai_clip_448), equal in intent to openai/CLIP's torchvision transform for an input size S:
 *
 *   Resize(S, interpolation=BICUBIC)  the shorter side becomes S, the longer int(S * long / short) (torchvision's
 *                                     rounding), on the uint8 RGB image, as PIL does it
 *   CenterCrop(S)                     offsets round((H - S) / 2), round((W - S) / 2) with Python's round (ties to even)
 *   ToTensor()                        uint8 → float32 / 255
 *   Normalize(mean, std)              CLIP's mean (0.48145466, 0.4578275, 0.40821073), std (0.26862954, 0.26130258,
 *                                     0.27577711), float32 arithmetic as torch does it (sub, then div)
 *
 * Output: one (B, 3, S, S) float32 NCHW buffer, channels R, G, B.
 *
 * Resize. PIL's BICUBIC is Keys' cubic with a = -0.5 (Catmull-Rom), widened by the scale factor when shrinking
 * (antialiasing), with 22-bit fixed-point weights, horizontal pass first, each pass rounded to uint8.
 * - Shrinking (the usual case: video frames are larger than S) runs in libvips through sharp with kernel 'cubic',
 *   which is the same Catmull-Rom kernel, also widened when shrinking; of sharp's kernels it is the closest to PIL
 *   (measured against the others: nearest/linear/mitchell/lanczos2/lanczos3/mks2013/mks2021 are all further off).
 *   The residual difference comes from libvips's fixed-point rounding, its copy-the-edge border handling (PIL
 *   renormalizes the truncated kernel instead) and, beyond a 4× shrink, libvips's box pre-shrink. Measured against
 *   the exact port on synthetic frames (preprocess.test.ts): scene-like 500×300…1920×1080 shrunk to 224/336/448,
 *   at most 4 uint8 levels (0.058 in normalized units), ≤ 0.008 on average; pure noise 1280×720, the worst case,
 *   up to 10 levels (0.142), ≤ 0.005 on average.
 * - Enlarging (a frame whose shorter side is below S) uses an exact port of Pillow's resampler (pilBicubicResizeCrop,
 *   bit-exact with Pillow), because libvips enlarges with an interpolator that ignores the kernel and samples on a
 *   grid offset by half an output pixel from PIL's (measured: up to ~100 levels off at hard edges).
 * Only the crop window is computed in both cases (sharp extracts after the resize, libvips computes on demand).
 * Normalization is one table lookup per value.
 */
import sharp from 'sharp';
import { TrendflowError } from '../../contracts/errors.js';

export type ClipPresetName = 'openai_clip_224' | 'openai_clip_336' | 'openai_clip_448';

export interface ClipPreset {
  name: ClipPresetName;
  /** Output side S: images become (3, S, S). */
  size: number;
  mean: [number, number, number];
  std: [number, number, number];
  interpolation: 'bicubic';
}

/** OpenAI CLIP's normalization constants (clip/clip.py `_transform`). */
export const CLIP_MEAN: readonly [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: readonly [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

function preset(name: ClipPresetName, size: number): ClipPreset {
  const mean = Object.freeze([...CLIP_MEAN]) as unknown as ClipPreset['mean'];
  const std = Object.freeze([...CLIP_STD]) as unknown as ClipPreset['std'];
  return Object.freeze({ name, size, mean, std, interpolation: 'bicubic' as const });
}

export const CLIP_PRESETS: Readonly<Record<ClipPresetName, ClipPreset>> = Object.freeze({
  openai_clip_224: preset('openai_clip_224', 224),
  openai_clip_336: preset('openai_clip_336', 336),
  openai_clip_448: preset('openai_clip_448', 448),
});

export const CLIP_PRESET_NAMES = Object.keys(CLIP_PRESETS) as ClipPresetName[];

/** An RGB uint8 image, H×W×3 row-major (what FrameManager returns). */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** torchvision Resize(int): the shorter side becomes `size`, the longer `int(size * long / short)`. */
export function clipResizedSize(width: number, height: number, size: number): { width: number; height: number } {
  if (width <= height) return { width: size, height: Math.trunc((size * height) / width) };
  return { width: Math.trunc((size * width) / height), height: size };
}

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torchvision CenterCrop: top = round((H - S) / 2), left = round((W - S) / 2). */
export function clipCropOffsets(width: number, height: number, size: number): { left: number; top: number } {
  return { left: roundHalfEven((width - size) / 2), top: roundHalfEven((height - size) / 2) };
}

function resolvePreset(p: ClipPresetName | ClipPreset): ClipPreset {
  const found = typeof p === 'string' ? (CLIP_PRESETS as Record<string, ClipPreset | undefined>)[p] : p;
  if (!found || !Number.isInteger(found.size) || found.size < 1) {
    throw new TrendflowError('invalid_argument', `unknown CLIP preprocessing preset ${JSON.stringify(typeof p === 'string' ? p : p?.name)}`);
  }
  return found;
}

/** value → normalized float32, per channel: 3 × 256 entries, computed with torch's float32 steps. */
const lutCache = new Map<string, Float32Array>();
function normalizationTable(p: ClipPreset): Float32Array {
  const key = `${p.mean.join(',')}|${p.std.join(',')}`;
  let lut = lutCache.get(key);
  if (!lut) {
    lut = new Float32Array(3 * 256);
    for (let c = 0; c < 3; c++) {
      const mean = Math.fround(p.mean[c]!);
      const std = Math.fround(p.std[c]!);
      for (let v = 0; v < 256; v++) lut[c * 256 + v] = Math.fround(Math.fround(Math.fround(v / 255) - mean) / std);
    }
    lutCache.set(key, lut);
  }
  return lut;
}

function checkImage(frame: RgbImage, what: string): void {
  const { width, height, data } = frame ?? ({} as RgbImage);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new TrendflowError('invalid_argument', `${what}: width and height must be positive integers, got ${width}×${height}`);
  }
  if (!(data instanceof Uint8Array)) throw new TrendflowError('invalid_argument', `${what}: data must be a Uint8Array of RGB bytes`);
  if (data.length !== width * height * 3) {
    throw new TrendflowError('invalid_argument', `${what}: ${data.length} bytes for ${width}×${height} RGB (expected ${width * height * 3})`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// PIL's bicubic resample (Pillow src/libImaging/Resample.c, 8-bit path), restricted to the crop window

const PRECISION_BITS = 32 - 8 - 2;
const HALF = 1 << (PRECISION_BITS - 1);
const CLIP_HI = 2 ** (PRECISION_BITS + 8);

function keysCubic(x: number): number {
  // a = -0.5 (Catmull-Rom), support 2
  if (x < 0) x = -x;
  if (x < 1) return (1.5 * x - 2.5) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * -0.5;
  return 0;
}

interface Taps {
  /** Taps per output sample (the stride of `weights`). */
  ksize: number;
  /** Per output sample: first input index, number of taps. */
  start: Int32Array;
  count: Int32Array;
  /** 22-bit fixed-point weights, `ksize` per output sample. */
  weights: Int32Array;
}

/** Pillow precompute_coeffs + normalize_coeffs_8bpc, for output samples first … first+n-1 of an in→out resize. */
function pilTaps(inSize: number, outSize: number, first: number, n: number): Taps {
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = 2 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(n);
  const count = new Int32Array(n);
  const weights = new Int32Array(n * ksize);
  const w = new Float64Array(ksize);
  const inv = 1 / filterscale;
  for (let o = 0; o < n; o++) {
    const center = (first + o + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      w[x] = keysCubic((x + xmin - center + 0.5) * inv);
      ww += w[x]!;
    }
    for (let x = 0; x < xmax; x++) {
      const k = ww !== 0 ? w[x]! / ww : w[x]!;
      weights[o * ksize + x] = k < 0 ? Math.trunc(-0.5 + k * (1 << PRECISION_BITS)) : Math.trunc(0.5 + k * (1 << PRECISION_BITS));
    }
    start[o] = xmin;
    count[o] = xmax;
  }
  return { ksize, start, count, weights };
}

function clip8(ss: number): number {
  if (ss >= CLIP_HI) return 255;
  if (ss <= 0) return 0;
  return ss >> PRECISION_BITS;
}

/**
 * Exactly PIL's `img.resize((rw, rh), BICUBIC).crop((left, top, left + S, top + S))` for an RGB image, computing
 * only the crop: horizontal pass (rounded to uint8) over the rows the vertical pass reads, then the vertical pass.
 */
export function pilBicubicResizeCrop(frame: RgbImage, rw: number, rh: number, left: number, top: number, size: number): Uint8Array {
  const { data: src, width: w, height: h } = frame;
  const needH = rw !== w;
  const needV = rh !== h;
  const vt = needV ? pilTaps(h, rh, top, size) : null;
  // input rows the vertical pass reads
  const row0 = vt ? vt.start[0]! : top;
  const row1 = vt ? vt.start[size - 1]! + vt.count[size - 1]! : top + size;
  // horizontal pass → rows row0 … row1-1, `size` columns
  const rows = row1 - row0;
  let mid: Uint8Array;
  if (needH) {
    const ht = pilTaps(w, rw, left, size);
    mid = new Uint8Array(rows * size * 3);
    const { ksize, start, count, weights } = ht;
    for (let y = 0; y < rows; y++) {
      const rowBase = (row0 + y) * w * 3;
      let o = y * size * 3;
      for (let xx = 0; xx < size; xx++) {
        const kb = xx * ksize;
        const n = count[xx]!;
        let p = rowBase + start[xx]! * 3;
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        for (let k = 0; k < n; k++, p += 3) {
          const wk = weights[kb + k]!;
          s0 += src[p]! * wk;
          s1 += src[p + 1]! * wk;
          s2 += src[p + 2]! * wk;
        }
        mid[o++] = clip8(s0);
        mid[o++] = clip8(s1);
        mid[o++] = clip8(s2);
      }
    }
  } else {
    // width unchanged: the crop's columns as they are
    mid = new Uint8Array(rows * size * 3);
    for (let y = 0; y < rows; y++) mid.set(src.subarray(((row0 + y) * w + left) * 3, ((row0 + y) * w + left + size) * 3), y * size * 3);
  }
  if (!vt) return mid; // rows == size
  const out = new Uint8Array(size * size * 3);
  const { ksize, start, count, weights } = vt;
  const stride = size * 3;
  const acc = new Int32Array(stride); // sums stay within int32, as in Pillow's INT32 accumulators
  for (let yy = 0; yy < size; yy++) {
    const kb = yy * ksize;
    const n = count[yy]!;
    const base = (start[yy]! - row0) * stride;
    acc.fill(HALF);
    for (let k = 0; k < n; k++) {
      const wk = weights[kb + k]!;
      const rowStart = base + k * stride;
      for (let x = 0; x < stride; x++) acc[x] = acc[x]! + mid[rowStart + x]! * wk;
    }
    const o = yy * stride;
    for (let x = 0; x < stride; x++) {
      const ss = acc[x]!;
      out[o + x] = ss <= 0 ? 0 : ss >= CLIP_HI ? 255 : ss >> PRECISION_BITS;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

/** Resize (shorter side → S, bicubic) and centre crop: S×S×3 uint8. */
async function resizeAndCrop(frame: RgbImage, size: number, resampler: ClipResampler): Promise<Uint8Array> {
  const { width, height } = frame;
  const resized = clipResizedSize(width, height, size);
  const { left, top } = clipCropOffsets(resized.width, resized.height, size);
  if (resized.width === width && resized.height === height && left === 0 && top === 0) return frame.data; // already S×S
  const enlarge = resized.width > width || resized.height > height;
  if (resampler === 'exact' || enlarge) {
    return pilBicubicResizeCrop(frame, resized.width, resized.height, left, top, size);
  }
  const input = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
  let img = sharp(input, { raw: { width, height, channels: 3 } });
  if (resized.width !== width || resized.height !== height) {
    img = img.resize(resized.width, resized.height, { kernel: 'cubic', fit: 'fill' });
  }
  if (left !== 0 || top !== 0 || resized.width !== size || resized.height !== size) {
    img = img.extract({ left, top, width: size, height: size });
  }
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  if (info.width !== size || info.height !== size || info.channels !== 3) {
    throw new TrendflowError('internal_error', `CLIP preprocessing produced ${info.width}×${info.height}×${info.channels}, expected ${size}×${size}×3`);
  }
  return data;
}

/** HWC uint8 (S×S×3) → CHW normalized float32 at `out[offset …]`. */
function normalizeInto(pixels: Uint8Array, size: number, lut: Float32Array, out: Float32Array, offset: number): void {
  const plane = size * size;
  const g = offset + plane;
  const b = offset + 2 * plane;
  for (let i = 0, j = 0; i < plane; i++, j += 3) {
    out[offset + i] = lut[pixels[j]!]!;
    out[g + i] = lut[256 + pixels[j + 1]!]!;
    out[b + i] = lut[512 + pixels[j + 2]!]!;
  }
}

/**
 * How the resize is computed:
 * - 'auto' (default): sharp/libvips when shrinking (its Catmull-Rom reduce is PIL's bicubic up to rounding and
 *   edge handling), the exact PIL port when enlarging (see the file comment);
 * - 'exact': the PIL port always: bit-exact with Pillow, but single-threaded on the event loop and slow for large
 *   shrink factors (1080p → 224 costs ~10× sharp's CPU, which pre-shrinks with a box filter).
 */
export type ClipResampler = 'auto' | 'exact';

export interface ClipPreprocessOptions {
  /** Reused output buffer; it must hold at least B·3·S·S values; the result is a view of its first B·3·S·S. */
  out?: Float32Array;
  resampler?: ClipResampler;
}

/** Preprocesses a batch of RGB frames into one (B, 3, S, S) float32 buffer (channels R, G, B). */
export async function preprocessClipBatch(
  frames: readonly RgbImage[],
  presetOrName: ClipPresetName | ClipPreset,
  options: ClipPreprocessOptions | Float32Array = {},
): Promise<Float32Array> {
  const { out, resampler = 'auto' } = options instanceof Float32Array ? { out: options } : options;
  if (resampler !== 'auto' && resampler !== 'exact') {
    throw new TrendflowError('invalid_argument', `unknown CLIP resampler ${JSON.stringify(resampler)} (auto or exact)`);
  }
  const p = resolvePreset(presetOrName);
  const size = p.size;
  const per = 3 * size * size;
  if (!Array.isArray(frames)) throw new TrendflowError('invalid_argument', 'CLIP preprocessing: frames must be an array');
  frames.forEach((f, i) => checkImage(f, `CLIP preprocessing, frame ${i}`));
  let target: Float32Array;
  if (out) {
    if (out.length < frames.length * per) {
      throw new TrendflowError('invalid_argument', `CLIP preprocessing: output buffer holds ${out.length} values, the batch needs ${frames.length * per}`);
    }
    target = out.length === frames.length * per ? out : out.subarray(0, frames.length * per);
  } else {
    target = new Float32Array(frames.length * per);
  }
  const lut = normalizationTable(p);
  await Promise.all(
    frames.map(async (frame, i) => {
      let pixels: Uint8Array;
      try {
        pixels = await resizeAndCrop(frame, size, resampler);
      } catch (err) {
        if (err instanceof TrendflowError) throw err;
        throw new TrendflowError('internal_error', `CLIP preprocessing of frame ${i} (${frame.width}×${frame.height}) failed: ${(err as Error).message}`, { cause: err });
      }
      normalizeInto(pixels, size, lut, target, i * per);
    }),
  );
  return target;
}

/** One frame → (1, 3, S, S) float32. */
export async function preprocessClipImage(
  frame: RgbImage,
  presetOrName: ClipPresetName | ClipPreset,
  options: ClipPreprocessOptions | Float32Array = {},
): Promise<Float32Array> {
  return preprocessClipBatch([frame], presetOrName, options);
}
