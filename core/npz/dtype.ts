/**
 * NumPy dtype descriptors (`<f4`, `>i8`, `|b1`, `<U7`, `|O`) and the raw element bytes of the supported dtypes.
 */
import { halfToNumber, numberToHalf } from './float16.js';
import type { AnyNdArray, DType, DTypeStorage } from './types.js';
import { npzError, type Where } from './where.js';

type ByteOrder = '<' | '>' | '|';

export interface DescrInfo {
  dtype: DType;
  byteOrder: ByteOrder;
  /** Bytes per element (4 × length for `U`; 8 for object pointers, never used for data). */
  itemsize: number;
}

export const DTYPES: readonly DType[] = [
  'float16',
  'float32',
  'float64',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'bool',
  'str',
  'object',
];

/** NumPy's kind letter and size per fixed-size dtype: the `f4` in `<f4`. */
const FIXED: Record<Exclude<DType, 'str' | 'object'>, string> = {
  float16: 'f2',
  float32: 'f4',
  float64: 'f8',
  int8: 'i1',
  int16: 'i2',
  int32: 'i4',
  int64: 'i8',
  uint8: 'u1',
  uint16: 'u2',
  uint32: 'u4',
  uint64: 'u8',
  bool: 'b1',
};
const BY_CODE = new Map<string, DType>(Object.entries(FIXED).map(([dtype, code]) => [code, dtype as DType]));

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Parses a descr string as NumPy writes it. Only the dtypes of the value model are supported; anything else
 * (complex, datetime, bytes `S`, void, structured lists) is refused with npy_unsupported_dtype.
 */
export function parseDescr(descr: string, where: Where): DescrInfo {
  const match = /^([<>|=]?)([a-zA-Z?])(\d*)$/.exec(descr);
  const unsupported = () =>
    npzError('npy_unsupported_dtype', `unsupported dtype ${JSON.stringify(descr)} (supported: f2/f4/f8, i1-i8, u1-u8, b1, U, O)`, where);
  if (!match) throw unsupported();
  const [, order = '', kind = '', size = ''] = match;
  let dtype: DType | undefined;
  let itemsize: number;
  if (kind === 'U') {
    // NumPy never stores U0 elements, and zero-width items would let a tiny file claim billions of strings
    if (!(Number(size) >= 1)) throw unsupported();
    dtype = 'str';
    itemsize = 4 * Number(size);
  } else if (kind === 'O') {
    if (size !== '' && size !== '8' && size !== '4') throw unsupported();
    dtype = 'object';
    itemsize = 8;
  } else if (kind === '?') {
    if (size !== '' && size !== '1') throw unsupported();
    dtype = 'bool';
    itemsize = 1;
  } else {
    dtype = BY_CODE.get(`${kind}${size}`);
    itemsize = Number(size);
  }
  if (!dtype || !Number.isSafeInteger(itemsize)) throw unsupported();
  // '=' is the writer's native order; every platform NumPy and Node share today is little-endian
  const byteOrder: ByteOrder = itemsize === 1 || dtype === 'object' || order === '|' ? '|' : order === '>' ? '>' : '<';
  return { dtype, byteOrder, itemsize };
}

/** The little-endian descr the writer uses; `strWidth` is the `U` length in code points. */
export function descrFor(dtype: DType, strWidth = 1): string {
  if (dtype === 'str') return `<U${strWidth}`;
  if (dtype === 'object') return '|O';
  const code = FIXED[dtype];
  return `${code.endsWith('1') ? '|' : '<'}${code}`;
}

/** NumPy's `dtype.__reduce__` argument for the dtype: `f4`, `b1`, `U5`, `O8`. */
export function dtypeCode(dtype: DType, strWidth = 1): string {
  if (dtype === 'str') return `U${strWidth}`;
  if (dtype === 'object') return 'O8';
  return FIXED[dtype];
}

/** Number of elements of a shape, or undefined when it is not a safe integer. */
export function shapeSize(shape: readonly number[]): number | undefined {
  let size = 1;
  for (const dim of shape) size *= dim;
  return Number.isSafeInteger(size) ? size : undefined;
}

export function formatShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** Code points of a string (for `U` widths and UTF-32 encoding). */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function copyAligned(bytes: Uint8Array, itemsize: number, order: ByteOrder): ArrayBuffer {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  if (itemsize > 1 && (order === '>') === HOST_LITTLE_ENDIAN) {
    for (let i = 0; i < out.length; i += itemsize) {
      for (let a = i, b = i + itemsize - 1; a < b; a++, b--) {
        const t = out[a]!;
        out[a] = out[b]!;
        out[b] = t;
      }
    }
  }
  return out.buffer;
}

