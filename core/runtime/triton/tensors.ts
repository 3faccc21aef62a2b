/**
 * KServe v2 tensors: datatypes, their TypedArrays, and the two wire forms (JSON `data` arrays and the binary tensor
 * data extension: raw little-endian bytes, BYTES elements as a 4-byte little-endian length then the bytes).
 *
 * Shared by the client (core/runtime/triton/client.ts) and the test server (test/helpers/kserve-server.ts).
 */
import os from 'node:os';
import { TrendflowError } from '../../contracts/errors.js';
// FP16 in JSON goes through the same NumPy-exact conversions as .npy float16
import { halfToNumber, numberToHalf } from '../../npz/float16.js';

/** The KServe v2 tensor datatypes. BF16 is left out: neither onnxruntime-node nor the models here use it. */
export const KSERVE_DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;
export type KServeDatatype = (typeof KSERVE_DATATYPES)[number];

export function isKServeDatatype(value: unknown): value is KServeDatatype {
  return typeof value === 'string' && (KSERVE_DATATYPES as readonly string[]).includes(value);
}

/**
 * The data of one tensor, flattened row-major:
 * BOOL and UINT8 → Uint8Array (BOOL: 0 or 1), FP16 → Uint16Array holding the IEEE half bits, INT64/UINT64 →
 * BigInt64Array/BigUint64Array, FP32 → Float32Array, and so on; BYTES → an array of byte strings (strings are
 * accepted on input and sent as UTF-8).
 */
export type NumericTensorData =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array;
export type TensorData = NumericTensorData | (Uint8Array | string)[];

export interface Tensor {
  datatype: KServeDatatype;
  shape: number[];
  data: TensorData;
}

/** An output as the client returns it: BYTES elements are always Uint8Array. */
export interface OutputTensor {
  datatype: KServeDatatype;
  shape: number[];
  data: NumericTensorData | Uint8Array[];
}

type NumericCtor =
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor
  | Uint32ArrayConstructor
  | BigUint64ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Int32ArrayConstructor
  | BigInt64ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor;

const CTORS: Record<Exclude<KServeDatatype, 'BYTES'>, NumericCtor> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

/** Bytes per element; undefined for BYTES (variable length). */
export function elementSize(datatype: KServeDatatype): number | undefined {
  return datatype === 'BYTES' ? undefined : CTORS[datatype].BYTES_PER_ELEMENT;
}

/** The TypedArray class that holds `datatype` (BYTES has none). */
export function typedArrayFor(datatype: Exclude<KServeDatatype, 'BYTES'>): NumericCtor {
  return CTORS[datatype];
}

/** The number of elements of a shape (1 for a scalar `[]`). */
export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

export function isValidShape(shape: unknown): shape is number[] {
  return Array.isArray(shape) && shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0);
}

const LITTLE_ENDIAN = os.endianness() === 'LE';

function requireLittleEndian(): void {
  // Every platform Node ships for is little-endian; the wire format is too, so TypedArray bytes go out as they are.
  if (!LITTLE_ENDIAN) throw new TrendflowError('internal_error', 'the KServe binary tensor format needs a little-endian host');
}

/**
 * Checks that `data` is the TypedArray `datatype` needs and holds exactly as many elements as `shape` says.
 * Throws invalid_argument naming the tensor.
 */
