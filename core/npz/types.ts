/**
 * The in-memory model of NumPy data used by the reader and the writer.
 *
 * Numeric arrays are always returned in C order, native (little-endian) typed arrays; the NumPy `descr` they
 * came from is kept in `descr` so callers can tell `>f4` from `<f4` or see that a file was Fortran ordered.
 */

/** Normalized element type names (NumPy's names). */
export type DType =
  | 'float16'
  | 'float32'
  | 'float64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool'
  | 'str' // NumPy `<U{n}` (UTF-32 fixed width)
  | 'object'; // NumPy `|O` (pickled Python objects)

/**
 * Storage per dtype. float16 is widened to Float32Array on read (Node 20 has no Float16Array) and narrowed back
 * on write; bool is a Uint8Array of 0/1; 64-bit integers are BigInt arrays.
 */
export interface DTypeStorage {
  float16: Float32Array;
  float32: Float32Array;
  float64: Float64Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  uint64: BigUint64Array;
  bool: Uint8Array;
  str: string[];
  object: PyValue[];
}

export interface NdArray<D extends DType = DType> {
  dtype: D;
  shape: number[];
  /** Elements in C (row-major) order. */
  data: DTypeStorage[D];
  /** The NumPy descr string read from or written to the header, e.g. `<f4`, `>i8`, `<U7`, `|O`. */
  descr: string;
  /** True when the file stored the array in Fortran order (data has been reordered to C order). */
  fortranOrderOnDisk: boolean;
}

export type AnyNdArray = { [D in DType]: NdArray<D> }[DType];

/** A Python tuple (kept distinct from list so tuples round-trip as tuples). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A Python float that happens to be integral (1.0): forces `float` instead of `int` on write. */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** Python bytes. */
export class PyBytes {
  constructor(readonly bytes: Uint8Array) {}
}

/**
 * Python values that may appear inside object arrays and `meta`:
 * None → null, bool, int (number, or bigint beyond 2^53), float (number; PyFloat to force float for integral
 * values), str, bytes, list (Array), tuple (PyTuple), dict with str keys (plain object), dict with other keys
 * (Map), and nested NumPy arrays.
 */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PyFloat
  | PyBytes
  | PyTuple
  | PyValue[]
  | Map<PyValue, PyValue>
  | NdArray
  | { [key: string]: PyValue };

/** The contents of an `.npz` file: key (member name without `.npy`) → array. Order is the zip member order. */
export type NpzContents = Map<string, AnyNdArray>;

/** Limits that protect the reader from zip bombs and absurd headers. */
export interface ReadLimits {
  /** Max total uncompressed bytes over all members. */
  maxTotalBytes: number;
  /** Max uncompressed bytes of one member. */
  maxMemberBytes: number;
  /**
   * Max declared uncompressed/compressed ratio of a deflated member. Deflate cannot exceed about 1032:1, so a
   * larger declared ratio is a lying directory entry; NumPy's own all-zero arrays reach 1028:1.
   */
  maxCompressionRatio: number;
  /** Max number of members. */
  maxMembers: number;
}

export const DEFAULT_READ_LIMITS: ReadLimits = {
  maxTotalBytes: 4 * 1024 ** 3,
  maxMemberBytes: 2 * 1024 ** 3,
  maxCompressionRatio: 1100,
  maxMembers: 10_000,
};
