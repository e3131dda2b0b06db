/**
 * The fixtures' JSON tensors (test/fixtures/README.md) as TensorProto request objects, and
 * TensorProto responses back in that form. Written independently of the server's codecs so the
 * tests check the server against Python TensorFlow, not against itself.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './build-check.js';

export const FIXTURES_DIR = join(REPO_ROOT, 'test', 'fixtures');

export type FixtureValue = number | string | boolean;

export interface FixtureTensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly values: readonly FixtureValue[];
}

export interface FixtureCase {
  readonly inputs: Record<string, FixtureTensor>;
  readonly outputs: Record<string, FixtureTensor>;
  readonly images?: string[];
  readonly examples?: Record<string, { float_list?: number[]; int64_list?: number[]; bytes_list?: string[] }>[];
}

export interface FixtureSignature {
  readonly method_name: string;
  readonly input_specs: Record<string, { dtype: string; shape: number[] | null }>;
  readonly output_specs: Record<string, { dtype: string; shape: number[] | null }>;
  readonly cases: readonly FixtureCase[];
}

export interface FixtureModel {
  readonly model: string;
  readonly version: number;
  readonly signatures: Record<string, FixtureSignature>;
  readonly other_versions?: Record<string, { signatures: Record<string, FixtureSignature> }>;
}

export const FIXTURE_MODELS = ['adder', 'census', 'census_tf2', 'dtypes', 'image_flag', 'jpeg_labeler', 'mnist', 'tiny', 'versioned'] as const;

export function loadExpected(model: string): FixtureModel {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, 'expected', `${model}.json`), 'utf8')) as FixtureModel;
}

/** One recorded case of a fixture model's served version, with where it belongs. */
export interface FixtureCaseAt {
  readonly model: string;
  readonly version: number;
  readonly signature: string;
  readonly spec: FixtureSignature;
  readonly testCase: FixtureCase;
}

/** Every recorded case of every fixture model's served version (other versions left out). */
export function* eachFixtureCase(): Generator<FixtureCaseAt> {
  for (const model of FIXTURE_MODELS) {
    const expected = loadExpected(model);
    for (const [signature, spec] of Object.entries(expected.signatures)) {
      for (const testCase of spec.cases) yield { model, version: expected.version, signature, spec, testCase };
    }
  }
}

/** Bytes per element in tensor_content. */
const WIDTH: Record<string, number> = {
  DT_FLOAT: 4,
  DT_DOUBLE: 8,
  DT_INT32: 4,
  DT_INT16: 2,
  DT_INT8: 1,
  DT_UINT8: 1,
  DT_INT64: 8,
  DT_BOOL: 1,
  DT_HALF: 2,
};

