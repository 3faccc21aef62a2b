/** Reader and writer without Python: round trips, headers, bad input, zip limits, getters, files, renderings. */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { TrendflowError } from '../contracts/errors.js';
import { formatHeader, parsePythonLiteral } from './header.js';
import {
  type AnyNdArray,
  type NpzContents,
  decodeNpz,
  encodeNpz,
  formatPyFloat,
  getArray,
  getMeta,
  getStringList,
  halfToNumber,
  ndarray,
  numberToHalf,
  PyBytes,
  PyFloat,
  PyTuple,
  pyRepr,
  readNpy,
  readNpzFile,
  stringifyJson,
  toJson,
  writeNpy,
  writeNpzFile,
} from './index.js';

function errorOf(fn: () => unknown): TrendflowError {
  try {
    fn();
  } catch (error) {
    if (error instanceof TrendflowError) return error;
    throw error;
  }
  throw new Error('expected a TrendflowError');
}

/** The TrendflowError a promise rejects with, or that a function throws or its promise rejects with. */
async function rejection(promise: Promise<unknown> | (() => unknown)): Promise<TrendflowError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (error instanceof TrendflowError) return error;
    throw error;
  }
  throw new Error('expected a TrendflowError');
}

/** A hand-made .npy: header text padded to 64 bytes, then data. */
function npy(header: string, data: Uint8Array = new Uint8Array(0), version = 1): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  const total = Math.ceil((prefix + header.length + 1) / 64) * 64;
  const out = new Uint8Array(total + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, total - prefix, true);
  else view.setUint32(8, total - prefix, true);
  out.set(new TextEncoder().encode(header.padEnd(total - prefix - 1, ' ') + '\n'), prefix);
  out.set(data, total);
  return out;
}

const zip = (members: Record<string, Uint8Array>, level: 0 | 6 = 0) =>
  zipSync(Object.fromEntries(Object.entries(members).map(([name, data]) => [name, [data, { level }]])));

function everyDtype(): Record<string, AnyNdArray> {
  return {
    f2: ndarray.float16([0, -0, 1.5, 65504, 6e-8, NaN, -Infinity]),
    f4: ndarray.float32([1.5, NaN, Infinity], [3, 1]),
    f8: ndarray.float64([0.1, -0, 5e-324, 1e308], [2, 2]),
    i1: ndarray.int8([-128, 127]),
    i2: ndarray.int16([-32768, 32767]),
    i4: ndarray.int32([-(2 ** 31), 2 ** 31 - 1]),
    i8: ndarray.int64([-(2n ** 63n), 2n ** 63n - 1n]),
    u1: ndarray.uint8([0, 255]),
    u2: ndarray.uint16([65535]),
    u4: ndarray.uint32([2 ** 32 - 1]),
    u8: ndarray.uint64([2n ** 64n - 1n]),
    b1: ndarray.bool([true, false, true]),
    str: ndarray.str(['', 'é', '😀x'], [3]),
    scalar: ndarray.fromScalar(true),
    empty: ndarray.int32([], [2, 0]),
    objects: ndarray.objectArray(['a', null, new PyTuple([1]), [new PyBytes(Uint8Array.of(1))]], [2, 2]),
    meta: ndarray.objectScalar({ producer: 'x', fps: new PyFloat(30), big: 2n ** 64n, nested: { k: [1.5, NaN] } }),
  };
}

