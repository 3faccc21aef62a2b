/**
 * A restricted unpickler for NumPy object arrays (pickle protocols 2 to 5).
 *
 * Written here because no maintained JS library offers a safe restricted unpickler: the JS pickle readers either
 * resolve arbitrary globals into stand-in objects and keep going, or cover only old protocols. This one is an
 * interpreter of the pickle opcodes whose only "callables" are NumPy's array reconstruction — every GLOBAL /
 * STACK_GLOBAL is looked up in ALLOWED_GLOBALS the moment it is read, and anything else stops the load with
 * pickle_forbidden_global. Nothing is ever executed: each allowed global maps to a small TypeScript function
 * that builds a value of the model in types.ts. Sizes are bounded by the input (every length is checked against
 * the remaining bytes) and nesting by MAX_DEPTH.
 */
import { decodeArrayData, type DescrInfo, formatShape, parseDescr, shapeSize } from './dtype.js';
import { isNdArray } from './ndarray.js';
import { type AnyNdArray, type NdArray, PyBytes, PyFloat, PyTuple, type PyValue } from './types.js';
import { npzError, type Where } from './where.js';

type Callable = 'reconstruct' | 'ndarray' | 'dtype' | 'scalar' | 'frombuffer' | 'encode' | 'bytes' | 'bytearray';

/** `module name` → what it stands for. NumPy 1.x pickles name numpy.core, NumPy 2.x numpy._core. */
const ALLOWED_GLOBALS = new Map<string, Callable>([
  ['numpy.core.multiarray _reconstruct', 'reconstruct'],
  ['numpy._core.multiarray _reconstruct', 'reconstruct'],
  ['numpy ndarray', 'ndarray'],
  ['numpy dtype', 'dtype'],
  // NumPy scalars (np.float32(1.5) in a dict): scalar(dtype, raw bytes)
  ['numpy.core.multiarray scalar', 'scalar'],
  ['numpy._core.multiarray scalar', 'scalar'],
  // protocol 5 pickles contiguous arrays as _frombuffer(buffer, dtype, shape, order)
  ['numpy.core.numeric _frombuffer', 'frombuffer'],
  ['numpy._core.numeric _frombuffer', 'frombuffer'],
  // protocol 2 has no bytes opcode: bytes are pickled as _codecs.encode(str, 'latin1'), and b'' as bytes()
  ['_codecs encode', 'encode'],
  ['__builtin__ bytes', 'bytes'],
  ['builtins bytes', 'bytes'],
  // before protocol 5, bytearray(b'...') is pickled as a call (read as bytes: the model has no bytearray)
  ['__builtin__ bytearray', 'bytearray'],
  ['builtins bytearray', 'bytearray'],
]);

/** Python's default recursion limit keeps real pickles shallower than this. */
const MAX_DEPTH = 1000;

class Global {
  constructor(readonly callable: Callable) {}
}

/** numpy.dtype being rebuilt: REDUCE gives the code (`f4`), BUILD the byte order. */
class PickledDType {
  constructor(
    readonly code: string,
    public info: DescrInfo,
  ) {}
}

/** An ndarray being rebuilt: `_reconstruct` creates it empty, BUILD (`__setstate__`) fills it. */
class PickledArray {
  array?: AnyNdArray;
}

/** A dict while loading; finalize() turns it into a plain object (all keys str) or a Map. */
class PickledDict {
  readonly entries = new Map<unknown, unknown>();
}

export interface UnpickleOptions {
  /** Return integral Python floats as PyFloat (so rewriting keeps them float) instead of plain numbers. */
  preserveFloats?: boolean;
}

