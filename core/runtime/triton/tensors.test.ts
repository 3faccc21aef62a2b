import { describe, expect, it } from 'vitest';
import { halfToNumber as halfToFloat, numberToHalf as floatToHalf } from '../../npz/float16.js';
import { bytesToData, checkTensor, jsonDataToData, tensorToBytes, tensorToJsonData } from './tensors.js';

describe('KServe tensor codecs', () => {
  it('FP16: every half value survives half → number → half; rounding is to nearest even', () => {
    const wrong: number[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = halfToFloat(bits);
      const ok = Number.isNaN(value) ? Number.isNaN(halfToFloat(floatToHalf(value))) : floatToHalf(value) === bits;
      if (!ok) wrong.push(bits);
    }
    expect(wrong).toEqual([]);
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // halfway between 1 and the next half: even (1)
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(floatToHalf(65520)).toBe(0x7c00); // rounds to Infinity
    expect(floatToHalf(2 ** -25)).toBe(0); // half of the smallest subnormal: even (0)
    expect(halfToFloat(0x3555)).toBeCloseTo(1 / 3, 3);
  });

  it('binary form: numeric tensors are their little-endian bytes; BYTES elements are length-prefixed', () => {
    const floats = { datatype: 'FP32' as const, shape: [2, 2], data: new Float32Array([1.5, -2, 0, 3.25]) };
    const bytes = tensorToBytes(floats);
    expect(Buffer.from(bytes).equals(Buffer.from(new Float32Array([1.5, -2, 0, 3.25]).buffer))).toBe(true);
    // an unaligned slice decodes (it is copied)
    const padded = new Uint8Array(bytes.byteLength + 1);
    padded.set(bytes, 1);
    expect(Array.from(bytesToData('FP32', [2, 2], padded.subarray(1)) as Float32Array)).toEqual([1.5, -2, 0, 3.25]);
    const strings = { datatype: 'BYTES' as const, shape: [2], data: ['ab', new Uint8Array([0xff])] };
    const encoded = tensorToBytes(strings);
    expect(Array.from(encoded)).toEqual([2, 0, 0, 0, 97, 98, 1, 0, 0, 0, 0xff]);
    expect((bytesToData('BYTES', [2], encoded) as Uint8Array[]).map((item) => Array.from(item))).toEqual([[97, 98], [0xff]]);
    expect(() => bytesToData('FP32', [3], new Uint8Array(8))).toThrow(/needs 12 bytes, got 8/);
    expect(() => bytesToData('BYTES', [1], new Uint8Array([9, 0, 0, 0, 1]))).toThrow(/cut short/);
    const longs = bytesToData('INT64', [2], tensorToBytes({ datatype: 'INT64', shape: [2], data: new BigInt64Array([2n ** 62n, -1n]) }));
    expect(Array.from(longs as BigInt64Array)).toEqual([2n ** 62n, -1n]);
  });

  it('JSON form: flat or nested arrays, booleans, FP16 as numbers; exactness limits are refused', () => {
    expect(tensorToJsonData('b', { datatype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) })).toEqual([true, false]);
    expect(Array.from(jsonDataToData('BOOL', [2], [true, false]) as Uint8Array)).toEqual([1, 0]);
    expect(Array.from(jsonDataToData('INT32', [2, 2], [[1, 2], [3, 4]]) as Int32Array)).toEqual([1, 2, 3, 4]);
    expect(tensorToJsonData('h', { datatype: 'FP16', shape: [2], data: new Uint16Array([0x3c00, 0xc000]) })).toEqual([1, -2]);
    expect(Array.from(jsonDataToData('FP16', [2], [1, -2]) as Uint16Array)).toEqual([0x3c00, 0xc000]);
    expect(Array.from(jsonDataToData('FP32', [1], [null]) as Float32Array)).toEqual([Number.NaN]);
    expect(() => tensorToJsonData('i', { datatype: 'INT64', shape: [1], data: new BigInt64Array([2n ** 60n]) })).toThrow(/binary mode/);
    expect(() => tensorToJsonData('f', { datatype: 'FP32', shape: [1], data: new Float32Array([Infinity]) })).toThrow(/binary mode/);
    expect(() => jsonDataToData('INT32', [2], [1.5, 2])).toThrow(/not an integer/);
    expect(() => jsonDataToData('FP32', [3], [1, 2])).toThrow(/expected 3/);
  });

  it('checkTensor refuses the wrong TypedArray, a wrong element count and a bad shape', () => {
    expect(() => checkTensor('x', { datatype: 'INT64', shape: [2], data: new Int32Array(2) })).toThrow(/INT64 data must be a BigInt64Array, got Int32Array/);
    expect(() => checkTensor('x', { datatype: 'FP32', shape: [2, 2], data: new Float32Array(3) })).toThrow(/needs 4 elements, data has 3/);
    expect(() => checkTensor('x', { datatype: 'FP32', shape: [-1], data: new Float32Array(1) })).toThrow(/non-negative/);
    expect(() => checkTensor('x', { datatype: 'FP8' as 'FP32', shape: [1], data: new Float32Array(1) })).toThrow(/unknown datatype/);
    expect(() => checkTensor('x', { datatype: 'BYTES', shape: [1], data: new Uint8Array(1) })).toThrow(/array of strings/);
    checkTensor('x', { datatype: 'FP32', shape: [], data: new Float32Array(1) });
  });
});
