import { describe, expect, it } from 'vitest';
import type { HostTensor } from '../../../../../../src/server/core/host-tensor.js';
import type { SignatureDef } from '../../../../../../src/server/core/signature.js';
import { parseJson } from '../../../../../../src/server/servables/tensorflow/codecs/exact-json.js';
import {
  decodeInferInputs,
  encodeInferResponse,
  modelMetadata,
  parseInferRequest,
} from '../../../../../../src/server/servables/tensorflow/codecs/open-inference-json.js';

const LIMITS = { maxElements: 1000 };
const SIGNATURE: SignatureDef = {
  methodName: 'tensorflow/serving/predict',
  inputs: {
    x: { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 2] },
    n: { name: 'n:0', dtype: 'DT_INT64', shape: [] },
    s: { name: 's:0', dtype: 'DT_STRING', shape: undefined },
  },
  outputs: { y: { name: 'y:0', dtype: 'DT_HALF', shape: [-1] } },
};

const request = (text: string) => parseInferRequest(parseJson(text) as Record<string, unknown>);

describe('Open Inference Protocol JSON', () => {
  it('decodes flat and nested data, exact int64, and base64 or text BYTES', () => {
    const parsed = request(`{"id":"a","parameters":{"signature_name":"sig"},"outputs":[{"name":"y"}],"inputs":[
      {"name":"x","shape":[2,2],"datatype":"FP32","data":[[1,2],[3,4]]},
      {"name":"n","shape":[],"datatype":"INT64","data":[9223372036854775807]},
      {"name":"s","shape":[2],"datatype":"BYTES","parameters":{"content_type":"base64"},"data":["AAE=","aGk="]}]}`);
    expect(parsed).toMatchObject({ id: 'a', signatureName: 'sig', outputs: ['y'] });
    const tensors = decodeInferInputs(parsed, SIGNATURE.inputs, LIMITS);
    const x = tensors.x as Extract<HostTensor, { bytes: Uint8Array }>;
    expect(Array.from(new Float32Array(x.bytes.buffer, x.bytes.byteOffset, 4))).toEqual([1, 2, 3, 4]);
    const n = tensors.n as Extract<HostTensor, { bytes: Uint8Array }>;
    expect(new DataView(n.bytes.buffer, n.bytes.byteOffset).getBigInt64(0, true)).toBe(2n ** 63n - 1n);
    expect((tensors.s as Extract<HostTensor, { strings: readonly Uint8Array[] }>).strings.map((b) => Array.from(b))).toEqual([[0, 1], [104, 105]]);
    const text = decodeInferInputs(request('{"inputs":[{"name":"s","shape":[1],"datatype":"BYTES","data":["héllo"]}]}'), SIGNATURE.inputs, LIMITS);
    expect(Buffer.from((text.s as Extract<HostTensor, { strings: readonly Uint8Array[] }>).strings[0]!).toString()).toBe('héllo');
  });

  it('flattens data nested deeper than the call stack would allow', () => {
    const depth = 20_000;
    const parsed = request(`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":${'['.repeat(depth)}1,2${']'.repeat(depth)}}]}`);
    expect(parsed.inputs[0]!.elements).toEqual([1, 2]);
  });

  it.each([
    ['a body without inputs', '{}', /'inputs' must be a non-empty list/],
    ['a non-string id', '{"id":1,"inputs":[]}', /'id' must be a string/],
    ['an input without a name', '{"inputs":[{"shape":[1],"datatype":"FP32","data":[1]}]}', /inputs\[0\] must have a 'name'/],
    ['a fractional dimension', '{"inputs":[{"name":"x","shape":[1.5],"datatype":"FP32","data":[1]}]}', /non-negative integers/],
    ['no data', '{"inputs":[{"name":"x","shape":[1],"datatype":"FP32"}]}', /input x has no 'data'/],
    ['outputs that are not a list', '{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}],"outputs":{"name":"y"}}', /'outputs' must be a list/],
    ['an output without a name', '{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}],"outputs":[{}]}', /outputs\[0\] must have a 'name'/],
    ['parameters that are not an object', '{"parameters":[],"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]}', /'parameters' must be an object/],
  ])('refuses %s', (_case, text, message) => {
    expect(() => request(text)).toThrowError(message);
  });

  it.each([
    ['a datatype other than the signature', '{"inputs":[{"name":"n","shape":[],"datatype":"INT32","data":[1]}]}', /input n must be INT64, but the request has INT32/],
    ['an int64 that is not exact', '{"inputs":[{"name":"n","shape":[],"datatype":"INT64","data":[1.5]}]}', /not an exact integer/],
    ['too few elements', '{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[1,2,3]}]}', /has 4 elements, but 'data' has 3/],
    ['too many elements for the limit', '{"inputs":[{"name":"x","shape":[1000,2],"datatype":"FP32","data":[]}]}', /more than 1000 elements/],
    ['bad base64', '{"inputs":[{"name":"s","shape":[1],"datatype":"BYTES","parameters":{"content_type":"base64"},"data":["!!"]}]}', /not valid base64/],
  ])('refuses %s against the signature', (_case, text, message) => {
    expect(() => decodeInferInputs(request(text), SIGNATURE.inputs, LIMITS)).toThrowError(message);
  });

  it('writes outputs flat with datatype and shape; BYTES that are not UTF-8 as marked base64', () => {
    const half = new Uint8Array(new Uint16Array([0x3c00, 0xc000]).buffer);
    const body = encodeInferResponse('m', 3, {
      y: { dtype: 'DT_HALF', shape: [2, 1], bytes: half },
      t: { dtype: 'DT_STRING', shape: [1], strings: [new TextEncoder().encode('ok')] },
      b: { dtype: 'DT_STRING', shape: [2], strings: [new Uint8Array([0xff]), new TextEncoder().encode('ok')] },
    }, 'req-1');
    expect(JSON.parse(body)).toEqual({
      model_name: 'm',
      model_version: '3',
      id: 'req-1',
      outputs: [
        { name: 'y', datatype: 'FP16', shape: [2, 1], data: [1, -2] },
        { name: 't', datatype: 'BYTES', shape: [1], data: ['ok'] },
        { name: 'b', datatype: 'BYTES', shape: [2], parameters: { content_type: 'base64' }, data: ['/w==', 'b2s='] },
      ],
    });
    expect(JSON.parse(encodeInferResponse('m', 0, {}))).not.toHaveProperty('id');
  });

  it('describes a signature with -1 for any size and [-1] for an unknown rank', () => {
    expect(modelMetadata('m', [2, 1], SIGNATURE)).toEqual({
      name: 'm',
      versions: ['2', '1'],
      platform: 'tensorflow_savedmodel',
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [-1, 2] },
        { name: 'n', datatype: 'INT64', shape: [] },
        { name: 's', datatype: 'BYTES', shape: [-1] },
      ],
      outputs: [{ name: 'y', datatype: 'FP16', shape: [-1] }],
    });
    const bf16: SignatureDef = { methodName: '', inputs: { b: { name: 'b:0', dtype: 'DT_BFLOAT16', shape: [1] } }, outputs: {} };
    expect(modelMetadata('m', [1], bf16)).toMatchObject({ inputs: [{ name: 'b', datatype: 'BF16', shape: [1] }] });
  });
});
