/**
 * The hand-written PredictRequest reader against protobufjs (what proto-loader uses): for every
 * fixture request and a table of edge cases, both must decode to the same tensors (or both fail).
 */
import protobuf from 'protobufjs';
import { describe, expect, test } from 'vitest';
import { readPredictRequest } from '../../../../../../src/server/servables/tensorflow/codecs/predict-request-wire.js';
import { encodePredictRequest as encode, fixturePredictMessages, predictRequestMeaning as meaning, viaProtobufjs } from '../../../../../helpers/server/predict-request-meaning.js';

function expectSameMeaning(bytes: Uint8Array): void {
  expect(meaning(readPredictRequest(bytes))).toEqual(meaning(viaProtobufjs(bytes)));
}

describe('readPredictRequest decodes like protobufjs', () => {
  const fixtureRequests = fixturePredictMessages();

  test.each(fixtureRequests)('fixture: %s', (_name, message) => expectSameMeaning(encode(message)));

  const shape = (...dims: (number | string)[]): object => ({ dim: dims.map((size) => ({ size })) });
  test.each<[string, object]>([
    ['version label and output filter', { model_spec: { name: 'm', version_label: 'canary' }, output_filter: ['a', 'b'], inputs: {} }],
    ['no model spec', { inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: shape(1), float_val: [1] } } }],
    ['version 0 and a huge version', { model_spec: { name: 'm', version: { value: '9223372036854775807' } }, inputs: {} }],
    ['negative int32 values', { model_spec: { name: 'm' }, inputs: { x: { dtype: 'DT_INT32', tensor_shape: shape(3), int_val: [-1, -2147483648, 2147483647] } } }],
    ['int64 extremes', { model_spec: { name: 'm' }, inputs: { x: { dtype: 'DT_INT64', tensor_shape: shape(4), int64_val: ['-9223372036854775808', '9223372036854775807', '-1', '9007199254740993'] } } }],
    ['uint64 and uint32 maxima', { model_spec: { name: 'm' }, inputs: { a: { dtype: 'DT_UINT64', tensor_shape: shape(1), uint64_val: ['18446744073709551615'] }, b: { dtype: 'DT_UINT32', tensor_shape: shape(1), uint32_val: [4294967295] } } }],
    ['bools, halves, doubles', { model_spec: { name: 'm' }, inputs: { a: { dtype: 'DT_BOOL', tensor_shape: shape(2), bool_val: [true, false] }, h: { dtype: 'DT_HALF', tensor_shape: shape(2), half_val: [15360, 48128] }, d: { dtype: 'DT_DOUBLE', tensor_shape: shape(2), double_val: [Math.PI, -0] } } }],
    ['strings, including empty ones', { model_spec: { name: 'm' }, inputs: { s: { dtype: 'DT_STRING', tensor_shape: shape(3), string_val: [Buffer.from('a'), Buffer.alloc(0), Buffer.from([0xff, 0])] } } }],
    ['one value filling a shape', { model_spec: { name: 'm' }, inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: shape(2, 3), float_val: [7] } } }],
    ['values in the wrong field', { model_spec: { name: 'm' }, inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: shape(2), int_val: [1, 2] } } }],
    ['unsupported dtype by name', { model_spec: { name: 'm' }, inputs: { x: { dtype: 'DT_COMPLEX64', tensor_shape: shape(1), scomplex_val: [1, 2] } } }],
    ['unknown dtype number', { model_spec: { name: 'm' }, inputs: { x: { dtype: 99, tensor_shape: shape(1) } } }],
    ['no dtype', { model_spec: { name: 'm' }, inputs: { x: { tensor_shape: shape(1), float_val: [1] } } }],
    ['negative and huge dimensions', { model_spec: { name: 'm' }, inputs: { a: { dtype: 'DT_FLOAT', tensor_shape: shape(-1) }, b: { dtype: 'DT_FLOAT', tensor_shape: shape('9223372036854775807') } } }],
    ['unknown rank and named dims', { model_spec: { name: 'm' }, inputs: { a: { dtype: 'DT_FLOAT', tensor_shape: { unknown_rank: true } }, b: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 1, name: 'batch' }] }, float_val: [1] } } }],
    ['tensor_content of a wrong length', { model_spec: { name: 'm' }, inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: shape(2), tensor_content: Buffer.alloc(7) } } }],
    ['an input with an empty name', { model_spec: { name: 'm' }, inputs: { '': { dtype: 'DT_FLOAT', tensor_shape: shape(1), float_val: [1] } } }],
  ])('%s', (_name, message) => expectSameMeaning(encode(message)));

  test('unpacked repeated fields, and packed and unpacked runs of one field, concatenate', () => {
    const w = protobuf.Writer.create();
    w.uint32(18).fork(); // inputs entry
    w.uint32(10).string('x');
    w.uint32(18).fork(); // TensorProto
    w.uint32(8).int32(3); // DT_INT32
    w.uint32(18).fork().uint32(18).fork().uint32(8).int64(4).ldelim().ldelim();
    w.uint32(7 * 8).int32(-5); // unpacked int_val
    w.uint32(7 * 8 + 2).fork().int32(6).int32(7).ldelim(); // packed int_val
    w.uint32(7 * 8).int32(8);
    w.ldelim().ldelim();
    w.uint32(18).fork().uint32(10).string('f').uint32(18).fork();
    w.uint32(8).int32(1).uint32(18).fork().uint32(18).fork().uint32(8).int64(2).ldelim().ldelim();
    w.uint32(5 * 8 + 5).float(1.5).uint32(5 * 8 + 5).float(-2.25); // unpacked float_val
    w.ldelim().ldelim();
    const bytes = w.finish();
    expectSameMeaning(bytes);
    expect(meaning(readPredictRequest(bytes))).toMatchObject({ tensors: { x: { shape: [4] }, f: { shape: [2] } } });
  });

  test('unknown fields are skipped at every level', () => {
    const w = protobuf.Writer.create();
    w.uint32(99 * 8 + 2).bytes(new Uint8Array([1, 2, 3]));
    w.uint32(10).fork().uint32(10).string('m').uint32(77 * 8 + 0).uint64(5).ldelim();
    w.uint32(18).fork().uint32(10).string('x').uint32(18).fork();
    w.uint32(8).int32(1).uint32(18).fork().uint32(18).fork().uint32(8).int64(1).ldelim().ldelim();
    w.uint32(5 * 8 + 2).fork().float(3).ldelim();
    w.uint32(60 * 8 + 1).fixed64(9).uint32(61 * 8 + 5).fixed32(9);
    w.ldelim().ldelim();
    expectSameMeaning(w.finish());
  });

  // Found by the fuzz test (predict-request-wire.fuzz.test.ts); each was read differently before.
  test('a string field that is not UTF-8 is refused, as protobuf requires of proto3 strings', () => {
    const bytes = encode({ model_spec: { name: 'm', signature_name: 'abc' } });
    const at = Buffer.from(bytes).indexOf('abc');
    bytes[at] = 0x80;
    expect(() => readPredictRequest(bytes)).toThrow('a string field is not valid UTF-8');
    expect(() => viaProtobufjs(bytes)).toThrow();
  });

  test('a string starting with a byte order mark keeps it, as protobufjs reads it', () => {
    expectSameMeaning(encode({ model_spec: { name: '\uFEFFm', signature_name: '\uFEFF' }, inputs: { '\uFEFFx': { dtype: 'DT_FLOAT', float_val: [1] } } }));
    expect(readPredictRequest(encode({ model_spec: { name: '\uFEFFm' } })).model_spec?.name).toBe('\uFEFFm');
  });

  test('field number 0 is refused at every level', () => {
    expect(() => readPredictRequest(new Uint8Array([0, 0]))).toThrow(/field number 0/);
    const w = protobuf.Writer.create();
    w.uint32(10).fork().uint32(10).string('m').uint32(0).uint32(1).ldelim();
    expect(() => readPredictRequest(w.finish())).toThrow(/field number 0/);
  });

  test('a model spec seen twice merges: an empty second version keeps the first', () => {
    const w = protobuf.Writer.create();
    w.uint32(10).fork().uint32(10).string('m').uint32(18).fork().uint32(8).int64(7).ldelim().ldelim();
    w.uint32(10).fork().uint32(18).fork().ldelim().ldelim();
    expectSameMeaning(w.finish());
    expect(meaning(readPredictRequest(w.finish()))).toMatchObject({ spec: { name: 'm', version: 7 } });
  });

  test('a dtype beyond 32 bits is read as the int32 enum it is', () => {
    const w = protobuf.Writer.create();
    w.uint32(18).fork().uint32(10).string('x').uint32(18).fork().uint32(8).uint64('18446744073709551615').ldelim().ldelim();
    expectSameMeaning(w.finish());
    expect(meaning(readPredictRequest(w.finish()))).toMatchObject({ tensors: { x: 'error: unsupported dtype enum value -1' } });
  });

  test('an input named "__proto__" stays an input, not the inputs object\'s prototype', () => {
    const w = protobuf.Writer.create();
    w.uint32(18).fork().uint32(10).string('__proto__').uint32(18).fork().uint32(8).int32(1).ldelim().ldelim();
    const inputs = readPredictRequest(w.finish()).inputs;
    expect(Object.keys(inputs)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(inputs)).toBe(Object.prototype);
  });

  test('truncated and malformed messages are refused, never misread', () => {
    const good = encode({ model_spec: { name: 'tiny' }, inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: shape(1, 4), tensor_content: Buffer.alloc(16) } } });
    for (let cut = 1; cut < good.length; cut++) {
      const prefix = good.subarray(0, cut);
      let ours: unknown;
      try {
        ours = meaning(readPredictRequest(prefix));
      } catch {
        ours = 'refused';
      }
      let theirs: unknown;
      try {
        theirs = meaning(viaProtobufjs(prefix));
      } catch {
        theirs = 'refused';
      }
      expect({ cut, ours }).toEqual({ cut, ours: theirs });
    }
    expect(() => readPredictRequest(new Uint8Array([0x0f]))).toThrow(/wire type 7/);
  });
});
