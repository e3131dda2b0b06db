import { describe, expect, it } from 'vitest';
import type { DType, HostTensor } from '../../../../../../src/server/core/host-tensor.js';
import { ServingError } from '../../../../../../src/shared/errors.js';
import {
  type TensorProtoObject,
  decodeTensorProto,
  encodeTensorProto,
} from '../../../../../../src/server/servables/tensorflow/codecs/tensor-proto.js';
import {
  encodeTensorProtoWire,
  serializePredictResponse,
} from '../../../../../../src/server/servables/tensorflow/codecs/tensor-proto-wire.js';
import { protoType } from '../../../../../../src/server/servables/tensorflow/proto-root.js';
import { loadTensorflowServingGrpc } from '../../../../../../src/server/transports/grpc/proto-loader.js';

const limits = { maxElements: 1_000_000 };
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer.slice(array.byteOffset, array.byteOffset + array.byteLength));
}

/** One sample tensor per dtype, with edge values. */
const SAMPLES: ReadonlyArray<{ dtype: DType; tensor: HostTensor }> = [
  { dtype: 'DT_FLOAT', tensor: { dtype: 'DT_FLOAT', shape: [2, 3], bytes: bytesOf(new Float32Array([0, -1.5, 3.25, Infinity, -Infinity, 1e-40])) } },
  { dtype: 'DT_DOUBLE', tensor: { dtype: 'DT_DOUBLE', shape: [3], bytes: bytesOf(new Float64Array([0.1, -2e300, Number.MIN_VALUE])) } },
  { dtype: 'DT_INT32', tensor: { dtype: 'DT_INT32', shape: [3], bytes: bytesOf(new Int32Array([-2147483648, 0, 2147483647])) } },
  { dtype: 'DT_INT16', tensor: { dtype: 'DT_INT16', shape: [2], bytes: bytesOf(new Int16Array([-32768, 32767])) } },
  { dtype: 'DT_INT8', tensor: { dtype: 'DT_INT8', shape: [2], bytes: bytesOf(new Int8Array([-128, 127])) } },
  { dtype: 'DT_UINT8', tensor: { dtype: 'DT_UINT8', shape: [2, 2], bytes: new Uint8Array([0, 1, 128, 255]) } },
  { dtype: 'DT_UINT16', tensor: { dtype: 'DT_UINT16', shape: [2], bytes: bytesOf(new Uint16Array([0, 65535])) } },
  { dtype: 'DT_UINT32', tensor: { dtype: 'DT_UINT32', shape: [2], bytes: bytesOf(new Uint32Array([0, 4294967295])) } },
  {
    dtype: 'DT_INT64',
    tensor: { dtype: 'DT_INT64', shape: [4], bytes: bytesOf(new BigInt64Array([-(2n ** 63n), -1n, 2n ** 53n + 1n, 2n ** 63n - 1n])) },
  },
  { dtype: 'DT_UINT64', tensor: { dtype: 'DT_UINT64', shape: [2], bytes: bytesOf(new BigUint64Array([0n, 2n ** 64n - 1n])) } },
  { dtype: 'DT_BOOL', tensor: { dtype: 'DT_BOOL', shape: [3], bytes: new Uint8Array([1, 0, 1]) } },
  { dtype: 'DT_HALF', tensor: { dtype: 'DT_HALF', shape: [3], bytes: bytesOf(new Uint16Array([0x3c00, 0xc000, 0x7c00])) } },
  { dtype: 'DT_BFLOAT16', tensor: { dtype: 'DT_BFLOAT16', shape: [2], bytes: bytesOf(new Uint16Array([0x3f80, 0xbf80])) } },
  { dtype: 'DT_STRING', tensor: { dtype: 'DT_STRING', shape: [3], strings: [utf8('a'), new Uint8Array([0, 255]), utf8('')] } },
  { dtype: 'DT_FLOAT', tensor: { dtype: 'DT_FLOAT', shape: [], bytes: bytesOf(new Float32Array([42])) } },
  { dtype: 'DT_INT32', tensor: { dtype: 'DT_INT32', shape: [0, 3], bytes: new Uint8Array(0) } },
];

