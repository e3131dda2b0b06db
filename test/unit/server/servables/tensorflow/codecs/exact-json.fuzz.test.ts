/**
 * Fuzzes the exact JSON parser (int64 beyond 2^53, NaN/Infinity, doubles told from integers)
 * against JSON.parse: on any text both must accept or both refuse, and agree on the value once
 * exact integers and marked doubles are read as plain numbers. It refuses only with
 * INVALID_ARGUMENT. Texts with NaN or Infinity are left out of the comparison, since only ours
 * accepts them (TF Serving's parser does too).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { JsonDouble, parseJson } from '../../../../../../src/server/servables/tensorflow/codecs/exact-json.js';
import { ServingError } from '../../../../../../src/shared/errors.js';
import { damagedText, fuzzParameters } from '../../../../../helpers/fuzz.js';

/** What JSON.parse would give: exact integers and marked doubles as plain numbers. */
function asPlainJson(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof JsonDouble) return value.value;
  if (Array.isArray(value)) return value.map(asPlainJson);
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: asPlainJson(v), enumerable: true });
    return out;
  }
  return value;
}

function outcome(parse: () => unknown): { value: unknown } | 'refused' {
  try {
    return { value: parse() };
  } catch (error) {
    if (!(error instanceof SyntaxError) && !(error instanceof ServingError && error.code === 'INVALID_ARGUMENT')) throw error;
    return 'refused';
  }
}

const holdsInfinity = (value: unknown): boolean =>
  typeof value === 'number' ? !Number.isFinite(value) : value !== null && typeof value === 'object' && Object.values(value).some(holdsInfinity);

const bigInteger = fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String);
const JSON_TOKENS = ['{', '}', '[', ']', ',', ':', '"', '\\', ' ', '\n', '-', '.', 'e', 'E', '+', '0', '1', '9', 'true', 'null', '"__proto__"', '\u0000', '\ud800', 'x'];

/** JSON texts with big integers spliced in, then damaged by inserting or deleting tokens. */
const jsonishText = damagedText(fc.json({ depthSize: 'small' }), JSON_TOKENS, bigInteger);

describe('parseJson under hostile text', () => {
  for (const markDoubles of [false, true]) {
    test(`agrees with JSON.parse${markDoubles ? ' (doubles marked)' : ''}`, () => {
      let accepted = 0;
      let runs = 0;
      fc.assert(
        fc.property(jsonishText, (text) => {
          fc.pre(!/NaN|Infinity/.test(text));
          runs++;
          const ours = outcome(() => parseJson(text, { markDoubles }));
          const reference = outcome(() => JSON.parse(text));
          if (ours !== 'refused') accepted++;
          // A literal beyond a double's range, which JSON.parse reads as Infinity, is refused (as rapidjson does).
          if (reference !== 'refused' && holdsInfinity(reference.value)) expect(ours).toBe('refused');
          else expect(ours === 'refused' ? ours : { value: asPlainJson(ours.value) }).toEqual(reference);
        }),
        fuzzParameters(3000),
      );
      expect(accepted).toBeGreaterThan(runs / 10);
    });
  }

  test.each(['1e400', '-1e400', '1E+999', '123456789e305', `1${'0'.repeat(400)}`])('%s, beyond a double, is refused, saying so', (literal) => {
    for (const markDoubles of [false, true]) expect(() => parseJson(`{"a": [1, ${literal}]}`, { markDoubles })).toThrow('JSON Parse error: number too large for a double at offset 10');
  });

  test('a literal that underflows reads as zero, as JSON.parse reads it', () => {
    expect(parseJson('[1e-400, -1e-400, 1e308]')).toEqual([0, -0, 1e308]);
  });

  test('integers beyond 2^53 stay exact, in any position', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n }), fc.json({ depthSize: 'small' }), (n, other) => {
        const parsed = parseJson(`{"a":[${other},${n}]}`) as { a: unknown[] };
        const last = parsed.a[1];
        expect(typeof last === 'bigint' ? last : BigInt(last as number)).toBe(n);
      }),
      fuzzParameters(),
    );
  });
});
