import { describe, expect, it } from 'vitest';
import type { DType, HostTensor } from '../../../../../../src/server/core/host-tensor.js';
import type { TensorInfo } from '../../../../../../src/server/core/signature.js';
import { ServingError } from '../../../../../../src/shared/errors.js';
import { JsonDouble, parseJson } from '../../../../../../src/server/servables/tensorflow/codecs/exact-json.js';
import {
  decodePredictJson,
  encodeClassifyJson,
  encodePredictJson,
  encodeRegressJson,
  formatFloat32,
  fromBfloat16Bits,
  fromHalfBits,
  parseJsonBody,
  requestSignatureName,
  toBfloat16Bits,
  toHalfBits,
} from '../../../../../../src/server/servables/tensorflow/codecs/json-tensor.js';

const limits = { maxElements: 10_000 };
const info = (dtype: DType, shape?: number[]): TensorInfo => ({ name: 'x:0', dtype, shape });
const decode = (text: string, inputs: Record<string, TensorInfo>) => decodePredictJson(parseJsonBody(text), inputs, limits);

/** A tensor's values as plain JS values (bigint for 64-bit ints, text for strings). */
function values(t: HostTensor | undefined): unknown[] {
  if (t === undefined) throw new Error('missing tensor');
  if (t.dtype === 'DT_STRING') return t.strings.map((s) => Buffer.from(s).toString('latin1'));
  const b = t.bytes.buffer.slice(t.bytes.byteOffset, t.bytes.byteOffset + t.bytes.byteLength);
  const arrays: Record<Exclude<DType, 'DT_STRING'>, () => ArrayLike<unknown>> = {
    DT_FLOAT: () => new Float32Array(b),
    DT_DOUBLE: () => new Float64Array(b),
    DT_INT32: () => new Int32Array(b),
    DT_UINT8: () => new Uint8Array(b),
    DT_INT16: () => new Int16Array(b),
    DT_INT8: () => new Int8Array(b),
    DT_INT64: () => new BigInt64Array(b),
    DT_BOOL: () => Array.from(new Uint8Array(b), (x) => x === 1),
    DT_BFLOAT16: () => Array.from(new Uint16Array(b), fromBfloat16Bits),
    DT_UINT16: () => new Uint16Array(b),
    DT_HALF: () => Array.from(new Uint16Array(b), fromHalfBits),
    DT_UINT32: () => new Uint32Array(b),
    DT_UINT64: () => new BigUint64Array(b),
  };
  return Array.from(arrays[t.dtype]());
}

function expectInvalid(fn: () => unknown, message: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ServingError);
  expect((error as ServingError).code).toBe('INVALID_ARGUMENT');
  expect((error as ServingError).message).toMatch(message);
}

