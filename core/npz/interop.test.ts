/**
 * NumPy interop, against every python3 with numpy found (Debian's NumPy 1.x and a NumPy 2.x when both exist):
 * what we write loads in NumPy with the same values, what NumPy writes reads back the same, non-object .npy
 * bytes are identical, float16 conversions match NumPy bit for bit, and malicious pickles are refused.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { numpyAvailableOrCi } from '../../test/helpers/python.js';
import { numpyPythons, runWith, taggedArray } from '../../test/helpers/npz.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { TrendflowError } from '../contracts/errors.js';
import { halfToNumber, numberToHalf } from './float16.js';
import { decodeNpz, encodeNpz, formatPyFloat, ndarray, readNpy, writeNpy } from './index.js';
import { type AnyNdArray, PyBytes, PyFloat, PyTuple, type PyValue } from './types.js';

const pythons = numpyAvailableOrCi ? numpyPythons() : [];
const tmp = useTempDirs('npz-interop-');

/** Every Python value kind the writer supports, including the awkward ones. */
function writtenMeta(): { [key: string]: PyValue } {
  return {
    producer: 'core_clip',
    schema_version: '1.0',
    status: 'ok',
    empty_reason: null,
    flags: [true, false],
    count: 42,
    negative: -7,
    int_2_53: 2 ** 53,
    big: 2n ** 70n,
    negative_big: -(2n ** 70n),
    small_bigint: 5n,
    float: 1.5,
    integral_float: new PyFloat(30),
    negative_zero: -0,
    tiny: 5e-324,
    e16: 1e16,
    nan: NaN,
    inf: Infinity,
    ninf: -Infinity,
    text: 'héllo 日本語 😀',
    long_text: 'ж'.repeat(300),
    bytes: new PyBytes(Uint8Array.of(0, 0xff, 0x27, 0x5c)),
    empty_bytes: new PyBytes(new Uint8Array(0)),
    long_bytes: new PyBytes(Uint8Array.from({ length: 600 }, (_, i) => i % 256)),
    tuple: new PyTuple([1, 'a', new PyTuple([2.5])]),
    empty_tuple: new PyTuple([]),
    nested: { a: { b: { c: [null, [1, [2, []]]] } } },
    ['__proto__']: 'a key, not a prototype',
    'ключ': 'non-ASCII key',
    other_keys: new Map<PyValue, PyValue>([
      [1, 'one'],
      [new PyTuple([1, 'a']), 'tuple'],
      [null, 'none'],
      [new PyBytes(Uint8Array.of(107)), 'bytes'],
      [2.5, 'float'],
    ]),
    models_used: [{ model_name: 'clip', model_version: 'ViT-B/32', precision: 'fp32', device: 'cpu' }],
    arr_f32: ndarray.float32([1.5, NaN, -Infinity, 0.1], [2, 2]),
    arr_f16: ndarray.float16([0.5, 65504, 1e-7]),
    arr_i64: ndarray.int64([-(2n ** 63n), 2n ** 63n - 1n]),
    arr_u8: ndarray.uint8([], [0]),
    arr_bool: ndarray.bool([true, false]),
    arr_str: ndarray.str(['a', 'bé', '😀']),
    arr_obj: ndarray.objectArray([1, 'a', null, ndarray.int16([3])]),
  };
}

function writtenArrays(): Record<string, AnyNdArray> {
  return {
    f2: ndarray.float16([0, -0, 1, -2.5, 65504, 65519, 65520, 6e-8, 1e-7, 0.1, NaN, Infinity, -Infinity]),
    f4: ndarray.float32([0, -0, 1.5, 0.1, 3.4028234663852886e38, 1e-45, NaN, Infinity, -Infinity]),
    f8_2d: ndarray.float64([0.1, -0, 1e300, 5e-324, NaN, -Infinity], [2, 3]),
    i1: ndarray.int8([-128, 0, 127]),
    i2: ndarray.int16([-32768, 32767]),
    i4: ndarray.int32([-(2 ** 31), 2 ** 31 - 1]),
    i8: ndarray.int64([-(2n ** 63n), 2n ** 63n - 1n, 0n, 2 ** 53]),
    u1: ndarray.uint8([0, 255]),
    u2: ndarray.uint16([0, 65535]),
    u4: ndarray.uint32([0, 2 ** 32 - 1]),
    u8: ndarray.uint64([0n, 2n ** 64n - 1n]),
    b1_3d: ndarray.bool([1, 0, 1, 1, 0, 0, 1, 0], [2, 2, 2]),
    scalar: ndarray.fromScalar(2.5),
    scalar_int: ndarray.fromScalar(7, 'int32'),
    scalar_str: ndarray.fromScalar('é'),
    empty: ndarray.float32([], [0, 3]),
    huge_empty: ndarray.uint8([], [0, 10 ** 15]),
    strs: ndarray.str(['', 'a', 'héllo', '日本語', '😀 emoji']),
    strs_2d: ndarray.str(['a', 'bb', 'ccc', 'dddd'], [2, 2]),
    names: ndarray.objectArray(['clip', 'naïve', '😀']),
    objects_2d: ndarray.objectArray([1, 'a', null, new PyTuple([1, 2]), [1, [2]], new PyBytes(Uint8Array.of(1))], [2, 3]),
    empty_objects: ndarray.objectArray([]),
    meta: ndarray.objectScalar(writtenMeta()),
  };
}

