/**
 * Decodes the binary envelope of browser-mode responses (written by core/api/wire.ts; the renderer may import only
 * types from core/, so the reader lives here). Typed arrays are views into the received buffer, not copies.
 */
const MAGIC = 'TFW1';

const TYPED_ARRAYS = {
  Float32Array,
  Float64Array,
  Int8Array,
  Int16Array,
  Int32Array,
  Uint8Array,
  Uint16Array,
  Uint32Array,
} as const;

interface ArrayEntry {
  type: keyof typeof TYPED_ARRAYS;
  offset: number;
  length: number;
}

export class WireError extends Error {
  override readonly name = 'WireError';
}

export function decodeEnvelope(buffer: ArrayBuffer): unknown {
  if (buffer.byteLength < 8 || new TextDecoder().decode(new Uint8Array(buffer, 0, 4)) !== MAGIC) throw new WireError('not a TrendFlow envelope');
  const headerLength = new DataView(buffer).getUint32(4, true);
  if (8 + headerLength > buffer.byteLength) throw new WireError('envelope header runs past the end');
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, headerLength))) as { value: unknown; arrays: ArrayEntry[] };
  const arrays = header.arrays.map(({ type, offset, length }, index) => {
    const Type = TYPED_ARRAYS[type];
    if (!Type || !Number.isInteger(offset) || !Number.isInteger(length) || offset % Type.BYTES_PER_ELEMENT !== 0 || offset + length * Type.BYTES_PER_ELEMENT > buffer.byteLength) {
      throw new WireError(`envelope array ${index} (${String(type)}) is out of bounds`);
    }
    return new Type(buffer, offset, length);
  });
  const revive = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(revive);
    if (value === null || typeof value !== 'object') return value;
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length === 1 && keys[0] === '$binary') {
      const array = arrays[record.$binary as number];
      if (!array) throw new WireError(`envelope refers to a missing array ${String(record.$binary)}`);
      return array;
    }
    return Object.fromEntries(keys.map((key) => [key, revive(record[key])]));
  };
  return revive(header.value);
}
