/** The restricted unpickler on hand-made pickles: allowed globals only, malformed input refused with a code. */
import { describe, expect, it } from 'vitest';
import { TrendflowError } from '../contracts/errors.js';
import { unpickle } from './pickle-read.js';
import { pickleObjectArray } from './pickle-write.js';
import { ndarray } from './ndarray.js';
import { PyBytes, PyFloat, PyTuple, type PyValue } from './types.js';

/** Builds pickle bytes from opcodes (numbers) and text (ASCII/UTF-8 strings). */
function pickle(...parts: (number | string | Uint8Array)[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    if (typeof part === 'number') out.push(part);
    else for (const byte of typeof part === 'string' ? new TextEncoder().encode(part) : part) out.push(byte);
  }
  return Uint8Array.from(out);
}
const u32 = (n: number) => Uint8Array.of(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff);
const unicode = (s: string) => {
  const bytes = new TextEncoder().encode(s);
  return pickle(0x8c, bytes.length, bytes);
};
const PROTO4 = pickle(0x80, 4);
const STOP = 0x2e;

function load(bytes: Uint8Array, options = {}): PyValue {
  return unpickle(bytes, { path: 'f.npz', key: 'meta' }, options);
}

function errorOf(fn: () => unknown): TrendflowError {
  try {
    fn();
  } catch (error) {
    if (error instanceof TrendflowError) return error;
    throw error;
  }
  throw new Error('expected a TrendflowError');
}

