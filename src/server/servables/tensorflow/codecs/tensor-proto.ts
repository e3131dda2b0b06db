/**
 * tensorflow.TensorProto <-> HostTensor.
 *
 * Decoding follows TensorFlow's Tensor::FromProto: tensor_content (raw little-endian bytes) wins
 * when present; otherwise the one typed field that belongs to the dtype is read. TensorFlow
 * fills a tensor from a typed field holding fewer values by repeating the last one, zero-fills
 * when it is empty, and silently truncates extra values. We accept the documented use of that
 * rule (exactly one value fills the whole shape: a constant) and refuse every other count
 * mismatch, because it almost always means a client bug and TensorFlow would compute on
 * invented data.
 *
 * Encoding follows TF Serving's default for Predict responses (Tensor::AsProtoField): the
 * values go in the typed field (float_val, int64_val, string_val, ...), which is what clients
 * read (tf.make_ndarray reads either form). `useTensorContent` gives the AsProtoTensorContent
 * form instead. Repeated numeric fields are typed-array views of the tensor's bytes (no
 * per-element objects); serialize them with encodeTensorProtoWire / the services from
 * loadTensorflowServingGrpc(), whose serializers accept typed arrays.
 *
 * Byte order: HostTensor bytes and typed-array views share the host's order, which is
 * little-endian on every platform TensorFlow runs on (checked at load).
 */
import { DTYPES, INTEGER_RANGES, type DType, type HostTensor, dtypeFromEnum } from '../../../core/host-tensor.js';
import { ServingError, invalidArgument } from '../../../../shared/errors.js';
import { varintSize } from './tensor-proto-wire.js';

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian hosts are not supported');

/** An int64/uint64 as proto-loader gives it (decimal string), or as we may produce it. */
export type Int64Like = string | number | bigint;

export interface TensorShapeObject {
  dim?: ReadonlyArray<{ size?: Int64Like; name?: string }> | null;
  unknown_rank?: boolean;
}

/**
 * A TensorProto as the loaded gRPC services decode it (plain arrays, enum names, int64 as
 * strings) or as encodeTensorProto builds it (typed arrays). Fields we never read are omitted.
 */
export interface TensorProtoObject {
  dtype?: string | number;
  tensor_shape?: TensorShapeObject | null;
  version_number?: number;
  tensor_content?: Uint8Array;
  half_val?: ArrayLike<number>;
  float_val?: ArrayLike<number>;
  double_val?: ArrayLike<number>;
  int_val?: ArrayLike<number>;
  string_val?: ArrayLike<Uint8Array>;
  scomplex_val?: ArrayLike<number>;
  int64_val?: ArrayLike<Int64Like>;
  bool_val?: ArrayLike<boolean>;
  dcomplex_val?: ArrayLike<number>;
  uint32_val?: ArrayLike<number>;
  uint64_val?: ArrayLike<Int64Like>;
}

export interface TensorLimits {
  /** Largest element count accepted for one tensor. */
  readonly maxElements: number;
}

type NumericDType = Exclude<DType, 'DT_STRING'>;

/** The typed field TensorFlow reads for each dtype. */
export const TYPED_FIELD: Readonly<Record<DType, keyof TensorProtoObject>> = {
  DT_FLOAT: 'float_val',
  DT_DOUBLE: 'double_val',
  DT_INT32: 'int_val',
  DT_UINT8: 'int_val',
  DT_INT16: 'int_val',
  DT_INT8: 'int_val',
  DT_UINT16: 'int_val',
  DT_STRING: 'string_val',
  DT_INT64: 'int64_val',
  DT_BOOL: 'bool_val',
  DT_BFLOAT16: 'half_val',
  DT_HALF: 'half_val',
  DT_UINT32: 'uint32_val',
  DT_UINT64: 'uint64_val',
};

const VALUE_FIELDS = [
  'half_val',
  'float_val',
  'double_val',
  'int_val',
  'string_val',
  'scomplex_val',
  'int64_val',
  'bool_val',
  'dcomplex_val',
  'uint32_val',
  'uint64_val',
] as const;