describe('round trip', () => {
  it.each([true, false])('keeps every dtype, shape and value (compress=%s)', async (compress) => {
    const arrays = everyDtype();
    const back = await decodeNpz(await encodeNpz(arrays, { compress }), { preserveFloats: true });
    expect([...back.keys()]).toEqual(Object.keys(arrays));
    for (const [key, array] of Object.entries(arrays)) expect(back.get(key), key).toEqual(array);
  });

  it('reads only the keys asked for, and never inflates the others', async () => {
    const arrays = everyDtype();
    const [first, last] = [Object.keys(arrays)[0]!, Object.keys(arrays).at(-1)!];
    const bytes = await encodeNpz({ ...arrays, broken: arrays[first]! }, { compress: true });
    // damage the member that is not asked for: reading it would fail its CRC
    const at = Buffer.from(bytes).indexOf(Buffer.from('broken.npy', 'latin1')) + 'broken.npy'.length + 4;
    bytes[at]! ^= 0xff;
    await expect(decodeNpz(bytes)).rejects.toThrow();
    const some = await decodeNpz(bytes, { keys: [last, first], preserveFloats: true });
    expect([...some.keys()]).toEqual([first, last]);
    expect(some.get(last)).toEqual(arrays[last]);
  });

  it('writes the same bytes for the same arrays (fixed zip timestamps)', async () => {
    const bytes = await encodeNpz(everyDtype(), { compress: true });
    expect(bytes).toEqual(await encodeNpz(everyDtype(), { compress: true }));
    // DOS time 00:00, date 1980-01-01, and no extended-timestamp field (it would depend on the time zone)
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect([view.getUint16(10, true), view.getUint16(12, true), view.getUint16(28, true)]).toEqual([0, 0x21, 0]);
    const central = Buffer.from(bytes).indexOf(Buffer.from('PK\x01\x02', 'latin1'));
    expect([view.getUint16(central + 12, true), view.getUint16(central + 14, true), view.getUint16(central + 30, true)]).toEqual([0, 0x21, 0]);
  });

  it('keeps a declared <U width wider than the data', () => {
    const wide = { ...ndarray.str(['ab']), descr: '<U10' };
    expect(readNpy(writeNpy(wide)).descr).toBe('<U10');
  });
});

