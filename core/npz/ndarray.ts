/**
 * Constructors for producers (`ndarray.float32(data, shape)`, `ndarray.objectScalar(meta)`, …) and typed getters
 * for readers (`getArray`, `getMeta`, `getStringList`).
 */
import { codePointLength, descrFor, DTYPES, formatShape, shapeSize, storageClass } from './dtype.js';
import { roundToHalf } from './float16.js';
import type { AnyNdArray, DType, DTypeStorage, NdArray, NpzContents, PyValue } from './types.js';
import { npzError, type Where } from './where.js';

/**
 * True for an NdArray. The value model has no class for arrays, so this is structural: a dict would need all five
 * fields with the right types (including a matching storage class for `data`) to be mistaken for one.
 */
export function isNdArray(value: unknown): value is AnyNdArray {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<NdArray>;
  return (
    typeof v.dtype === 'string' &&
    DTYPES.includes(v.dtype) &&
    Array.isArray(v.shape) &&
    typeof v.descr === 'string' &&
    typeof v.fortranOrderOnDisk === 'boolean' &&
    v.data instanceof storageClass(v.dtype)
  );
}

const LONE_SURROGATE = /\p{Surrogate}/u;

/** Throws npz_write_unsupported_value for a lone UTF-16 surrogate, which neither UTF-8 nor UTF-32 can carry. */
export function checkWellFormed(text: string, where: Where, what: string): void {
  if (LONE_SURROGATE.test(text)) {
    throw npzError('npz_write_unsupported_value', `${what} contains a lone UTF-16 surrogate`, where);
  }
}

/**
 * Checks an array before it is written and returns the `U` width (code points) for str arrays. A declared width
 * wider than the data (`<U10` read from a file) is kept so a round trip is byte-identical.
 */
export function validateArray(array: AnyNdArray, where: Where): { strWidth: number } {
  const bad = (why: string) => npzError('npz_write_unsupported_value', why, where);
  if (!isNdArray(array)) throw bad('not an NdArray (dtype, shape, data of the dtype’s storage class, descr, fortranOrderOnDisk)');
  if (!array.shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
    throw bad(`shape ${JSON.stringify(array.shape)} must hold non-negative integers`);
  }
  const size = shapeSize(array.shape);
  if (size !== array.data.length) {
    throw bad(`shape ${formatShape(array.shape)} needs ${size} elements but data has ${array.data.length}`);
  }
  if (array.dtype !== 'str') return { strWidth: 1 };
  let strWidth = Math.max(1, Number(/^[<>|=]?U(\d+)$/.exec(array.descr)?.[1] ?? 1));
  array.data.forEach((text, i) => {
    if (typeof text !== 'string') throw bad(`element ${i} of a str array is not a string`);
    checkWellFormed(text, where, `element ${i}`);
    strWidth = Math.max(strWidth, codePointLength(text));
  });
  return { strWidth };
}

function make<D extends DType>(
  dtype: D,
  data: DTypeStorage[D],
  shape: readonly number[] | undefined,
  descr = descrFor(dtype),
): NdArray<D> {
  const array = { dtype, shape: [...(shape ?? [data.length])], data, descr, fortranOrderOnDisk: false } as NdArray<D>;
  validateArray(array as AnyNdArray, {});
  return array;
}

const INT_RANGES = {
  int8: [-(2 ** 7), 2 ** 7 - 1],
  int16: [-(2 ** 15), 2 ** 15 - 1],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint8: [0, 2 ** 8 - 1],
  uint16: [0, 2 ** 16 - 1],
  uint32: [0, 2 ** 32 - 1],
} as const;

function ints<D extends keyof typeof INT_RANGES>(dtype: D) {
  return (data: ArrayLike<number>, shape?: readonly number[]): NdArray<D> => {
    const Class = storageClass(dtype) as unknown as { new (n: number): DTypeStorage[D] & number[] };
    if (data instanceof Class) return make(dtype, data, shape);
    const [min, max] = INT_RANGES[dtype];
    const out = new Class(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      // typed arrays would silently truncate or wrap: refuse instead
      if (!Number.isInteger(v) || v < min || v > max) {
        throw npzError('npz_write_unsupported_value', `element ${i} (${v}) does not fit ${dtype}`, {});
      }
      out[i] = v;
    }
    return make(dtype, out, shape);
  };
}

function bigints<D extends 'int64' | 'uint64'>(dtype: D) {
  const Class = dtype === 'int64' ? BigInt64Array : BigUint64Array;
  const [min, max] = dtype === 'int64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
  return (data: ArrayLike<number | bigint>, shape?: readonly number[]): NdArray<D> => {
    if (data instanceof Class) return make(dtype, data as DTypeStorage[D], shape);
    const out = new Class(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (typeof v === 'number' && !Number.isInteger(v)) {
        throw npzError('npz_write_unsupported_value', `element ${i} (${v}) is not an integer`, {});
      }
      const big = BigInt(v);
      if (big < min || big > max) throw npzError('npz_write_unsupported_value', `element ${i} (${v}) does not fit ${dtype}`, {});
      out[i] = big;
    }
    return make(dtype, out as DTypeStorage[D], shape);
  };
}

