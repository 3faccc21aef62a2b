import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TrendflowError } from '../../contracts/errors.js';
import { numpyAvailableOrCi, runPython } from '../../../test/helpers/python.js';
import {
  CLIP_MEAN,
  CLIP_PRESET_NAMES,
  CLIP_PRESETS,
  CLIP_STD,
  clipCropOffsets,
  clipResizedSize,
  preprocessClipBatch,
  preprocessClipImage,
  type RgbImage,
} from './preprocess.js';

// ---------------------------------------------------------------------------------------------------------------
// Independent reference: PIL's Image.resize(BICUBIC) for 8-bit RGB (Pillow src/libImaging/Resample.c) written out
// in plain JS — Keys cubic a = -0.5 with support 2, widened by the scale factor when shrinking; coefficients
// normalized in double then to 22-bit fixed point; horizontal pass first, each pass rounded and clipped to uint8 —
// then torchvision's CenterCrop and ToTensor + Normalize. It shares no code with preprocess.ts. When a Python
// with Pillow is found, the resize part is checked to be bit-exact against Pillow itself (the test further down).

const PRECISION_BITS = 32 - 8 - 2;

function bicubic(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/** Pillow precompute_coeffs + normalize_coeffs_8bpc for a full-range box. */
function coefficients(inSize: number, outSize: number): { ksize: number; bounds: number[]; kk: number[] } {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 2 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds: number[] = [];
  const kk = new Array<number>(outSize * ksize).fill(0);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    const w: number[] = [];
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const v = bicubic((x + xmin - center + 0.5) * ss);
      w.push(v);
      ww += v;
    }
    for (let x = 0; x < xmax; x++) {
      const k = ww !== 0 ? w[x]! / ww : w[x]!;
      kk[xx * ksize + x] = k < 0 ? Math.trunc(-0.5 + k * (1 << PRECISION_BITS)) : Math.trunc(0.5 + k * (1 << PRECISION_BITS));
    }
    bounds.push(xmin, xmax);
  }
  return { ksize, bounds, kk };
}

function clip8(v: number): number {
  if (v >= 2 ** (PRECISION_BITS + 8)) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / 2 ** PRECISION_BITS);
}

/** Pillow's two-pass 8-bit resample of an RGB image. */
function pilResizeBicubic(img: RgbImage, outW: number, outH: number): RgbImage {
  let cur = img;
  if (outW !== img.width) {
    const { ksize, bounds, kk } = coefficients(img.width, outW);
    const data = new Uint8Array(outW * img.height * 3);
    for (let y = 0; y < img.height; y++) {
      for (let xx = 0; xx < outW; xx++) {
        const xmin = bounds[2 * xx]!;
        const xmax = bounds[2 * xx + 1]!;
        for (let c = 0; c < 3; c++) {
          let ss = 2 ** (PRECISION_BITS - 1);
          for (let x = 0; x < xmax; x++) ss += img.data[(y * img.width + x + xmin) * 3 + c]! * kk[xx * ksize + x]!;
          data[(y * outW + xx) * 3 + c] = clip8(ss);
        }
      }
    }
    cur = { data, width: outW, height: img.height };
  }
  if (outH !== img.height) {
    const { ksize, bounds, kk } = coefficients(img.height, outH);
    const data = new Uint8Array(cur.width * outH * 3);
    for (let yy = 0; yy < outH; yy++) {
      const ymin = bounds[2 * yy]!;
      const ymax = bounds[2 * yy + 1]!;
      for (let x = 0; x < cur.width; x++) {
        for (let c = 0; c < 3; c++) {
          let ss = 2 ** (PRECISION_BITS - 1);
          for (let y = 0; y < ymax; y++) ss += cur.data[((y + ymin) * cur.width + x) * 3 + c]! * kk[yy * ksize + y]!;
          data[(yy * cur.width + x) * 3 + c] = clip8(ss);
        }
      }
    }
    cur = { data, width: cur.width, height: outH };
  }
  return cur;
}

