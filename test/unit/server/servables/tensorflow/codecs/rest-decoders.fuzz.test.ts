/**
 * Fuzzes the REST request decoders (TF Serving's predict in row and columnar form, the Open
 * Inference Protocol's infer, TF Serving's classify/regress examples) with the fixtures' valid
 * bodies damaged at the JSON level: any node replaced by another value. Each decoder must refuse
 * only with a ServingError (a 4xx answer naming the problem), and every tensor it accepts must be
 * well formed (its bytes or strings match its shape), since TensorFlow trusts what it is given.
 */
import fc from 'fast-check';
import { beforeEach, describe, expect, test } from 'vitest';
import { DTYPES, elementCount, type HostTensor } from '../../../../../../src/server/core/host-tensor.js';
import type { TensorInfo } from '../../../../../../src/server/core/signature.js';
import { JsonDouble, parseJson } from '../../../../../../src/server/servables/tensorflow/codecs/exact-json.js';
import { decodePredictJson, parseJsonBody } from '../../../../../../src/server/servables/tensorflow/codecs/json-tensor.js';
import { datatypeOf, decodeInferInputs, parseInferRequest } from '../../../../../../src/server/servables/tensorflow/codecs/open-inference-json.js';
import { parseClassifyRegressJson, serializeInputExamples } from '../../../../../../src/server/servables/tensorflow/codecs/tf-example.js';
import { ServingError } from '../../../../../../src/shared/errors.js';
import { fuzzParameters } from '../../../../../helpers/fuzz.js';
import { examplesJson } from '../../../../../helpers/server/fixture-examples.js';
import { columnarBody, rowBody } from '../../../../../helpers/server/fixture-json.js';
import { FIXTURE_MODELS, loadExpected, type FixtureTensor } from '../../../../../helpers/server/fixture-tensors.js';

const limits = { maxElements: 100_000 };

interface Case {
  readonly body: string;
  readonly inputs: Record<string, TensorInfo>;
}

function fixtureCases(): { predict: Case[]; infer: Case[]; examples: string[] } {
  const predict: Case[] = [];
  const infer: Case[] = [];
  const examples: string[] = [];
  for (const model of FIXTURE_MODELS) {
    for (const [name, sig] of Object.entries(loadExpected(model).signatures)) {
      const inputs = Object.fromEntries(Object.entries(sig.input_specs).map(([n, s]) => [n, { name: `${n}:0`, dtype: s.dtype, shape: s.shape ?? undefined } as TensorInfo]));
      for (const c of sig.cases) {
        if (c.examples !== undefined) examples.push(examplesJson(name, c));
        if (Object.keys(c.inputs).length === 0) continue;
        predict.push({ body: columnarBody(c.inputs, name), inputs });
        predict.push({ body: rowBody(c.inputs, name), inputs });
        infer.push({ body: inferBody(c.inputs, name), inputs });
      }
    }
  }
  return { predict, infer, examples };
}

function inferBody(inputs: Record<string, FixtureTensor>, signature: string): string {
  const tensor = ([name, t]: [string, FixtureTensor]): string => {
    const datatype = datatypeOf(t.dtype as keyof typeof DTYPES);
    const data = t.values.map((v) => (t.dtype === 'DT_STRING' ? JSON.stringify(v) : t.dtype === 'DT_BOOL' ? String(Boolean(v)) : String(v)));
    const base64 = t.dtype === 'DT_STRING' ? ',"parameters":{"content_type":"base64"}' : '';
    return `{"name":${JSON.stringify(name)},"datatype":"${datatype}","shape":[${t.shape.join(',')}]${base64},"data":[${data.join(',')}]}`;
  };
  return `{"parameters":{"signature_name":${JSON.stringify(signature)}},"inputs":[${Object.entries(inputs).map(tensor).join(',')}]}`;
}

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
function damagedBody<T extends { body: string }>(cases: readonly T[]): fc.Arbitrary<T & { text: string }> {
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

function expectWellFormed(tensors: Readonly<Record<string, HostTensor>>): void {
  for (const [name, t] of Object.entries(tensors)) {
    const count = elementCount(t.shape);
    expect(t.shape.every((d) => Number.isSafeInteger(d) && d >= 0), `${name} shape ${t.shape.join(',')}`).toBe(true);
    if (t.dtype === 'DT_STRING') expect(t.strings.length, name).toBe(count);
    else expect(t.bytes.byteLength, name).toBe(count * DTYPES[t.dtype].width);
  }
}

/** Runs a decoder: it may return or refuse with a ServingError, nothing else. */
function decodeOrRefuse<T>(decode: () => T): T | undefined {
  try {
    return decode();
  } catch (error) {
    if (!(error instanceof ServingError)) throw error;
    expect(['INVALID_ARGUMENT', 'RESOURCE_EXHAUSTED']).toContain(error.code);
    expect(error.message.length).toBeGreaterThan(0);
    return undefined;
  }
}

describe('REST request decoders under damaged bodies', () => {
  const cases = fixtureCases();
  const outcomes = { accepted: 0, refused: 0 };
  const tally = <T>(decoded: T | undefined): T | undefined => {
    outcomes[decoded === undefined ? 'refused' : 'accepted']++;
    return decoded;
  };
  // Damage must leave both outcomes common, or the property would test only one path.
  const expectBothOutcomes = (): void => {
    const runs = outcomes.accepted + outcomes.refused;
    expect(outcomes.accepted, JSON.stringify(outcomes)).toBeGreaterThan(runs / 40);
    expect(outcomes.refused, JSON.stringify(outcomes)).toBeGreaterThan(runs / 20);
  };
  beforeEach(() => {
    outcomes.accepted = 0;
    outcomes.refused = 0;
  });

  test('TF Serving predict (row and columnar)', () => {
    fc.assert(
      fc.property(damagedBody(cases.predict), (c) => {
        const decoded = tally(decodeOrRefuse(() => decodePredictJson(parseJsonBody(c.text), c.inputs, limits)));
        if (decoded !== undefined) expectWellFormed(decoded.inputs);
      }),
      fuzzParameters(1000),
    );
    expectBothOutcomes();
  });

  test('Open Inference Protocol infer', () => {
    fc.assert(
      fc.property(damagedBody(cases.infer), (c) => {
        const tensors = tally(decodeOrRefuse(() => decodeInferInputs(parseInferRequest(parseJsonBody(c.text)), c.inputs, limits)));
        if (tensors !== undefined) expectWellFormed(tensors);
      }),
      fuzzParameters(1000),
    );
    expectBothOutcomes();
  });

  test('TF Serving classify/regress examples', () => {
    fc.assert(
      fc.property(damagedBody(cases.examples.map((body) => ({ body }))), (c) => {
        const parsed = tally(decodeOrRefuse(() => parseClassifyRegressJson(c.text)));
        if (parsed !== undefined) expect(() => serializeInputExamples(parsed.input)).not.toThrow();
      }),
      fuzzParameters(1000),
    );
    expectBothOutcomes();
  });
});

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