const LOAD_SCRIPT = `
out = {}
for f in sys.argv[1:]:
    z = np.load(f, allow_pickle=True)
    out[f] = {k: tagged_array(z[k]) for k in z.files}
    out[f]["$meta_is_dict"] = type(z["meta"].item()) is dict
print(json.dumps(out))
`;

/** Arrays NumPy writes: every dtype in both byte orders, Fortran order, 0-d, empty, str, object, meta. */
const GENERATE_SCRIPT = `
import io, pickle, zipfile
d = sys.argv[1]

def obj0(v):
    a = np.empty((), dtype=object)
    a[()] = v
    return a

shared = [1, 2]
meta = {
    'producer': 'numpy', 'none': None, 't': True, 'f': False, 'int': 42, 'neg': -7, 'big': 2**70, 'nbig': -2**70,
    'i64max': 2**63 - 1, 'float': 1.5, 'integral_float': 30.0, 'neg_zero': -0.0, 'nan': float('nan'),
    'inf': float('inf'), 'ninf': float('-inf'), 'tiny': 5e-324, 'e16': 1e16, 'str': 'héllo 日本語 😀',
    'long_str': 'x' * 300, 'bytes': b'\\x00\\xffab', 'empty_bytes': b'', 'long_bytes': bytes(range(256)) * 2,
    'bytearray': bytearray(b'ba'), 'empty_bytearray': bytearray(), 'tuple': (1, 'a', (2.5,)), 'empty_tuple': (),
    'list': [1, [2, [3]]], 'shared_a': shared, 'shared_b': shared, 'nested': {'a': {'b': {'c': [None]}}},
    'other_keys': {1: 'one', (1, 'a'): 'tuple', None: 'none', b'k': 'bytes', 2.5: 'float'},
    'np_f32': np.float32(1.5), 'np_f64': np.float64(2.0), 'np_f16': np.float16(0.5), 'np_i64': np.int64(-7),
    'np_u64': np.uint64(2**64 - 1), 'np_bool': np.bool_(True), 'np_str': np.str_('sé'), 'np_i8': np.int8(-1),
    'arr_c': np.arange(6.0).reshape(2, 3), 'arr_f': np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    'arr_be': np.arange(3, dtype='>f4'), 'arr_u': np.array(['a', 'bé']), 'arr_obj': np.array([1, 'a', None], dtype=object),
    'arr_empty': np.zeros(0), 'arr_bool': np.array([True, False]), 'arr_f16': np.array([0.5, np.inf], dtype='f2'),
    'models_used': [{'model_name': 'clip', 'precision': 'fp32'}],
}

A = {}
for code in ['f2', 'f4', 'f8', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8']:
    dt = np.dtype(code)
    if dt.kind == 'f':
        fi = np.finfo(dt)
        vals = np.array([0.0, -0.0, 1.5, -2.25, np.nan, np.inf, -np.inf, 0.1, fi.max, fi.tiny, fi.smallest_subnormal]).astype(dt)
    else:
        ii = np.iinfo(dt)
        vals = np.array([ii.min, ii.max, 0, 1], dtype=dt)
    A['le_' + code] = vals.astype('<' + code)
    A['be_' + code] = vals.astype('>' + code)
A['bool'] = np.array([True, False, True])
A['f_order_2d'] = np.asfortranarray(np.arange(12, dtype='<f8').reshape(3, 4))
A['f_order_3d_be'] = np.asfortranarray(np.arange(24, dtype='>i4').reshape(2, 3, 4))
A['f_order_f2'] = np.asfortranarray(np.arange(6, dtype='<f2').reshape(2, 3))
A['f_order_u'] = np.asfortranarray(np.array([['a', 'bé'], ['😀', '']]))
A['f_order_bool'] = np.asfortranarray(np.array([[True, False, False], [False, True, True]]))
A['zero_d'] = np.array(3.25)
A['zero_d_int'] = np.array(-7, dtype='i8')
A['zero_d_str'] = np.array('é')
A['empty'] = np.zeros((0,), 'f4')
A['empty_3d'] = np.zeros((2, 0, 3), 'i2')
A['u_le'] = np.array(['', 'a', 'héllo', '日本語', '😀'])
A['u_be'] = A['u_le'].astype('>U5')
A['names'] = np.array(['clip', 'naïve'], dtype=object)
A['obj_f'] = np.asfortranarray(np.array([[1, 'a'], [None, 2.5]], dtype=object))
A['meta'] = obj0(meta)
np.savez(d + '/stored.npz', **A)
np.savez_compressed(d + '/deflated.npz', **A)
expected = {'stored.npz': {k: tagged_array(v) for k, v in A.items()}}
expected['deflated.npz'] = expected['stored.npz']

def npy_with_protocol(arr, protocol):
    f = io.BytesIO()
    np.lib.format.write_array_header_1_0(f, np.lib.format.header_data_from_array_1_0(arr))
    pickle.dump(arr, f, protocol=protocol)
    return f.getvalue()

with zipfile.ZipFile(d + '/protocols.npz', 'w', compression=zipfile.ZIP_DEFLATED) as z:
    for p in (2, 3, 4, 5):
        with z.open('meta_p%d.npy' % p, 'w', force_zip64=True) as f:
            f.write(npy_with_protocol(A['meta'], p))
expected['protocols.npz'] = {'meta_p%d' % p: tagged_array(A['meta']) for p in (2, 3, 4, 5)}

for version in [(1, 0), (2, 0), (3, 0)]:
    with open(d + '/v%d.npy' % version[0], 'wb') as f:
        np.lib.format.write_array(f, A['f_order_2d'], version=version)
    expected['v%d.npy' % version[0]] = tagged_array(A['f_order_2d'])

cycle = []
cycle.append(cycle)
with open(d + '/cycle.npy', 'wb') as f:
    f.write(npy_with_protocol(obj0({'self': cycle}), 4))

np.save(d + '/f16_all.npy', np.arange(65536, dtype='<u2').view('<f2'))
np.save(d + '/f16_as_f4.npy', np.arange(65536, dtype='<u2').view('<f2').astype('<f4'))
print(json.dumps(expected))
`;

