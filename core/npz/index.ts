/** NumPy-compatible `.npy` / `.npz` reading and writing (see README.md). */
export * from './types.js';
export { readNpy, writeNpy, type ReadNpyOptions } from './npy.js';
export { NpzStreamWriter, type NpzStreamOptions, type RowColumn, type RowValue } from './npz-stream.js';
export { decodeNpz, encodeNpz, readNpzFile, writeNpzFile, type DecodeNpzOptions, type EncodeNpzOptions } from './npz.js';
export { ndarray, getArray, getMeta, getStringList, isNdArray } from './ndarray.js';
export { halfToNumber, numberToHalf } from './float16.js';
export {
  arrayRepr,
  arrayValuesJson,
  formatPyFloat,
  JsonFloat,
  previewArray,
  pyPretty,
  pyRepr,
  stringifyJson,
  summarizeJson,
  toJson,
  type Json,
} from './format.js';