/** torchvision Resize(S) (shorter side, int() of the longer) + CenterCrop(S) (Python round) on uint8 RGB. */
function referenceResizeCrop(img: RgbImage, size: number): Uint8Array {
  const short = Math.min(img.width, img.height);
  const long = Math.max(img.width, img.height);
  const newLong = Math.floor((size * long) / short);
  const [w, h] = img.width <= img.height ? [size, newLong] : [newLong, size];
  const resized = pilResizeBicubic(img, w, h);
  const pyRound = (v: number): number => {
    const f = Math.floor(v);
    const d = v - f;
    return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
  };
  const top = pyRound((h - size) / 2);
  const left = pyRound((w - size) / 2);
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    out.set(resized.data.subarray(((y + top) * w + left) * 3, ((y + top) * w + left + size) * 3), y * size * 3);
  }
  return out;
}

/** ToTensor + Normalize in double, NCHW. */
function referenceTensor(pixels: Uint8Array, size: number): Float64Array {
  const plane = size * size;
  const out = new Float64Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[c * plane + i] = (pixels[i * 3 + c]! / 255 - CLIP_MEAN[c]!) / CLIP_STD[c]!;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// synthetic images

function makeImage(width: number, height: number, kind: 'gradient' | 'noise' | 'scene', seed = 1): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      if (kind === 'gradient') {
        data[i] = Math.round((255 * x) / Math.max(1, width - 1));
        data[i + 1] = Math.round((255 * y) / Math.max(1, height - 1));
        data[i + 2] = Math.round(127.5 + 127.5 * Math.sin((x + 2 * y) / 5));
      } else if (kind === 'noise') {
        data[i] = Math.floor(rnd() * 256);
        data[i + 1] = Math.floor(rnd() * 256);
        data[i + 2] = Math.floor(rnd() * 256);
      } else {
        // smooth shading, a hard-edged disc and a little noise: closer to a video frame
        const cx = x - width * 0.6;
        const cy = y - height * 0.45;
        const inDisc = cx * cx + cy * cy < (Math.min(width, height) * 0.25) ** 2;
        const n = (rnd() - 0.5) * 16;
        data[i] = Math.max(0, Math.min(255, Math.round((inDisc ? 220 : (80 * x) / width + 30) + n)));
        data[i + 1] = Math.max(0, Math.min(255, Math.round((inDisc ? 40 : (160 * y) / height + 40) + n)));
        data[i + 2] = Math.max(0, Math.min(255, Math.round((inDisc ? 60 : 120 + 60 * Math.sin(x / 17) * Math.cos(y / 13)) + n)));
      }
    }
  }
  return { data, width, height };
}

/** Bitwise equality of two float32 arrays (vitest's deep equality is slow on 10⁵ elements). */
function sameFloats(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

interface Diff {
  max: number;
  mean: number;
}

function diff(actual: Float32Array, offset: number, expected: Float64Array): Diff {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[offset + i]! - expected[i]!);
    if (d > max) max = d;
    sum += d;
  }
  return { max, mean: sum / expected.length };
}

/**
 * Tolerances, in normalized units (one uint8 level is 1/255/std ≈ 0.0146…0.0150), for frames the default resampler
 * shrinks with sharp (libvips 8.18, kernel 'cubic') — measured max / mean |Δ| against the PIL reference:
 *   scene 500×300 → 224: 0.030 / 0.0039      scene 640×360 → 224, 336: 0.030 / 0.0035, 0.0036
 *   scene 1920×1080 → 224, 336, 448: 0.058 / 0.0076, 0.015 / 0.0025, 0.015 / 0.0028
 *   noise 1280×720 → 224, 336, 448: 0.120 / 0.0029, 0.105 / 0.0036, 0.142 / 0.0047
 * The bounds below leave ~1.5× headroom. Frames the preset enlarges (shorter side < S) go through the exact port of
 * Pillow's resampler and must match to float32 rounding (1e-6).
 */
const SCENE_TOL = { max: 0.09, mean: 0.012 };
const NOISE_TOL = { max: 0.2, mean: 0.008 };
const CASES: { name: string; img: RgbImage; tol: { max: number; mean: number } }[] = [
  { name: '40×30 gradient (enlarged)', img: makeImage(40, 30, 'gradient'), tol: SCENE_TOL },
  { name: '40×30 noise (enlarged)', img: makeImage(40, 30, 'noise', 7), tol: NOISE_TOL },
  { name: '500×300 scene, landscape', img: makeImage(500, 300, 'scene', 3), tol: SCENE_TOL },
  { name: '300×500 scene, portrait', img: makeImage(300, 500, 'scene', 4), tol: SCENE_TOL },
  { name: '640×360 scene (a video frame)', img: makeImage(640, 360, 'scene', 5), tol: SCENE_TOL },
  { name: '1280×720 noise (worst case)', img: makeImage(1280, 720, 'noise', 6), tol: NOISE_TOL },
  { name: '1920×1080 scene (4.8× shrink for 224)', img: makeImage(1920, 1080, 'scene', 8), tol: SCENE_TOL },
  { name: '8×6 gradient, tiny (enlarged)', img: makeImage(8, 6, 'gradient'), tol: SCENE_TOL },
  { name: '30×45 gradient, portrait (enlarged)', img: makeImage(30, 45, 'gradient'), tol: SCENE_TOL },
];