/** Through the real services: our serializer, then proto-loader's deserializer (what a peer sees). */
function overTheWire(proto: TensorProtoObject): TensorProtoObject {
  const predict = loadTensorflowServingGrpc().predictionService['Predict'];
  if (predict === undefined) throw new Error('no Predict');
  const bytes = predict.responseSerialize({ outputs: { y: proto } });
  const response = predict.responseDeserialize(bytes) as { outputs: Record<string, TensorProtoObject> };
  return response.outputs['y'] as TensorProtoObject;
}

function expectSameTensor(actual: HostTensor, expected: HostTensor): void {
  expect(actual.dtype).toBe(expected.dtype);
  expect(actual.shape).toEqual(expected.shape);
  if (expected.dtype === 'DT_STRING') {
    expect(actual.dtype === 'DT_STRING' && actual.strings.map((s) => Buffer.from(s).toString('hex'))).toEqual(
      expected.strings.map((s) => Buffer.from(s).toString('hex')),
    );
  } else {
    expect(actual.dtype !== 'DT_STRING' && Buffer.from(actual.bytes).toString('hex')).toBe(Buffer.from(expected.bytes).toString('hex'));
  }
}

describe('TensorProto codec round trip over the wire', () => {
  it.each(SAMPLES.map((s) => [s.dtype, s.tensor.shape.join('x') || 'scalar', s.tensor] as const))(
    '%s [%s] in typed fields',
    (_dtype, _shape, tensor) => {
      const received = overTheWire(encodeTensorProto(tensor));
      expect(received.tensor_content?.length ?? 0).toBe(0);
      expectSameTensor(decodeTensorProto(received, limits), tensor);
    },
  );

  it.each(SAMPLES.map((s) => [s.dtype, s.tensor.shape.join('x') || 'scalar', s.tensor] as const))(
    '%s [%s] in tensor_content',
    (_dtype, _shape, tensor) => {
      const received = overTheWire(encodeTensorProto(tensor, { useTensorContent: true }));
      expectSameTensor(decodeTensorProto(received, limits), tensor);
    },
  );

  it('puts each dtype in the typed field TF Serving uses', () => {
    const fields = Object.fromEntries(
      SAMPLES.slice(0, 14).map(({ dtype, tensor }) => {
        const proto = overTheWire(encodeTensorProto(tensor)) as Record<string, unknown>;
        const used = Object.keys(proto).filter((k) => k.endsWith('_val') && (proto[k] as unknown[]).length > 0);
        return [dtype, used];
      }),
    );
    expect(fields).toEqual({
      DT_FLOAT: ['float_val'],
      DT_DOUBLE: ['double_val'],
      DT_INT32: ['int_val'],
      DT_INT16: ['int_val'],
      DT_INT8: ['int_val'],
      DT_UINT8: ['int_val'],
      DT_UINT16: ['int_val'],
      DT_UINT32: ['uint32_val'],
      DT_INT64: ['int64_val'],
      DT_UINT64: ['uint64_val'],
      DT_BOOL: ['bool_val'],
      DT_HALF: ['half_val'],
      DT_BFLOAT16: ['half_val'],
      DT_STRING: ['string_val'],
    });
  });

  it('writes exactly the bytes protobufjs writes for the same message', () => {
    const type = protoType('tensorflow.TensorProto');
    for (const { tensor } of SAMPLES) {
      const ours = encodeTensorProto(tensor);
      const plain = Object.fromEntries(
        Object.entries(ours).map(([k, v]) => [
          k,
          ArrayBuffer.isView(v) && k !== 'tensor_content'
            ? Array.from(v as unknown as ArrayLike<unknown>, (x) => (typeof x === 'bigint' ? x.toString() : x))
            : v,
        ]),
      );
      const reference = type.encode(type.fromObject(plain)).finish();
      expect(Buffer.from(encodeTensorProtoWire(ours)).toString('hex')).toBe(Buffer.from(reference).toString('hex'));
    }
  });

  it('serializes a PredictResponse with model_spec that proto-loader reads back', () => {
    const bytes = serializePredictResponse({
      outputs: { a: encodeTensorProto(SAMPLES[0]?.tensor as HostTensor) },
      model_spec: { name: 'm', version: { value: '7' }, signature_name: 's' },
    });
    const predict = loadTensorflowServingGrpc().predictionService['Predict'];
    const back = predict?.responseDeserialize(bytes) as { model_spec: unknown; outputs: Record<string, unknown> };
    expect(back.model_spec).toMatchObject({ name: 'm', version: { value: '7' }, signature_name: 's' });
    expect(Object.keys(back.outputs)).toEqual(['a']);
  });

  it.each([
    { name: 'm', version: { value: '7' }, signature_name: 's' },
    { name: 'model', version: { value: '0' } },
    { name: 'big', version: { value: '9223372036854775807' }, signature_name: 'serving_default' },
    { name: 'neg', version: { value: -1 } },
    { name: 'two-to-the-32', version: { value: '4294967296' } },
    { name: 'fifteen-digits', version: { value: '999999999999999' } },
    { name: 'sixteen-digits', version: { value: '1000000000000000' } },
    { name: 'number', version: { value: 1099511627776 } },
    { name: 'labelled', version_label: 'canary', signature_name: 'classify' },
    { name: 'ünïcode' },
    {},
  ])('encodes model_spec %j byte for byte as protobufjs does', (spec) => {
    const type = protoType('tensorflow.serving.PredictResponse');
    const reference = Buffer.from(type.encode(type.fromObject({ model_spec: spec })).finish()).toString('hex');
    expect(serializePredictResponse({ model_spec: spec }).toString('hex')).toBe(reference);
  });
});

