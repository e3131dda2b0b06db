/**
 * The dense reading of /v2 infer JSON against the general path (parseJsonBody + parseInferRequest
 * + decodeInferInputs) as the oracle: for generated bodies (inputs of every datatype with `data`
 * lists of number literals, flat or nested, ids, parameters, outputs) and damaged ones, taking the
 * dense reading where it applies gives the general path's request and tensors, or its error.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { DType, HostTensor } from '../../../../../../src/server/core/host-tensor.js';
import type { TensorInfo } from '../../../../../../src/server/core/signature.js';
import { readDenseInferRequest } from '../../../../../../src/server/servables/tensorflow/codecs/dense-infer-body.js';
import { parseJsonBody } from '../../../../../../src/server/servables/tensorflow/codecs/json-tensor.js';
import { decodeInferInputs, dtypeOfDatatype, parseInferRequest, type InferRequest } from '../../../../../../src/server/servables/tensorflow/codecs/open-inference-json.js';
import { damagedBytes, damagedText, fuzzParameters } from '../../../../../helpers/fuzz.js';
import { numberLiteral } from '../../../../../helpers/json-literals.js';

const limits = { maxElements: 10_000 };
const DATATYPES = ['FP32', 'FP64', 'INT32', 'INT64', 'UINT8', 'BOOL', 'BYTES', 'FP16'];
const NO_BINARY = new Uint8Array(0);

function outcome(read: () => InferRequest, signature: Record<string, TensorInfo>): unknown {
  try {
    const request = read();
    const tensors = decodeInferInputs(request, signature, limits);
    const bytes = (t: HostTensor): string[] | number[] => ('strings' in t && t.strings ? t.strings.map((s) => Buffer.from(s).toString('hex')) : [...(t as { bytes: Uint8Array }).bytes]);
    return {
      id: request.id,
      signatureName: request.signatureName,
      outputs: request.outputs,
      binaryOutputs: request.binaryOutputs === 'all' ? 'all' : [...request.binaryOutputs],
      tensors: Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, { dtype: t.dtype, shape: t.shape, bytes: bytes(t) }])),
    };
  } catch (error) {
    return { error: `${(error as { code?: string }).code ?? 'THROWN'}: ${(error as Error).message}` };
  }
}

const general = (json: Uint8Array): InferRequest => parseInferRequest(parseJsonBody(Buffer.from(json).toString('utf8')), NO_BINARY);
const withDense = (json: Uint8Array): InferRequest => readDenseInferRequest(json, NO_BINARY) ?? general(json);

/** A list of literals of `shape`, flat or nested. */
const data = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }).chain((shape) => {
  const count = shape.reduce((a, b) => a * b, 1);
  return fc.tuple(fc.constant(shape), fc.array(numberLiteral, { minLength: count, maxLength: count }), fc.boolean()).map(([dims, values, nested]) => {
    if (!nested) return { shape: dims, text: `[${values.join(', ')}]` };
    let k = 0;
    const build = (level: number): string => (level === dims.length ? values[k++]! : `[${Array.from({ length: dims[level]! }, () => build(level + 1)).join(',')}]`);
    return { shape: dims, text: build(0) };
  });
});

const input = fc.tuple(fc.constantFrom('x', 'y', 'd\\u0061ta'), fc.constantFrom(...DATATYPES), data, fc.boolean()).map(([name, datatype, d, shapeFirst]) => {
  const fields = [`"name": "${name}"`, `"datatype": "${datatype}"`, `"shape": [${d.shape.join(',')}]`];
  const dataField = `"data": ${d.text}`;
  return `{${shapeFirst ? [...fields, dataField].join(', ') : [dataField, ...fields].join(', ')}}`;
});

const body = fc
  .tuple(fc.array(input, { minLength: 1, maxLength: 2 }), fc.option(fc.constantFrom('"id": "r1"', '"parameters": {"signature_name": "serving_default", "data": [1]}', '"parameters": {"binary_data_output": true}', '"outputs": [{"name": "y"}]'), { nil: undefined }))
  .map(([inputs, extra]) => `{"inputs": [${inputs.join(', ')}]${extra ? `, ${extra}` : ''}}`);

/** A signature that takes the body's inputs as the datatype given (or another). */
const signatureFor = (text: string, dtype: DType | undefined): Record<string, TensorInfo> => {
  const names = [...text.matchAll(/"name": "([^"]+)", "datatype": "(\w+)"/g)];
  return Object.fromEntries(names.map(([, n, datatype]) => [JSON.parse(`"${n}"`) as string, { name: `${n}:0`, dtype: dtype ?? dtypeOfDatatype(datatype!), shape: undefined }]));
};

describe('the dense reading of /v2 infer bodies', () => {
  test("gives the general path's request and tensors, or its error", () => {
    let dense = 0;
    fc.assert(
      fc.property(body, fc.option(fc.constantFrom<DType>('DT_FLOAT', 'DT_INT32'), { nil: undefined }), (text, dtype) => {
        const json = Buffer.from(text);
        const signature = signatureFor(text, dtype);
        expect(outcome(() => withDense(json), signature), text).toEqual(outcome(() => general(json), signature));
        if (readDenseInferRequest(json, NO_BINARY) !== undefined) dense++;
      }),
      fuzzParameters(1000),
    );
    expect(dense, 'bodies read densely').toBeGreaterThan(0);
  });

  test('under damaged bodies: the same outcome as the general path', () => {
    const texts = fc.sample(body, { numRuns: 40, seed: 11 });
    const damaged = fc.oneof(
      damagedBytes(texts.map((t) => Buffer.from(t))),
      damagedText(fc.constantFrom(...texts), ['[', ']', ',', '{', '}', '"', ':', '-', '.', 'e', '0', ' ', 'NaN', '"data": [1]', '"inputs": []', '"x"', '\\', '\u00e9']).map((t) => Buffer.from(t)),
    );
    fc.assert(
      fc.property(damaged, (json) => {
        const text = Buffer.from(json).toString('utf8');
        const signature = { x: { name: 'x:0', dtype: 'DT_FLOAT', shape: undefined }, y: { name: 'y:0', dtype: 'DT_INT64', shape: undefined } } as Record<string, TensorInfo>;
        expect(outcome(() => withDense(json), signature), text).toEqual(outcome(() => general(json), signature));
      }),
      fuzzParameters(1000),
    );
  });

  test.each([
    ['an input whose data is given twice', '{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1], "data": ["a"]}]}'],
    ['inputs given twice', '{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1]}], "inputs": []}'],
    ['no data list of numbers', '{"inputs": [{"name": "x", "datatype": "BYTES", "shape": [1], "data": ["a"]}]}'],
  ])('leaves %s to the general path', (_name, text) => {
    expect(readDenseInferRequest(Buffer.from(text), NO_BINARY)).toBeUndefined();
  });
});
