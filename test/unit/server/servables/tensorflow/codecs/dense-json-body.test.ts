/**
 * The dense fast path of REST predict bodies against the general path (parseJsonBody +
 * decodePredictJson) as the oracle: for any body, taking the fast path where it applies must give
 * exactly the general path's tensors, bit for bit, or its error. Bodies are dense tensors of
 * number literals of every form (long mantissas, exponents, -0, integers beyond 2^53, values at
 * float32 rounding boundaries), in both forms and with odd spacing, then damaged.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { DType, HostTensor } from '../../../../../../src/server/core/host-tensor.js';
import type { TensorInfo } from '../../../../../../src/server/core/signature.js';
import { decodeDenseJsonBody, readDenseJsonBody } from '../../../../../../src/server/servables/tensorflow/codecs/dense-json-body.js';
import { decodePredictJson, parseJsonBody } from '../../../../../../src/server/servables/tensorflow/codecs/json-tensor.js';
import { damagedBytes, damagedText, fuzzParameters } from '../../../../../helpers/fuzz.js';
import { numberLiteral as literal } from '../../../../../helpers/json-literals.js';

const limits = { maxElements: 10_000 };
const DTYPES: DType[] = ['DT_FLOAT', 'DT_DOUBLE', 'DT_INT32', 'DT_INT64', 'DT_UINT8', 'DT_INT8', 'DT_HALF', 'DT_BOOL', 'DT_STRING'];
const signature = (dtype: DType, names: readonly string[] = ['x']): Record<string, TensorInfo> => Object.fromEntries(names.map((n) => [n, { name: `${n}:0`, dtype, shape: undefined }]));

type Outcome = { format: string; tensors: Record<string, { dtype: string; shape: readonly number[]; bytes: number[] | string[] }> } | { error: string };

function outcome(decode: () => { format: string; inputs: Record<string, HostTensor> }): Outcome {
  try {
    const { format, inputs } = decode();
    const tensors = Object.fromEntries(
      Object.entries(inputs).map(([n, t]) => [n, { dtype: t.dtype, shape: t.shape, bytes: 'strings' in t && t.strings ? t.strings.map((s) => Buffer.from(s).toString('hex')) : [...(t as { bytes: Uint8Array }).bytes] }]),
    );
    return { format, tensors };
  } catch (error) {
    return { error: `${(error as { code?: string }).code ?? 'THROWN'}: ${(error as Error).message}` };
  }
}

const general = (bytes: Uint8Array, inputs: Record<string, TensorInfo>): Outcome => outcome(() => decodePredictJson(parseJsonBody(Buffer.from(bytes).toString('utf8')), inputs, limits));

/** The fast path where it applies, else the general one: what the JSON thread does. */
function withFastPath(bytes: Uint8Array, inputs: Record<string, TensorInfo>): { outcome: Outcome; fast: boolean } {
  const dense = readDenseJsonBody(bytes);
  if (dense !== undefined) {
    try {
      const decoded = decodeDenseJsonBody(dense, inputs, limits);
      if (decoded !== undefined) return { outcome: outcome(() => decoded), fast: true };
    } catch (error) {
      return { outcome: outcome(() => { throw error; }), fast: true };
    }
  }
  return { outcome: general(bytes, inputs), fast: false };
}

/** A dense nested list of `shape` with literals, spaced oddly. */
const denseList = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }).chain((shape) => {
  const count = shape.reduce((a, b) => a * b, 1);
  return fc.tuple(fc.constant(shape), fc.array(literal, { minLength: count, maxLength: count }), fc.constantFrom('', ' ', '\n  ', '\t')).map(([dims, values, space]) => {
    let k = 0;
    const build = (level: number): string => (level === dims.length ? values[k++]! : `[${space}${Array.from({ length: dims[level]! }, () => build(level + 1)).join(`,${space}`)}${space}]`);
    return build(0);
  });
});

const body = fc
  .tuple(denseList, fc.constantFrom('instances', 'inputs'), fc.option(fc.constantFrom('serving_default', 'predict_images', '', 'caf\\u00e9', 'naïve'), { nil: undefined }), fc.boolean())
  .map(([list, key, name, nameFirst]) => {
    const parts = [`"${key}": ${list}`];
    if (name !== undefined) parts[nameFirst ? 'unshift' : 'push'](`"signature_name": "${name}"`);
    return `{${parts.join(', ')}}`;
  });

