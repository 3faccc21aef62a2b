/**
 * Pickles object arrays the way `numpy.lib.format.write_array` does: the whole ndarray, protocol 3, rebuilt by
 * `numpy.core.multiarray._reconstruct` + `numpy.ndarray` + `numpy.dtype` with `__setstate__` tuples.
 *
 * Why `numpy.core.multiarray` and protocol 3: NumPy 1.x has no `numpy._core`, and NumPy 2.x keeps
 * `numpy.core.multiarray._reconstruct` (and `scalar`) importable without a DeprecationWarning precisely so old
 * pickles load; protocol 3 is what NumPy 1.x writes. The output loads warning-free under `python -W error` on both.
 * No memo opcodes are written: shared values are simply written twice, which Python reads as equal copies.
 */
import { dtypeCode, encodeElements } from './dtype.js';
import { pyRepr } from './format.js';
import { checkWellFormed, isNdArray, validateArray } from './ndarray.js';
import { type AnyNdArray, type DType, PyBytes, PyFloat, PyTuple, type PyValue } from './types.js';
import { npzError, type Where } from './where.js';

const MAX_DEPTH = 1000;
const BATCH = 1000;
const utf8 = new TextEncoder();

class Output {
  private buffer = new Uint8Array(256);
  length = 0;
  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    const next = new Uint8Array(Math.max(this.buffer.length * 2, this.length + n));
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }
  byte(...values: number[]): void {
    this.reserve(values.length);
    for (const value of values) this.buffer[this.length++] = value;
  }
  /** Writes `text` as UTF-8 and returns the number of bytes. */
  utf8(text: string): number {
    this.reserve(text.length * 3);
    const { written } = utf8.encodeInto(text, this.buffer.subarray(this.length));
    this.length += written;
    return written;
  }
  setU32(at: number, value: number): void {
    new DataView(this.buffer.buffer).setUint32(at, value, true);
  }
  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
  }
  u32(value: number): void {
    this.reserve(4);
    new DataView(this.buffer.buffer).setUint32(this.length, value, true);
    this.length += 4;
  }
  i32(value: number): void {
    this.reserve(4);
    new DataView(this.buffer.buffer).setInt32(this.length, value, true);
    this.length += 4;
  }
  f64(value: number): void {
    this.reserve(8);
    new DataView(this.buffer.buffer).setFloat64(this.length, value, false);
    this.length += 8;
  }
  ascii(text: string): void {
    this.byte(...Array.from(text, (c) => c.charCodeAt(0)));
  }
  result(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}


/** The pickle NumPy writes after the header of an object array. */
export function pickleObjectArray(array: AnyNdArray, where: Where): Uint8Array {
  const { out, ndarray } = pickler(where);
  out.byte(0x80, 3); // PROTO 3
  ndarray(array, 0);
  out.byte(0x2e); // STOP
  return out.result();
}

/**
 * The same pickle in three parts, for a writer that streams an object array's elements (NpzStreamWriter): `head`
 * (up to the empty list), one `element` per item in C order (with MARK before items 0, 1000, … and APPENDS after
 * items 999, 1999, …), then `tail` (the last APPENDS of a partial batch, and the closing opcodes). Joined, the
 * parts are byte-identical to pickleObjectArray of the whole array.
 */
export const objectArrayPickle = {
  head(shape: readonly number[]): Uint8Array {
    const { out, ndarrayHead } = pickler({});
    out.byte(0x80, 3); // PROTO 3
    ndarrayHead('object', shape, 0);
    out.byte(0x5d); // EMPTY_LIST
    return out.result();
  },
  /**
   * An encoder of items of one object array: item `index` (flat, C order) → its bytes; `where` names the file
   * and key in errors. One pickler is reused for every item (a refused item leaves nothing behind in it).
   */
  elements(where: Where): (index: number, value: PyValue) => Uint8Array {
    const { out, nested, reset } = pickler(where);
    return (index, value) => {
      reset();
      if (index % BATCH === 0) out.byte(0x28); // MARK
      nested(index, value, 0);
      if (index % BATCH === BATCH - 1) out.byte(0x65); // APPENDS
      return out.result();
    };
  },
  tail(count: number): Uint8Array {
    // TUPLE closes __setstate__'s 5-tuple, BUILD applies it, STOP
    return count % BATCH === 0 ? Uint8Array.of(0x74, 0x62, 0x2e) : Uint8Array.of(0x65, 0x74, 0x62, 0x2e);
  },
};