describe('decodeTensorProto from typed fields as clients send them', () => {
  const shape = (...dims: number[]) => ({ dim: dims.map((size) => ({ size: String(size) })) });

  it('keeps int64 exact beyond 2^53 (strings from proto-loader)', () => {
    const t = decodeTensorProto(
      { dtype: 'DT_INT64', tensor_shape: shape(3), int64_val: ['9007199254740993', '-9223372036854775808', '9223372036854775807'] },
      limits,
    );
    expect(t.dtype !== 'DT_STRING' && Array.from(new BigInt64Array(t.bytes.buffer))).toEqual([
      9007199254740993n,
      -9223372036854775808n,
      9223372036854775807n,
    ]);
  });

  it('decodes from a real PredictRequest encoded by protobufjs', () => {
    const predict = loadTensorflowServingGrpc().predictionService['Predict'];
    const wire = predict?.requestSerialize({
      model_spec: { name: 'adder' },
      inputs: { a: { dtype: 'DT_INT64', tensor_shape: shape(1), int64_val: ['9007199254740993'] } },
    }) as Buffer;
    const request = predict?.requestDeserialize(wire) as { inputs: Record<string, TensorProtoObject> };
    const t = decodeTensorProto(request.inputs['a'] as TensorProtoObject, limits);
    expect(t.dtype !== 'DT_STRING' && new BigInt64Array(t.bytes.buffer)[0]).toBe(9007199254740993n);
  });

  it.each([
    ['float', { dtype: 'DT_FLOAT', tensor_shape: shape(2, 3), float_val: [7] }, new Float32Array(6).fill(7)],
    ['int32', { dtype: 'DT_INT32', tensor_shape: shape(4), int_val: [-3] }, new Int32Array(4).fill(-3)],
    ['int64', { dtype: 'DT_INT64', tensor_shape: shape(2), int64_val: ['5'] }, new BigInt64Array(2).fill(5n)],
    ['bool', { dtype: 'DT_BOOL', tensor_shape: shape(3), bool_val: [true] }, new Uint8Array(3).fill(1)],
    ['half', { dtype: 'DT_HALF', tensor_shape: shape(2), half_val: [0x3c00] }, new Uint16Array(2).fill(0x3c00)],
  ] as const)('fills the shape from one %s value (TF constant semantics)', (_name, proto, expected) => {
    const t = decodeTensorProto(proto, limits);
    expect(t.dtype !== 'DT_STRING' && Buffer.from(t.bytes).toString('hex')).toBe(Buffer.from(bytesOf(expected)).toString('hex'));
  });

  it('fills strings from one value', () => {
    const t = decodeTensorProto({ dtype: 'DT_STRING', tensor_shape: shape(2), string_val: [utf8('x')] }, limits);
    expect(t.dtype === 'DT_STRING' && t.strings.map((s) => Buffer.from(s).toString())).toEqual(['x', 'x']);
  });

  it('treats a missing shape as a scalar and accepts enum numbers', () => {
    const t = decodeTensorProto({ dtype: 1, tensor_shape: null, float_val: [2.5] }, limits);
    expect(t.shape).toEqual([]);
    expect(t.dtype).toBe('DT_FLOAT');
  });

  // Found by the live fuzz test (hostile-requests.test.ts): it threw a TypeError (INTERNAL).
  it.each(['DT_FLOAT', 'DT_INT64', 'DT_BOOL', 'DT_STRING'])('decodes a %s tensor with a 0 in its shape and no values field as empty', (dtype) => {
    const t = decodeTensorProto({ dtype, tensor_shape: shape(0, 8, 3) }, limits);
    expect(t.shape).toEqual([0, 8, 3]);
    expect(t.dtype === 'DT_STRING' ? t.strings.length : t.bytes.length).toBe(0);
  });

  it('prefers tensor_content over typed fields, as TensorFlow does', () => {
    const t = decodeTensorProto(
      { dtype: 'DT_INT32', tensor_shape: shape(1), tensor_content: bytesOf(new Int32Array([9])), int_val: [1] },
      limits,
    );
    expect(t.dtype !== 'DT_STRING' && new Int32Array(t.bytes.buffer)[0]).toBe(9);
  });
});

