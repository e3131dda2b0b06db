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
    ['data that is an object', '{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":{"a":1,"b":2}}]}', /input x: 'data' must be a list of the tensor's elements, not an object/],
    ['outputs that are not a list', '{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}],"outputs":{"name":"y"}}', /'outputs' must be a list/],
    ['an output without a name', '{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}],"outputs":[{}]}', /outputs\[0\] must have a 'name'/],
    ['parameters that are not an object', '{"parameters":[],"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]}', /'parameters' must be an object/],
  ])('refuses %s', (_case, text, message) => {
    expect(() => request(text)).toThrowError(message);
  });

  it.each([
    ['a datatype other than the signature', '{"inputs":[{"name":"n","shape":[],"datatype":"INT32","data":[1]}]}', /input n must be INT64, but the request has INT32/],
    ['an int64 that is not exact', '{"inputs":[{"name":"n","shape":[],"datatype":"INT64","data":[1.5]}]}', /not an exact integer/],
    ['too few elements', '{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[1,2,3]}]}', /has 4 elements, but the request gives 3/],
    ['too many elements for the limit', '{"inputs":[{"name":"x","shape":[1000,2],"datatype":"FP32","data":[]}]}', /more than 1000 elements/],
    ['bad base64', '{"inputs":[{"name":"s","shape":[1],"datatype":"BYTES","parameters":{"content_type":"base64"},"data":["!!"]}]}', /not valid base64/],
  ])('refuses %s against the signature', (_case, text, message) => {
    expect(() => decodeInferInputs(request(text), SIGNATURE.inputs, LIMITS)).toThrowError(message);
  });

  it('writes outputs flat with datatype and shape; BYTES that are not UTF-8 as marked base64', () => {
    const half = new Uint8Array(new Uint16Array([0x3c00, 0xc000]).buffer);
    const { json: body, binary } = encodeInferResponse('m', 3, {
      y: { dtype: 'DT_HALF', shape: [2, 1], bytes: half },
      t: { dtype: 'DT_STRING', shape: [1], strings: [new TextEncoder().encode('ok')] },
      b: { dtype: 'DT_STRING', shape: [2], strings: [new Uint8Array([0xff]), new TextEncoder().encode('ok')] },
    }, { id: 'req-1' });
    expect(binary).toEqual([]);
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
    expect(JSON.parse(encodeInferResponse('m', 0, {}).json)).not.toHaveProperty('id');
  });

  it('reads binary inputs after the JSON in order: numbers raw, BOOL as bytes, BYTES length-prefixed', () => {
    const floats = Buffer.from(new Float32Array([1.5, -2, 3, 4]).buffer);
    const strings = Buffer.from([2, 0, 0, 0, 0x68, 0x69, 0, 0, 0, 0]);
    const int64 = Buffer.alloc(8);
    int64.writeBigInt64LE(-(2n ** 63n));
    const parsed = parseInferRequest(
      parseJson(`{"inputs":[
        {"name":"x","shape":[2,2],"datatype":"FP32","parameters":{"binary_data_size":16}},
        {"name":"s","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":10}},
        {"name":"n","shape":[],"datatype":"INT64","parameters":{"binary_data_size":8}}]}`) as Record<string, unknown>,
      Buffer.concat([floats, strings, int64]),
    );
    const tensors = decodeInferInputs(parsed, SIGNATURE.inputs, LIMITS);
    const x = tensors.x as Extract<HostTensor, { bytes: Uint8Array }>;
    expect(Array.from(new Float32Array(x.bytes.buffer, x.bytes.byteOffset, 4))).toEqual([1.5, -2, 3, 4]);
    expect((tensors.s as Extract<HostTensor, { strings: readonly Uint8Array[] }>).strings.map((b) => Buffer.from(b).toString())).toEqual(['hi', '']);
    const n = tensors.n as Extract<HostTensor, { bytes: Uint8Array }>;
    expect(Buffer.from(n.bytes).readBigInt64LE()).toBe(-(2n ** 63n));
  });

  it.each([
    ['binary data left over', '{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":8}}]}', 12, /12 bytes of binary data after the JSON, but the inputs' binary_data_size add up to 8/],
    ['a size past the end', '{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":16}}]}', 8, /goes past the 8 bytes/],
    ['a negative size', '{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":-1}}]}', 0, /non-negative integer/],
  ])('refuses %s in binary form', (_case, text, bytes, message) => {
    expect(() => parseInferRequest(parseJson(text) as Record<string, unknown>, new Uint8Array(bytes))).toThrowError(message);
  });

  it.each([
    ['a size that is not the shape times the width', 'x', '[1,2]', 'FP32', Buffer.alloc(12), /takes 8 bytes, but binary_data_size is 12/],
    ['a BYTES length past the data', 's', '[1]', 'BYTES', Buffer.from([9, 0, 0, 0, 1]), /element of 9 bytes goes past/],
    ['a cut BYTES length', 's', '[1]', 'BYTES', Buffer.from([1, 0]), /ends inside an element's 4-byte length/],
    ['fewer BYTES elements than the shape', 's', '[2]', 'BYTES', Buffer.from([0, 0, 0, 0]), /shape has 2 elements, but the binary data holds 1/],
  ])('refuses %s against the signature', (_case, name, shape, datatype, bytes, message) => {
    const text = `{"inputs":[{"name":"${name}","shape":${shape},"datatype":"${datatype}","parameters":{"binary_data_size":${bytes.length}}}]}`;
    expect(() => decodeInferInputs(parseInferRequest(parseJson(text) as Record<string, unknown>, bytes), SIGNATURE.inputs, LIMITS)).toThrowError(message);
  });

  it('refuses BOOL bytes other than 0 and 1', () => {
    const inputs = { b: { name: 'b:0', dtype: 'DT_BOOL' as const, shape: [2] } };
    const text = '{"inputs":[{"name":"b","shape":[2],"datatype":"BOOL","parameters":{"binary_data_size":2}}]}';
    expect(() => decodeInferInputs(parseInferRequest(parseJson(text) as Record<string, unknown>, Buffer.from([1, 2])), inputs, LIMITS)).toThrowError(/BOOL elements must be bytes 0 or 1/);
  });

  it('writes the outputs asked for as binary after the JSON, with their sizes', () => {
    const outputs: Record<string, HostTensor> = {
      y: { dtype: 'DT_FLOAT', shape: [2], bytes: new Uint8Array(new Float32Array([1, 2]).buffer) },
      s: { dtype: 'DT_STRING', shape: [1], strings: [new TextEncoder().encode('abc')] },
    };
    const asked = parseInferRequest(parseJson('{"inputs":[{"name":"x","shape":[0],"datatype":"FP32","data":[]}],"outputs":[{"name":"y","parameters":{"binary_data":true}},{"name":"s"}]}') as Record<string, unknown>);
    const one = encodeInferResponse('m', 1, outputs, asked);
    expect((JSON.parse(one.json) as { outputs: unknown[] }).outputs).toEqual([
      { name: 'y', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } },
      { name: 's', datatype: 'BYTES', shape: [1], data: ['abc'] },
    ]);
    expect(Buffer.concat(one.binary)).toEqual(Buffer.from(new Float32Array([1, 2]).buffer));
    const all = parseInferRequest(parseJson('{"parameters":{"binary_data_output":true},"inputs":[{"name":"x","shape":[0],"datatype":"FP32","data":[]}]}') as Record<string, unknown>);
    const both = encodeInferResponse('m', 1, outputs, all);
    expect((JSON.parse(both.json) as { outputs: unknown[] }).outputs[1]).toEqual({ name: 's', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 7 } });
    expect(Buffer.concat(both.binary).subarray(8)).toEqual(Buffer.from([3, 0, 0, 0, 0x61, 0x62, 0x63]));
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

describe('Open Inference Protocol requests mangled at random', () => {
  /** A small deterministic generator (mulberry32), so a failure reproduces. */
  function random(seed: number): () => number {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const ODD_VALUES: unknown[] = [null, true, -1, 1.5, 2 ** 60, 'x', '', [], {}, [[]], { b64: '!!' }, 'FP32', 'BYTES', -0, Infinity];

  /** Replaces one value somewhere in `value` (a JSON tree) with an odd one. */
  function mangle(value: unknown, next: () => number): unknown {
    if (Array.isArray(value) && value.length > 0 && next() < 0.7) {
      const i = Math.floor(next() * value.length);
      return (value as unknown[]).map((v, j) => (j === i ? mangle(v, next) : v));
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && next() < 0.8) {
      const keys = Object.keys(value);
      const key = keys[Math.floor(next() * keys.length)]!;
      return { ...value, [key]: mangle((value as Record<string, unknown>)[key], next) };
    }
    return ODD_VALUES[Math.floor(next() * ODD_VALUES.length)];
  }

  it('refuse every mangled request with INVALID_ARGUMENT or decode it, never another error (2000 cases)', () => {
    const valid = {
      id: 'a',
      parameters: { signature_name: 'sig', binary_data_output: true },
      inputs: [
        { name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2] },
        { name: 'n', shape: [], datatype: 'INT64', data: [3] },
        { name: 's', shape: [1], datatype: 'BYTES', parameters: { content_type: 'base64' }, data: ['AAE='] },
      ],
      outputs: [{ name: 'y', parameters: { binary_data: true } }],
    };
    const next = random(20261207);
    const unexpected: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const body = mangle(valid, next);
      try {
        if (body === null || typeof body !== 'object' || Array.isArray(body)) continue;
        decodeInferInputs(parseInferRequest(body as Record<string, unknown>, new Uint8Array(next() < 0.2 ? 4 : 0)), SIGNATURE.inputs, LIMITS);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code !== 'INVALID_ARGUMENT') unexpected.push(`${JSON.stringify(body)}: ${String(error)}`);
      }
    }
    expect(unexpected.slice(0, 5)).toEqual([]);
  });
});
