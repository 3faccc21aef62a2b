/**
 * NpzStreamWriter: the same data written row by row and as whole arrays gives identical `.npy` members, loads
 * identically in NumPy and in our reader; bad rows are refused without harm; the spool folder never outlives
 * the writer.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { numpyAvailableOrCi, runPython } from '../../test/helpers/python.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { codeOf, failureOf } from '../../test/helpers/errors.js';
import { NpzStreamWriter, type RowColumn, type RowValue } from './npz-stream.js';
import { ndarray, readNpzFile, writeNpy, writeNpzFile, type AnyNdArray, type PyValue } from './index.js';
import { DEFAULT_READ_LIMITS } from './types.js';
import { listMembers, openZip, readMember } from './zip.js';

const tmp = useTempDirs('npz-stream-');

/** A dataset of `n` rows with every streamable kind: float32 vectors with NaN, int64, bool, object scalars and vectors. */
function dataset(n: number) {
  const F = 5;
  const X = new Float32Array(n * F).map((_, i) => (i % 7 === 3 ? Number.NaN : i * 0.25 - 3));
  const ids = Array.from({ length: n }, (_, i) => `video-${i}-é`);
  const optional: PyValue[] = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? null : { bucket: `b${i % 4}`, n: i }));
  const pairs: PyValue[] = Array.from({ length: n * 2 }, (_, i) => (i % 2 === 0 ? i : `s${i}`));
  const counts = Array.from({ length: n }, (_, i) => BigInt(i) * 10_000_000_000n - 5n);
  const flags = Array.from({ length: n }, (_, i) => i % 2 === 0);
  const names = ndarray.objectArray(['a', 'b', 'c', 'd', 'e']);
  const whole: Record<string, AnyNdArray> = {
    version: ndarray.str(['v1'], []),
    ids: ndarray.objectArray(ids),
    X: ndarray.float32(X, [n, F]),
    names,
    optional: ndarray.objectArray(optional),
    pairs: ndarray.objectArray(pairs, [n, 2]),
    counts: ndarray.int64(counts),
    flags: ndarray.bool(flags),
  };
  const columns: Record<string, AnyNdArray | RowColumn> = {
    version: whole.version!,
    ids: { dtype: 'object' },
    X: { dtype: 'float32', rowShape: [F] },
    names,
    optional: { dtype: 'object' },
    pairs: { dtype: 'object', rowShape: [2] },
    counts: { dtype: 'int64' },
    flags: { dtype: 'bool' },
  };
  const rows = Array.from({ length: n }, (_, i): Record<string, RowValue> => ({
    ids: ids[i]!,
    X: X.subarray(i * F, (i + 1) * F),
    optional: optional[i]!,
    pairs: pairs.slice(i * 2, i * 2 + 2),
    counts: counts[i]!,
    flags: flags[i]!,
  }));
  return { whole, columns, rows };
}

async function memberBytes(file: string): Promise<Map<string, Buffer>> {
  const zip = await openZip(file, { path: file });
  try {
    const out = new Map<string, Buffer>();
    for (const member of await listMembers(zip, DEFAULT_READ_LIMITS, { path: file })) out.set(member.key, Buffer.from(await readMember(zip, member, { path: file })));
    return out;
  } finally {
    zip.close();
  }
}

async function writeBoth(n: number, compress: boolean): Promise<{ dir: string; whole: Record<string, AnyNdArray>; streamed: string; reference: string }> {
  const dir = await tmp();
  const { whole, columns, rows } = dataset(n);
  const reference = path.join(dir, 'whole.npz');
  const streamed = path.join(dir, 'streamed.npz');
  await writeNpzFile(reference, whole, { compress });
  const writer = await NpzStreamWriter.create(streamed, columns, { compress });
  for (const row of rows) await writer.append(row);
  expect(writer.rowCount).toBe(n);
  await writer.finish();
  return { dir, whole, streamed, reference };
}

