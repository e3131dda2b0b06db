/**
 * Protobuf wire encoding of TensorProto and PredictResponse, written by hand for speed.
 *
 * protobufjs encodes a packed float field one element at a time from a plain array (measured
 * here: ~0.4 s for a 1M-float output through proto-loader). Here a typed-array field is copied
 * into the packed field as one block of little-endian bytes, and plain arrays still work, so
 * both encodeTensorProto's output and decoded request objects can be written. The bytes are
 * the same as protobufjs produces for the same message (a test compares them).
 */
import { DTYPES } from '../../../core/host-tensor.js';
import { protoType } from '../proto-root.js';
import type { Int64Like, TensorProtoObject, TensorShapeObject } from './tensor-proto.js';
import { utf8Name } from './utf8-names.js';

const WIRE_VARINT = 0;
const WIRE_BYTES = 2;

const utf8 = new TextEncoder();

/** V8 keeps typed arrays up to this size on its heap, far cheaper than a separate store. */
const ON_HEAP_BYTES = 64;

/**
 * A growable byte writer. Nested messages are written in place: `begin` reserves one byte for the
 * length and `end` fills it in, moving the body up in the rare case that it is 128 bytes or more.
 * One buffer per message instead of one per nested message keeps a small response down to a few
 * allocations (the nested writers were ~3 KB of garbage per tiny Predict call, measured).
 */
class Out {
  pos = 0;
  constructor(public buf: Uint8Array = new Uint8Array(ON_HEAP_BYTES)) {}

  ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Unsigned varint of a non-negative safe integer. */
  varint(v: number): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  /** Varint of a 64-bit two's-complement value given as low/high 32-bit halves. */
  varint64(lo: number, hi: number): void {
    this.ensure(10);
    while (hi !== 0 || lo >= 0x80) {
      this.buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.buf[this.pos++] = lo;
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, WIRE_BYTES);
    this.varint(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** Starts a nested message in `field`; returns where its length goes, for `end`. */
  begin(field: number): number {
    this.tag(field, WIRE_BYTES);
    this.ensure(1);
    return this.pos++;
  }

  end(lengthAt: number): void {
    const length = this.pos - lengthAt - 1;
    const extra = varintSize(length) - 1;
    if (extra > 0) {
      this.ensure(extra);
      this.buf.copyWithin(lengthAt + 1 + extra, lengthAt + 1, this.pos);
      this.pos += extra;
    }
    const bodyEnd = this.pos;
    this.pos = lengthAt;
    this.varint(length);
    this.pos = bodyEnd;
  }

  /**
   * The bytes written. A view of a small on-heap array would make V8 move it to a store of its
   * own (allocated, copied, tracked); copying the few bytes is cheaper. A big array is already
   * in its own store, so a view is free.
   */
  result(): Uint8Array {
    return this.buf.length <= ON_HEAP_BYTES ? this.buf.slice(0, this.pos) : this.buf.subarray(0, this.pos);
  }
}

/** Bytes in the varint of a non-negative safe integer. */
export function varintSize(v: number): number {
  let size = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    size++;
  }
  return size;
}

function int64Halves(value: Int64Like): [number, number] {
  // Versions and most int64 values are small non-negative integers: no BigInt needed.
  const small = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : -1;
  if (Number.isSafeInteger(small) && small >= 0) return [small >>> 0, Math.floor(small / 2 ** 32)];
  const v = BigInt.asUintN(64, typeof value === 'bigint' ? value : BigInt(value));
  return [Number(v & 0xffffffffn), Number(v >> 32n)];
}

/** Size in bytes of an int32 varint (negative values take 10 bytes, sign-extended). */
function int32Size(v: number): number {
  if (v < 0) return 10;
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

function packedInt32(out: Out, field: number, values: ArrayLike<number> | undefined): void {
  const n = values?.length ?? 0;
  if (values === undefined || n === 0) return;
  let size = 0;
  for (let i = 0; i < n; i++) size += int32Size(values[i] as number);
  out.tag(field, WIRE_BYTES);
  out.varint(size);
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    if (v < 0) out.varint64(v >>> 0, 0xffffffff);
    else out.varint(v);
  }
}

function packedUint32(out: Out, field: number, values: ArrayLike<number> | undefined): void {
  const n = values?.length ?? 0;
  if (values === undefined || n === 0) return;
  let size = 0;
  for (let i = 0; i < n; i++) size += int32Size((values[i] as number) >>> 0);
  out.tag(field, WIRE_BYTES);
  out.varint(size);
  for (let i = 0; i < n; i++) out.varint((values[i] as number) >>> 0);
}

function packedInt64(out: Out, field: number, values: ArrayLike<Int64Like> | undefined): void {
  const n = values?.length ?? 0;
  if (values === undefined || n === 0) return;
  const halves: number[] = new Array<number>(2 * n);
  let size = 0;
  for (let i = 0; i < n; i++) {
    const [lo, hi] = int64Halves(values[i] as Int64Like);
    halves[2 * i] = lo;
    halves[2 * i + 1] = hi;
    size += varint64Size(lo, hi);
  }
  out.tag(field, WIRE_BYTES);
  out.varint(size);
  for (let i = 0; i < n; i++) out.varint64(halves[2 * i] as number, halves[2 * i + 1] as number);
}

function varint64Size(lo: number, hi: number): number {
  let size = 1;
  while (hi !== 0 || lo >= 0x80) {
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
    size++;
  }
  return size;
}

function packedFixed(out: Out, field: number, values: ArrayLike<number> | undefined, width: 4 | 8): void {
  const n = values?.length ?? 0;
  if (values === undefined || n === 0) return;
  out.tag(field, WIRE_BYTES);
  out.varint(n * width);
  out.ensure(n * width);
  const typed = width === 4 ? values instanceof Float32Array : values instanceof Float64Array;
  if (typed) {
    const t = values as Float32Array | Float64Array;
    out.buf.set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength), out.pos);
  } else {
    const view = new DataView(out.buf.buffer, out.buf.byteOffset + out.pos, n * width);
    for (let i = 0; i < n; i++) {
      if (width === 4) view.setFloat32(i * 4, values[i] as number, true);
      else view.setFloat64(i * 8, values[i] as number, true);
    }
  }
  out.pos += n * width;
}

