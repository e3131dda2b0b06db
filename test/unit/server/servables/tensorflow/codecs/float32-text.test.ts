/**
 * The fast float32 writer (float32Decimal's digits, written by JsonBytes) against the reference
 * (toPrecision, parse, print): the same text for every float32, sampled over all bit patterns and
 * densely over the range the fast path takes.
 */
import fc from 'fast-check';
import { describe, expect, it, test } from 'vitest';
import { float32TextReference } from '../../../../../../src/server/servables/tensorflow/codecs/float32-text.js';
import { formatFloat32 as float32Text } from '../../../../../../src/server/servables/tensorflow/codecs/json-tensor.js';
import { fuzzParameters } from '../../../../../helpers/fuzz.js';

const fromBits = (bits: number): number => new Float32Array(Uint32Array.of(bits).buffer)[0]!;

describe('float32Text', () => {
  test('writes every float32 as the reference does (any bit pattern)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (bits) => {
        const value = fromBits(bits);
        expect(float32Text(value)).toBe(float32TextReference(value));
      }),
      fuzzParameters(20_000),
    );
  });

  test('and densely where the fast path applies, [1e-4, 1e6)', () => {
    fc.assert(
      fc.property(fc.double({ min: -4, max: 6, noNaN: true }), fc.boolean(), (exponent, negative) => {
        const value = Math.fround((negative ? -1 : 1) * 10 ** exponent);
        expect(float32Text(value)).toBe(float32TextReference(value));
      }),
      fuzzParameters(20_000),
    );
  });

  it.each([
    // Near powers of ten, near rounding ties of 6 digits, the range's ends, and values needing 9 digits.
    [1e-4], [1e6], [0.1], [100000.5], [999999.5], [0.000123456789], [1.0000001], [Math.fround(1 / 3)], [-2.5e-4], [123456.789],
  ])('%s', (value) => {
    const float32 = Math.fround(value);
    for (const v of [float32, fromBits(new Uint32Array(Float32Array.of(float32).buffer)[0]! + 1), fromBits(new Uint32Array(Float32Array.of(float32).buffer)[0]! - 1)]) {
      expect(float32Text(v)).toBe(float32TextReference(v));
    }
  });
});