describe('restricted unpickler', () => {
  it('reads plain values of protocol 4', () => {
    const bytes = pickle(PROTO4, 0x7d, 0x28, unicode('a'), 0x4b, 7, unicode('b'), 0x29, unicode('c'), 0x88, 0x89, 0x86, 0x75, STOP);
    expect(load(bytes)).toEqual({ a: 7, b: new PyTuple([]), c: new PyTuple([true, false]) });
  });

  it('reads ints of every width and floats', () => {
    const long = (bytes: number[]) => pickle(0x8a, bytes.length, Uint8Array.from(bytes));
    const bytes = pickle(
      PROTO4, 0x5d, 0x28,
      0x4a, u32(-5 >>> 0), // BININT -5
      0x4d, 0x34, 0x12, // BININT2 0x1234
      long([]), // 0
      long([0xff]), // -1
      long([0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40]), // 2^70
      0x47, 0x40, 0x3e, 0, 0, 0, 0, 0, 0, // BINFLOAT 30.0
      0x65, STOP,
    );
    expect(load(bytes)).toEqual([-5, 0x1234, 0, -1, 2n ** 70n, 30]);
    expect((load(bytes, { preserveFloats: true }) as PyValue[])[5]).toEqual(new PyFloat(30));
  });

  it('keeps a "__proto__" dict key as a key', () => {
    const value = load(pickle(PROTO4, 0x7d, unicode('__proto__'), 0x4b, 1, 0x73, STOP)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__']);
  });

  it('returns dicts with non-str keys as Map and keeps shared values shared', () => {
    const value = load(pickle(PROTO4, 0x5d, 0x94, 0x7d, 0x4b, 1, 0x68, 0, 0x73, 0x61, STOP)) as PyValue[];
    const dict = value[0] as Map<PyValue, PyValue>;
    expect(dict).toBeInstanceOf(Map);
    expect(dict.get(1)).toBe(value); // the list holds a dict that holds the list
  });

  it('reads bytes in all encodings, including protocol 2 _codecs.encode', () => {
    const latin1 = pickle(0x80, 2, 'c_codecs\nencode\n', unicode('aÿ'), unicode('latin1'), 0x86, 0x52, STOP);
    expect(load(latin1)).toEqual(new PyBytes(Uint8Array.of(0x61, 0xff)));
    expect(load(pickle(0x80, 3, 0x43, 2, 1, 2, STOP))).toEqual(new PyBytes(Uint8Array.of(1, 2)));
    expect(load(pickle(PROTO4, 0x8e, 1, 0, 0, 0, 0, 0, 0, 0, 9, STOP))).toEqual(new PyBytes(Uint8Array.of(9)));
    expect(load(pickle(0x80, 5, 0x96, 1, 0, 0, 0, 0, 0, 0, 0, 9, STOP))).toEqual(new PyBytes(Uint8Array.of(9)));
  });

  it('reads what our own writer produces', () => {
    const meta = { a: [1, new PyFloat(2), 'é'], b: new Map<PyValue, PyValue>([[new PyTuple([1]), null]]), c: ndarray.float32([1, 2], [1, 2]) };
    const array = load(pickleObjectArray(ndarray.objectScalar(meta), {}), { preserveFloats: true });
    expect(array).toEqual(ndarray.objectScalar(meta));
  });

  describe('refuses every global but NumPy array reconstruction', () => {
    const refused: [string, Uint8Array][] = [
      ['posix.system via GLOBAL', pickle(0x80, 3, 'cposix\nsystem\n', 0x58, u32(5), 'touch', 0x85, 0x52, STOP)],
      ['builtins.eval via STACK_GLOBAL', pickle(PROTO4, unicode('builtins'), unicode('eval'), 0x93, unicode('1'), 0x85, 0x52, STOP)],
      ['builtins.getattr', pickle(PROTO4, unicode('builtins'), unicode('getattr'), 0x93, STOP)],
      ['subprocess.Popen', pickle(0x80, 2, 'csubprocess\nPopen\n', STOP)],
      ['numpy.load (numpy, but not reconstruction)', pickle(PROTO4, unicode('numpy'), unicode('load'), 0x93, STOP)],
      ['numpy.core.multiarray.frombuffer', pickle(0x80, 2, 'cnumpy.core.multiarray\nfrombuffer\n', STOP)],
      ['os.system via INST', pickle(0x80, 2, 0x28, 'ios\nsystem\n', STOP)],
      ['the copyreg extension registry', pickle(0x80, 2, 0x82, 1, STOP)],
    ];
    it.each(refused)('%s', (_, bytes) => {
      const error = errorOf(() => load(bytes));
      expect(error.code).toBe('pickle_forbidden_global');
      expect(error.details).toMatchObject({ path: 'f.npz', key: 'meta' });
    });

    it('stops at the forbidden global even when valid data comes first', () => {
      const error = errorOf(() => load(pickle(PROTO4, 0x5d, 0x28, 0x4b, 1, unicode('os'), unicode('system'), 0x93, STOP)));
      expect(error.message).toContain('os.system');
    });
  });

  describe('refuses malformed or unsupported pickles with pickle_malformed', () => {
    const malformed: [string, Uint8Array][] = [
      ['truncated data', pickle(PROTO4, 0x58, u32(10), 'abc')],
      ['no STOP', pickle(PROTO4, 0x4e)],
      ['stack underflow', pickle(PROTO4, 0x86, STOP)],
      ['TUPLE without MARK', pickle(PROTO4, 0x74, STOP)],
      ['memo read before write', pickle(PROTO4, 0x68, 3, STOP)],
      ['unknown opcode', pickle(PROTO4, 0xff, STOP)],
      ['protocol 6', pickle(0x80, 6, 0x4e, STOP)],
      ['protocol 0 text opcodes', pickle(0x49, '1\n', STOP)],
      ['NEWOBJ', pickle(PROTO4, unicode('numpy'), unicode('ndarray'), 0x93, 0x29, 0x81, STOP)],
      ['a set', pickle(PROTO4, 0x8f, STOP)],
      ['persistent ids', pickle(PROTO4, 0x4e, 0x51, STOP)],
      ['out-of-band buffers', pickle(0x80, 5, 0x97, STOP)],
      ['REDUCE on a non-callable', pickle(PROTO4, 0x4e, 0x29, 0x52, STOP)],
      ['BUILD on a list', pickle(PROTO4, 0x5d, 0x29, 0x62, STOP)],
      ['invalid UTF-8', pickle(PROTO4, 0x8c, 1, 0xff, STOP)],
      ['_codecs.encode with another codec', pickle(0x80, 2, 'c_codecs\nencode\n', unicode('a'), unicode('rot13'), 0x86, 0x52, STOP)],
      ['a dtype as a value', pickle(0x80, 2, 'cnumpy\ndtype\n', unicode('f4'), 0x89, 0x88, 0x87, 0x52, STOP)],
      ['an array that never got its state', pickle(0x80, 2, 'cnumpy.core.multiarray\n_reconstruct\n', 'cnumpy\nndarray\n', 0x4b, 0, 0x85, 0x43, 1, 'b', 0x87, 0x52, STOP)],
      ['a BINBYTES8 length beyond the data', pickle(PROTO4, 0x8e, 0, 0, 0, 0, 0, 0, 0, 1, STOP)],
    ];
    it.each(malformed)('%s', (_, bytes) => {
      const error = errorOf(() => load(bytes));
      expect(error.code).toBe('pickle_malformed');
      expect(error.details).toMatchObject({ path: 'f.npz', key: 'meta' });
    });

    it('memo references that rebuild one array over and over', () => {
      // _frombuffer and its 1 MB arguments go to the memo once; each repeat is 5 bytes of pickle
      const megabyte = pickle(0x8e, 0, 0, 0x10, 0, 0, 0, 0, 0, new Uint8Array(1 << 20));
      const dtype = pickle(unicode('numpy'), unicode('dtype'), 0x93, unicode('u1'), 0x89, 0x88, 0x87, 0x52);
      const args = pickle(0x28, megabyte, dtype, 0x4a, u32(1 << 20), 0x85, unicode('C'), 0x74, 0x94);
      const repeat = Array.from({ length: 1000 }, () => [0x68, 0, 0x68, 1, 0x52]).flat();
      const bomb = pickle(PROTO4, 0x5d, 0x28, unicode('numpy._core.numeric'), unicode('_frombuffer'), 0x93, 0x94, args, 0x52, ...repeat, 0x65, STOP);
      expect(errorOf(() => load(bomb)).message).toContain('rebuilds far more data');
      // one copy is fine
      const once = pickle(PROTO4, unicode('numpy._core.numeric'), unicode('_frombuffer'), 0x93, args, 0x52, STOP);
      expect((load(once) as { shape: number[] }).shape).toEqual([1 << 20]);
    });

    it('nesting deeper than Python could pickle', () => {
      const deep = pickle(PROTO4, ...Array<number>(5000).fill(0x5d), ...Array<number>(4999).fill(0x61), STOP);
      expect(errorOf(() => load(deep)).code).toBe('pickle_malformed');
    });
  });
});