describe('.npy header', () => {
  it('pads the preamble to a multiple of 64 bytes ending in a newline, like NumPy', () => {
    for (const shape of [[], [5], [3, 4], [0, 10 ** 15], Array<number>(30).fill(1)]) {
      const header = formatHeader('<f4', shape);
      expect(header.length % 64).toBe(0);
      expect(header[header.length - 1]).toBe(0x0a);
    }
    const text = new TextDecoder().decode(formatHeader('<f4', [3, 4]).subarray(10)).trimEnd();
    expect(text).toBe("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }");
  });

  it('accepts the literal variants NumPy and Python 2 wrote', () => {
    const variants = [
      "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
      '{"shape": (3,), "descr": "<i8", "fortran_order": False}',
      "{'descr':'<i8','fortran_order':False,'shape':(3L,)}",
      "{'descr': u'<i8', 'fortran_order': False, 'shape': (3, ), }",
    ];
    const data = new Uint8Array(new BigInt64Array([1n, -2n, 3n]).buffer);
    for (const header of variants) expect(readNpy(npy(header, data)).data).toEqual(new BigInt64Array([1n, -2n, 3n]));
    expect(readNpy(npy(variants[0]!, data, 2)).shape).toEqual([3]);
  });

  it('parses only literals, never evaluates', () => {
    const literal = parsePythonLiteral("{'a': [1, (2,), (3), 'x\\'y'], 'b': None, (): -4}", {});
    expect(literal).toEqual(new Map<unknown, unknown>([['a', [1n, new PyTuple([2n]), 3n, "x'y"]], ['b', null], [new PyTuple([]), -4n]]));
  });

  const badHeaders: [string, string][] = [
    ['a call', "{'descr': __import__('os').system('x'), 'fortran_order': False, 'shape': ()}"],
    ['a missing key', "{'descr': '<f4', 'fortran_order': False}"],
    ['an extra key', "{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}"],
    ['a list shape', "{'descr': '<f4', 'fortran_order': False, 'shape': [2]}"],
    ['a negative dim', "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}"],
    ['a non-bool fortran_order', "{'descr': '<f4', 'fortran_order': 0, 'shape': ()}"],
    ['an unterminated string', "{'descr': '<f4, 'fortran_order': False, 'shape': ()}"],
    ['trailing text', "{'descr': '<f4', 'fortran_order': False, 'shape': ()} x"],
    ['not a dict', "('<f4', False, ())"],
  ];
  it.each(badHeaders)('refuses %s with npy_bad_header', (_, header) => {
    const error = errorOf(() => readNpy(npy(header), { path: 'a.npz', key: 'k' }));
    expect(error.code).toBe('npy_bad_header');
    expect(error.details).toMatchObject({ path: 'a.npz', key: 'k' });
  });

  it.each(['<c16', '|S3', '<M8[ns]', '|V4', "[('a', '<f4')]"])('refuses dtype %s with npy_unsupported_dtype', (descr) => {
    const quoted = descr.startsWith('[') ? descr : `'${descr}'`;
    const error = errorOf(() => readNpy(npy(`{'descr': ${quoted}, 'fortran_order': False, 'shape': ()}`)));
    expect(error.code).toBe('npy_unsupported_dtype');
  });

  it('reads big-endian and Fortran-ordered data into native C order', () => {
    const be = new Uint8Array(8);
    new DataView(be.buffer).setFloat32(0, 1.5, false);
    new DataView(be.buffer).setFloat32(4, -2, false);
    const beArray = readNpy(npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", be));
    expect(beArray).toMatchObject({ descr: '>f4', data: new Float32Array([1.5, -2]) });

    const fortran = new Uint8Array(new Int32Array([1, 4, 2, 5, 3, 6]).buffer);
    const f = readNpy(npy("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }", fortran));
    expect(f).toMatchObject({ shape: [2, 3], fortranOrderOnDisk: true, data: new Int32Array([1, 2, 3, 4, 5, 6]) });

    const utf32be = Uint8Array.of(0, 0, 0, 0x61, 0, 1, 0xf6, 0);
    expect(readNpy(npy("{'descr': '>U2', 'fortran_order': False, 'shape': (), }", utf32be)).data).toEqual(['a😀']);
  });

  it('reports bad magic, a cut preamble and short data', () => {
    expect(errorOf(() => readNpy(new TextEncoder().encode('hello world'))).code).toBe('npy_bad_magic');
    expect(errorOf(() => readNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': ()}").subarray(0, 40))).code).toBe('npz_truncated');
    const short = errorOf(() => readNpy(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (100,)}", new Uint8Array(8)), { key: 'x' }));
    expect(short.code).toBe('npz_truncated');
    expect(short.message).toContain('needs 800');
  });
});

describe('.npz errors name the file and key', () => {
  const file = '/data/run/a.npz';
  const good = () => encodeNpz({ first: ndarray.float64(new Float64Array(1000)), second: ndarray.float64(new Float64Array(1000)) }, { compress: false });

  it('a cut-off archive is npz_truncated, naming the member it ends in', async () => {
    const error = await rejection(decodeNpz((await good()).subarray(0, 9000), { path: file }));
    expect(error.code).toBe('npz_truncated');
    expect(error.details).toMatchObject({ path: file, key: 'second' });
    expect((await rejection(decodeNpz(new Uint8Array(0), { path: file }))).code).toBe('npz_truncated');
  });

  it('a file that is not a zip is npz_bad_zip', async () => {
    expect((await rejection(decodeNpz(new TextEncoder().encode('just text, no zip here at all'), { path: file }))).code).toBe('npz_bad_zip');
    const npyFile = await rejection(decodeNpz(writeNpy(ndarray.uint8([1])), { path: file }));
    expect(npyFile).toMatchObject({ code: 'npz_bad_zip', message: expect.stringContaining('.npy file') });
  });

  it('corrupt member data fails the CRC check', async () => {
    const corrupt = (await good()).slice();
    corrupt[500] = corrupt[500]! ^ 0xff;
    expect((await rejection(decodeNpz(corrupt, { path: file }))).details).toMatchObject({ path: file, key: 'first' });
    expect((await rejection(decodeNpz(corrupt, { path: file }))).code).toBe('npz_bad_zip');
  });

  it('member-level errors carry the key', async () => {
    const archive = zip({ 'ok.npy': writeNpy(ndarray.uint8([1])), 'bad.npy': new TextEncoder().encode('not numpy') });
    expect(await rejection(decodeNpz(archive, { path: file }))).toMatchObject({ code: 'npy_bad_magic', details: { path: file, key: 'bad' } });
  });

  const broken: [string, string, Uint8Array][] = [
    ['npy_bad_header', 'a bad header', npy("{'descr': '<f4', 'shape': (2,)}")],
    ['npz_truncated', 'short data', npy("{'descr': '<f8', 'fortran_order': False, 'shape': (100,)}", new Uint8Array(8))],
    ['npy_unsupported_dtype', 'a complex dtype', npy("{'descr': '<c8', 'fortran_order': False, 'shape': ()}", new Uint8Array(8))],
    ['pickle_malformed', 'a broken pickle', npy("{'descr': '|O', 'fortran_order': False, 'shape': ()}", Uint8Array.of(0x80, 3, 0x4e))],
  ];
  it.each(broken)('%s for %s inside an archive', async (code, _, member) => {
    const archive = zip({ 'good.npy': writeNpy(ndarray.uint8([1])), 'broken.npy': member }, 6);
    expect(await rejection(decodeNpz(archive, { path: file }))).toMatchObject({ code, details: { path: file, key: 'broken' } });
  });

  it('skips members that are not .npy, like np.load does for arrays', async () => {
    const archive = zip({ 'a.npy': writeNpy(ndarray.uint8([1])), 'notes.txt': new TextEncoder().encode('hi') });
    expect([...(await decodeNpz(archive)).keys()]).toEqual(['a']);
  });
});

describe('.npz limits (zip bombs)', () => {
  const file = 'bomb.npz';

  it('refuses a member that inflates beyond maxMemberBytes before inflating it', async () => {
    const zeros = writeNpy(ndarray.uint8(new Uint8Array(64 * 1024 * 1024)));
    const archive = zip({ 'zeros.npy': zeros }, 6);
    expect(archive.length).toBeLessThan(1024 * 1024);
    const error = await rejection(decodeNpz(archive, { path: file, limits: { maxMemberBytes: 16 * 1024 * 1024 } }));
    expect(error).toMatchObject({ code: 'npz_too_large', details: { path: file, key: 'zeros' } });
  });

  it('refuses too many members and too many bytes in total', async () => {
    const members = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`m${i}.npy`, writeNpy(ndarray.uint8(new Uint8Array(1000)))]));
    const archive = zip(members);
    expect((await rejection(decodeNpz(archive, { limits: { maxMembers: 4 } }))).code).toBe('npz_too_large');
    expect(await rejection(decodeNpz(archive, { limits: { maxTotalBytes: 3000 } }))).toMatchObject({ code: 'npz_too_large', details: { key: 'm2' } });
  });

  it('refuses a directory entry that lies about the size (actual inflation is bounded)', async () => {
    const data = writeNpy(ndarray.uint8(new Uint8Array(1024 * 1024)));
    const archive = zip({ 'liar.npy': data }, 6);
    const central = Buffer.from(archive.buffer).lastIndexOf(Buffer.from('PK\x01\x02', 'latin1'));
    new DataView(archive.buffer).setUint32(central + 24, 1000, true); // declared uncompressed size
    expect(await rejection(decodeNpz(archive, { path: file }))).toMatchObject({ code: 'npz_too_large', details: { path: file, key: 'liar' } });
  });

  it('refuses a declared ratio deflate cannot reach', async () => {
    const archive = zip({ 'x.npy': writeNpy(ndarray.uint8(new Uint8Array(10))) }, 6);
    const central = Buffer.from(archive.buffer).lastIndexOf(Buffer.from('PK\x01\x02', 'latin1'));
    new DataView(archive.buffer).setUint32(central + 24, 1_000_000_000, true);
    expect((await rejection(decodeNpz(archive))).code).toBe('npz_too_large');
  });

  it('accepts the highest ratio NumPy produces (all zeros)', async () => {
    const zeros = writeNpy(ndarray.float64(new Float64Array(2_000_000)));
    const raw = deflateRawSync(zeros, { level: 6 });
    expect(zeros.length / raw.length).toBeGreaterThan(1000);
    expect((await decodeNpz(zip({ 'z.npy': zeros }, 6))).get('z')?.shape).toEqual([2_000_000]);
  });
});

describe('writer refuses values Python cannot hold', () => {
  const cases: [string, () => unknown][] = [
    ['undefined', () => writeNpy(ndarray.objectScalar({ a: undefined as never }))],
    ['a function', () => writeNpy(ndarray.objectScalar([(() => 1) as never]))],
    ['a Date', () => writeNpy(ndarray.objectScalar({ when: new Date() as never }))],
    ['a lone surrogate', () => writeNpy(ndarray.objectScalar('\ud800'))],
    ['a lone surrogate in <U', () => writeNpy(ndarray.str(['\udc00']))],
    ['a cycle', () => {
      const list: unknown[] = [];
      list.push(list);
      return writeNpy(ndarray.objectScalar(list as never));
    }],
    ['an unhashable dict key', () => writeNpy(ndarray.objectScalar(new Map([[[1], 2]])))],
    ['an int out of range', () => ndarray.uint8([256])],
    ['a fraction in an int array', () => ndarray.int32([1.5])],
    ['a shape that does not match', () => ndarray.float32([1, 2, 3], [2, 2])],
    ['an empty key', () => encodeNpz({ '': ndarray.uint8([1]) }, { compress: false })],
  ];
  it.each(cases)('%s', async (_, fn) => expect((await rejection(fn)).code).toBe('npz_write_unsupported_value'));

  it('names the place in the value', async () => {
    const error = await rejection(() => encodeNpz({ meta: ndarray.objectScalar({ models_used: [{ device: undefined as never }] }) }, { compress: false }));
    expect(error.message).toContain('["models_used"][0]["device"]');
    expect(error.details.key).toBe('meta');
  });
});

describe('getters', () => {
  let npz: NpzContents;
  beforeAll(async () => {
    npz = await decodeNpz(
      await encodeNpz({ meta: ndarray.objectScalar({ producer: 'p' }), x: ndarray.float32([1]), names: ndarray.objectArray(['a', 'b']), u: ndarray.str(['c']) }, { compress: false }),
    );
  });

  it('return typed arrays, meta and string lists', () => {
    expect(getArray(npz, 'x', 'float32').data).toEqual(new Float32Array([1]));
    expect(getMeta(npz)).toEqual({ producer: 'p' });
    expect(getStringList(npz, 'names')).toEqual(['a', 'b']);
    expect(getStringList(npz, 'u')).toEqual(['c']);
  });

  it('throw artifact_invalid with the key on a missing key or wrong dtype', async () => {
    expect(errorOf(() => getArray(npz, 'y', 'float32', 'f.npz'))).toMatchObject({ code: 'artifact_invalid', details: { path: 'f.npz', key: 'y' } });
    expect(errorOf(() => getArray(npz, 'x', 'float64')).code).toBe('artifact_invalid');
    expect(errorOf(() => getStringList(npz, 'x')).code).toBe('artifact_invalid');
    const noDict = await decodeNpz(await encodeNpz({ meta: ndarray.objectScalar([1]) }, { compress: false }));
    expect(errorOf(() => getMeta(noDict)).code).toBe('artifact_invalid');
  });
});

describe('files', () => {
  it('writes atomically (no temp file left) and reads back', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'npz-'));
    const file = path.join(dir, 'out.npz');
    await writeNpzFile(file, { a: ndarray.int8([1, 2]) }, { compress: true });
    await writeNpzFile(file, { a: ndarray.int8([3]) }, { compress: true });
    expect(readdirSync(dir)).toEqual(['out.npz']);
    expect((await readNpzFile(file)).get('a')?.data).toEqual(new Int8Array([3]));
  });

  it('reports a missing file as npz_not_found and an unwritable folder as store_io_failed', async () => {
    const missing = path.join(os.tmpdir(), 'no-such-dir-npz', 'x.npz');
    expect(await rejection(readNpzFile(missing))).toMatchObject({ code: 'npz_not_found', details: { path: missing } });
    expect(await rejection(writeNpzFile(missing, { a: ndarray.int8([1]) }, { compress: false }))).toMatchObject({ code: 'store_io_failed' });
    expect(existsSync(path.dirname(missing))).toBe(false);
  });

  it('refuses a file larger than the total limit before reading it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'npz-'));
    const file = path.join(dir, 'big.npz');
    writeFileSync(file, new Uint8Array(3 * 1024 * 1024));
    expect(await rejection(readNpzFile(file, { limits: { maxTotalBytes: 1024 } }))).toMatchObject({ code: 'npz_too_large' });
  });
});