/** Inclusive ranges of the dtypes carried in 32-bit proto fields. */
const INT_RANGE: Partial<Record<DType, readonly [number, number]>> = {
  ...INTEGER_RANGES,
  // Halves travel as their 16-bit patterns.
  DT_HALF: [0, 65535],
  DT_BFLOAT16: [0, 65535],
};

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Resolves a dtype given as enum name or number; refuses ones HostTensor cannot hold. */
export function parseDType(value: string | number | undefined): DType {
  const name = typeof value === 'number' ? (dtypeFromEnum(value) ?? `enum value ${value}`) : (value ?? 'DT_INVALID');
  if (name === 'DT_INVALID' || name === 'enum value 0') throw invalidArgument('tensor has no dtype (DT_INVALID)');
  if (!(name in DTYPES)) throw invalidArgument(`unsupported dtype ${name}`);
  return name as DType;
}

/** Parses a TensorShapeProto into concrete dimensions, enforcing the element limit. */
export function parseShape(shape: TensorShapeObject | null | undefined, limits: TensorLimits): number[] {
  if (shape?.unknown_rank === true) throw invalidArgument('tensor shape has unknown rank; a concrete shape is required');
  const dims: number[] = [];
  let count = 1;
  for (const dim of shape?.dim ?? []) {
    const size = toSafeInteger(dim.size ?? 0);
    if (size === undefined || size < 0) {
      throw invalidArgument(`tensor shape has invalid dimension ${String(dim.size)}; sizes must be >= 0`);
    }
    dims.push(size);
    count *= size;
    if (count > limits.maxElements) {
      throw invalidArgument(
        `tensor of shape [${shapeText(shape)}] has more than ${limits.maxElements} elements (the limit)`,
      );
    }
  }
  return dims;
}

function shapeText(shape: TensorShapeObject | null | undefined): string {
  return (shape?.dim ?? []).map((d) => String(d.size ?? 0)).join(',');
}

function toSafeInteger(value: Int64Like): number | undefined {
  const n = typeof value === 'bigint' ? Number(value) : Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Decodes a request TensorProto. Errors are INVALID_ARGUMENT; the caller adds the input's name. */
export function decodeTensorProto(proto: TensorProtoObject, limits: TensorLimits): HostTensor {
  const dtype = parseDType(proto.dtype);
  const shape = parseShape(proto.tensor_shape, limits);
  let n = 1;
  for (const d of shape) n *= d;
  const content = proto.tensor_content;
  if (content !== undefined && content.length > 0) {
    if (dtype === 'DT_STRING') return { dtype, shape, strings: decodeStringContent(content, n) };
    return { dtype, shape, bytes: numericContent(dtype, content, n, shape) };
  }
  const field = TYPED_FIELD[dtype];
  const values = proto[field] as ArrayLike<unknown> | undefined;
  const m = values?.length ?? 0;
  if (!(m === n || (m === 1 && n > 1))) {
    const elsewhere = VALUE_FIELDS.filter((f) => f !== field && (proto[f]?.length ?? 0) > 0);
    const hint = elsewhere.length > 0 ? `; values were given in ${elsewhere.join(', ')}, which ${dtype} does not use` : '';
    throw invalidArgument(
      `${dtype} tensor of shape [${shape.join(',')}] needs ${n} values (or 1 to fill the shape) ` +
        `in ${field} or tensor_content, but ${field} has ${m}${hint}`,
    );
  }
  if (dtype === 'DT_STRING') {
    const strings = values as ArrayLike<Uint8Array>;
    const out: Uint8Array[] = new Array<Uint8Array>(n);
    for (let i = 0; i < n; i++) out[i] = strings[m === n ? i : 0] as Uint8Array;
    return { dtype, shape, strings: out };
  }
  // A shape with a 0 needs no values, and the field may be absent.
  return { dtype, shape, bytes: typedValues(dtype, field, values ?? [], n) };
}

function numericContent(dtype: NumericDType, content: Uint8Array, n: number, shape: readonly number[]): Uint8Array {
  const width = DTYPES[dtype].width;
  if (content.length % width !== 0) {
    throw invalidArgument(`tensor_content has ${content.length} bytes, not a multiple of ${width} (the size of one ${dtype})`);
  }
  if (content.length !== n * width) {
    throw invalidArgument(
      `tensor_content holds ${content.length / width} ${dtype} values but shape [${shape.join(',')}] needs ${n}`,
    );
  }
  // No copy: a view into the received message is enough. Whoever needs the bytes elsewhere
  // copies them once (postableTensors for the inference thread, concatRows for a batch).
  if (dtype === 'DT_BOOL' && content.some((b) => b > 1)) return Uint8Array.from(content, (b) => (b === 0 ? 0 : 1));
  return content;
}

/** TensorFlow's string tensor_content: n varint32 lengths, then the strings back to back. */
function decodeStringContent(content: Uint8Array, n: number): Uint8Array[] {
  const lengths: number[] = new Array<number>(n);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (pos >= content.length || shift > 28) throw invalidArgument('DT_STRING tensor_content is malformed (bad length prefix)');
      const byte = content[pos++] as number;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (byte < 0x80) break;
    }
    lengths[i] = value;
  }
  const out: Uint8Array[] = new Array<Uint8Array>(n);
  for (let i = 0; i < n; i++) {
    const length = lengths[i] as number;
    if (pos + length > content.length) throw invalidArgument('DT_STRING tensor_content is shorter than its lengths say');
    out[i] = content.slice(pos, pos + length);
    pos += length;
  }
  if (pos !== content.length) throw invalidArgument('DT_STRING tensor_content has bytes beyond its strings');
  return out;
}