describe('NpzStreamWriter', () => {
  // 0 rows, a partial pickle batch, batch edges (1000 object items, 2 × 1000 for the pairs) and several batches
  for (const [n, compress] of [[0, true], [7, false], [1000, true], [2345, false]] as const) {
    it(`writes ${n} rows (${compress ? 'deflated' : 'stored'}) with members byte-identical to writeNpy of the whole arrays`, async () => {
      const { dir, whole, streamed } = await writeBoth(n, compress);
      const members = await memberBytes(streamed);
      expect([...members.keys()]).toEqual(Object.keys(whole));
      for (const [key, array] of Object.entries(whole)) expect(members.get(key)!.equals(Buffer.from(writeNpy(array))), key).toBe(true);
      // the spool folder is gone; only the archive remains
      expect(await fs.readdir(dir)).toEqual(['streamed.npz', 'whole.npz'].sort());
      const back = await readNpzFile(streamed);
      expect(back.get('X')!.shape).toEqual([n, 5]);
      expect(back.get('pairs')!.shape).toEqual([n, 2]);
    });
  }

  it.skipIf(!numpyAvailableOrCi)('loads in NumPy exactly like the whole-array writer', async () => {
    const { streamed, reference } = await writeBoth(1500, true);
    const out = runPython(
      `
import sys, numpy as np
a = np.load(sys.argv[1], allow_pickle=True); b = np.load(sys.argv[2], allow_pickle=True)
assert a.files == b.files, (a.files, b.files)
for k in a.files:
    x, y = a[k], b[k]
    assert x.dtype == y.dtype and x.shape == y.shape, k
    if x.dtype == object:
        assert x.tolist() == y.tolist(), k
    else:
        assert np.array_equal(x, y, equal_nan=(x.dtype.kind == 'f')), k
print(a['X'].shape, int(np.isnan(a['X']).sum()), a['ids'][1499], a['optional'][1], a['pairs'][3].tolist(), a['counts'][2], a['flags'][:3].tolist())
`,
      [streamed, reference],
    );
    expect(out.trim()).toBe("(1500, 5) 1071 video-1499-é {'bucket': 'b1', 'n': 1} [6, 's7'] 19999999995 [True, False, True]");
  });

  it('refuses a bad row without spooling any of it, and the writer stays usable', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'rows.npz');
    const writer = await NpzStreamWriter.create(file, { x: { dtype: 'float32', rowShape: [2] }, n: { dtype: 'uint8' }, o: { dtype: 'object' } }, { compress: false });
    expect(await codeOf(writer.append({ x: [1, 2], n: 1 }))).toBe('npz_write_unsupported_value'); // no 'o'
    expect(await codeOf(writer.append({ x: [1], n: 1, o: null }))).toBe('npz_write_unsupported_value'); // short vector
    expect(await codeOf(writer.append({ x: [1, 2], n: 300, o: null }))).toBe('npz_write_unsupported_value'); // not a uint8
    // refused deep inside a value: the error names the place; the same object, fixed, is then accepted
    const value: { a: unknown[] } = { a: [new Date()] };
    const refused = await failureOf(writer.append({ x: [1, 2], n: 1, o: value as unknown as PyValue }));
    expect([refused.code, refused.message, refused.details.key]).toEqual(['npz_write_unsupported_value', 'value at [0]["a"][0]: Date has no Python equivalent (use plain objects, arrays, Map, PyTuple, PyBytes, PyFloat, NdArray)', 'o']);
    value.a = [1];
    await writer.append({ x: [1, 2], n: 7, o: value as PyValue });
    await writer.append({ x: [3, 4], n: 8, o: 'ok' });
    await writer.finish();
    const back = await readNpzFile(file);
    expect(Array.from(back.get('x')!.data as Float32Array)).toEqual([1, 2, 3, 4]);
    expect(back.get('n')!.shape).toEqual([2]);
    expect(back.get('o')!.data).toEqual([{ a: [1] }, 'ok']);
    expect(await codeOf(writer.append({ x: [1, 2], n: 1, o: null }))).toBe('npz_write_unsupported_value'); // finished
  });

  it('refuses str columns and bad keys before creating anything', async () => {
    const dir = await tmp();
    expect(await codeOf(NpzStreamWriter.create(path.join(dir, 'a.npz'), { s: { dtype: 'str' as 'object' } }, { compress: false }))).toBe('npz_write_unsupported_value');
    expect(await codeOf(NpzStreamWriter.create(path.join(dir, 'a.npz'), { 'a\\b': { dtype: 'object' } }, { compress: false }))).toBe('npz_write_unsupported_value');
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('abort leaves nothing behind; a failed finish removes its temp files and spool', async () => {
    const dir = await tmp();
    const aborted = await NpzStreamWriter.create(path.join(dir, 'a.npz'), { x: { dtype: 'float64' } }, { compress: true });
    await aborted.append({ x: 1 });
    await aborted.abort();
    expect(await fs.readdir(dir)).toEqual([]);

    // the target is a non-empty folder: the final rename fails
    const target = path.join(dir, 'taken.npz');
    await fs.mkdir(target);
    await fs.writeFile(path.join(target, 'keep'), 'x');
    const writer = await NpzStreamWriter.create(target, { x: { dtype: 'float64' } }, { compress: true });
    await writer.append({ x: 2 });
    expect(await codeOf(writer.finish())).toBe('store_io_failed');
    expect(await fs.readdir(dir)).toEqual(['taken.npz']);
    expect(await fs.readdir(target)).toEqual(['keep']);
  });
});
