import { describe, expect, it } from 'vitest';
import { bfloat16ToNumber, decodeNumbers, halfToNumber } from '../../../../src/server/routing/tensor-numbers.js';
import { numeric } from './tensor-fixtures.js';

describe('halfToNumber', () => {
  it.each([
    [0x0000, 0],
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125],
    [0x7bff, 65504],
    [0x0001, 2 ** -24],
    [0x03ff, 1023 * 2 ** -24],
    [0x0400, 2 ** -14],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ])('decodes 0x%s', (bits, want) => {
    expect(halfToNumber(bits)).toBe(want);
  });

  it('decodes NaN patterns as NaN and -0 as -0', () => {
    expect(halfToNumber(0x7e00)).toBeNaN();
    expect(Object.is(halfToNumber(0x8000), -0)).toBe(true);
  });
});

describe('bfloat16ToNumber', () => {
  it.each([
    [0x3f80, 1],
    [0xc000, -2],
    [0x4049, 3.140625],
    [0x7f80, Infinity],
    [0xff80, -Infinity],
  ])('decodes 0x%s', (bits, want) => {
    expect(bfloat16ToNumber(bits)).toBe(want);
  });

  it('decodes NaN', () => {
    expect(bfloat16ToNumber(0x7fc0)).toBeNaN();
  });
});

describe('decodeNumbers', () => {
  it.each([
    ['DT_FLOAT', [1.5, -2.25]],
    ['DT_DOUBLE', [0.1, -1e300]],
    ['DT_INT32', [-2147483648, 2147483647]],
    ['DT_UINT32', [0, 4294967295]],
    ['DT_INT16', [-32768, 32767]],
    ['DT_UINT16', [0, 65535]],
    ['DT_INT8', [-128, 127]],
    ['DT_UINT8', [0, 255]],
    ['DT_BOOL', [0, 1]],
  ] as const)('decodes %s', (dtype, values) => {
    const decoded = decodeNumbers(numeric(dtype, [values.length], values));
    expect(decoded.kind).toBe('float');
    expect([...decoded.values]).toEqual(values);
  });

  it('decodes 64-bit integers exactly as BigInt', () => {
    const big = [-(2n ** 63n), 2n ** 53n + 1n];
    expect([...decodeNumbers(numeric('DT_INT64', [2], big)).values]).toEqual(big);
    expect([...decodeNumbers(numeric('DT_UINT64', [1], [2n ** 64n - 1n])).values]).toEqual([2n ** 64n - 1n]);
  });

  it('reads bytes that start at an odd offset of a larger buffer', () => {
    const backing = new Uint8Array(9);
    new DataView(backing.buffer).setFloat64(1, 6.5, true);
    expect([...decodeNumbers({ dtype: 'DT_DOUBLE', shape: [1], bytes: backing.subarray(1) }).values]).toEqual([6.5]);
  });

  it('rejects a byte length that does not match the shape', () => {
    expect(() => decodeNumbers({ dtype: 'DT_FLOAT', shape: [3], bytes: new Uint8Array(8) })).toThrow(
      'has 8 bytes, 12 expected for DT_FLOAT [3]',
    );
  });
});