/** Float64 inputs (random, ties, boundaries) and the float16 bits NumPy rounds them to. */
const HALF_ROUNDING_SCRIPT = `
halves = np.arange(65536, dtype='<u2').view('<f2').astype('<f8')
finite = np.sort(np.unique(halves[np.isfinite(halves)]))
mids = (finite[:-1] + finite[1:]) / 2
rng = np.random.default_rng(1)
rand = np.concatenate([rng.standard_normal(2000) * 10.0 ** rng.integers(-9, 6, 2000), rng.uniform(-70000, 70000, 500)])
vals = np.concatenate([mids, np.nextafter(mids, np.inf), np.nextafter(mids, -np.inf), rand, [65519.99, 65520.0, 1e9, -1e9, 0.0, -0.0]])
vals = vals.astype('<f8')
with np.errstate(over='ignore'):
    bits = vals.astype('<f2').view('<u2').tolist()
print(json.dumps({'values': [repr(float(v)) for v in vals], 'bits': bits}))
`;

const MALICIOUS_SCRIPT = `
import builtins, io, os, pickle, zipfile
d, marker = sys.argv[1], sys.argv[2]

class System:
    def __reduce__(self):
        return (os.system, ('touch ' + marker,))

class Eval:
    def __reduce__(self):
        return (builtins.eval, ("__import__('os').system('touch %s')" % marker,))

def obj0(v):
    a = np.empty((), dtype=object)
    a[()] = v
    return a

np.savez(d + '/system.npz', meta=obj0({'ok': 1, 'payload': System()}))
np.savez_compressed(d + '/eval.npz', good=np.arange(3), evil=np.array([1, Eval()], dtype=object))
for p in (2, 5):
    f = io.BytesIO()
    arr = obj0([1.5, {'deep': [System()]}])
    np.lib.format.write_array_header_1_0(f, np.lib.format.header_data_from_array_1_0(arr))
    pickle.dump(arr, f, protocol=p)
    with zipfile.ZipFile(d + '/system_p%d.npz' % p, 'w') as z:
        z.writestr('meta.npy', f.getvalue())
print(os.system.__module__)
`;