export function checkTensor(name: string, tensor: Tensor): void {
  const { datatype, shape, data } = tensor;
  if (!isKServeDatatype(datatype)) {
    throw new TrendflowError('invalid_argument', `tensor '${name}': unknown datatype ${JSON.stringify(datatype)} (one of ${KSERVE_DATATYPES.join(', ')})`);
  }
  if (!isValidShape(shape)) {
    throw new TrendflowError('invalid_argument', `tensor '${name}': shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  const count = elementCount(shape);
  if (datatype === 'BYTES') {
    if (!Array.isArray(data) || !data.every((item) => typeof item === 'string' || item instanceof Uint8Array)) {
      throw new TrendflowError('invalid_argument', `tensor '${name}': BYTES data must be an array of strings or Uint8Arrays`);
    }
  } else {
    const ctor = CTORS[datatype];
    if (!(data instanceof ctor)) {
      const got = Array.isArray(data) ? 'an Array' : (data as object).constructor.name;
      throw new TrendflowError('invalid_argument', `tensor '${name}': ${datatype} data must be a ${ctor.name}, got ${got}`);
    }
  }
  if (data.length !== count) {
    throw new TrendflowError(
      'invalid_argument',
      `tensor '${name}': shape [${shape.join(',')}] needs ${count} elements, data has ${data.length}`,
    );
  }
}

const textEncoder = new TextEncoder();

/** The binary-extension bytes of one tensor (a view on the TypedArray's memory where possible, no copy). */
export function tensorToBytes(tensor: Tensor): Uint8Array {
  requireLittleEndian();
  const { data } = tensor;
  if (tensor.datatype !== 'BYTES') {
    const view = data as NumericTensorData;
    return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  }
  const items = (data as (Uint8Array | string)[]).map((item) => (typeof item === 'string' ? textEncoder.encode(item) : item));
  const total = items.reduce((sum, item) => sum + 4 + item.byteLength, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const item of items) {
    view.setUint32(offset, item.byteLength, true);
    out.set(item, offset + 4);
    offset += 4 + item.byteLength;
  }
  return out;
}

/**
 * Decodes binary-extension bytes into a tensor's data. The bytes are copied, so the result is aligned and does not
 * keep the response buffer alive. Throws a plain Error with the reason; callers wrap it in their error code.
 */
export function bytesToData(datatype: KServeDatatype, shape: readonly number[], bytes: Uint8Array): NumericTensorData | Uint8Array[] {
  requireLittleEndian();
  const count = elementCount(shape);
  if (datatype === 'BYTES') {
    const items: Uint8Array[] = [];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let offset = 0;
    while (offset < bytes.byteLength) {
      if (offset + 4 > bytes.byteLength) throw new Error('BYTES element length prefix cut short');
      const length = view.getUint32(offset, true);
      if (offset + 4 + length > bytes.byteLength) throw new Error('BYTES element cut short');
      items.push(bytes.slice(offset + 4, offset + 4 + length));
      offset += 4 + length;
    }
    if (items.length !== count) throw new Error(`BYTES tensor of shape [${shape.join(',')}] holds ${items.length} elements, expected ${count}`);
    return items;
  }
  const ctor = CTORS[datatype];
  const expected = count * ctor.BYTES_PER_ELEMENT;
  if (bytes.byteLength !== expected) {
    throw new Error(`${datatype} tensor of shape [${shape.join(',')}] needs ${expected} bytes, got ${bytes.byteLength}`);
  }
  const copy = new Uint8Array(expected);
  copy.set(bytes);
  return new ctor(copy.buffer, 0, count);
}

// ---- JSON `data` arrays ----

/**
 * A tensor's data as a flat JSON array. Exact for every type except INT64/UINT64 beyond ±2^53 (refused) and
 * non-finite floats (JSON has no NaN/Infinity; refused): use the binary form for those.
 */
export function tensorToJsonData(name: string, tensor: Tensor): (number | boolean | string)[] {
  const { datatype, data } = tensor;
  switch (datatype) {
    case 'BYTES':
      return (data as (Uint8Array | string)[]).map((item) => (typeof item === 'string' ? item : Buffer.from(item).toString('utf8')));
    case 'BOOL':
      return Array.from(data as Uint8Array, (value) => value !== 0);
    case 'INT64':
    case 'UINT64':
      return Array.from(data as BigInt64Array | BigUint64Array, (value) => {
        if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
          throw new TrendflowError('invalid_argument', `tensor '${name}': ${datatype} value ${value} does not fit a JSON number exactly; use binary mode`);
        }
        return Number(value);
      });
    case 'FP16':
    case 'FP32':
    case 'FP64': {
      const values = datatype === 'FP16' ? Array.from(data as Uint16Array, halfToNumber) : Array.from(data as Float32Array | Float64Array);
      for (const value of values) {
        if (!Number.isFinite(value)) throw new TrendflowError('invalid_argument', `tensor '${name}': ${datatype} value ${value} cannot be sent as JSON; use binary mode`);
      }
      return values;
    }
    default:
      return Array.from(data as Exclude<NumericTensorData, BigInt64Array | BigUint64Array>);
  }
}

function flatten(value: unknown, out: unknown[]): void {
  if (Array.isArray(value)) for (const item of value) flatten(item, out);
  else out.push(value);
}

/**
 * A JSON `data` array (flat or nested, row-major) → the tensor's data. Throws a plain Error with the reason.
 * `null` in a float tensor reads as NaN (what some servers write for non-finite values).
 */
export function jsonDataToData(datatype: KServeDatatype, shape: readonly number[], json: unknown): NumericTensorData | Uint8Array[] {
  const flat: unknown[] = [];
  flatten(json, flat);
  const count = elementCount(shape);
  if (flat.length !== count) throw new Error(`${datatype} tensor of shape [${shape.join(',')}] has ${flat.length} JSON values, expected ${count}`);
  if (datatype === 'BYTES') {
    return flat.map((item) => {
      if (typeof item !== 'string') throw new Error(`BYTES JSON value ${JSON.stringify(item)} is not a string`);
      return textEncoder.encode(item);
    });
  }
  const isFloat = datatype === 'FP16' || datatype === 'FP32' || datatype === 'FP64';
  const numbers = flat.map((item) => {
    if (datatype === 'BOOL' && typeof item === 'boolean') return item ? 1 : 0;
    if (item === null && isFloat) return Number.NaN;
    if (typeof item !== 'number') throw new Error(`${datatype} JSON value ${JSON.stringify(item)} is not a number`);
    if (!isFloat && !Number.isInteger(item)) throw new Error(`${datatype} JSON value ${item} is not an integer`);
    return item;
  });
  if (datatype === 'INT64') return BigInt64Array.from(numbers, (value) => BigInt(value));
  if (datatype === 'UINT64') return BigUint64Array.from(numbers, (value) => BigInt(value));
  if (datatype === 'FP16') return Uint16Array.from(numbers, numberToHalf);
  const ctor = CTORS[datatype] as Exclude<NumericCtor, BigInt64ArrayConstructor | BigUint64ArrayConstructor>;
  return ctor.from(numbers);
}