describe('float16', () => {
  it('converts specials, subnormals and ties like IEEE 754', () => {
    expect(halfToNumber(0x7c00)).toBe(Infinity);
    expect(halfToNumber(0xfc00)).toBe(-Infinity);
    expect(halfToNumber(0x7e00)).toBeNaN();
    expect(Object.is(halfToNumber(0x8000), -0)).toBe(true);
    expect(halfToNumber(0x0001)).toBe(2 ** -24);
    expect(halfToNumber(0x03ff)).toBe(1023 * 2 ** -24);
    expect(halfToNumber(0x7bff)).toBe(65504);
    expect(numberToHalf(65519)).toBe(0x7bff);
    expect(numberToHalf(65520)).toBe(0x7c00);
    expect(numberToHalf(2 ** -25)).toBe(0); // tie between 0 and the smallest subnormal: even
    expect(numberToHalf(3 * 2 ** -25)).toBe(2); // tie between 1 and 2 subnormal steps: even
    expect(numberToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie at 1.0: even
    expect(numberToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(numberToHalf(-0)).toBe(0x8000);
    for (let bits = 0; bits < 0x7c00; bits++) expect(numberToHalf(halfToNumber(bits))).toBe(bits);
  });
});

describe('renderings', () => {
  it('prints floats like Python repr', () => {
    const cases: [number, string][] = [
      [30, '30.0'], [-0, '-0.0'], [0.1, '0.1'], [1e16, '1e+16'], [1.5e-5, '1.5e-05'], [0.0001, '0.0001'],
      [123456789012345.6, '123456789012345.6'], [5e-324, '5e-324'], [1.7976931348623157e308, '1.7976931348623157e+308'],
      [NaN, 'nan'], [-Infinity, '-inf'],
    ];
    for (const [value, text] of cases) expect(formatPyFloat(value)).toBe(text);
  });

  it('tags what JSON cannot say', () => {
    const value = {
      f: new PyFloat(2), nan: NaN, inf: -Infinity, big: 2n ** 70n, b: new PyBytes(Uint8Array.of(1, 2)), t: new PyTuple([1]),
      m: new Map([[1, 'x']]), $odd: 1, arr: ndarray.int8([1]),
    };
    expect(stringifyJson(toJson({ a: value.f, n: value.nan, i: value.inf, big: value.big, b: value.b, t: value.t, m: value.m, arr: value.arr }))).toBe(
      '{"a":2.0,"n":{"$float":"nan"},"i":{"$float":"-inf"},"big":{"$int":"1180591620717411303424"},"b":{"$bytes":"AQI="},' +
        '"t":{"$tuple":[1]},"m":{"$dict":[[1,"x"]]},"arr":{"$ndarray":{"dtype":"int8","descr":"|i1","shape":[1],"values":[1]}}}',
    );
    expect(stringifyJson(toJson({ $odd: 1 }))).toBe('{"$dict":[["$odd",1]]}');
  });

  it('prints Python reprs', () => {
    expect(pyRepr({ a: [null, true, new PyTuple(['x']), new PyBytes(Uint8Array.of(0, 0x41)), 1.5, 2, "it's"] })).toBe(
      `{'a': [None, True, ('x',), b'\\x00A', 1.5, 2, "it's"]}`,
    );
  });
});