describe.runIf(process.env.CLIP_PREPROCESS_MEASURE)('measure (set CLIP_PREPROCESS_MEASURE=1)', () => {
  it('prints max/mean |Δ| of the default resampler per case and preset', async () => {
    for (const c of CASES) {
      for (const name of CLIP_PRESET_NAMES) {
        const S = CLIP_PRESETS[name].size;
        const d = diff(await preprocessClipImage(c.img, name), 0, referenceTensor(referenceResizeCrop(c.img, S), S));
        console.log(`${c.name} → ${S}: max ${d.max.toFixed(4)} mean ${d.mean.toFixed(5)}`);
      }
    }
  }, 120_000);
});

describe('CLIP preprocessing presets', () => {
  it('presets: sizes 224/336/448, CLIP mean/std, bicubic', () => {
    expect(CLIP_PRESET_NAMES).toEqual(['openai_clip_224', 'openai_clip_336', 'openai_clip_448']);
    expect(CLIP_PRESETS.openai_clip_224.size).toBe(224);
    expect(CLIP_PRESETS.openai_clip_336.size).toBe(336);
    expect(CLIP_PRESETS.openai_clip_448.size).toBe(448);
    for (const name of CLIP_PRESET_NAMES) {
      expect(CLIP_PRESETS[name]).toMatchObject({
        name,
        mean: [0.48145466, 0.4578275, 0.40821073],
        std: [0.26862954, 0.26130258, 0.27577711],
        interpolation: 'bicubic',
      });
    }
  });

  it('resize size and crop offsets follow torchvision', () => {
    expect(clipResizedSize(640, 360, 224)).toEqual({ width: 398, height: 224 }); // int(224 * 640 / 360) = 398
    expect(clipResizedSize(360, 640, 224)).toEqual({ width: 224, height: 398 });
    expect(clipResizedSize(500, 300, 336)).toEqual({ width: 560, height: 336 });
    expect(clipResizedSize(8, 6, 448)).toEqual({ width: 597, height: 448 }); // 597.33
    expect(clipResizedSize(50, 50, 224)).toEqual({ width: 224, height: 224 });
    // round((W - S) / 2) with Python's ties-to-even: 0.5 → 0, 1.5 → 2, 2.5 → 2, 87 → 87
    expect(clipCropOffsets(225, 224, 224)).toEqual({ left: 0, top: 0 });
    expect(clipCropOffsets(227, 224, 224)).toEqual({ left: 2, top: 0 });
    expect(clipCropOffsets(229, 224, 224)).toEqual({ left: 2, top: 0 });
    expect(clipCropOffsets(398, 224, 224)).toEqual({ left: 87, top: 0 });
    expect(clipCropOffsets(224, 597, 224)).toEqual({ left: 0, top: 186 }); // 186.5 → 186
  });

  for (const name of CLIP_PRESET_NAMES) {
    const S = CLIP_PRESETS[name].size;
    describe(name, () => {
      it.each(CASES.map((c) => [c.name, c] as const))('%s: equals the PIL-style reference within tolerance', async (_label, c) => {
        const out = await preprocessClipImage(c.img, name);
        expect(out).toBeInstanceOf(Float32Array);
        expect(out.length).toBe(3 * S * S);
        const d = diff(out, 0, referenceTensor(referenceResizeCrop(c.img, S), S));
        const enlarged = Math.min(c.img.width, c.img.height) < S;
        const tol = enlarged ? { max: 1e-6, mean: 1e-6 } : c.tol;
        expect(d.max, `max |Δ| ${d.max}`).toBeLessThanOrEqual(tol.max);
        expect(d.mean, `mean |Δ| ${d.mean}`).toBeLessThanOrEqual(tol.mean);
      });

      it.each(CASES.filter((c) => c.img.width * c.img.height <= 640 * 360).map((c) => [c.name, c] as const))(
        "%s: resampler 'exact' matches the reference to float32 rounding",
        async (_label, c) => {
          const d = diff(await preprocessClipImage(c.img, name, { resampler: 'exact' }), 0, referenceTensor(referenceResizeCrop(c.img, S), S));
          expect(d.max).toBeLessThanOrEqual(1e-6);
        },
      );
    });
  }

  it('a batch is (B,3,S,S): each item equals the single-image result, in order', async () => {
    const imgs = [makeImage(500, 300, 'scene', 11), makeImage(40, 30, 'gradient'), makeImage(300, 500, 'scene', 12)];
    const batch = await preprocessClipBatch(imgs, 'openai_clip_224');
    const per = 3 * 224 * 224;
    expect(batch.length).toBe(3 * per);
    for (let i = 0; i < imgs.length; i++) {
      const single = await preprocessClipImage(imgs[i]!, CLIP_PRESETS.openai_clip_224);
      expect(sameFloats(batch.subarray(i * per, (i + 1) * per), single)).toBe(true);
    }
  });

  it('layout is NCHW with channels R, G, B and values (v/255 - mean)/std', async () => {
    // a solid image keeps its colour through any interpolating resize: every value is the normalized constant
    const [r, g, b] = [200, 100, 30];
    const img: RgbImage = { width: 37, height: 23, data: new Uint8Array(37 * 23 * 3) };
    for (let i = 0; i < 37 * 23; i++) img.data.set([r, g, b], i * 3);
    const S = 224;
    const out = await preprocessClipImage(img, 'openai_clip_224');
    const plane = S * S;
    [r, g, b].forEach((v, c) => {
      const expected = Math.fround((v / 255 - CLIP_MEAN[c]!) / CLIP_STD[c]!);
      for (const i of [0, 1, S, plane - 1, 12345]) expect(out[c * plane + i]).toBeCloseTo(expected, 6);
    });

    // a left/right split (red left, blue right) stays left/right after the crop: W is the last axis
    const split: RgbImage = { width: 64, height: 32, data: new Uint8Array(64 * 32 * 3) };
    for (let y = 0; y < 32; y++) for (let x = 0; x < 64; x++) split.data.set(x < 32 ? [255, 0, 0] : [0, 0, 255], (y * 64 + x) * 3);
    const t = await preprocessClipImage(split, 'openai_clip_224'); // 448×224 → crop x 112..335
    const at = (c: number, y: number, x: number): number => t[c * plane + y * S + x]!;
    const hi = (c: number): number => (1 - CLIP_MEAN[c]!) / CLIP_STD[c]!;
    const lo = (c: number): number => (0 - CLIP_MEAN[c]!) / CLIP_STD[c]!;
    expect(at(0, 100, 10)).toBeCloseTo(hi(0), 5);
    expect(at(2, 100, 10)).toBeCloseTo(lo(2), 5);
    expect(at(0, 100, 200)).toBeCloseTo(lo(0), 5);
    expect(at(2, 100, 200)).toBeCloseTo(hi(2), 5);
    expect(at(1, 5, 5)).toBeCloseTo(lo(1), 5);
  });

  it('an S×S input passes through untouched (no resample); top-left pixel maps to index 0', async () => {
    const img = makeImage(224, 224, 'noise', 21);
    const out = await preprocessClipImage(img, 'openai_clip_224');
    const ref = referenceTensor(img.data, 224);
    expect(diff(out, 0, ref).max).toBeLessThan(1e-6);
  });

  it('reuses an output buffer', async () => {
    const per = 3 * 224 * 224;
    const buf = new Float32Array(4 * per).fill(NaN);
    const imgs = [makeImage(64, 48, 'gradient'), makeImage(48, 64, 'gradient')];
    const out = await preprocessClipBatch(imgs, 'openai_clip_224', buf);
    expect(out.buffer).toBe(buf.buffer);
    expect(out.length).toBe(2 * per);
    expect(Number.isNaN(buf[2 * per])).toBe(true); // beyond the batch: untouched
    expect(out.every((v) => Number.isFinite(v))).toBe(true);
    await expect(preprocessClipBatch(imgs, 'openai_clip_224', new Float32Array(per))).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('accepts frames that are views into one larger buffer (as FrameManager batches are)', async () => {
    const a = makeImage(50, 40, 'scene', 31);
    const b = makeImage(50, 40, 'scene', 32);
    const joined = new Uint8Array(a.data.length + b.data.length + 7);
    joined.set(a.data, 3);
    joined.set(b.data, 3 + a.data.length);
    const views = [
      { width: 50, height: 40, data: joined.subarray(3, 3 + a.data.length) },
      { width: 50, height: 40, data: joined.subarray(3 + a.data.length, 3 + a.data.length + b.data.length) },
    ];
    for (const preset of ['openai_clip_336', 'openai_clip_224'] as const) {
      expect(sameFloats(await preprocessClipBatch(views, preset), await preprocessClipBatch([a, b], preset))).toBe(true);
    }
  });

  it('an empty batch gives an empty buffer', async () => {
    expect((await preprocessClipBatch([], 'openai_clip_224')).length).toBe(0);
  });

  it('invalid input → invalid_argument', async () => {
    const bad = [
      { width: 10, height: 10, data: new Uint8Array(299) },
      { width: 10, height: 10, data: new Uint8Array(400) }, // RGBA-sized
      { width: 0, height: 10, data: new Uint8Array(0) },
      { width: 2.5, height: 2, data: new Uint8Array(15) },
      { width: 2, height: 2, data: [1, 2, 3] as unknown as Uint8Array },
    ];
    for (const frame of bad) {
      const err = await preprocessClipImage(frame, 'openai_clip_224').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TrendflowError);
      expect((err as TrendflowError).code).toBe('invalid_argument');
    }
    await expect(preprocessClipBatch([makeImage(4, 4, 'gradient')], 'openai_clip_999' as never)).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

describe.skipIf(!numpyAvailableOrCi)('normalization in float32 as torch does it', () => {
  it('ToTensor + Normalize values equal NumPy float32 (x / 255 - mean) / std bit for bit', async () => {
    // an S×S image is not resampled, so the output is the normalization of every byte value
    const S = 224;
    const img: RgbImage = { width: S, height: S, data: new Uint8Array(S * S * 3) };
    for (let i = 0; i < S * S; i++) img.data.set([i % 256, (i * 7) % 256, 255 - (i % 256)], i * 3);
    const out = await preprocessClipImage(img, 'openai_clip_224');
    const script = [
      'import sys, numpy as np',
      'S = 224',
      'x = np.frombuffer(bytes.fromhex(sys.stdin.read().strip()), dtype=np.uint8).reshape(S, S, 3)',
      't = x.transpose(2, 0, 1).astype(np.float32) / np.float32(255)',
      'mean = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32).reshape(3, 1, 1)',
      'std = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32).reshape(3, 1, 1)',
      'sys.stdout.write(((t - mean) / std).astype(np.float32).tobytes().hex())',
    ].join('\n');
    const expected = Buffer.from(runPython(script, [], Buffer.from(img.data).toString('hex')), 'hex');
    expect(Buffer.from(out.buffer, out.byteOffset, out.byteLength).equals(expected)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Optional: the reference against Pillow itself (skipped when no python3 with PIL is found; CI has none).

function findPillowPython(): string | null {
  for (const py of [process.env.TRENDFLOW_PIL_PYTHON, 'python3', '/usr/bin/python3']) {
    if (!py || (py.startsWith('/') && !existsSync(py))) continue;
    const r = spawnSync(py, ['-c', 'import PIL.Image'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}
const PIL_PYTHON = findPillowPython();

const PIL_SCRIPT = `
import sys
from PIL import Image
w, h, rw, rh, S, left, top = map(int, sys.argv[1:8])
img = Image.frombytes('RGB', (w, h), sys.stdin.buffer.read())
out = img.resize((rw, rh), Image.BICUBIC).crop((left, top, left + S, top + S))
sys.stdout.buffer.write(out.tobytes())
`;

describe.skipIf(!PIL_PYTHON)('the reference matches Pillow bit for bit', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_label, c) => {
    for (const S of [224, 336, 448]) {
      const { width: rw, height: rh } = clipResizedSize(c.img.width, c.img.height, S);
      const { left, top } = clipCropOffsets(rw, rh, S);
      const pil = execFileSync(PIL_PYTHON!, ['-c', PIL_SCRIPT, ...[c.img.width, c.img.height, rw, rh, S, left, top].map(String)], {
        input: c.img.data,
        maxBuffer: 64 << 20,
      });
      expect(Buffer.from(referenceResizeCrop(c.img, S)).equals(pil)).toBe(true);
    }
  });
});