/** Loads one pickle (stops at STOP, like pickle.load) and returns its value in the model of types.ts. */
export function unpickle(bytes: Uint8Array, where: Where, options: UnpickleOptions = {}): PyValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const malformed = (why: string, cause?: unknown) => npzError('pickle_malformed', `invalid pickle: ${why}`, where, cause);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let pos = 0;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  // Memo references let a few bytes rebuild the same large array again and again (Python shares buffers there,
  // we copy), so the data the allowed callables produce is capped relative to the pickle's own size.
  let budget = 4 * bytes.length + 1024 * 1024;
  const spend = (n: number) => {
    budget -= n;
    if (budget < 0) throw malformed('the pickle rebuilds far more data than it contains');
  };

  const need = (n: number): number => {
    if (n > bytes.length - pos) throw malformed(`data ends early at offset ${pos}`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = () => bytes[need(1)]!;
  const u16 = () => view.getUint16(need(2), true);
  const u32 = () => view.getUint32(need(4), true);
  const u64 = () => {
    const n = view.getBigUint64(need(8), true);
    if (n > BigInt(bytes.length)) throw malformed(`length ${n} beyond the data at offset ${pos - 8}`);
    return Number(n);
  };
  const take = (n: number) => bytes.subarray(need(n), pos);
  const text = (n: number) => {
    const raw = take(n);
    // short ASCII strings (most keys and names) skip the decoder's per-call cost
    if (n <= 64 && raw.every((b) => b < 0x80)) return String.fromCharCode(...raw);
    try {
      return utf8.decode(raw);
    } catch (cause) {
      throw malformed(`a string at offset ${pos - n} is not UTF-8 (lone surrogates are not supported)`, cause);
    }
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw malformed('unterminated GLOBAL name');
    return text(end - pos + 1).slice(0, -1);
  };
  const pop = (): unknown => {
    if (stack.length === 0) throw malformed(`stack underflow at offset ${pos - 1}`);
    return stack.pop();
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const previous = metastack.pop();
    if (!previous) throw malformed(`no MARK before offset ${pos - 1}`);
    stack = previous;
    return items;
  };
  const top = (): unknown => {
    if (stack.length === 0) throw malformed(`stack underflow at offset ${pos - 1}`);
    return stack[stack.length - 1];
  };
  const int = (value: bigint): number | bigint => (value >= Number.MIN_SAFE_INTEGER && value <= Number.MAX_SAFE_INTEGER ? Number(value) : value);
  const float = (value: number): number | PyFloat => (options.preserveFloats && Number.isInteger(value) ? new PyFloat(value) : value);
  const resolve = (module: string, name: string) => {
    const callable = ALLOWED_GLOBALS.get(`${module} ${name}`);
    if (!callable) {
      const why = `pickle references ${module}.${name}, which is not allowed (only NumPy array reconstruction is)`;
      throw npzError('pickle_forbidden_global', why, where);
    }
    return new Global(callable);
  };
  const addItems = (target: unknown, items: unknown[]) => {
    if (target instanceof PickledDict) {
      if (items.length % 2 !== 0) throw malformed('SETITEMS with an odd number of items');
      for (let i = 0; i < items.length; i += 2) target.entries.set(items[i], items[i + 1]);
    } else if (Array.isArray(target)) {
      for (const item of items) target.push(item);
    }
    else throw malformed(`cannot add items to ${describe(target)}`);
  };

  const call = (callable: Callable, args: unknown[]): unknown => {
    switch (callable) {
      case 'reconstruct': {
        if (!(args[0] instanceof Global && args[0].callable === 'ndarray')) throw malformed('_reconstruct of something other than numpy.ndarray');
        return new PickledArray();
      }
      case 'dtype': {
        const code = args[0];
        if (typeof code !== 'string') throw malformed('numpy.dtype without a type code');
        return new PickledDType(code, parseDescr(code, where));
      }
      case 'scalar': {
        const [dtype, data] = args;
        if (!(dtype instanceof PickledDType)) throw malformed('numpy scalar without a dtype');
        if (dtype.info.dtype === 'object') return data;
        if (!(data instanceof PyBytes) || data.bytes.length !== dtype.info.itemsize) throw malformed('numpy scalar with the wrong number of bytes');
        return scalarValue(decodeArrayData(dtype.info, data.bytes, [], false, where)[0]!, dtype.info.dtype);
      }
      case 'frombuffer': {
        const [data, dtype, shape, order] = args;
        if (!(data instanceof PyBytes && dtype instanceof PickledDType && shape instanceof PyTuple && (order === 'C' || order === 'F'))) {
          throw malformed('_frombuffer arguments are not (buffer, dtype, shape, order)');
        }
        return buildArray(dtype, shape, order === 'F', data);
      }
      case 'encode': {
        const [value, encoding] = args;
        if (typeof value !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) {
          throw malformed('_codecs.encode other than (str, "latin1")');
        }
        spend(value.length);
        const out = new Uint8Array(value.length);
        for (let i = 0; i < value.length; i++) {
          const code = value.charCodeAt(i);
          if (code > 0xff) throw malformed('_codecs.encode of a non-latin-1 string');
          out[i] = code;
        }
        return new PyBytes(out);
      }
      case 'bytes':
        if (args.length !== 0) throw malformed('bytes() with arguments');
        return new PyBytes(new Uint8Array(0));
      case 'bytearray':
        if (args.length === 0) return new PyBytes(new Uint8Array(0));
        if (args.length !== 1 || !(args[0] instanceof PyBytes)) throw malformed('bytearray() of something other than bytes');
        return args[0];
      case 'ndarray':
        throw malformed('numpy.ndarray called directly');
    }
  };

  const scalarValue = (value: unknown, dtype: string): PyValue => {
    if (typeof value === 'bigint') return int(value);
    if (typeof value === 'string') return value;
    if (dtype === 'bool') return value === 1;
    return dtype.startsWith('float') ? float(value as number) : (value as number);
  };

  const buildArray = (dtype: PickledDType, shapeTuple: PyTuple, fortran: boolean, data: unknown): AnyNdArray => {
    const shape = shapeTuple.items.map((dim) => {
      if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) throw malformed('array shape is not a tuple of non-negative ints');
      return dim;
    });
    const size = shapeSize(shape);
    const { info } = dtype;
    const descr = info.dtype === 'object' ? '|O' : `${info.byteOrder}${dtype.code}`;
    if (info.dtype === 'object') {
      if (!Array.isArray(data) || data.length !== size) throw malformed(`object array ${formatShape(shape)} without a list of ${size} items`);
      spend(8 * size);
      // NumPy pickles object arrays as a list in C order whatever the memory layout
      return { dtype: 'object', shape, data: [...data] as PyValue[], descr, fortranOrderOnDisk: fortran };
    }
    if (!(data instanceof PyBytes) || size === undefined || data.bytes.length !== size * info.itemsize) {
      throw malformed(`array ${formatShape(shape)} of ${descr} without exactly ${size ?? '?'} × ${info.itemsize} data bytes`);
    }
    spend(info.dtype === 'float16' ? 2 * data.bytes.length : data.bytes.length);
    const values = decodeArrayData(info, data.bytes, shape, fortran, where);
    return { dtype: info.dtype, shape, data: values, descr, fortranOrderOnDisk: fortran } as AnyNdArray;
  };

  const build = (target: unknown, state: unknown) => {
    if (!(state instanceof PyTuple)) throw malformed(`BUILD state of ${describe(target)} is not a tuple`);
    if (target instanceof PickledDType) {
      const [, byteOrder, subarray, names, fields] = state.items;
      if (subarray !== null || names !== null || fields !== null) {
        throw npzError('npy_unsupported_dtype', 'structured or subarray dtypes inside pickled data are not supported', where);
      }
      if (typeof byteOrder !== 'string') throw malformed('dtype state without a byte order');
      target.info = parseDescr(`${byteOrder}${target.code}`, where);
      return;
    }
    if (target instanceof PickledArray) {
      // ndarray.__setstate__((version, shape, dtype, is_fortran, data)); old pickles omit the version
      const items = state.items.length === 5 ? state.items.slice(1) : state.items;
      const [shape, dtype, fortran, data] = items;
      if (items.length !== 4 || !(shape instanceof PyTuple) || !(dtype instanceof PickledDType) || typeof fortran !== 'boolean') {
        throw malformed('ndarray state is not (version, shape, dtype, is_fortran, data)');
      }
      target.array = buildArray(dtype, shape, fortran, data);
      return;
    }
    throw malformed(`BUILD on ${describe(target)}`);
  };

  for (;;) {
    const opAt = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) throw malformed('pickle protocol newer than 5');
        break;
      case 0x95: // FRAME: only a read-ahead hint
        u64();
        break;
      case 0x2e: {
        // STOP
        const result = pop();
        return finalize(result, malformed);
      }
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length > 0) stack.pop();
        else popMark();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(view.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
      case 0x8b: {
        // LONG4
        const n = op === 0x8a ? u8() : view.getInt32(need(4), true);
        if (n < 0) throw malformed('LONG4 with a negative length');
        stack.push(int(decodeLong(take(n))));
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        stack.push(float(view.getFloat64(need(8), false)));
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x42: // BINBYTES
        stack.push(new PyBytes(copy(take(u32()))));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(new PyBytes(copy(take(u8()))));
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8 (in-band PickleBuffer of protocol 5); bytearray has no own type in the model
        stack.push(new PyBytes(copy(take(u64()))));
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x74: {
        // TUPLE (popMark replaces `stack`, so take the items before pushing)
        const items = popMark();
        stack.push(new PyTuple(items as PyValue[]));
        break;
      }
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: {
        // TUPLE3
        const n = op - 0x84;
        if (stack.length < n) throw malformed(`stack underflow at offset ${opAt}`);
        stack.push(new PyTuple(stack.splice(stack.length - n, n) as PyValue[]));
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x61: {
        // APPEND
        const item = pop();
        addItems(top(), [item]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        addItems(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PickledDict());
        break;
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        addItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        addItems(top(), items);
        break;
      }
      case 0x63: {
        // GLOBAL: "module\nname\n", checked before anything else happens
        const module = line();
        stack.push(resolve(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw malformed('STACK_GLOBAL without module and name strings');
        stack.push(resolve(module, name));
        break;
      }
      case 0x69: {
        // INST: a class named inline, never one NumPy needs
        const module = line();
        const name = line();
        throw npzError('pickle_forbidden_global', `pickle instantiates ${module}.${name}, which is not allowed`, where);
      }
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        throw npzError('pickle_forbidden_global', 'pickle uses the copyreg extension registry, which is not allowed', where);
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        if (!(callable instanceof Global) || !(args instanceof PyTuple)) {
          throw malformed(`REDUCE at offset ${opAt} without an allowed callable and an argument tuple`);
        }
        stack.push(call(callable.callable, args.items));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        build(top(), state);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const index = op === 0x68 ? u8() : u32();
        if (!memo.has(index)) throw malformed(`memo entry ${index} read before it was written`);
        stack.push(memo.get(index));
        break;
      }
      case 0x8f: // EMPTY_SET
      case 0x90: // ADDITEMS
      case 0x91: // FROZENSET
        throw malformed('Python sets are not supported (the value model has no set)');
      case 0x81: // NEWOBJ
      case 0x92: // NEWOBJ_EX
      case 0x6f: // OBJ
        throw malformed(`object construction opcode 0x${op.toString(16)} is not allowed`);
      case 0x50: // PERSID
      case 0x51: // BINPERSID
        throw malformed('persistent IDs are not supported');
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        throw malformed('out-of-band buffers are not supported');
      default:
        throw malformed(`unsupported opcode 0x${op.toString(16).padStart(2, '0')} at offset ${opAt} (protocols 2 to 5 are supported)`);
    }
  }
}

/** A plain Uint8Array copy (Buffer#slice would be a view of the whole file and a Buffer). */
function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** Python's little-endian two's complement LONG encoding. */
function decodeLong(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  if (bytes.length > 0 && bytes[bytes.length - 1]! & 0x80) value -= 1n << BigInt(8 * bytes.length);
  return value;
}

function describe(value: unknown): string {
  if (value instanceof Global) return `a ${value.callable} global`;
  if (value instanceof PickledDType) return 'a numpy dtype';
  if (value instanceof PickledArray) return 'a numpy array';
  if (value instanceof PickledDict) return 'a dict';
  if (value instanceof PyTuple) return 'a tuple';
  if (Array.isArray(value)) return 'a list';
  return value === null ? 'None' : typeof value;
}

/**
 * Turns the loader's intermediate objects into the value model, keeping shared and cyclic references shared.
 * Containers are registered before their items are converted so a cycle finds its own result.
 */
function finalize(root: unknown, malformed: (why: string) => Error): PyValue {
  const done = new Map<unknown, PyValue>();
  const convert = (value: unknown, depth: number): PyValue => {
    if (typeof value !== 'object' || value === null || value instanceof PyBytes || value instanceof PyFloat) return value as PyValue;
    const known = done.get(value);
    if (known !== undefined) return known;
    if (depth > MAX_DEPTH) throw malformed(`values nested deeper than ${MAX_DEPTH} levels`);
    if (Array.isArray(value)) {
      const out: PyValue[] = [];
      done.set(value, out);
      for (const item of value) out.push(convert(item, depth + 1));
      return out;
    }
    if (value instanceof PyTuple) {
      const items: PyValue[] = [];
      const out = new PyTuple(items);
      done.set(value, out);
      for (const item of value.items) items.push(convert(item, depth + 1));
      return out;
    }
    if (value instanceof PickledDict) {
      const strKeys = [...value.entries.keys()].every((key) => typeof key === 'string');
      if (strKeys) {
        const out: { [key: string]: PyValue } = {};
        done.set(value, out);
        for (const [key, item] of value.entries) {
          // defineProperty: a "__proto__" key must become a key, not the object's prototype
          Object.defineProperty(out, key as string, { value: convert(item, depth + 1), enumerable: true, writable: true, configurable: true });
        }
        return out;
      }
      const out = new Map<PyValue, PyValue>();
      done.set(value, out);
      for (const [key, item] of value.entries) out.set(convert(key, depth + 1), convert(item, depth + 1));
      return out;
    }
    if (value instanceof PickledArray) {
      if (!value.array) throw malformed('a numpy array never received its state');
      const array = value.array;
      if (array.dtype !== 'object') {
        done.set(value, array);
        return array;
      }
      const data: PyValue[] = [];
      const out: NdArray<'object'> = { ...array, data };
      done.set(value, out);
      for (const item of array.data) data.push(convert(item, depth + 1));
      return out;
    }
    if (isNdArray(value)) return value;
    throw malformed(`${describe(value)} is not a value (only None, bool, int, float, str, bytes, list, tuple, dict and arrays are)`);
  };
  return convert(root, 0);
}