function typedValues(dtype: NumericDType, field: string, values: ArrayLike<unknown>, n: number): Uint8Array {
  const buffer = new ArrayBuffer(n * DTYPES[dtype].width);
  const m = values.length;
  const at = (i: number): unknown => values[m === n ? i : 0];
  const bad = (i: number, what: string): never => {
    throw invalidArgument(`${field}[${m === n ? i : 0}] = ${String(at(i))} ${what}`);
  };
  switch (dtype) {
    case 'DT_FLOAT':
    case 'DT_DOUBLE': {
      const out = dtype === 'DT_FLOAT' ? new Float32Array(buffer) : new Float64Array(buffer);
      for (let i = 0; i < n; i++) {
        const v = at(i);
        out[i] = typeof v === 'number' ? v : bad(i, 'is not a number');
      }
      break;
    }
    case 'DT_BOOL': {
      const out = new Uint8Array(buffer);
      for (let i = 0; i < n; i++) {
        const v = at(i);
        out[i] = v === true ? 1 : v === false ? 0 : bad(i, 'is not a bool');
      }
      break;
    }
    case 'DT_INT64':
    case 'DT_UINT64': {
      const out = dtype === 'DT_INT64' ? new BigInt64Array(buffer) : new BigUint64Array(buffer);
      const [lo, hi] = dtype === 'DT_INT64' ? [INT64_MIN, INT64_MAX] : [0n, UINT64_MAX];
      for (let i = 0; i < n; i++) {
        const v = toBigInt(at(i));
        out[i] = v !== undefined && v >= lo && v <= hi ? v : bad(i, `is not a valid ${dtype} value`);
      }
      break;
    }
    default: {
      const range = INT_RANGE[dtype] as readonly [number, number];
      const out = new (intArrayFor(dtype))(buffer);
      for (let i = 0; i < n; i++) {
        const v = at(i);
        if (typeof v !== 'number' || !Number.isInteger(v) || v < range[0] || v > range[1]) {
          bad(i, `is out of range for ${dtype} [${range[0]}, ${range[1]}]`);
        }
        out[i] = v as number;
      }
    }
  }
  return new Uint8Array(buffer);
}

function toBigInt(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : undefined;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return undefined;
}

type IntArrayCtor =
  | Int32ArrayConstructor
  | Int16ArrayConstructor
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor
  | Uint32ArrayConstructor;

