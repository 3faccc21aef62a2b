/**
 * Renderings of arrays and Python values for people and for JSON (used by `trendflow npz show`).
 *
 * JSON cannot say everything Python can, so values are tagged (README.md, "JSON encoding"): finite floats are
 * JSON numbers that always contain `.` or `e` (`30.0`, `1e-05`: Python's json reads them as float), ints never
 * do; NaN/±inf are `{"$float": "nan" | "inf" | "-inf"}`, ints beyond ±(2^53−1) `{"$int": "<decimal>"}`, bytes
 * `{"$bytes": "<base64>"}`, tuples `{"$tuple": [...]}`, dicts with a non-str key or a key starting with `$`
 * `{"$dict": [[key, value], ...]}`, nested arrays `{"$ndarray": {dtype, descr, shape, values}}`.
 */
import { formatShape } from './dtype.js';
import { roundToHalf } from './float16.js';
import { isNdArray } from './ndarray.js';
import { type AnyNdArray, PyBytes, PyFloat, PyTuple, type PyValue } from './types.js';

/** A finite float, printed the way Python's repr prints it. */
export class JsonFloat {
  constructor(readonly value: number) {}
}

export type Json = null | boolean | number | string | JsonFloat | Json[] | { [key: string]: Json };

/** Python's `repr(float)`: shortest round-trip digits, positional for 1e-4 <= |x| < 1e16, else `1e+16`. */
export function formatPyFloat(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const [mantissa = '', exponentText = ''] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = value < 0 ? '-' : '';
  if (exponent < -4 || exponent >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  if (digits.length <= exponent + 1) return `${sign}${digits}${'0'.repeat(exponent + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
}

/** The shortest decimal that reads back as the same float16/float32 (how NumPy prints them). */
function shortestFloat(value: number, round: (x: number) => number, maxDigits: number): string {
  if (!Number.isFinite(value) || value === 0) return formatPyFloat(value);
  for (let digits = 1; digits < maxDigits; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (round(candidate) === value) return formatPyFloat(candidate);
  }
  return formatPyFloat(value);
}

function floatJson(value: number): Json {
  if (Number.isNaN(value)) return { $float: 'nan' };
  if (!Number.isFinite(value)) return { $float: value > 0 ? 'inf' : '-inf' };
  return new JsonFloat(value);
}

function intJson(value: number | bigint): Json {
  const safe = typeof value === 'number' ? Number.isSafeInteger(value) : value >= -MAX_SAFE && value <= MAX_SAFE;
  return safe ? Number(value) : { $int: BigInt(value).toString() };
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A Python value as tagged JSON (see the module comment). */
export function toJson(value: PyValue): Json {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isInteger(value) && !Object.is(value, -0) ? intJson(value) : floatJson(value);
  if (typeof value === 'bigint') return intJson(value);
  if (value instanceof PyFloat) return floatJson(value.value);
  if (value instanceof PyBytes) return { $bytes: Buffer.from(value.bytes).toString('base64') };
  if (value instanceof PyTuple) return { $tuple: value.items.map(toJson) };
  if (Array.isArray(value)) return value.map(toJson);
  if (value instanceof Map) return { $dict: [...value].map(([k, v]) => [toJson(k), toJson(v)]) };
  if (isNdArray(value)) {
    return { $ndarray: { dtype: value.dtype, descr: value.descr, shape: value.shape, values: arrayValuesJson(value) } };
  }
  const entries = Object.entries(value);
  if (entries.some(([key]) => key.startsWith('$'))) return { $dict: entries.map(([k, v]) => [k, toJson(v)]) };
  return Object.fromEntries(entries.map(([k, v]) => [k, toJson(v)]));
}

function elementJson(array: AnyNdArray, index: number): Json {
  const value = array.data[index]!;
  switch (array.dtype) {
    case 'float16':
    case 'float32':
    case 'float64':
      return floatJson(value as number);
    case 'bool':
      return value === 1;
    case 'int64':
    case 'uint64':
      return intJson(value as bigint);
    case 'object':
      return toJson(value as PyValue);
    default:
      return value as number | string;
  }
}

/** All elements as nested lists shaped like the array (a bare value for 0-d), like `ndarray.tolist()`. */
export function arrayValuesJson(array: AnyNdArray): Json {
  let next = 0;
  const nest = (axis: number): Json =>
    axis === array.shape.length ? elementJson(array, next++) : Array.from({ length: array.shape[axis]! }, () => nest(axis + 1));
  return nest(0);
}

const FIRST_VALUES = 10;

/** min/max/mean (NaN ignored) and the first values of a numeric or bool array; undefined for str/object. */
export function summarizeJson(array: AnyNdArray): { [key: string]: Json } | undefined {
  if (array.dtype === 'str' || array.dtype === 'object') return undefined;
  const first = Array.from({ length: Math.min(FIRST_VALUES, array.data.length) }, (_, i) => elementJson(array, i));
  if (array.dtype === 'bool') {
    let trueCount = 0;
    for (const v of array.data) trueCount += v;
    return { true_count: trueCount, first };
  }
  const stats = numericStats(array);
  const isFloat = array.dtype.startsWith('float');
  const number = (v: number | bigint | undefined): Json => (v === undefined ? null : isFloat ? floatJson(Number(v)) : intJson(v));
  return {
    min: number(stats.min),
    max: number(stats.max),
    mean: stats.mean === undefined ? null : floatJson(stats.mean),
    ...(isFloat ? { nan_count: stats.nanCount } : {}),
    first,
  };
}

function numericStats(array: AnyNdArray): { min?: number | bigint; max?: number | bigint; mean?: number; nanCount: number } {
  let min: number | bigint | undefined;
  let max: number | bigint | undefined;
  let sum = 0;
  let count = 0;
  let nanCount = 0;
  for (const v of array.data as Iterable<number | bigint>) {
    if (typeof v === 'number' && Number.isNaN(v)) {
      nanCount++;
      continue;
    }
    if (min === undefined || v < min) min = v;
    if (max === undefined || v > max) max = v;
    sum += Number(v);
    count++;
  }
  return { min, max, mean: count ? sum / count : undefined, nanCount };
}

/** One element as NumPy would print it: float16/float32 with their own shortest digits. */
function elementRepr(array: AnyNdArray, index: number): string {
  const value = array.data[index]!;
  switch (array.dtype) {
    case 'float16':
      return shortestFloat(value as number, roundToHalf, 6);
    case 'float32':
      return shortestFloat(value as number, Math.fround, 10);
    case 'float64':
      return formatPyFloat(value as number);
    case 'bool':
      return value ? 'True' : 'False';
    case 'object':
      return pyRepr(value as PyValue);
    case 'str':
      return pyRepr(value as string);
    default:
      return String(value);
  }
}

/** `array([[1.5, 2.0], ...], dtype=float32)`; arrays with more than `limit` elements only name shape and dtype. */
export function arrayRepr(array: AnyNdArray, limit = 20): string {
  if (array.data.length > limit) return `array(shape=${formatShape(array.shape)}, dtype=${array.dtype})`;
  let next = 0;
  const nest = (axis: number): string =>
    axis === array.shape.length
      ? elementRepr(array, next++)
      : `[${Array.from({ length: array.shape[axis]! }, () => nest(axis + 1)).join(', ')}]`;
  return `array(${nest(0)}, dtype=${array.dtype})`;
}

function strRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '\\' || char === quote) out += `\\${char}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += char;
  }
  return out + quote;
}