/** float64 -> IEEE half bits, round to nearest even (the fixtures hold exact halves). */
export function halfBits(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function fromHalf(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function shapeProto(shape: readonly number[]): { dim: { size: string }[] } {
  return { dim: shape.map((size) => ({ size: String(size) })) };
}

/**
 * A TensorProto object for the loaded gRPC client: values in the dtype's typed field, or
 * (`content: true`, numeric dtypes) packed little-endian into tensor_content.
 */
export function toTensorProto(tensor: FixtureTensor, content = false): Record<string, unknown> {
  const base = { dtype: tensor.dtype, tensor_shape: shapeProto(tensor.shape) };
  const values = tensor.values;
  if (tensor.dtype === 'DT_STRING') return { ...base, string_val: values.map((v) => Buffer.from(String(v), 'base64')) };
  if (content) {
    const width = WIDTH[tensor.dtype];
    if (width === undefined) throw new Error(`no tensor_content encoding for ${tensor.dtype}`);
    const view = new DataView(new ArrayBuffer(width * values.length));
    values.forEach((v, i) => {
      const at = i * width;
      switch (tensor.dtype) {
        case 'DT_FLOAT': return view.setFloat32(at, Number(v), true);
        case 'DT_DOUBLE': return view.setFloat64(at, Number(v), true);
        case 'DT_INT32': return view.setInt32(at, Number(v), true);
        case 'DT_INT16': return view.setInt16(at, Number(v), true);
        case 'DT_INT8': return view.setInt8(at, Number(v));
        case 'DT_UINT8': return view.setUint8(at, Number(v));
        case 'DT_BOOL': return view.setUint8(at, v ? 1 : 0);
        case 'DT_INT64': return view.setBigInt64(at, BigInt(String(v)), true);
        case 'DT_HALF': return view.setUint16(at, halfBits(Number(v)), true);
      }
    });
    return { ...base, tensor_content: Buffer.from(view.buffer) };
  }
  switch (tensor.dtype) {
    case 'DT_FLOAT': return { ...base, float_val: values.map(Number) };
    case 'DT_DOUBLE': return { ...base, double_val: values.map(Number) };
    case 'DT_INT32':
    case 'DT_INT16':
    case 'DT_INT8':
    case 'DT_UINT8': return { ...base, int_val: values.map(Number) };
    case 'DT_INT64': return { ...base, int64_val: values.map(String) };
    case 'DT_BOOL': return { ...base, bool_val: values.map(Boolean) };
    case 'DT_HALF': return { ...base, half_val: values.map((v) => halfBits(Number(v))) };
    default: throw new Error(`no typed-field encoding for ${tensor.dtype}`);
  }
}

interface ResponseTensor {
  dtype?: string;
  tensor_shape?: { dim?: { size: string }[] } | null;
  tensor_content?: Buffer;
  float_val?: number[];
  double_val?: number[];
  int_val?: number[];
  int64_val?: string[];
  bool_val?: boolean[];
  half_val?: number[];
  string_val?: Buffer[];
}

/** A response TensorProto (typed field or tensor_content) in the fixture form. */
export function fromTensorProto(proto: ResponseTensor): FixtureTensor {
  const dtype = String(proto.dtype);
  const shape = (proto.tensor_shape?.dim ?? []).map((d) => Number(d.size));
  const count = shape.reduce((a, b) => a * b, 1);
  const content = proto.tensor_content;
  if (content && content.length > 0) {
    const view = new DataView(content.buffer, content.byteOffset, content.byteLength);
    const width = WIDTH[dtype]!;
    const values = Array.from({ length: count }, (_, i): FixtureValue => {
      const at = i * width;
      switch (dtype) {
        case 'DT_FLOAT': return view.getFloat32(at, true);
        case 'DT_DOUBLE': return view.getFloat64(at, true);
        case 'DT_INT32': return view.getInt32(at, true);
        case 'DT_INT16': return view.getInt16(at, true);
        case 'DT_INT8': return view.getInt8(at);
        case 'DT_UINT8': return view.getUint8(at);
        case 'DT_BOOL': return view.getUint8(at) !== 0;
        case 'DT_INT64': return view.getBigInt64(at, true).toString();
        case 'DT_HALF': return fromHalf(view.getUint16(at, true));
        default: throw new Error(`unexpected tensor_content dtype ${dtype}`);
      }
    });
    return { dtype, shape, values };
  }
  const values: FixtureValue[] = (() => {
    switch (dtype) {
      case 'DT_FLOAT': return proto.float_val ?? [];
      case 'DT_DOUBLE': return proto.double_val ?? [];
      case 'DT_INT32':
      case 'DT_INT16':
      case 'DT_INT8':
      case 'DT_UINT8': return proto.int_val ?? [];
      case 'DT_INT64': return (proto.int64_val ?? []).map(String);
      case 'DT_BOOL': return proto.bool_val ?? [];
      case 'DT_HALF': return (proto.half_val ?? []).map(fromHalf);
      case 'DT_STRING': return (proto.string_val ?? []).map((b) => Buffer.from(b).toString('base64'));
      default: throw new Error(`unexpected dtype ${dtype}`);
    }
  })();
  return { dtype, shape, values };
}

/**
 * Problems comparing actual to expected ([] when they match): dtype and shape exactly, floats
 * within a relative+absolute tolerance (float32 math may differ in the last bits between
 * TensorFlow builds), every other dtype exactly (int64 as decimal strings).
 */
export function tensorMismatches(name: string, actual: FixtureTensor | undefined, expected: FixtureTensor, tolerance = 1e-5): string[] {
  if (!actual) return [`${name}: missing`];
  const problems: string[] = [];
  if (actual.dtype !== expected.dtype) problems.push(`${name}: dtype ${actual.dtype}, expected ${expected.dtype}`);
  if (JSON.stringify(actual.shape) !== JSON.stringify(expected.shape)) problems.push(`${name}: shape ${JSON.stringify(actual.shape)}, expected ${JSON.stringify(expected.shape)}`);
  if (actual.values.length !== expected.values.length) return [...problems, `${name}: ${actual.values.length} values, expected ${expected.values.length}`];
  const approximate = ['DT_FLOAT', 'DT_HALF'].includes(expected.dtype);
  expected.values.forEach((want, i) => {
    const got = actual.values[i];
    const ok = approximate
      ? Math.abs(Number(got) - Number(want)) <= tolerance * (1 + Math.abs(Number(want)))
      : got === want;
    if (!ok && problems.length < 5) problems.push(`${name}[${i}]: ${String(got)}, expected ${String(want)}`);
  });
  return problems;
}