/** Decodes `count` elements (exactly count × itemsize bytes) of a non-object dtype into its storage type. */
function decodeElements(info: DescrInfo, bytes: Uint8Array, count: number, where: Where): DTypeStorage[DType] {
  const { dtype, byteOrder, itemsize } = info;
  switch (dtype) {
    case 'str':
      return decodeUtf32(bytes, count, itemsize, byteOrder === '>', where);
    case 'object':
      throw new Error('object arrays are pickled, not decoded element by element');
    case 'bool':
      return Uint8Array.from(bytes, (b) => (b ? 1 : 0));
    case 'float16': {
      const bits = new Uint16Array(copyAligned(bytes, 2, byteOrder));
      return Float32Array.from(bits, halfToNumber);
    }
    default: {
      const buffer = copyAligned(bytes, itemsize, byteOrder);
      return new TYPED[dtype](buffer);
    }
  }
}

const TYPED = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
} as const;

/** The typed array class that stores a numeric dtype (float16 is widened to Float32Array). */
export function storageClass(dtype: DType) {
  if (dtype === 'float16') return Float32Array;
  if (dtype === 'bool') return Uint8Array;
  if (dtype === 'str' || dtype === 'object') return Array;
  return TYPED[dtype];
}

function decodeUtf32(bytes: Uint8Array, count: number, itemsize: number, bigEndian: boolean, where: Where): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = itemsize / 4;
  const out = new Array<string>(count);
  const codes: number[] = [];
  for (let i = 0; i < count; i++) {
    codes.length = 0;
    for (let j = 0; j < width; j++) codes.push(view.getUint32((i * width + j) * 4, !bigEndian));
    // NumPy pads with NUL and strips trailing NULs when it hands out an element
    while (codes.length > 0 && codes[codes.length - 1] === 0) codes.pop();
    let text = '';
    for (let j = 0; j < codes.length; j += 4096) {
      const chunk = codes.slice(j, j + 4096);
      if (chunk.some((c) => c > 0x10ffff)) {
        throw npzError('npy_unsupported_dtype', `element ${i} of the U array holds a value beyond U+10FFFF`, where);
      }
      text += String.fromCodePoint(...chunk);
    }
    out[i] = text;
  }
  return out;
}

/** Little-endian element bytes of a validated non-object array (what the writer stores after the header). */
export function encodeElements(array: AnyNdArray, strWidth: number): Uint8Array {
  switch (array.dtype) {
    case 'object':
      throw new Error('object arrays are pickled, not encoded element by element');
    case 'str': {
      const out = new Uint8Array(array.data.length * strWidth * 4);
      const view = new DataView(out.buffer);
      array.data.forEach((text, i) => {
        let offset = i * strWidth * 4;
        for (const char of text) {
          view.setUint32(offset, char.codePointAt(0)!, true);
          offset += 4;
        }
      });
      return out;
    }
    case 'bool':
      return Uint8Array.from(array.data, (b) => (b ? 1 : 0));
    case 'float16': {
      const bits = Uint16Array.from(array.data, numberToHalf);
      return littleEndianBytes(bits, 2);
    }
    default:
      return littleEndianBytes(array.data, array.data.BYTES_PER_ELEMENT);
  }
}

function littleEndianBytes(data: ArrayBufferView, itemsize: number): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  // host → little-endian swaps exactly when little-endian → host does
  return new Uint8Array(copyAligned(bytes, itemsize, '<'));
}

/** Reorders elements stored in Fortran order into C order (NumPy's `shape[::-1]` + transpose on read). */
function fortranToC<T extends { length: number; [index: number]: unknown }>(
  source: T,
  shape: readonly number[],
  make: (length: number) => T,
): T {
  const out = make(source.length);
  const ndim = shape.length;
  if (ndim < 2 || source.length === 0) {
    for (let i = 0; i < source.length; i++) out[i] = source[i];
    return out;
  }
  const fStride: number[] = [];
  for (let k = 0, stride = 1; k < ndim; k++) {
    fStride.push(stride);
    stride *= shape[k]!;
  }
  const index = new Array<number>(ndim).fill(0);
  let f = 0;
  for (let c = 0; c < source.length; c++) {
    out[c] = source[f];
    // advance the C-order odometer and keep the Fortran offset in step
    for (let k = ndim - 1; k >= 0; k--) {
      index[k]!++;
      f += fStride[k]!;
      if (index[k]! < shape[k]!) break;
      f -= index[k]! * fStride[k]!;
      index[k] = 0;
    }
  }
  return out;
}

/**
 * Decodes the data of a non-object array (the caller checked it is size × itemsize bytes) into C order: byte-swapped to host
 * order, float16 widened, Fortran-ordered data transposed.
 */
export function decodeArrayData(
  info: DescrInfo,
  bytes: Uint8Array,
  shape: readonly number[],
  fortranOrder: boolean,
  where: Where,
): DTypeStorage[DType] {
  const data = decodeElements(info, bytes, shapeSize(shape) ?? 0, where);
  if (!fortranOrder || shape.length < 2) return data;
  const Class = storageClass(info.dtype) as unknown as new (length: number) => typeof data;
  return fortranToC(data, shape, (length) => new Class(length));
}