function bytesRepr(bytes: Uint8Array): string {
  const quote = bytes.includes(0x27) && !bytes.includes(0x22) ? '"' : "'";
  let out = `b${quote}`;
  for (const b of bytes) {
    const char = String.fromCharCode(b);
    if (char === '\\' || char === quote) out += `\\${char}`;
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x09) out += '\\t';
    else if (b < 0x20 || b >= 0x7f) out += `\\x${b.toString(16).padStart(2, '0')}`;
    else out += char;
  }
  return out + quote;
}

/** Python's repr of a value, on one line (arrays longer than 20 elements abbreviated). */
export function pyRepr(value: PyValue): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return Number.isInteger(value) && !Object.is(value, -0) ? String(value) : formatPyFloat(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return strRepr(value);
  if (value instanceof PyFloat) return formatPyFloat(value.value);
  if (value instanceof PyBytes) return bytesRepr(value.bytes);
  if (value instanceof PyTuple) return `(${value.items.map(pyRepr).join(', ')}${value.items.length === 1 ? ',' : ''})`;
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (isNdArray(value)) return arrayRepr(value);
  const entries = value instanceof Map ? [...value] : Object.entries(value);
  return `{${entries.map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
}

/** Like pyRepr, but containers that do not fit in `width` are broken one item per line (like pprint). */
export function pyPretty(value: PyValue, indent = 0, width = 100): string {
  const flat = pyRepr(value);
  if (indent + flat.length <= width || typeof value !== 'object' || value === null || isNdArray(value)) return flat;
  const pad = ' '.repeat(indent + 2);
  const wrap = (open: string, close: string, items: string[]) =>
    `${open}\n${items.map((item) => `${pad}${item},`).join('\n')}\n${' '.repeat(indent)}${close}`;
  if (value instanceof PyTuple) return wrap('(', ')', value.items.map((v) => pyPretty(v, indent + 2, width)));
  if (Array.isArray(value)) return wrap('[', ']', value.map((v) => pyPretty(v, indent + 2, width)));
  if (value instanceof PyFloat || value instanceof PyBytes) return flat;
  const entries = value instanceof Map ? [...value] : Object.entries(value);
  return wrap('{', '}', entries.map(([k, v]) => `${pyRepr(k)}: ${pyPretty(v, indent + 2 + pyRepr(k).length + 2, width).trimStart()}`));
}

/** A short one-line description of an array's values for listings. */
export function previewArray(array: AnyNdArray, width = 60): string {
  if (array.dtype === 'str' || array.dtype === 'object') {
    const text = array.shape.length === 0 ? pyRepr(array.data[0] as PyValue) : pyRepr(array.data as PyValue[]);
    return text.length > width ? `${text.slice(0, width - 1)}…` : text;
  }
  if (array.data.length === 0) return 'empty';
  if (array.dtype === 'bool') {
    let trueCount = 0;
    for (const v of array.data) trueCount += v;
    return `${trueCount} of ${array.data.length} True`;
  }
  const stats = numericStats(array);
  const isFloat = array.dtype.startsWith('float');
  // six significant digits are plenty for a listing; ints stay exact
  const float = (v: number | bigint | undefined) => (v === undefined ? 'n/a' : formatPyFloat(Number(Number(v).toPrecision(6))));
  const show = (v: number | bigint | undefined) => (isFloat || v === undefined ? float(v) : v.toString());
  const parts = [`min ${show(stats.min)}`, `max ${show(stats.max)}`, `mean ${float(stats.mean)}`];
  if (isFloat) parts.push(`nan ${stats.nanCount}`);
  return parts.join('  ');
}

/** Compact JSON text; JsonFloat prints as Python's float repr (always with `.` or `e`). */
export function stringifyJson(value: Json): string {
  if (value instanceof JsonFloat) return formatPyFloat(value.value);
  if (Array.isArray(value)) return `[${value.map(stringifyJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${stringifyJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
