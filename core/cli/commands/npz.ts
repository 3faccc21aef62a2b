import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { fileError } from '../../npz/npz.js';
import {
  arrayRepr,
  arrayValuesJson,
  decodeNpz,
  type AnyNdArray,
  type Json,
  type NpzContents,
  previewArray,
  pyPretty,
  type PyValue,
  readNpy,
  stringifyJson,
  summarizeJson,
  toJson,
} from '../../npz/index.js';

interface ShowOptions {
  json?: boolean;
  full?: boolean;
}

/** `trendflow npz show FILE [--json] [--full]`: keys, dtypes, shapes and meta of an `.npz` (or one `.npy`). */
export function registerNpzCommand(program: Command): void {
  const npz = program.command('npz').description('inspect NumPy .npz / .npy artifacts');
  npz
    .command('show')
    .description('list keys, dtypes and shapes and print meta')
    .argument('<file>', '.npz or .npy file')
    .option('--json', 'print one JSON object (value encoding: core/npz/README.md)')
    .option('--full', 'all values of numeric arrays instead of a summary')
    .action(async (file: string, options: ShowOptions) => {
      const shown = await load(file);
      process.stdout.write(options.json ? `${stringifyJson(showJson(shown, options.full ?? false))}\n` : showText(shown, options.full ?? false));
    });
}

interface Shown {
  file: string;
  format: 'npz' | 'npy';
  bytes: number;
  contents: NpzContents;
}

async function load(file: string): Promise<Shown> {
  const absolute = path.resolve(file);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(absolute);
  } catch (error) {
    throw fileError(error, absolute);
  }
  // a .npy starts with \x93NUMPY; everything else is read as a zip
  if (bytes[0] === 0x93) {
    const key = path.basename(absolute).replace(/\.npy$/, '');
    const array = readNpy(bytes, { path: absolute, preserveFloats: true });
    return { file: absolute, format: 'npy', bytes: bytes.length, contents: new Map([[key, array]]) };
  }
  return { file: absolute, format: 'npz', bytes: bytes.length, contents: await decodeNpz(bytes, { path: absolute, preserveFloats: true }) };
}

function metaOf(contents: NpzContents): PyValue | undefined {
  const meta = contents.get('meta');
  return meta?.dtype === 'object' && meta.shape.length === 0 ? meta.data[0] : undefined;
}

function showJson({ file, format, contents }: Shown, full: boolean): Json {
  const keys = [...contents].map(([key, array]): Json => {
    const numeric = array.dtype !== 'str' && array.dtype !== 'object';
    const summary = numeric && !full ? summarizeJson(array) : undefined;
    return {
      key,
      dtype: array.dtype,
      descr: array.descr,
      shape: array.shape,
      fortran_order_on_disk: array.fortranOrderOnDisk,
      size: array.data.length,
      ...(summary ? { summary } : { values: arrayValuesJson(array) }),
    };
  });
  const meta = metaOf(contents);
  return { file, format, keys, meta: meta === undefined ? null : toJson(meta) };
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function shapeText(array: AnyNdArray): string {
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  return array.fortranOrderOnDisk ? `${shape} F-order` : shape;
}

function showText({ file, format, bytes, contents }: Shown, full: boolean): string {
  const meta = metaOf(contents);
  const rows = [...contents].map(([key, array]) => [
    key,
    array.dtype,
    array.descr,
    shapeText(array),
    key === 'meta' && meta !== undefined ? 'shown below' : previewArray(array),
  ]);
  const header = ['key', 'dtype', 'descr', 'shape', 'values'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    `  ${cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}`.trimEnd();
  const title = `${file}: ${format}, ${contents.size} ${contents.size === 1 ? 'array' : 'arrays'}, ${formatBytes(bytes)}`;
  const out = [title, line(header), ...rows.map(line)];
  if (full) {
    for (const [key, array] of contents) {
      if (key !== 'meta' || meta === undefined) out.push('', `${key} = ${arrayRepr(array, Infinity)}`);
    }
  }
  if (meta !== undefined) {
    out.push('', 'meta:');
    if (typeof meta === 'object' && meta !== null && Object.getPrototypeOf(meta) === Object.prototype) {
      for (const [key, value] of Object.entries(meta)) out.push(`  ${key}: ${pyPretty(value as PyValue, key.length + 4)}`);
    } else out.push(`  ${pyPretty(meta, 2)}`);
  }
  return `${out.join('\n')}\n`;
}