/**
 * Array constructors. `shape` defaults to one axis of the data's length; data is C (row-major) order. Typed
 * arrays of the dtype's own storage class are used as-is (not copied).
 */
export const ndarray = {
  /** float16, rounded from the given numbers (ties to even) and stored widened in a Float32Array. */
  float16: (data: ArrayLike<number>, shape?: readonly number[]): NdArray<'float16'> =>
    make('float16', Float32Array.from(data, roundToHalf), shape),
  float32: (data: ArrayLike<number>, shape?: readonly number[]): NdArray<'float32'> =>
    make('float32', data instanceof Float32Array ? data : Float32Array.from(data), shape),
  float64: (data: ArrayLike<number>, shape?: readonly number[]): NdArray<'float64'> =>
    make('float64', data instanceof Float64Array ? data : Float64Array.from(data), shape),
  int8: ints('int8'),
  int16: ints('int16'),
  int32: ints('int32'),
  uint8: ints('uint8'),
  uint16: ints('uint16'),
  uint32: ints('uint32'),
  int64: bigints('int64'),
  uint64: bigints('uint64'),
  bool: (data: ArrayLike<boolean | number>, shape?: readonly number[]): NdArray<'bool'> =>
    make('bool', Uint8Array.from(data as ArrayLike<number>, (v) => (v ? 1 : 0)), shape),
  /** NumPy `<U{n}`, n = the longest string in code points. */
  str: (strings: readonly string[], shape?: readonly number[]): NdArray<'str'> => {
    const width = strings.reduce((max, text) => Math.max(max, codePointLength(text)), 1);
    return make('str', [...strings], shape, descrFor('str', width));
  },
  /** A 0-d object array holding one Python value: how `meta` is stored. */
  objectScalar: (value: PyValue): NdArray<'object'> => make('object', [value], []),
  /** An object array (e.g. a list of str as NumPy writes `np.array(names, dtype=object)`). */
  objectArray: (values: readonly PyValue[], shape?: readonly number[]): NdArray<'object'> => make('object', [...values], shape),
  /** A 0-d array: numbers default to float64 (pass a dtype for ints), bigint to int64, boolean to bool. */
  fromScalar: (value: number | bigint | boolean | string, dtype?: Exclude<DType, 'object'>): AnyNdArray => {
    if (typeof value === 'string' || dtype === 'str') {
      if (typeof value !== 'string' || (dtype ?? 'str') !== 'str') {
        throw npzError('npz_write_unsupported_value', `${JSON.stringify(String(value))} cannot be stored as ${dtype ?? 'str'}`, {});
      }
      return ndarray.str([value], []);
    }
    const type = dtype ?? (typeof value === 'boolean' ? 'bool' : typeof value === 'bigint' ? 'int64' : 'float64');
    if (type === 'int64' || type === 'uint64') return ndarray[type]([typeof value === 'boolean' ? Number(value) : value], []);
    return ndarray[type]([Number(value)], []);
  },
};

function where(key: string, path: string | undefined): Where {
  return path === undefined ? { key } : { path, key };
}

/** The array under `key`, checked to have `dtype`; artifact_invalid when it is missing or has another dtype. */
export function getArray<D extends DType>(npz: NpzContents, key: string, dtype: D, path?: string): NdArray<D> {
  const array = npz.get(key);
  if (!array) throw npzError('artifact_invalid', `missing key '${key}'`, where(key, path));
  if (array.dtype !== dtype) {
    throw npzError('artifact_invalid', `'${key}' has dtype ${array.dtype} (${array.descr}), expected ${dtype}`, where(key, path));
  }
  return array as NdArray<D>;
}

/** The `meta` dict: a 0-d object array holding a dict with str keys. */
export function getMeta(npz: NpzContents, path?: string): { [key: string]: PyValue } {
  const array = getArray(npz, 'meta', 'object', path);
  const value = array.data[0];
  const isDict =
    array.shape.length === 0 &&
    typeof value === 'object' &&
    value !== null &&
    Object.getPrototypeOf(value) === Object.prototype &&
    !isNdArray(value);
  if (!isDict) throw npzError('artifact_invalid', "'meta' is not a 0-d object array holding a dict with str keys", where('meta', path));
  return value as { [key: string]: PyValue };
}

/** A 1-d list of strings, stored either as an object array of str (the contract) or as a `<U` array. */
export function getStringList(npz: NpzContents, key: string, path?: string): string[] {
  const array = npz.get(key);
  if (!array) throw npzError('artifact_invalid', `missing key '${key}'`, where(key, path));
  const strings = array.data as unknown[];
  const ok = array.shape.length === 1 && (array.dtype === 'str' || (array.dtype === 'object' && strings.every((s) => typeof s === 'string')));
  if (!ok) throw npzError('artifact_invalid', `'${key}' is not a 1-d array of str`, where(key, path));
  return [...(strings as string[])];
}