function dtypeNumber(dtype: string | number | undefined): number {
  if (typeof dtype === 'number') return dtype;
  if (dtype === undefined) return 0;
  const known = (DTYPES as Record<string, { enum: number }>)[dtype];
  if (known !== undefined) return known.enum;
  const value = protoType('tensorflow.TensorProto').fields['dtype']?.resolvedType;
  const number = value && 'values' in value ? (value.values as Record<string, number>)[dtype] : undefined;
  if (number === undefined) throw new Error(`unknown dtype ${dtype}`);
  return number;
}

function writeShape(out: Out, shape: TensorShapeObject): void {
  for (const dim of shape.dim ?? []) {
    const dimAt = out.begin(2);
    const size = dim.size ?? 0;
    if (size !== 0 && size !== '0' && size !== 0n) {
      out.tag(1, WIRE_VARINT);
      const [lo, hi] = int64Halves(size);
      out.varint64(lo, hi);
    }
    if (dim.name !== undefined && dim.name !== '') out.bytes(2, utf8.encode(dim.name));
    out.end(dimAt);
  }
  if (shape.unknown_rank === true) {
    out.tag(3, WIRE_VARINT);
    out.varint(1);
  }
}

/** Serializes a TensorProto object (typed arrays or plain arrays) to protobuf bytes. */
export function encodeTensorProtoWire(proto: TensorProtoObject): Uint8Array {
  const out = new Out();
  writeTensorProto(out, proto);
  return out.result();
}

