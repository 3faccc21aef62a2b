/** `.npy`: one array, a preamble (header.ts) and the data — raw little/big-endian elements, or a pickle for `|O`. */
import { decodeArrayData, descrFor, encodeElements, formatShape, parseDescr, shapeSize } from './dtype.js';
import { formatHeader, readHeader } from './header.js';
import { isNdArray, validateArray } from './ndarray.js';
import { unpickle } from './pickle-read.js';
import { pickleObjectArray } from './pickle-write.js';
import type { AnyNdArray } from './types.js';
import { npzError, type Where } from './where.js';

export interface ReadNpyOptions {
  /** The file, for error messages. */
  path?: string;
  /** The npz member name (without `.npy`), for error messages. */
  key?: string;
  /** Read integral Python floats inside object arrays as PyFloat (keeps `30.0` a float on rewrite and display). */
  preserveFloats?: boolean;
}

/** Parses a `.npy` file (formats 1.0, 2.0, 3.0). Data comes back in C order, in host-order typed arrays. */
export function readNpy(bytes: Uint8Array, options: ReadNpyOptions = {}): AnyNdArray {
  const where: Where = { path: options.path, key: options.key };
  const header = readHeader(bytes, where);
  const info = parseDescr(header.descr, where);
  const body = bytes.subarray(header.dataOffset);
  if (info.dtype === 'object') {
    // like NumPy, the pickled ndarray is the result; the header's shape is informational
    const value = unpickle(body, where, { preserveFloats: options.preserveFloats ?? false });
    if (!isNdArray(value)) throw npzError('pickle_malformed', 'the pickled object array does not hold a NumPy array', where);
    return { ...value, fortranOrderOnDisk: value.fortranOrderOnDisk || header.fortranOrder } as AnyNdArray;
  }
  const size = shapeSize(header.shape);
  const expected = size === undefined ? Infinity : size * info.itemsize;
  if (body.length < expected) {
    throw npzError(
      'npz_truncated',
      `array data has ${body.length} bytes, shape ${formatShape(header.shape)} of ${header.descr} needs ${expected}`,
      where,
    );
  }
  // NumPy ignores bytes after the data, and so do we
  const data = decodeArrayData(info, body.subarray(0, expected), header.shape, header.fortranOrder, where);
  return { dtype: info.dtype, shape: header.shape, data, descr: header.descr, fortranOrderOnDisk: header.fortranOrder } as AnyNdArray;
}

/**
 * Serializes an array exactly as `numpy.lib.format.write_array` does: little-endian, C order, format 1.0 unless
 * the header needs 2.0, object arrays pickled. Non-object output is byte-identical to NumPy's.
 */
export function writeNpy(array: AnyNdArray, where: Where = {}): Uint8Array {
  const { strWidth } = validateArray(array, where);
  const header = formatHeader(descrFor(array.dtype, strWidth), array.shape);
  const data = array.dtype === 'object' ? pickleObjectArray(array, where) : encodeElements(array, strWidth);
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}
