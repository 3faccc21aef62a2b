/** The binary envelope: core/api/wire.ts writes it, renderer/src/api/wire.ts reads it (the layering rule keeps them apart). */
import { describe, expect, it } from 'vitest';
import { encodeEnvelope } from '../../core/api/wire.js';
import { decodeEnvelope, WireError } from '../../renderer/src/api/wire.js';

function roundTrip(value: unknown): unknown {
  const bytes = encodeEnvelope(value);
  // a fresh ArrayBuffer, as fetch's arrayBuffer() gives
  return decodeEnvelope(bytes.slice().buffer);
}

describe('binary envelope', () => {
  it('carries typed arrays as bytes, in place and 8-aligned, with the JSON around them', () => {
    const value = {
      name: 'timeline',
      nothing: null,
      nested: { times: Float64Array.from([0, 0.5, Number.NaN, 1e300]), list: [Int32Array.from([-1, 2 ** 31 - 1]), 'x'] },
      rgb: Uint8Array.from([1, 2, 3]),
      scores: Float32Array.from([0.25, Number.NaN, -Infinity]),
      u16: Uint16Array.from([65535]),
      empty: new Float32Array(0),
      // a subarray view: only its own bytes travel
      view: Float32Array.from([9, 8, 7, 6]).subarray(1, 3),
    };
    const back = roundTrip(value) as typeof value;
    expect(back.name).toBe('timeline');
    expect(back.nothing).toBeNull();
    expect(back.nested.times).toBeInstanceOf(Float64Array);
    expect(Array.from(back.nested.times)).toEqual([0, 0.5, Number.NaN, 1e300]);
    expect(back.nested.list[0]).toBeInstanceOf(Int32Array);
    expect(Array.from(back.nested.list[0] as Int32Array)).toEqual([-1, 2 ** 31 - 1]);
    expect(back.nested.list[1]).toBe('x');
    expect(Array.from(back.rgb)).toEqual([1, 2, 3]);
    expect(Array.from(back.scores)).toEqual([0.25, Number.NaN, -Infinity]);
    expect(Array.from(back.u16)).toEqual([65535]);
    expect(back.empty).toBeInstanceOf(Float32Array);
    expect(back.empty.length).toBe(0);
    expect(Array.from(back.view)).toEqual([8, 7]);
    for (const array of [back.nested.times, back.scores, back.rgb]) expect(array.byteOffset % 8).toBe(0);
  });

  it('round-trips a value without arrays and Node Buffers', () => {
    expect(roundTrip({ a: [1, 'b', true] })).toEqual({ a: [1, 'b', true] });
    const back = roundTrip({ bytes: Buffer.from('hi') }) as { bytes: Uint8Array };
    expect(back.bytes).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(back.bytes).toString()).toBe('hi');
  });

  it('refuses what it cannot carry, and a reader refuses a broken envelope', () => {
    expect(() => encodeEnvelope({ big: new BigInt64Array(1) })).toThrow(/cannot send a BigInt64Array/);
    expect(() => decodeEnvelope(new TextEncoder().encode('{"value": 1}').buffer)).toThrow(WireError);
    const bytes = encodeEnvelope({ a: Float64Array.from([1, 2]) });
    expect(() => decodeEnvelope(bytes.slice(0, bytes.length - 8).buffer)).toThrow(/out of bounds/);
  });
});