describe('JSON request decoding', () => {
  it('reads row format for a single input as a batch', () => {
    const { format, inputs } = decode('{"instances": [[1, 2], [3, 4], [5, 6]]}', { x: info('DT_FLOAT', [-1, 2]) });
    expect(format).toBe('row');
    expect(inputs['x']?.shape).toEqual([3, 2]);
    expect(values(inputs['x'])).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reads row format with named inputs', () => {
    const { inputs } = decode('{"instances": [{"a": 1, "b": [true, false]}, {"a": 2, "b": [false, false]}]}', {
      a: info('DT_INT64'),
      b: info('DT_BOOL'),
    });
    expect(inputs['a']?.shape).toEqual([2]);
    expect(values(inputs['a'])).toEqual([1n, 2n]);
    expect(inputs['b']?.shape).toEqual([2, 2]);
    expect(values(inputs['b'])).toEqual([true, false, false, false]);
  });

  it('reads columnar format: a bare value, a list, or named inputs', () => {
    expect(decode('{"inputs": 3.5}', { x: info('DT_DOUBLE') }).inputs['x']?.shape).toEqual([]);
    const list = decode('{"inputs": [[1, 2, 3]]}', { x: info('DT_INT32') });
    expect(list.format).toBe('columnar');
    expect(list.inputs['x']?.shape).toEqual([1, 3]);
    const named = decode('{"inputs": {"a": [1], "b": ["hi"]}, "signature_name": "s"}', { a: info('DT_UINT8'), b: info('DT_STRING') });
    expect(values(named.inputs['b'])).toEqual(['hi']);
    expect(requestSignatureName(parseJsonBody('{"signature_name": "s", "inputs": 1}'))).toBe('s');
  });

  it('decodes {"b64": ...} strings to bytes, in both formats', () => {
    const row = decode('{"instances": [{"b64": "AP8="}, {"b64": "aGk="}]}', { img: info('DT_STRING') });
    expect(values(row.inputs['img'])).toEqual(['\u0000\u00ff', 'hi']);
    const col = decode('{"inputs": {"b64": "aGk="}}', { img: info('DT_STRING') });
    expect(col.inputs['img']?.shape).toEqual([]);
  });

  it('keeps int64 and uint64 exact beyond 2^53', () => {
    const { inputs } = decode('{"inputs": {"a": [9007199254740993, -9223372036854775808], "u": [18446744073709551615]}}', {
      a: info('DT_INT64'),
      u: info('DT_UINT64'),
    });
    expect(values(inputs['a'])).toEqual([9007199254740993n, -9223372036854775808n]);
    expect(values(inputs['u'])).toEqual([18446744073709551615n]);
  });

  it('accepts NaN and Infinity for floats, and converts to half and bfloat16', () => {
    const { inputs } = decode('{"inputs": {"f": [NaN, Infinity, -Infinity], "h": [1.5, -2], "bf": [1, 0.5]}}', {
      f: info('DT_FLOAT'),
      h: info('DT_HALF'),
      bf: info('DT_BFLOAT16'),
    });
    expect(values(inputs['f'])).toEqual([NaN, Infinity, -Infinity]);
    expect(values(inputs['h'])).toEqual([1.5, -2]);
    expect(values(inputs['bf'])).toEqual([1, 0.5]);
  });

  it("takes values that round to a type's largest finite value", () => {
    const { inputs } = decode('{"inputs": {"f": [3.4028235e38, -3.4028235e38], "h": [65519, -65504]}}', { f: info('DT_FLOAT'), h: info('DT_HALF') });
    expect(values(inputs['f'])).toEqual([3.4028234663852886e38, -3.4028234663852886e38]);
    expect(values(inputs['h'])).toEqual([65504, -65504]);
  });

  it.each<[string, string, Record<string, TensorInfo>, RegExp]>([
    ['empty body', '   ', { x: info('DT_FLOAT') }, /document is empty/],
    ['not JSON', '{"instances": [1,', { x: info('DT_FLOAT') }, /JSON Parse error/],
    ['not an object', '[1]', { x: info('DT_FLOAT') }, /must be an object/],
    ['both keys', '{"instances": [1], "inputs": [1]}', { x: info('DT_FLOAT') }, /only one of 'instances' or 'inputs'/],
    ['neither key', '{"signature_name": "s"}', { x: info('DT_FLOAT') }, /missing 'inputs' or 'instances'/],
    ['empty instances', '{"instances": []}', { x: info('DT_FLOAT') }, /empty list/],
    ['instances not a list', '{"instances": 3}', { x: info('DT_FLOAT') }, /must be a list/],
    ['plain list for two inputs', '{"instances": [1, 2]}', { a: info('DT_FLOAT'), b: info('DT_FLOAT') }, /plain list, but the signature has 2 inputs/],
    ['rows of different shapes', '{"instances": [[1, 2], [3]]}', { x: info('DT_FLOAT') }, /instance 1 has shape \[1\] but instance 0 has \[2\]/],
    ['ragged nested list', '{"inputs": [[1, 2], [3]]}', { x: info('DT_FLOAT') }, /has 1 elements but expected 2/],
    ['deeper nesting later', '{"inputs": [1, [2]]}', { x: info('DT_FLOAT') }, /nested deeper/],
    ['missing key in an instance', '{"instances": [{"a": 1, "b": 2}, {"a": 1}]}', { a: info('DT_FLOAT'), b: info('DT_FLOAT') }, /missing b/],
    ['unknown key in an instance', '{"instances": [{"a": 1, "z": 2}]}', { a: info('DT_FLOAT') }, /unknown z/],
    ['missing named input', '{"inputs": {"a": 1}}', { a: info('DT_FLOAT'), b: info('DT_FLOAT') }, /missing input b/],
    ['unknown named input', '{"inputs": {"a": 1, "c": 1}}', { a: info('DT_FLOAT') }, /unknown input\(s\) c/],
    ['string for a float', '{"inputs": ["1.5"]}', { x: info('DT_FLOAT') }, /JSON value "1.5" is not a number \(DT_FLOAT\)/],
    ['uint8 out of range', '{"inputs": [1, 300]}', { x: info('DT_UINT8') }, /300 is not in the range \[0, 255\]/],
    // TF Serving refuses these ("without loss of precision"); stored, they would be ±Infinity.
    ['a float beyond its range', '{"inputs": [1, -1e39]}', { x: info('DT_FLOAT') }, /input x: JSON value -1e\+39 is not within the range of a float, ±3.4028235e38 \(DT_FLOAT\)/],
    ['a float just beyond its rounding range', '{"instances": [[3.4028236e38]]}', { x: info('DT_FLOAT') }, /3.4028236e\+38 is not within the range of a float/],
    ['a half beyond its range', '{"inputs": [65520]}', { x: info('DT_HALF') }, /65520 is not within the range of a half, ±65504 \(DT_HALF\)/],
    ['a bfloat16 beyond its range', '{"inputs": [3.4e38]}', { x: info('DT_BFLOAT16') }, /is not within the range of a bfloat16/],
    ['fraction for int32', '{"inputs": [1.5]}', { x: info('DT_INT32') }, /not an integer/],
    ['int64 as a string', '{"inputs": ["5"]}', { x: info('DT_INT64') }, /not an exact integer/],
    ['int64 beyond range', '{"inputs": [9223372036854775808]}', { x: info('DT_INT64') }, /int64 range/],
    ['inexact big number for int64', '{"inputs": [1e20]}', { x: info('DT_INT64') }, /not an exact integer/],
    ['number for a bool', '{"inputs": [1]}', { x: info('DT_BOOL') }, /not a bool/],
    ['number for a string', '{"inputs": [1]}', { x: info('DT_STRING') }, /not a string or \{"b64"/],
    ['bad base64', '{"inputs": {"b64": "@@@"}}', { x: info('DT_STRING') }, /not valid base64/],
    ['too many elements', `{"inputs": [${new Array(10_001).fill(0).join(',')}]}`, { x: info('DT_FLOAT') }, /more than 10000 elements/],
    ['bad signature_name', '{"signature_name": 3, "inputs": 1}', { x: info('DT_FLOAT') }, /signature_name/],
    // Found by rest-decoders.fuzz.test.ts: describing such a value threw a TypeError (a 500).
    ['an object holding an exact int64 for a string', '{"inputs": [{"b64": 18446744073709551616}]}', { x: info('DT_STRING') }, /JSON value \{"b64":18446744073709551616\} is not a string/],
    ['a huge object for a string, described briefly', `{"inputs": [{"x": [${new Array(100_000).fill(1).join(',')}]}]}`, { x: info('DT_STRING') }, /JSON value \{"x":\[1,1,1,[1,]*\.\.\. is not a string/],
  ])('refuses %s', (_name, text, inputs, message) => {
    expectInvalid(() => {
      const body = parseJsonBody(text);
      requestSignatureName(body);
      return decodePredictJson(body, inputs, limits);
    }, message);
  });
});

describe('parseJson', () => {
  it('uses exact integers only where JSON numbers would lose them', () => {
    expect(parseJson('{"a": [1, 9007199254740993, 2.5, "x"]}')).toEqual({ a: [1, 9007199254740993n, 2.5, 'x'] });
    expect(parseJson('[12345678901234567890.5, "\\u00e9\\n"]')).toEqual([Number('12345678901234567890.5'), 'é\n']);
  });

  it('marks number literals written with a fraction when asked', () => {
    expect(parseJson('[1, 1.0, 2e3]', { markDoubles: true })).toEqual([1, new JsonDouble(1), new JsonDouble(2000)]);
  });

  it('refuses nesting deeper than the limit instead of overflowing the stack', () => {
    expectInvalid(() => parseJson('['.repeat(300) + ']'.repeat(300) + ' NaN'), /nesting deeper than 256/);
  });

  it('keeps "__proto__" keys as data', () => {
    const value = parseJson('{"__proto__": {"polluted": 1}, "n": NaN}') as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__', 'n']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

const f32 = (...v: number[]): HostTensor => ({ dtype: 'DT_FLOAT', shape: [v.length], bytes: new Uint8Array(new Float32Array(v).buffer) });

describe('JSON response encoding', () => {
  const twoByTwo: HostTensor = { dtype: 'DT_FLOAT', shape: [2, 2], bytes: new Uint8Array(new Float32Array([0.1, 0.2, 1, NaN]).buffer) };
  const labels: HostTensor = { dtype: 'DT_STRING', shape: [2], strings: [Buffer.from('cat'), Buffer.from('dog')] };

  it('writes one output in row format as a plain list of rows', () => {
    expect(encodePredictJson({ scores: twoByTwo }, 'row')).toBe('{"predictions":[[0.1,0.2],[1,NaN]]}');
  });

  it('writes several outputs in row format as objects per row', () => {
    expect(JSON.parse(encodePredictJson({ scores: f32(0.5, 0.25), labels }, 'row'))).toEqual({
      predictions: [
        { scores: 0.5, labels: 'cat' },
        { scores: 0.25, labels: 'dog' },
      ],
    });
  });

  it('writes columnar outputs as a value or an object by name', () => {
    expect(encodePredictJson({ scores: twoByTwo }, 'columnar')).toBe('{"outputs":[[0.1,0.2],[1,NaN]]}');
    expect(JSON.parse(encodePredictJson({ a: f32(1), labels }, 'columnar'))).toEqual({ outputs: { a: [1], labels: ['cat', 'dog'] } });
  });

  it('keeps a byte order mark at the start of a string output', () => {
    const marked: HostTensor = { dtype: 'DT_STRING', shape: [1], strings: [Buffer.from('\uFEFFcat')] };
    expect(JSON.parse(encodePredictJson({ labels: marked }, 'columnar'))).toEqual({ outputs: ['\uFEFFcat'] });
  });

  it('writes DT_STRING outputs named *_bytes as {"b64": ...}', () => {
    const bytes: HostTensor = { dtype: 'DT_STRING', shape: [1], strings: [new Uint8Array([0, 255])] };
    expect(encodePredictJson({ image_bytes: bytes }, 'columnar')).toBe('{"outputs":[{"b64":"AP8="}]}');
  });

  it('writes every integer dtype exactly, int64 beyond 2^53 included', () => {
    const int64: HostTensor = { dtype: 'DT_INT64', shape: [2], bytes: new Uint8Array(new BigInt64Array([2n ** 63n - 1n, -5n]).buffer) };
    const uint64: HostTensor = { dtype: 'DT_UINT64', shape: [1], bytes: new Uint8Array(new BigUint64Array([2n ** 64n - 1n]).buffer) };
    const int8: HostTensor = { dtype: 'DT_INT8', shape: [1], bytes: new Uint8Array([0xff]) };
    const bool: HostTensor = { dtype: 'DT_BOOL', shape: [2], bytes: new Uint8Array([1, 0]) };
    const text = encodePredictJson({ a: int64, b: uint64, c: int8, d: bool }, 'columnar');
    expect(text).toBe('{"outputs":{"a":[9223372036854775807,-5],"b":[18446744073709551615],"c":[-1],"d":[true,false]}}');
    expect(parseJson(text)).toEqual({ outputs: { a: [2n ** 63n - 1n, -5], b: [2n ** 64n - 1n], c: [-1], d: [true, false] } });
  });

  it('writes infinities and scalars', () => {
    const scalar: HostTensor = { dtype: 'DT_DOUBLE', shape: [], bytes: new Uint8Array(new Float64Array([-Infinity]).buffer) };
    expect(encodePredictJson({ s: scalar }, 'columnar')).toBe('{"outputs":-Infinity}');
  });

  it.each<[string, Record<string, HostTensor>, RegExp]>([
    ['no outputs', {}, /empty set of outputs/],
    ['a scalar output', { s: { dtype: 'DT_FLOAT', shape: [], bytes: new Uint8Array(4) } }, /scalar/],
    ['different batch sizes', { a: f32(1, 2), b: f32(1) }, /batch size 1 but another output has 2/],
    ['an empty batch', { a: { dtype: 'DT_FLOAT', shape: [0], bytes: new Uint8Array(0) } }, /invalid batch size 0/],
  ])('refuses row format with %s', (_name, outputs, message) => {
    expectInvalid(() => encodePredictJson(outputs, 'row'), message);
  });

  it('writes classify and regress results as TF Serving does', () => {
    expect(encodeClassifyJson([[{ label: 'a', score: 0.75 }, { label: 'b', score: 0.25 }]])).toBe('{"results":[[["a",0.75],["b",0.25]]]}');
    expect(encodeRegressJson([0.1, 2])).toBe('{"results":[0.1,2]}');
    expectInvalid(() => encodeRegressJson([]), /empty regression/);
  });
});

describe('number conversions', () => {
  it.each([
    [0.1, '0.1'],
    [Math.fround(0.123456789), '0.123456791'],
    [Math.fround(1 / 3), '0.333333343'],
    [1e-7, '1e-7'],
    [16777216, '16777216'],
  ])('formats float32 %s as %s', (value, text) => {
    expect(formatFloat32(Math.fround(value))).toBe(text);
    expect(Math.fround(Number(text))).toBe(Math.fround(value));
  });

  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff],
    [1e6, 0x7c00],
    [2 ** -24, 0x0001],
    [0.1, 0x2e66],
  ])('converts %s to half bits %s', (value, bits) => {
    expect(toHalfBits(value)).toBe(bits);
  });

  it('round-trips bfloat16', () => {
    expect(toBfloat16Bits(1)).toBe(0x3f80);
    expect(fromBfloat16Bits(toBfloat16Bits(-0.5))).toBe(-0.5);
    expect(Number.isNaN(fromBfloat16Bits(toBfloat16Bits(NaN)))).toBe(true);
  });
});