/** The pickling closures, sharing one output buffer. */
function pickler(where: Where) {
  const out = new Output();
  const ancestors = new Set<object>();
  // where we are inside the value, for error messages: list indexes and dict keys
  const trail: (number | string)[] = [];
  const place = () => trail.map((step) => `[${typeof step === 'number' ? step : JSON.stringify(step)}]`).join('');
  const bad = (why: string) => npzError('npz_write_unsupported_value', `${trail.length ? `value at ${place()}: ` : ''}${why}`, where);

  const int = (value: number | bigint) => {
    const small = typeof value === 'number' ? value : value >= -(2n ** 31n) && value < 2n ** 31n ? Number(value) : undefined;
    if (small !== undefined && small >= 0 && small <= 0xff) out.byte(0x4b, small); // BININT1
    else if (small !== undefined && small >= 0 && small <= 0xffff) out.byte(0x4d, small & 0xff, small >> 8); // BININT2
    else if (small !== undefined && small >= -(2 ** 31) && small < 2 ** 31) {
      out.byte(0x4a); // BININT
      out.i32(small);
    } else {
      const bytes = encodeLong(BigInt(value));
      if (bytes.length < 256) out.byte(0x8a, bytes.length); // LONG1
      else {
        out.byte(0x8b); // LONG4
        out.u32(bytes.length);
      }
      out.bytes(bytes);
    }
  };
  const str = (text: string) => {
    checkWellFormed(text, where, trail.length ? `value at ${place()}` : 'a string');
    out.byte(0x58); // BINUNICODE, then the length once the UTF-8 is written
    const lengthAt = out.length;
    out.u32(0);
    out.setU32(lengthAt, out.utf8(text));
  };
  const bytes = (data: Uint8Array) => {
    if (data.length < 256) out.byte(0x43, data.length); // SHORT_BINBYTES
    else {
      if (data.length > 0xffffffff) throw bad('bytes longer than 4 GiB');
      out.byte(0x42); // BINBYTES
      out.u32(data.length);
    }
    out.bytes(data);
  };
  const tuple = (items: readonly (() => void)[]) => {
    if (items.length === 0) return out.byte(0x29); // EMPTY_TUPLE
    if (items.length > 3) out.byte(0x28); // MARK
    items.forEach((item) => item());
    out.byte(items.length > 3 ? 0x74 : 0x84 + items.length); // TUPLE or TUPLE1..3
  };
  const global = (module: string, name: string) => out.ascii(`c${module}\n${name}\n`);

  const dtype = (name: DType, strWidth: number) => {
    // numpy.dtype(code, False, True) then __setstate__((3, byteorder, None, None, None, elsize, alignment, flags))
    global('numpy', 'dtype');
    tuple([() => str(dtypeCode(name, strWidth)), () => out.byte(0x89), () => out.byte(0x88)]);
    out.byte(0x52); // REDUCE
    const code = dtypeCode(name, strWidth);
    const byteOrder = name === 'object' || code.endsWith('1') ? '|' : '<';
    const [elsize, alignment, flags] = name === 'str' ? [4 * strWidth, 4, 8] : name === 'object' ? [-1, -1, 63] : [-1, -1, 0];
    const none = () => out.byte(0x4e);
    tuple([() => int(3), () => str(byteOrder), none, none, none, () => int(elsize), () => int(alignment), () => int(flags)]);
    out.byte(0x62); // BUILD
  };

  // _reconstruct(ndarray, (0,), b'b') then __setstate__((1, shape, dtype, False, data)): everything before data
  const ndarrayHead = (dtypeName: DType, shape: readonly number[], strWidth: number) => {
    global('numpy.core.multiarray', '_reconstruct');
    tuple([() => global('numpy', 'ndarray'), () => tuple([() => int(0)]), () => bytes(Uint8Array.of(0x62))]); // (ndarray, (0,), b'b')
    out.byte(0x52); // REDUCE
    out.byte(0x28); // MARK of the 5-tuple
    int(1);
    tuple(shape.map((dim) => () => int(dim)));
    dtype(dtypeName, strWidth);
    out.byte(0x89); // C order
  };

  const ndarray = (array: AnyNdArray, depth: number) => {
    const { strWidth } = validateArray(array, where);
    ndarrayHead(array.dtype, array.shape, strWidth);
    if (array.dtype !== 'object') bytes(encodeElements(array, strWidth));
    else list(array.data, depth);
    out.byte(0x74); // TUPLE
    out.byte(0x62); // BUILD
  };

  const list = (items: readonly PyValue[], depth: number) => {
    out.byte(0x5d); // EMPTY_LIST
    // batches of 1000 like Python's pickler, so no reader needs the whole list on its stack at once
    for (let start = 0; start < items.length; start += BATCH) {
      out.byte(0x28); // MARK
      for (let i = start; i < Math.min(start + BATCH, items.length); i++) nested(i, items[i]!, depth);
      out.byte(0x65); // APPENDS
    }
  };

  const nested = (step: number | string, value: PyValue, depth: number) => {
    trail.push(step);
    save(value, depth + 1);
    trail.pop();
  };

  const save = (value: PyValue, depth: number): void => {
    if (depth > MAX_DEPTH) throw bad(`nested deeper than ${MAX_DEPTH} levels`);
    if (value === null) return out.byte(0x4e); // NONE
    switch (typeof value) {
      case 'boolean':
        return out.byte(value ? 0x88 : 0x89);
      case 'number':
        // integral numbers are Python ints (wrap in PyFloat for a float); -0 can only be a float
        if (Number.isInteger(value) && !Object.is(value, -0)) return int(Number.isSafeInteger(value) ? value : BigInt(value));
        out.byte(0x47); // BINFLOAT
        return out.f64(value);
      case 'bigint':
        return int(value);
      case 'string':
        return str(value);
      case 'object':
        break;
      default:
        throw bad(`${typeof value} has no Python equivalent`);
    }
    if (value instanceof PyFloat) {
      out.byte(0x47);
      return out.f64(value.value);
    }
    if (value instanceof PyBytes) return bytes(value.bytes);
    if (ancestors.has(value)) throw bad('a value contains itself');
    ancestors.add(value);
    if (value instanceof PyTuple) tuple(value.items.map((item, i) => () => nested(i, item, depth)));
    else if (Array.isArray(value)) list(value, depth);
    else if (value instanceof Map) {
      out.byte(0x7d); // EMPTY_DICT
      if (value.size > 0) {
        out.byte(0x28); // MARK
        for (const [key, item] of value) {
          checkHashable(key);
          nested('<key>', key, depth);
          nested(typeof key === 'string' ? key : pyRepr(key), item, depth);
        }
        out.byte(0x75); // SETITEMS
      }
    } else if (isNdArray(value)) ndarray(value, depth);
    else {
      const prototype: unknown = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) {
        const name = (value as object).constructor?.name ?? 'this object';
        throw bad(`${name} has no Python equivalent (use plain objects, arrays, Map, PyTuple, PyBytes, PyFloat, NdArray)`);
      }
      const entries = Object.entries(value);
      out.byte(0x7d); // EMPTY_DICT
      if (entries.length > 0) {
        out.byte(0x28); // MARK
        for (const [key, item] of entries) {
          trail.push(key);
          str(key);
          save(item, depth + 1);
          trail.pop();
        }
        out.byte(0x75); // SETITEMS
      }
    }
    ancestors.delete(value);
  };

  const checkHashable = (key: PyValue) => {
    const plainObject = typeof key === 'object' && key !== null && Object.getPrototypeOf(key) === Object.prototype;
    const unhashable = Array.isArray(key) || key instanceof Map || isNdArray(key) || plainObject;
    if (unhashable) throw bad('a dict key must be hashable in Python (None, bool, int, float, str, bytes or a tuple of those)');
    if (key instanceof PyTuple) key.items.forEach(checkHashable);
  };

  // after a refused value: a throw leaves its trail and ancestors behind
  const reset = () => {
    out.length = 0;
    trail.length = 0;
    ancestors.clear();
  };

  return { out, ndarray, ndarrayHead, nested, reset };
}

/** Python's `pickle.encode_long`: the shortest little-endian two's complement. */
function encodeLong(value: bigint): Uint8Array {
  if (value === 0n) return new Uint8Array(0);
  const bitLength = (value < 0n ? -value : value).toString(2).length;
  let length = (bitLength >> 3) + 1;
  let twos = value < 0n ? (1n << BigInt(8 * length)) + value : value;
  const bytes: number[] = [];
  for (let i = 0; i < length; i++) {
    bytes.push(Number(twos & 0xffn));
    twos >>= 8n;
  }
  if (value < 0n && length > 1 && bytes[length - 1] === 0xff && (bytes[length - 2]! & 0x80) !== 0) {
    bytes.pop();
    length--;
  }
  return Uint8Array.from(bytes);
}
