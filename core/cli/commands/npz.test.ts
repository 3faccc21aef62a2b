/** `trendflow npz show`: in-process for the details, and once through the built CLI (`npm test` builds first). */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { TrendflowError } from '../../contracts/errors.js';
import { encodeNpz, ndarray, PyBytes, PyFloat, PyTuple, writeNpy } from '../../npz/index.js';
import { registerNpzCommand } from './npz.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
const tmp = useTempDirs('npz-cli-');

async function sampleFile(): Promise<string> {
  const file = path.join(await tmp(), 'clip.npz');
  const meta = {
    producer: 'core_clip',
    fps: new PyFloat(30),
    score: NaN,
    big: 2n ** 70n,
    raw: new PyBytes(Uint8Array.of(1, 2)),
    window: new PyTuple([0, 10]),
    models_used: [{ model_name: 'clip', device: 'cpu' }],
  };
  const arrays = {
    meta: ndarray.objectScalar(meta),
    embeddings: ndarray.float32([1, 2, NaN, -Infinity, 0.5, 3], [2, 3]),
    frame_indices: ndarray.int64([0n, 5n]),
    mask: ndarray.bool([true, false]),
    feature_names: ndarray.objectArray(['a', 'é']),
  };
  writeFileSync(file, await encodeNpz(arrays, { compress: true }));
  return file;
}

async function show(...args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerNpzCommand(program);
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  await program.parseAsync(['npz', 'show', ...args], { from: 'user' });
  return out;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('trendflow npz show', () => {
  it('--json prints one object with keys, summaries and tagged meta', async () => {
    const file = await sampleFile();
    const json = JSON.parse(await show(file, '--json')) as {
      file: string;
      format: string;
      keys: { key: string; dtype: string; descr: string; shape: number[]; fortran_order_on_disk: boolean; summary?: unknown; values?: unknown }[];
      meta: Record<string, unknown>;
    };
    expect(json.file).toBe(file);
    expect(json.format).toBe('npz');
    expect(json.keys.map((k) => [k.key, k.dtype, k.descr, k.shape])).toEqual([
      ['meta', 'object', '|O', []],
      ['embeddings', 'float32', '<f4', [2, 3]],
      ['frame_indices', 'int64', '<i8', [2]],
      ['mask', 'bool', '|b1', [2]],
      ['feature_names', 'object', '|O', [2]],
    ]);
    const embeddings = json.keys[1]!;
    expect(embeddings.fortran_order_on_disk).toBe(false);
    expect(embeddings.summary).toEqual({
      min: { $float: '-inf' },
      max: 3,
      mean: { $float: '-inf' },
      nan_count: 1,
      first: [1, 2, { $float: 'nan' }, { $float: '-inf' }, 0.5, 3],
    });
    expect(json.keys[4]!.values).toEqual(['a', 'é']);
    expect(json.meta).toEqual({
      producer: 'core_clip',
      fps: 30,
      score: { $float: 'nan' },
      big: { $int: '1180591620717411303424' },
      raw: { $bytes: 'AQI=' },
      window: { $tuple: [0, 10] },
      models_used: [{ model_name: 'clip', device: 'cpu' }],
    });
  });

  it('--json writes floats so Python reads them as float and ints as int', async () => {
    const text = await show(await sampleFile(), '--json');
    expect(text).toContain('"fps":30.0');
    expect(text).toContain('"summary":{"min":{"$float":"-inf"},"max":3.0,"mean":{"$float":"-inf"},"nan_count":1');
    expect(text).toContain('"summary":{"min":0,"max":5,"mean":2.5,"first":[0,5]}');
  });

  it('--full gives all values of numeric arrays, shaped', async () => {
    const json = JSON.parse(await show(await sampleFile(), '--json', '--full')) as { keys: { key: string; values?: unknown }[] };
    expect(json.keys.find((k) => k.key === 'embeddings')?.values).toEqual([
      [1, 2, { $float: 'nan' }],
      [{ $float: '-inf' }, 0.5, 3],
    ]);
    expect(json.keys.find((k) => k.key === 'mask')?.values).toEqual([true, false]);
  });

  it('prints a table and the meta dict for people', async () => {
    const text = await show(await sampleFile());
    expect(text).toMatch(/clip\.npz: npz, 5 arrays/);
    expect(text).toMatch(/embeddings\s+float32\s+<f4\s+\(2, 3\)\s+min -inf {2}max 3\.0 {2}mean -inf {2}nan 1/);
    expect(text).toMatch(/feature_names\s+object\s+\|O\s+\(2,\)\s+\['a', 'é'\]/);
    expect(text).toContain("\nmeta:\n  producer: 'core_clip'\n  fps: 30.0\n  score: nan\n  big: 1180591620717411303424\n  raw: b'\\x01\\x02'\n  window: (0, 10)\n");
  });

  it('shows a single .npy', async () => {
    const file = path.join(await tmp(), 'matrix.npy');
    writeFileSync(file, writeNpy(ndarray.int16([1, 2, 3, 4], [2, 2])));
    const json = JSON.parse(await show(file, '--json', '--full')) as { format: string; keys: { key: string; values: unknown }[]; meta: unknown };
    expect(json).toMatchObject({ format: 'npy', keys: [{ key: 'matrix', values: [[1, 2], [3, 4]] }], meta: null });
  });

  it('throws coded errors that name the file', async () => {
    const missing = path.join(await tmp(), 'missing.npz');
    await expect(show(missing)).rejects.toMatchObject({ code: 'npz_not_found', details: { path: missing } });
    const garbage = path.join(await tmp(), 'garbage.npz');
    writeFileSync(garbage, 'not a zip');
    await expect(show(garbage)).rejects.toBeInstanceOf(TrendflowError);
  });

  it('runs through the built CLI', async () => {
    const file = await sampleFile();
    const json = spawnSync(process.execPath, ['bin/trendflow.js', 'npz', 'show', file, '--json'], { cwd: repoRoot, encoding: 'utf8' });
    expect(json.stderr).toBe('');
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ file, format: 'npz', meta: { producer: 'core_clip' } });

    const human = spawnSync(process.execPath, ['bin/trendflow.js', 'npz', 'show', file], { cwd: repoRoot, encoding: 'utf8' });
    expect(human.status).toBe(0);
    expect(human.stdout).toContain("producer: 'core_clip'");

    const missing = spawnSync(process.execPath, ['bin/trendflow.js', 'npz', 'show', `${file}.nope`], { cwd: repoRoot, encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(`trendflow: ${file}.nope: npz_not_found: no such file\n`);
  });
});