describe('the dense fast path of REST predict bodies', () => {
  test('gives the general path\'s tensors or error, bit for bit, for every dtype', () => {
    let fast = 0;
    fc.assert(
      fc.property(body, fc.constantFrom(...DTYPES), (text, dtype) => {
        const bytes = Buffer.from(text);
        const inputs = signature(dtype);
        const taken = withFastPath(bytes, inputs);
        expect(taken.outcome, text).toEqual(general(bytes, inputs));
        if (taken.fast) fast++;
        expect(readDenseJsonBody(bytes), `${text}: a dense body the fast path should read`).toBeDefined();
      }),
      fuzzParameters(1000),
    );
    expect(fast, 'bodies decoded by the fast path').toBeGreaterThan(0);
  });

  test('under damaged bodies: the same outcome as the general path', () => {
    const texts = fc.sample(body, { numRuns: 40, seed: 7 });
    const damaged = fc.oneof(
      damagedBytes(texts.map((t) => Buffer.from(t))),
      damagedText(fc.constantFrom(...texts), ['[', ']', ',', '{', '}', '"', ':', '-', '.', 'e', '0', ' ', 'NaN', 'true', '"inputs": [1]', '"x": 1', '\\', '\u00e9']).map((t) => Buffer.from(t)),
    );
    fc.assert(
      fc.property(damaged, fc.constantFrom(...DTYPES), fc.constantFrom(['x'], ['x', 'y']), (bytes, dtype, names) => {
        const inputs = signature(dtype, names);
        expect(withFastPath(bytes, inputs).outcome, Buffer.from(bytes).toString('utf8')).toEqual(general(bytes, inputs));
      }),
      fuzzParameters(1000),
    );
  });

  test.each([
    ['a float32 image row', '{"instances": [[[0.10100000351667404, 0.5], [1e-3, -0]]]}', 'DT_FLOAT', 'row', [1, 2, 2]],
    ['columnar with a signature', '{"signature_name": "s", "inputs": [1, 2, 3]}', 'DT_INT32', 'columnar', [3]],
    ['doubles of many digits', '{"inputs": [0.30000000000000004, 1.7976931348623157e308]}', 'DT_DOUBLE', 'columnar', [2]],
  ])('reads %s', (_name, text, dtype, format, shape) => {
    const dense = readDenseJsonBody(Buffer.from(text))!;
    expect(dense.shape).toEqual(shape);
    const decoded = decodeDenseJsonBody(dense, signature(dtype as DType), limits)!;
    expect(decoded.format).toBe(format);
    expect(outcome(() => decoded)).toEqual(general(Buffer.from(text), signature(dtype as DType)));
  });

  test.each([
    ['ragged lists', '{"instances": [[1, 2], [3]]}'],
    ['a list deeper than the first element', '{"instances": [1, [2]]}'],
    ['an empty list', '{"instances": []}'],
    ['both forms', '{"instances": [1], "inputs": [1]}'],
    ['another key', '{"instances": [1], "model": "m"}'],
    ['a repeated key', '{"instances": [1], "instances": [2]}'],
    ['NaN', '{"instances": [NaN]}'],
    ['a leading zero', '{"instances": [01]}'],
    ['a scalar', '{"inputs": 1}'],
    ['an escaped key', '{"\\u0069nputs": [1]}'],
    ['text after the body', '{"inputs": [1]} x'],
  ])('steps aside for %s', (_name, text) => {
    expect(readDenseJsonBody(Buffer.from(text))).toBeUndefined();
  });

  test('steps aside for integer dtypes when a literal is not exact', () => {
    const dense = readDenseJsonBody(Buffer.from('{"inputs": [9007199254740993]}'))!;
    expect(decodeDenseJsonBody(dense, signature('DT_INT64'), limits)).toBeUndefined();
    expect(decodeDenseJsonBody(dense, signature('DT_FLOAT'), limits)).toBeDefined();
  });
});