describe('decodeTensorProto refuses bad tensors with INVALID_ARGUMENT', () => {
  const shape = (...dims: Array<number | string>) => ({ dim: dims.map((size) => ({ size: String(size) })) });
  it.each<[string, TensorProtoObject, RegExp]>([
    ['unsupported dtype', { dtype: 'DT_COMPLEX64', tensor_shape: shape(1), scomplex_val: [1, 2] }, /unsupported dtype DT_COMPLEX64/],
    ['unknown enum number', { dtype: 99, tensor_shape: shape(1) }, /unsupported dtype enum value 99/],
    ['no dtype', { dtype: 'DT_INVALID', tensor_shape: shape(1) }, /no dtype/],
    ['negative dimension', { dtype: 'DT_FLOAT', tensor_shape: shape(-1), float_val: [1] }, /invalid dimension -1/],
    ['unknown rank', { dtype: 'DT_FLOAT', tensor_shape: { unknown_rank: true }, float_val: [1] }, /unknown rank/],
    ['too few values', { dtype: 'DT_FLOAT', tensor_shape: shape(2, 3), float_val: [1, 2, 3, 4] }, /needs 6 values .* float_val has 4/],
    ['too many values', { dtype: 'DT_FLOAT', tensor_shape: shape(2), float_val: [1, 2, 3] }, /needs 2 values .* has 3/],
    ['no values', { dtype: 'DT_FLOAT', tensor_shape: shape(2) }, /needs 2 values .* has 0/],
    ['values in the wrong field', { dtype: 'DT_FLOAT', tensor_shape: shape(2), int_val: [1, 2] }, /values were given in int_val/],
    ['content not a multiple of the width', { dtype: 'DT_FLOAT', tensor_shape: shape(1), tensor_content: new Uint8Array(5) }, /5 bytes, not a multiple of 4/],
    ['content with the wrong count', { dtype: 'DT_FLOAT', tensor_shape: shape(3), tensor_content: new Uint8Array(8) }, /holds 2 DT_FLOAT values but shape \[3\] needs 3/],
    ['too many elements', { dtype: 'DT_FLOAT', tensor_shape: shape(1001, 1000), float_val: [0] }, /more than 1000000 elements/],
    ['uint8 out of range', { dtype: 'DT_UINT8', tensor_shape: shape(2), int_val: [1, 300] }, /int_val\[1\] = 300 is out of range for DT_UINT8 \[0, 255\]/],
    ['int8 out of range', { dtype: 'DT_INT8', tensor_shape: shape(1), int_val: [-129] }, /out of range for DT_INT8/],
    ['int16 out of range', { dtype: 'DT_INT16', tensor_shape: shape(1), int_val: [40000] }, /out of range for DT_INT16/],
    ['uint16 negative', { dtype: 'DT_UINT16', tensor_shape: shape(1), int_val: [-1] }, /out of range for DT_UINT16/],
    ['half bit pattern too wide', { dtype: 'DT_HALF', tensor_shape: shape(1), half_val: [70000] }, /out of range for DT_HALF/],
    ['uint64 negative', { dtype: 'DT_UINT64', tensor_shape: shape(1), uint64_val: ['-1'] }, /not a valid DT_UINT64/],
    ['int64 beyond range', { dtype: 'DT_INT64', tensor_shape: shape(1), int64_val: ['9223372036854775808'] }, /not a valid DT_INT64/],
    ['int64 not an integer', { dtype: 'DT_INT64', tensor_shape: shape(1), int64_val: ['1.5'] }, /not a valid DT_INT64/],
    ['malformed string content', { dtype: 'DT_STRING', tensor_shape: shape(2), tensor_content: new Uint8Array([5, 1, 65]) }, /shorter than its lengths/],
  ])('%s', (_name, proto, message) => {
    let error: unknown;
    try {
      decodeTensorProto(proto, { maxElements: 1_000_000 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ServingError);
    expect((error as ServingError).code).toBe('INVALID_ARGUMENT');
    expect((error as ServingError).message).toMatch(message);
  });
});

describe('encodeTensorProto', () => {
  it('copes with tensor bytes at an unaligned offset', () => {
    const backing = new Uint8Array(9);
    backing.set(bytesOf(new Float32Array([1.5, -2])), 1);
    const tensor: HostTensor = { dtype: 'DT_FLOAT', shape: [2], bytes: backing.subarray(1) };
    const proto = encodeTensorProto(tensor);
    expect(Array.from(proto.float_val ?? [])).toEqual([1.5, -2]);
  });

  it.each([
    ['empty', 0],
    ['one-byte lengths', 3],
    ['two-byte lengths', 40],
    ['more than the 16 KiB scratch buffer', 5000],
    ['three-byte lengths (1M floats)', 1_000_000],
  ])('writes a PredictResponse with %s exactly as protobufjs does', (_label, n) => {
    const type = protoType('tensorflow.serving.PredictResponse');
    const tensor: HostTensor = { dtype: 'DT_FLOAT', shape: [1, n], bytes: bytesOf(new Float32Array(n).map((_, i) => i / 7)) };
    const ours = serializePredictResponse({
      outputs: { y: encodeTensorProto(tensor), z: encodeTensorProto(tensor, { useTensorContent: true }) },
      model_spec: { name: 'm', version: { value: '3' }, signature_name: 'serving_default' },
    });
    const plain = (proto: ReturnType<typeof encodeTensorProto>) => ({ ...proto, float_val: Array.from(proto.float_val ?? []) });
    const reference = type
      .encode(type.fromObject({
        outputs: { y: plain(encodeTensorProto(tensor)), z: encodeTensorProto(tensor, { useTensorContent: true }) },
        model_spec: { name: 'm', version: { value: '3' }, signature_name: 'serving_default' },
      }))
      .finish();
    expect(ours.equals(Buffer.from(reference))).toBe(true);
    // A second response reuses the scratch buffer: the first keeps its bytes.
    const copy = Buffer.from(ours);
    serializePredictResponse({ outputs: { other: encodeTensorProto(tensor) } });
    expect(ours.equals(copy)).toBe(true);
  });
});
