/**
 * The `.npy` preamble: magic `\x93NUMPY`, version, header length, and a Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` padded with spaces and a final newline.
 */
import { formatShape } from './dtype.js';
import { PyTuple } from './types.js';
import { npzError, type Where } from './where.js';

export const NPY_MAGIC = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59); // \x93NUMPY

export interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  version: 1 | 2 | 3;
  /** Offset of the array data (the preamble length). */
  dataOffset: number;
}

/** Builds the preamble byte-for-byte as `numpy.lib.format.write_array` does (C order, ASCII descr). */
export function formatHeader(descr: string, shape: readonly number[]): Uint8Array {
  let text = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${formatShape(shape)}, }`;
  // NumPy leaves room for the first axis to grow to 21 digits so the file can be appended to in place
  if (shape.length > 0) text += ' '.repeat(Math.max(0, 21 - String(shape[0]).length));
  // format 1.0 has a 16-bit header length; 2.0 (32-bit) only when that does not fit
  let prefix = 10;
  let padding = 64 - ((prefix + text.length + 1) % 64);
  if (text.length + 1 + padding > 0xffff) {
    prefix = 12;
    padding = 64 - ((prefix + text.length + 1) % 64);
  }
  const headerLength = text.length + padding + 1;
  const out = new Uint8Array(prefix + headerLength);
  out.set(NPY_MAGIC);
  const view = new DataView(out.buffer);
  out[6] = prefix === 10 ? 1 : 2;
  out[7] = 0;
  if (prefix === 10) view.setUint16(8, headerLength, true);
  else view.setUint32(8, headerLength, true);
  for (let i = 0; i < text.length; i++) out[prefix + i] = text.charCodeAt(i);
  out.fill(0x20, prefix + text.length, out.length - 1);
  out[out.length - 1] = 0x0a;
  return out;
}

/** Reads and validates the preamble; the dict is parsed by a strict literal parser, never evaluated. */
export function readHeader(bytes: Uint8Array, where: Where): NpyHeader {
  const start = bytes.subarray(0, NPY_MAGIC.length);
  if (!start.every((b, i) => b === NPY_MAGIC[i])) {
    throw npzError('npy_bad_magic', 'not a NumPy .npy array (the data does not start with \\x93NUMPY)', where);
  }
  if (bytes.length < 10) throw npzError('npz_truncated', 'the .npy data ends inside its preamble', where);
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (!(major >= 1 && major <= 3 && minor === 0)) {
    throw npzError('npy_bad_header', `unsupported .npy format version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`, where);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const prefix = major === 1 ? 10 : 12;
  if (bytes.length < prefix) throw npzError('npz_truncated', 'the .npy data ends inside its preamble', where);
  const length = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataOffset = prefix + length;
  if (dataOffset > bytes.length) {
    throw npzError('npz_truncated', `the .npy header claims ${length} bytes but the data ends first`, where);
  }
  const raw = bytes.subarray(prefix, dataOffset);
  // formats 1.0 and 2.0 are latin-1; 3.0 exists for utf-8 field names
  const text = major === 3 ? utf8(raw, where) : latin1(raw);
  const value = parsePythonLiteral(text, where, major < 3);
  return { ...checkHeaderDict(value, where), version: major as 1 | 2 | 3, dataOffset };
}

function utf8(bytes: Uint8Array, where: Where): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw npzError('npy_bad_header', 'the format 3.0 header is not valid UTF-8', where, cause);
  }
}

function latin1(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return text;
}

function checkHeaderDict(value: Literal, where: Where): Omit<NpyHeader, 'version' | 'dataOffset'> {
  const bad = (why: string) => npzError('npy_bad_header', `invalid .npy header: ${why}`, where);
  if (!(value instanceof Map)) throw bad('it is not a dict');
  const keys = [...value.keys()].sort();
  if (keys.join(',') !== 'descr,fortran_order,shape') {
    throw bad(`keys are ${JSON.stringify(keys)}, expected descr, fortran_order and shape`);
  }
  const descr = value.get('descr');
  const fortranOrder = value.get('fortran_order');
  const shape = value.get('shape');
  if (Array.isArray(descr)) {
    throw npzError('npy_unsupported_dtype', 'structured dtypes (a descr list) are not supported', where);
  }
  if (typeof descr !== 'string') throw bad("'descr' is not a string");
  if (typeof fortranOrder !== 'boolean') throw bad("'fortran_order' is not True or False");
  if (!(shape instanceof PyTuple)) throw bad("'shape' is not a tuple");
  const dims = shape.items.map((dim) => {
    if (typeof dim !== 'bigint' || dim < 0n || dim > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw bad("'shape' must hold non-negative integers");
    }
    return Number(dim);
  });
  return { descr, fortranOrder, shape: dims };
}

/** What the header parser yields: str, int (bigint), bool, None, list (Array), tuple (PyTuple), dict (Map). */
type Literal = string | bigint | boolean | null | Literal[] | PyTuple | Map<Literal, Literal>;

const MAX_DEPTH = 32;

/**
 * A strict parser for the Python literals a header may hold (what `ast.literal_eval` accepts for NumPy's
 * headers): dict, tuple, list, str, int, True, False, None. `legacyLong` accepts Python 2's `3L` in 1.0/2.0.
 */
export function parsePythonLiteral(text: string, where: Where, legacyLong = false): Literal {
  let pos = 0;
  const bad = (why: string) => npzError('npy_bad_header', `invalid .npy header: ${why} at offset ${pos}`, where);
  const skip = () => {
    while (pos < text.length && ' \t\n\r\f\v'.includes(text[pos]!)) pos++;
  };
  const take = (char: string): boolean => {
    skip();
    if (text[pos] !== char) return false;
    pos++;
    return true;
  };
  const items = (close: string, depth: number): { values: Literal[]; trailingComma: boolean } => {
    const values: Literal[] = [];
    let trailingComma = false;
    while (!take(close)) {
      if (values.length > 0 && !trailingComma) throw bad(`expected ',' or '${close}'`);
      values.push(parseValue(depth));
      trailingComma = take(',');
    }
    return { values, trailingComma };
  };
  const parseValue = (depth: number): Literal => {
    if (depth > MAX_DEPTH) throw bad('nesting too deep');
    skip();
    const char = text[pos];
    if (char === '{') {
      pos++;
      const dict = new Map<Literal, Literal>();
      let first = true;
      while (!take('}')) {
        if (!first && !take(',')) throw bad("expected ',' or '}'");
        first = false;
        if (take('}')) break;
        const key = parseValue(depth + 1);
        if (!take(':')) throw bad("expected ':'");
        dict.set(key, parseValue(depth + 1));
      }
      return dict;
    }
    if (char === '(') {
      pos++;
      const { values, trailingComma } = items(')', depth + 1);
      // `(x)` is just x in Python; only `(x,)` is a one-element tuple
      return values.length === 1 && !trailingComma ? values[0]! : new PyTuple(values);
    }
    if (char === '[') {
      pos++;
      return items(']', depth + 1).values;
    }
    if (char === "'" || char === '"') return parseString();
    if (char === 'u' && (text[pos + 1] === "'" || text[pos + 1] === '"')) {
      pos++;
      return parseString();
    }
    const word = /^(?:True|False|None|[+-]?\d+[lL]?)/.exec(text.slice(pos, pos + 64))?.[0];
    if (word === undefined) throw bad('unexpected character');
    pos += word.length;
    if (word === 'True') return true;
    if (word === 'False') return false;
    if (word === 'None') return null;
    if (/[lL]$/.test(word) && !legacyLong) throw bad('Python 2 long literal in a format 3.0 header');
    return BigInt(word.replace(/[lL]$/, ''));
  };
  const parseString = (): string => {
    const quote = text[pos++]!;
    let out = '';
    for (;;) {
      if (pos >= text.length) throw bad('unterminated string');
      const char = text[pos++]!;
      if (char === quote) return out;
      if (char === '\n') throw bad('newline in string');
      if (char !== '\\') {
        out += char;
        continue;
      }
      const escape = text[pos++];
      const simple: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', r: '\r', t: '\t', '0': '\0' };
      if (escape !== undefined && escape in simple) out += simple[escape];
      else if (escape === 'x' || escape === 'u' || escape === 'U') {
        const digits = { x: 2, u: 4, U: 8 }[escape];
        const hex = text.slice(pos, pos + digits);
        const code = /^[0-9a-fA-F]+$/.test(hex) && hex.length === digits ? parseInt(hex, 16) : NaN;
        if (!(code <= 0x10ffff)) throw bad('bad escape in string');
        out += String.fromCodePoint(code);
        pos += digits;
      } else throw bad('unsupported escape in string');
    }
  };
  const value = parseValue(0);
  skip();
  if (pos !== text.length) throw bad('trailing characters after the header dict');
  return value;
}
