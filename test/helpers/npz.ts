/**
 * NumPy interop helpers: every python3 with numpy on this machine, and one tagged-JSON encoding of Python values
 * implemented twice — in Python (PY_TAGGED) and in TypeScript (tagged) — so a test compares what NumPy sees with
 * what we read or wrote. Floats are always `{"$float": repr(x)}` so int/float and -0.0 survive JSON.parse.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { findNumpyPython } from './python.js';
import { formatPyFloat, isNdArray } from '../../core/npz/index.js';
import { type AnyNdArray, PyBytes, PyFloat, PyTuple, type PyValue } from '../../core/npz/types.js';

export interface NumpyPython {
  python: string;
  version: string;
}

let cached: NumpyPython[] | undefined;

/**
 * Every distinct interpreter with numpy (the PATH python3 and Debian's /usr/bin/python3 usually carry different
 * NumPy majors); the first is the one findNumpyPython() picks.
 */
export function numpyPythons(): NumpyPython[] {
  if (cached) return cached;
  const first = findNumpyPython();
  const candidates = [
    ...(first ? [first] : []),
    ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'python3')),
    '/usr/bin/python3',
  ];
  const seen = new Set<string>();
  cached = [];
  for (const python of candidates) {
    if (!existsSync(python)) continue;
    try {
      const [executable = '', version = ''] = execFileSync(python, ['-c', 'import sys, numpy; print(sys.executable); print(numpy.__version__)'], {
        encoding: 'utf8',
        timeout: 30_000,
        stdio: ['ignore', 'pipe', 'ignore'],
      })
        .trim()
        .split('\n');
      const key = realpathSync(executable);
      if (seen.has(key)) continue;
      seen.add(key);
      cached.push({ python, version });
    } catch {
      // no numpy in this interpreter
    }
  }
  return cached;
}

/** Runs a script with one interpreter, warnings as errors (a DeprecationWarning fails the test). */
export function runWith(python: string, script: string, args: string[] = []): string {
  return execFileSync(python, ['-W', 'error', '-c', `${PY_TAGGED}\n${script}`, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: 120_000,
  });
}

/** The Python half of the tagged encoding: `tagged(value)` and `tagged_array(array)`. */
export const PY_TAGGED = String.raw`
import base64, io, json, sys
import numpy as np

def tagged(v):
    if isinstance(v, np.ndarray):
        return tagged_array(v)
    if isinstance(v, np.generic):
        return tagged(v.item())
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return v if abs(v) <= 2**53 - 1 else {"$int": str(v)}
    if isinstance(v, float):
        return {"$float": repr(v)}
    if isinstance(v, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(v)).decode()}
    if isinstance(v, tuple):
        return {"$tuple": [tagged(x) for x in v]}
    if isinstance(v, list):
        return [tagged(x) for x in v]
    if isinstance(v, dict):
        return {"$dict": [[tagged(k), tagged(x)] for k, x in v.items()]}
    raise TypeError(type(v))

def tagged_array(a):
    fortran = bool(a.flags.f_contiguous and not a.flags.c_contiguous)
    return {"$ndarray": {"descr": a.dtype.str, "shape": list(a.shape), "fortran": fortran,
                         "values": [tagged(x) for x in a.ravel(order="C").tolist()]}}
`;

/** The TypeScript half of the tagged encoding. */
export function tagged(value: PyValue): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || Object.is(value, -0)) return { $float: formatPyFloat(value) };
    return Number.isSafeInteger(value) ? value : { $int: BigInt(value).toString() };
  }
  if (typeof value === 'bigint') return taggedInt(value);
  if (value instanceof PyFloat) return { $float: formatPyFloat(value.value) };
  if (value instanceof PyBytes) return { $bytes: Buffer.from(value.bytes).toString('base64') };
  if (value instanceof PyTuple) return { $tuple: value.items.map(tagged) };
  if (Array.isArray(value)) return value.map(tagged);
  if (isNdArray(value)) return taggedArray(value);
  const entries = value instanceof Map ? [...value] : Object.entries(value);
  return { $dict: entries.map(([k, v]) => [tagged(k), tagged(v)]) };
}

function taggedInt(value: bigint): unknown {
  return value >= -(2n ** 53n - 1n) && value <= 2n ** 53n - 1n ? Number(value) : { $int: value.toString() };
}

export function taggedArray(array: AnyNdArray): unknown {
  const values = Array.from(array.data as ArrayLike<unknown>, (v): unknown => {
    switch (array.dtype) {
      case 'float16':
      case 'float32':
      case 'float64':
        return { $float: formatPyFloat(v as number) };
      case 'int64':
      case 'uint64':
        return taggedInt(v as bigint);
      case 'bool':
        return v === 1;
      case 'object':
        return tagged(v as PyValue);
      default:
        return v;
    }
  });
  return { $ndarray: { descr: array.descr, shape: array.shape, fortran: array.fortranOrderOnDisk, values } };
}
