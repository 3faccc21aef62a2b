/**
 * The binary envelope of HTTP responses (browser mode): a JSON value whose typed arrays travel as raw bytes
 * instead of JSON numbers. (Electron IPC needs none: structured clone carries typed arrays as they are.)
 *
 *   "TFW1" | uint32 LE header length | header JSON (UTF-8) | zero padding to 8 | array bytes, each 8-aligned
 *
 * header = { value, arrays: [{ type, offset, length }] } where every typed array in `value` is replaced by
 * `{ "$binary": i }`; `offset` is from the start of the envelope, so the reader can view each array in place.
 * Byte order is little-endian (every platform the workstation runs on). renderer/src/api/wire.ts decodes it; a
 * test round-trips the two (test/e2e-ui/wire.test.ts).
 */
export const WIRE_MAGIC = 'TFW1';
export const WIRE_CONTENT_TYPE = 'application/x-trendflow-envelope';

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

type TypedArrayName = keyof typeof TYPED_ARRAYS;

function typedArrayName(value: unknown): TypedArrayName | null {
  if (!ArrayBuffer.isView(value) || value instanceof DataView) return null;
  // Node's Buffer is a Uint8Array subclass
  if (value instanceof Uint8Array) return 'Uint8Array';
  const name = value.constructor.name as TypedArrayName;
  if (!(name in TYPED_ARRAYS)) throw new TypeError(`cannot send a ${value.constructor.name} (supported: ${Object.keys(TYPED_ARRAYS).join(', ')})`);
  return name;
}

const align8 = (n: number): number => (n + 7) & ~7;

export function encodeEnvelope(value: unknown): Uint8Array {
  const arrays: Array<{ type: TypedArrayName; view: ArrayBufferView }> = [];
  // the holder's own property, not `item`: JSON.stringify has already replaced a Buffer by its toJSON() form
  const json = JSON.stringify(value, function (this: Record<string, unknown>, key, item: unknown) {
    const raw = this[key];
    const type = typedArrayName(raw);
    if (type === null) return item;
    arrays.push({ type, view: raw as ArrayBufferView });
    return { $binary: arrays.length - 1 };
  });
  // header offsets depend on the header's own length: lay out with a fixed-width placeholder pass
  const describe = (bodyStart: number) => {
    let offset = bodyStart;
    return arrays.map(({ type, view }) => {
      const entry = { type, offset, length: view.byteLength / TYPED_ARRAYS[type].BYTES_PER_ELEMENT };
      offset = align8(offset + view.byteLength);
      return entry;
    });
  };
  const encoder = new TextEncoder();
  let bodyStart = 0;
  let header = encoder.encode(`{"value":${json},"arrays":${JSON.stringify(describe(0))}}`);
  // offsets only grow the header; iterate until the body start is stable (two passes in practice)
  for (;;) {
    const start = align8(8 + header.byteLength);
    if (start === bodyStart) break;
    bodyStart = start;
    header = encoder.encode(`{"value":${json},"arrays":${JSON.stringify(describe(bodyStart))}}`);
  }
  const layout = describe(bodyStart);
  const total = layout.length > 0 ? align8(layout[layout.length - 1]!.offset + arrays[layout.length - 1]!.view.byteLength) : bodyStart;
  const out = new Uint8Array(total);
  out.set(encoder.encode(WIRE_MAGIC), 0);
  new DataView(out.buffer).setUint32(4, header.byteLength, true);
  out.set(header, 8);
  arrays.forEach(({ view }, i) => out.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), layout[i]!.offset));
  return out;
}
