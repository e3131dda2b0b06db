/**
 * The fixtures' JSON tensors (test/fixtures/README.md) as HostTensors, for tests below the
 * transports; exactly:
 * int64 from decimal strings, strings from base64, halves through their bit patterns.
 */
import type { DType, HostTensor } from '../../src/server/core/host-tensor.js';
import { toHalfBits } from '../../src/server/servables/tensorflow/codecs/json-tensor.js';
import { FIXTURES_DIR, loadExpected, type FixtureModel, type FixtureTensor } from './server/fixture-tensors.js';

export const fixtureModelDir = (model: string, version = 1): string => `${FIXTURES_DIR}/models/${model}/${version}`;

/** The expected outputs of a fixture model (shared with the server tests' reader). */
export const readExpectations = (model: string): FixtureModel => loadExpected(model);

const TYPED: Partial<Record<DType, (n: number) => { view: ArrayBufferView; set: (i: number, v: number | string | boolean) => void }>> = {
  DT_FLOAT: (n) => typed(new Float32Array(n), Number),
  DT_DOUBLE: (n) => typed(new Float64Array(n), Number),
  DT_INT32: (n) => typed(new Int32Array(n), Number),
  DT_UINT8: (n) => typed(new Uint8Array(n), Number),
  DT_INT8: (n) => typed(new Int8Array(n), Number),
  DT_INT16: (n) => typed(new Int16Array(n), Number),
  DT_UINT16: (n) => typed(new Uint16Array(n), Number),
  DT_BOOL: (n) => typed(new Uint8Array(n), (v) => (v === true ? 1 : 0)),
  DT_HALF: (n) => typed(new Uint16Array(n), (v) => toHalfBits(Number(v))),
  DT_INT64: (n) => typed(new BigInt64Array(n), (v) => BigInt(v as string)),
  DT_UINT64: (n) => typed(new BigUint64Array(n), (v) => BigInt(v as string)),
};

function typed<T extends number | bigint>(
  array: { [i: number]: T; buffer: ArrayBufferLike; byteOffset: number; byteLength: number },
  convert: (v: number | string | boolean) => T,
): { view: ArrayBufferView; set: (i: number, v: number | string | boolean) => void } {
  return { view: array, set: (i, v) => (array[i] = convert(v)) };
}

export function hostTensorOf(json: FixtureTensor): HostTensor {
  if (json.dtype === 'DT_STRING') {
    return { dtype: 'DT_STRING', shape: json.shape, strings: json.values.map((v) => new Uint8Array(Buffer.from(String(v), 'base64'))) };
  }
  const make = TYPED[json.dtype as DType];
  if (!make) throw new Error(`fixture dtype ${json.dtype} has no reader`);
  const { view, set } = make(json.values.length);
  json.values.forEach((v, i) => set(i, v));
  return { dtype: json.dtype as Exclude<DType, 'DT_STRING'>, shape: json.shape, bytes: new Uint8Array(view.buffer, view.byteOffset, view.byteLength) };
}

/** A tensor's values in the fixture JSON's form, for comparison. */
export function jsonValuesOf(tensor: HostTensor): (number | string | boolean)[] {
  if (tensor.dtype === 'DT_STRING') return tensor.strings.map((s) => Buffer.from(s).toString('base64'));
  // A copy that owns its buffer (Buffer#slice would be a view into a shared pool).
  const bytes = Uint8Array.prototype.slice.call(tensor.bytes);
  const b = bytes.buffer;
  switch (tensor.dtype) {
    case 'DT_FLOAT': return [...new Float32Array(b)];
    case 'DT_DOUBLE': return [...new Float64Array(b)];
    case 'DT_INT32': return [...new Int32Array(b)];
    case 'DT_UINT8': return [...new Uint8Array(b)];
    case 'DT_INT8': return [...new Int8Array(b)];
    case 'DT_INT16': return [...new Int16Array(b)];
    case 'DT_UINT16':
    case 'DT_HALF': return [...new Uint16Array(b)];
    case 'DT_BOOL': return [...new Uint8Array(b)].map((v) => v !== 0);
    case 'DT_INT64': return [...new BigInt64Array(b)].map(String);
    case 'DT_UINT64': return [...new BigUint64Array(b)].map(String);
    default: throw new Error(`no reader for ${tensor.dtype}`);
  }
}
