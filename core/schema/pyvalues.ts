import { isNdArray, PyBytes, PyFloat, pyRepr, PyTuple, type AnyNdArray, type PyValue } from '../npz/index.js';
import type { ElementKind, Literal } from './format.js';

/** Helpers to inspect the Python values the NPZ reader returns (object arrays, meta). */

/** A Python dict with str keys. */
export type PyDict = { [key: string]: PyValue };

/** A dict with str keys is a plain object (lists, tuples, Maps, bytes and arrays all have other prototypes). */
export function isPyDict(value: PyValue | undefined): value is PyDict {
  if (typeof value !== 'object' || value === null || isNdArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** A value for messages: its Python repr, or `nothing` when absent. */
export function reprOf(value: PyValue | undefined): string {
  return value === undefined ? 'nothing' : pyRepr(value);
}

/** The Python type name of a value, for messages. */
export function pyTypeName(value: PyValue | undefined): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'None';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'str';
  if (value instanceof PyFloat) return 'float';
  if (value instanceof PyBytes) return 'bytes';
  if (value instanceof PyTuple) return 'tuple';
  if (Array.isArray(value)) return 'list';
  if (value instanceof Map) return 'dict';
  return isNdArray(value) ? 'ndarray' : 'dict';
}

export function matchesKind(value: PyValue | undefined, kind: ElementKind): boolean {
  switch (kind) {
    case 'str':
      return typeof value === 'string';
    case 'null':
      return value === null;
    case 'bool':
      return typeof value === 'boolean';
    case 'int':
      return typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value));
    case 'float':
      // an integral Python float may come back as a plain number
      return typeof value === 'number' || value instanceof PyFloat;
    case 'dict':
      return value instanceof Map || isPyDict(value);
    case 'list':
      return Array.isArray(value);
  }
}

/** A value as a JSON scalar for comparisons, or undefined when it is not a scalar. */
export function scalarOf(value: PyValue | undefined): Literal | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof PyFloat) return value.value;
  return undefined;
}

/** One element of an array as a Python value (bool arrays give booleans). */
export function elementAt(array: AnyNdArray, index: number): PyValue {
  if (array.dtype === 'bool') return array.data[index] !== 0;
  return array.data[index] ?? null;
}

/** A shape the way NumPy prints it: `()`, `(4,)`, `(4, 512)`. */
export function formatShape(shape: ReadonlyArray<string | number>): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

/** The multi-index `[i, j, …]` of a flat C-order index. */
export function formatIndex(flat: number, shape: readonly number[]): string {
  const index: number[] = [];
  for (let axis = shape.length - 1; axis >= 0; axis -= 1) {
    const size = shape[axis] ?? 1;
    index.unshift(flat % size);
    flat = Math.floor(flat / size);
  }
  return `[${index.join(', ')}]`;
}