function intArrayFor(dtype: DType): IntArrayCtor {
  switch (dtype) {
    case 'DT_INT32':
      return Int32Array;
    case 'DT_INT16':
      return Int16Array;
    case 'DT_INT8':
      return Int8Array;
    case 'DT_UINT8':
      return Uint8Array;
    case 'DT_UINT32':
      return Uint32Array;
    default:
      return Uint16Array; // UINT16, HALF and BFLOAT16 bit patterns
  }
}

export interface EncodeOptions {
  /** Put values in tensor_content (TF's AsProtoTensorContent) instead of the typed field. */
  readonly useTensorContent?: boolean;
}

/** Encodes a response tensor; numeric fields are typed-array views sharing the tensor's bytes. */
export function encodeTensorProto(tensor: HostTensor, options: EncodeOptions = {}): TensorProtoObject {
  const proto: TensorProtoObject = {
    dtype: tensor.dtype,
    tensor_shape: { dim: tensor.shape.map((size) => ({ size })) },
  };
  if (tensor.dtype === 'DT_STRING') {
    if (options.useTensorContent === true) proto.tensor_content = encodeStringContent(tensor.strings);
    else proto.string_val = tensor.strings;
    return proto;
  }
  if (options.useTensorContent === true) {
    proto.tensor_content = tensor.bytes;
    return proto;
  }
  const bytes = aligned(tensor.bytes, DTYPES[tensor.dtype].width);
  const { byteOffset, byteLength } = bytes;
  const buffer = bytes.buffer as ArrayBuffer;
  switch (tensor.dtype) {
    case 'DT_FLOAT':
      proto.float_val = new Float32Array(buffer, byteOffset, byteLength / 4);
      break;
    case 'DT_DOUBLE':
      proto.double_val = new Float64Array(buffer, byteOffset, byteLength / 8);
      break;
    case 'DT_INT64':
      proto.int64_val = new BigInt64Array(buffer, byteOffset, byteLength / 8);
      break;
    case 'DT_UINT64':
      proto.uint64_val = new BigUint64Array(buffer, byteOffset, byteLength / 8);
      break;
    case 'DT_UINT32':
      proto.uint32_val = new Uint32Array(buffer, byteOffset, byteLength / 4);
      break;
    case 'DT_BOOL':
      proto.bool_val = Array.from(bytes, (b) => b !== 0);
      break;
    case 'DT_HALF':
    case 'DT_BFLOAT16':
      proto.half_val = new Uint16Array(buffer, byteOffset, byteLength / 2);
      break;
    default: {
      const Ctor = intArrayFor(tensor.dtype);
      proto.int_val = new Ctor(buffer, byteOffset, byteLength / Ctor.BYTES_PER_ELEMENT);
    }
  }
  return proto;
}

/** The bytes themselves when their offset suits a typed-array view of this width, else a copy. */
function aligned(bytes: Uint8Array, width: number): Uint8Array {
  return bytes.byteOffset % width === 0 ? bytes : new Uint8Array(bytes);
}

function encodeStringContent(strings: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const s of strings) total += varintSize(s.length) + s.length;
  const out = new Uint8Array(total);
  let pos = 0;
  for (const s of strings) {
    let v = s.length;
    while (v >= 0x80) {
      out[pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    out[pos++] = v;
  }
  for (const s of strings) {
    out.set(s, pos);
    pos += s.length;
  }
  return out;
}

/** Decodes a request's named TensorProtos; an error names the input it is about. */
export function decodeTensorProtoMap(inputs: Record<string, TensorProtoObject>, limits: TensorLimits): Record<string, HostTensor> {
  const decoded: Record<string, HostTensor> = {};
  for (const [name, proto] of Object.entries(inputs)) {
    try {
      decoded[name] = decodeTensorProto(proto, limits);
    } catch (error) {
      if (error instanceof ServingError) throw new ServingError(error.code, `input "${name}": ${error.message}`);
      throw error;
    }
  }
  return decoded;
}
