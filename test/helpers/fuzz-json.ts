/**
 * JSON request bodies damaged in meaning: a valid body is parsed, one or two of its nodes are
 * replaced by values that stress a decoder (wrong kinds, exact int64, NaN, huge lists, odd
 * {"b64": ...} objects), and it is written back as TF Serving's parser reads JSON.
 */
import fc from 'fast-check';
import { JsonDouble, parseJson } from '../../src/server/servables/tensorflow/codecs/exact-json.js';

/** Values that stress a decoder where a number, list, string or object is expected. */
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom<unknown>(-1, -0, 0.5, 2 ** 53, 1e308, -1e308, Number.NaN, Number.POSITIVE_INFINITY, 2n ** 64n, -(2n ** 63n) - 1n, '', '__proto__', 'AAA=', '!!', null, [], [[]], [[], [1]], {}, { b64: '!!' }, { b64: 3 }, { b64: 'AAAA' }, { name: 'x' }),
  fc.array(fc.integer({ min: -3, max: 70_000 }), { maxLength: 4 }),
);

/** Every node of a JSON value, as the path to it. */
function paths(value: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...at, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...at, k], out);
  return out;
}

function replaced(value: unknown, path: readonly (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(value)) return (value as unknown[]).map((v, i) => (i === head ? replaced(v, rest, replacement) : v));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as object)) Object.defineProperty(out, k, { value: k === head ? replaced(v, rest, replacement) : v, enumerable: true, writable: true, configurable: true });
  return out;
}

/** A valid body with one or two of its nodes replaced (nodes past the root more often). */
export function damagedBody<T extends { body: string }>(cases: readonly T[]): fc.Arbitrary<T & { text: string }> {
  return fc.tuple(fc.constantFrom(...cases), fc.array(fc.tuple(fc.nat(), oddValue), { minLength: 1, maxLength: 2 })).map(([c, edits]) => {
    // Parsed with doubles marked, so that 39.0 is written back as a double (a float feature).
    let parsed = parseJson(c.body, { markDoubles: true });
    for (const [pick, value] of edits) {
      const all = paths(parsed);
      parsed = replaced(parsed, all[1 + (pick % (all.length - 1))] ?? [], value);
    }
    return { ...c, text: jsonText(parsed) };
  });
}

/** JSON text as TF Serving's parser reads it: exact integers, NaN and Infinity, doubles kept doubles. */
function jsonText(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof JsonDouble) return Number.isInteger(value.value) ? value.value.toFixed(1) : numberText(value.value);
  if (typeof value === 'number') return numberText(value);
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  if (value !== null && typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(',')}}`;
  return JSON.stringify(value);
}

function numberText(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  return Object.is(n, -0) ? '-0' : String(n);
}