function writeTensorProto(out: Out, p: TensorProtoObject): void {
  // Fields in number order, as protobufjs writes them, so the bytes are identical.
  const dtype = dtypeNumber(p.dtype);
  if (dtype !== 0) {
    out.tag(1, WIRE_VARINT);
    out.varint(dtype);
  }
  if (p.tensor_shape !== undefined && p.tensor_shape !== null) {
    const shapeAt = out.begin(2);
    writeShape(out, p.tensor_shape);
    out.end(shapeAt);
  }
  if (p.version_number !== undefined && p.version_number !== 0) {
    out.tag(3, WIRE_VARINT);
    if (p.version_number < 0) out.varint64(p.version_number >>> 0, 0xffffffff);
    else out.varint(p.version_number);
  }
  if (p.tensor_content !== undefined && p.tensor_content.length > 0) out.bytes(4, p.tensor_content);
  packedFixed(out, 5, p.float_val, 4);
  packedFixed(out, 6, p.double_val, 8);
  packedInt32(out, 7, p.int_val);
  for (let i = 0; i < (p.string_val?.length ?? 0); i++) out.bytes(8, p.string_val?.[i] as Uint8Array);
  packedFixed(out, 9, p.scomplex_val, 4);
  packedInt64(out, 10, p.int64_val);
  if (p.bool_val !== undefined && p.bool_val.length > 0) {
    out.tag(11, WIRE_BYTES);
    out.varint(p.bool_val.length);
    for (let i = 0; i < p.bool_val.length; i++) out.varint(p.bool_val[i] === true ? 1 : 0);
  }
  packedFixed(out, 12, p.dcomplex_val, 8);
  packedInt32(out, 13, p.half_val);
  packedUint32(out, 16, p.uint32_val);
  packedInt64(out, 17, p.uint64_val);
}

/** tensorflow.serving.ModelSpec as handlers build it (proto field names). */
export interface ModelSpecObject {
  readonly name?: string;
  readonly version?: { readonly value?: Int64Like | null } | null;
  readonly version_label?: string;
  readonly signature_name?: string;
}

export interface PredictResponseObject {
  outputs?: Readonly<Record<string, TensorProtoObject>>;
  model_spec?: ModelSpecObject | null;
}

/** ModelSpec: name = 1, version = 2 (google.protobuf.Int64Value), signature_name = 3, version_label = 4. */
function writeModelSpec(out: Out, spec: ModelSpecObject): void {
  if (spec.name) out.bytes(1, utf8Name(spec.name));
  if (spec.version !== undefined && spec.version !== null) {
    const wrapperAt = out.begin(2);
    const value = spec.version.value ?? 0;
    if (value !== 0 && value !== '0' && value !== 0n) {
      const [lo, hi] = int64Halves(value);
      out.tag(1, WIRE_VARINT);
      out.varint64(lo, hi);
    }
    out.end(wrapperAt);
  }
  if (spec.signature_name) out.bytes(3, utf8Name(spec.signature_name));
  if (spec.version_label) out.bytes(4, utf8.encode(spec.version_label));
}

/** Responses are written here first, then copied out at their final size; the event loop writes one at a time. */
const SCRATCH_BYTES = 16 * 1024;
const scratch = new Uint8Array(SCRATCH_BYTES);

/** Serializes a tensorflow.serving.PredictResponse. */
export function serializePredictResponse(response: PredictResponseObject): Buffer {
  const out = new Out(scratch);
  const outputs = response.outputs ?? {};
  for (const key in outputs) {
    const entryAt = out.begin(1);
    out.bytes(1, utf8Name(key));
    const tensorAt = out.begin(2);
    writeTensorProto(out, outputs[key]!);
    out.end(tensorAt);
    out.end(entryAt);
  }
  if (response.model_spec !== undefined && response.model_spec !== null) {
    const specAt = out.begin(2);
    writeModelSpec(out, response.model_spec);
    out.end(specAt);
  }
  // Outgrown: the writer's own buffer is the response. Otherwise copy out of the scratch
  // buffer, into Node's pooled memory when small.
  if (out.buf !== scratch) return Buffer.from(out.buf.buffer, out.buf.byteOffset, out.pos);
  const bytes = Buffer.allocUnsafe(out.pos);
  bytes.set(scratch.subarray(0, out.pos));
  return bytes;
}