async function catchError(fn: () => unknown): Promise<TrendflowError> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof TrendflowError) return error;
    throw error;
  }
  throw new Error('expected a TrendflowError');
}

function taggedContents(contents: Map<string, AnyNdArray>): Record<string, unknown> {
  return Object.fromEntries([...contents].map(([key, array]) => [key, taggedArray(array)]));
}

describe.skipIf(!numpyAvailableOrCi)('NumPy interop', () => {
  it('has a python3 with numpy (CI installs python3-numpy)', () => {
    expect(pythons.length).toBeGreaterThan(0);
  });

  for (const { python, version } of pythons) {
    describe(`NumPy ${version} (${python})`, () => {
      it('loads what we write, stored and deflated, with identical values, dtypes, shapes and meta', async () => {
        const dir = await tmp();
        const arrays = writtenArrays();
        const files: string[] = [];
        for (const compress of [true, false]) {
          const file = path.join(dir, compress ? 'deflated.npz' : 'stored.npz');
          writeFileSync(file, await encodeNpz(arrays, { compress }));
          files.push(file);
        }
        const loaded = JSON.parse(runWith(python, LOAD_SCRIPT, files)) as Record<string, Record<string, unknown>>;
        const expected = { ...taggedContents(new Map(Object.entries(arrays))), $meta_is_dict: true };
        for (const file of files) expect(loaded[file]).toEqual(expected);
      });

      it('reads what NumPy writes: every dtype, both byte orders, Fortran order, 0-d, empty, str, pickles 2-5', async () => {
        const dir = await tmp();
        const expected = JSON.parse(runWith(python, GENERATE_SCRIPT, [dir])) as Record<string, unknown>;
        for (const [name, want] of Object.entries(expected)) {
          const bytes = readFileSync(path.join(dir, name));
          const options = { path: name, preserveFloats: true };
          const got = name.endsWith('.npz') ? taggedContents(await decodeNpz(bytes, options)) : taggedArray(readNpy(bytes, options));
          expect(got, name).toEqual(want);
        }

        const stored = await decodeNpz(readFileSync(path.join(dir, 'stored.npz')));
        expect(stored.get('be_f4')?.descr).toBe('>f4');
        expect(stored.get('f_order_2d')?.fortranOrderOnDisk).toBe(true);
        expect([...stored.get('f_order_2d')!.data]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);

        // a list that contains itself comes back as an array that contains itself
        const cycle = readNpy(readFileSync(path.join(dir, 'cycle.npy'))).data[0] as { self: PyValue[] };
        expect(cycle.self[0]).toBe(cycle.self);

        // every float16 bit pattern widens exactly as NumPy's astype(float32)
        const halves = readNpy(readFileSync(path.join(dir, 'f16_all.npy'))).data as Float32Array;
        const widened = readNpy(readFileSync(path.join(dir, 'f16_as_f4.npy'))).data as Float32Array;
        for (let bits = 0; bits < 65536; bits++) {
          if (Number.isNaN(widened[bits])) expect(halves[bits]).toBeNaN();
          else if (!Object.is(halves[bits], widened[bits])) expect(halves[bits], `0x${bits.toString(16)}`).toBe(widened[bits]);
        }
      });

      it('writes .npy bytes identical to numpy.lib.format.write_array', async () => {
        const specs: Record<string, AnyNdArray> = {
          f4_2d: ndarray.float32([0.5, -1, NaN, Infinity, 0.1, 3], [2, 3]),
          f8_0d: ndarray.fromScalar(1.5),
          f2: ndarray.float16([0, -0, 1, 65519, 65520, 1e-7, 6e-8, 2.98e-8, NaN, -Infinity, 0.1]),
          i1: ndarray.int8([-128, 127]),
          i8: ndarray.int64([1n, -1n, 2n ** 62n]),
          u8: ndarray.uint64([2n ** 64n - 1n]),
          i2_3d: ndarray.int16(Array.from({ length: 24 }, (_, i) => i - 12), [2, 3, 4]),
          u1_empty: ndarray.uint8([], [0, 7]),
          u1_huge_empty: ndarray.uint8([], [0, 10 ** 15]),
          u1_long_axis: ndarray.uint8(new Uint8Array(100_000)),
          b1: ndarray.bool([true, false]),
          u_str: ndarray.str(['a', 'héllo', '😀']),
          u_empty_str: ndarray.str(['']),
        };
        const transport = Object.fromEntries(
          Object.entries(specs).map(([name, array]) => [
            name,
            {
              descr: array.descr,
              shape: array.shape,
              values: Array.from(array.data as ArrayLike<unknown>, (v) => (array.dtype.startsWith('float') ? formatPyFloat(v as number) : String(v))),
            },
          ]),
        );
        const dir = await tmp();
        const specFile = path.join(dir, 'specs.json');
        writeFileSync(specFile, JSON.stringify(transport));
        const numpyBytes = JSON.parse(
          runWith(
            python,
            `
with open(sys.argv[1]) as f:
    specs = json.load(f)
out = {}
for name, s in specs.items():
    kind = np.dtype(s['descr']).kind
    if kind == 'U':
        a = np.array(s['values'], dtype=s['descr'])
    elif kind == 'f':
        with np.errstate(over='ignore'):
            a = np.array([float(v) for v in s['values']], dtype='<f8').astype(s['descr'])
    elif kind == 'b':
        a = np.array([v != '0' for v in s['values']], dtype=s['descr'])
    else:
        a = np.array([int(v) for v in s['values']], dtype=s['descr'])
    f = io.BytesIO()
    np.lib.format.write_array(f, a.reshape(s['shape']))
    out[name] = f.getvalue().hex()
print(json.dumps(out))
`,
            [specFile],
          ),
        ) as Record<string, string>;
        for (const [name, array] of Object.entries(specs)) {
          expect(Buffer.from(writeNpy(array)).toString('hex'), name).toBe(numpyBytes[name]);
        }
      });

      it('rounds float64 to float16 exactly as NumPy (ties to even, subnormals, overflow)', () => {
        const { values, bits } = JSON.parse(runWith(python, HALF_ROUNDING_SCRIPT)) as { values: string[]; bits: number[] };
        const mismatches = values.filter((v, i) => numberToHalf(Number(v)) !== bits[i]);
        expect(mismatches).toEqual([]);
        expect(halfToNumber(numberToHalf(65504))).toBe(65504);
      });

      it('refuses pickles that call os.system or builtins.eval, and nothing runs', async () => {
        const dir = await tmp();
        const marker = path.join(dir, 'MARKER');
        const systemModule = runWith(python, MALICIOUS_SCRIPT, [dir, marker]).trim();
        const cases: [file: string, key: string, global: string][] = [
          ['system.npz', 'meta', `${systemModule}.system`],
          ['eval.npz', 'evil', 'builtins.eval'],
          ['system_p2.npz', 'meta', `${systemModule}.system`],
          ['system_p5.npz', 'meta', `${systemModule}.system`],
        ];
        for (const [name, key, global] of cases) {
          const file = path.join(dir, name);
          const error = await catchError(() => decodeNpz(readFileSync(file), { path: file }));
          expect(error.code, name).toBe('pickle_forbidden_global');
          expect(error.message).toContain(global);
          expect(error.details).toMatchObject({ path: file, key });
        }
        expect(existsSync(marker)).toBe(false);
      });
    });
  }

  it('round-trips NumPy files through our writer unchanged', async () => {
    const [first] = pythons;
    if (!first) return;
    const dir = await tmp();
    runWith(first.python, GENERATE_SCRIPT, [dir]);
    const original = await decodeNpz(readFileSync(path.join(dir, 'deflated.npz')), { preserveFloats: true });
    const again = await decodeNpz(await encodeNpz(original, { compress: true }), { preserveFloats: true });
    // the writer stores little-endian C order: only byte order and the Fortran flag may change
    const normalize = (contents: Map<string, AnyNdArray>) =>
      JSON.stringify(taggedContents(contents)).replaceAll('"descr":">', '"descr":"<').replaceAll('"fortran":true', '"fortran":false');
    expect(normalize(again)).toBe(normalize(original));
  });
});
