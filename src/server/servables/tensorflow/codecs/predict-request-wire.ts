/**
 * Reads a serialized tensorflow.serving.PredictRequest straight from the wire, written by hand
 * for the hot path: proto-loader decodes into protobufjs messages, then converts them to objects
 * (copying every bytes field and filling every default). This reader makes one pass and yields
 * the object shape the handlers already take from proto-loader (snake_case, enum names, oneof
 * names), except that repeated numeric fields arrive as typed arrays or bigint arrays and
 * tensor_content as a view into the message. A test checks it against protobufjs.
 */
import { setOwnEntry } from '../../../../shared/own-entry.js';
import { protoRoot } from '../proto-root.js';
import type { Int64Like, TensorProtoObject, TensorShapeObject } from './tensor-proto.js';

export interface PredictRequestObject {
  model_spec: ModelSpecObject | null;
  inputs: Record<string, TensorProtoObject>;
  output_filter: string[];
}

export interface ModelSpecObject {
  name: string;
  version: { value: string } | null;
  version_label: string;
  signature_name: string;
  version_choice?: 'version' | 'version_label';
}

const VARINT = 0;
const FIXED64 = 1;
const BYTES = 2;
const FIXED32 = 5;

// proto3 strings must be UTF-8: C++ protobuf (TF Serving) and protobufjs refuse the message otherwise.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Malformed input: answered INTERNAL with this message (unreadable-request.ts), as for protobufjs. */
export class WireError extends Error {}

/** Reads protobuf wire format from a byte range (also used for PredictionLog, by model warmup). */
export class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  private byte(): number {
    if (this.pos >= this.end) throw new WireError('truncated message');
    return this.buf[this.pos++]!;
  }

  /** A varint as a number; exact up to 2^53, which covers every length, tag and enum. */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new WireError('varint longer than 10 bytes');
  }

  /** A field's key (number << 3 | wire type); field number 0 does not exist in protobuf. */
  tag(): number {
    const tag = this.varint();
    if (tag < 8) throw new WireError(`field number 0 (key ${tag})`);
    if (tag > 0xffffffff) throw new WireError('field key longer than 32 bits');
    return tag;
  }

  /** A varint as its low and high 32 bits (two's complement for negative values). */
  varint64(): [number, number] {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) return [lo >>> 0, hi >>> 0];
    }
    throw new WireError('varint longer than 10 bytes');
  }

  /** The bounds of a length-delimited field's payload; moves past it. */
  span(): [number, number] {
    const length = this.varint();
    const start = this.pos;
    if (length > this.end - start) throw new WireError('truncated length-delimited field');
    this.pos += length;
    return [start, start + length];
  }

  string(): string {
    const [start, end] = this.span();
    try {
      return utf8.decode(this.buf.subarray(start, end));
    } catch {
      throw new WireError('a string field is not valid UTF-8');
    }
  }

  skip(wire: number): void {
    if (wire === VARINT) this.varint64();
    else if (wire === FIXED64) this.advance(8);
    else if (wire === BYTES) this.span();
    else if (wire === FIXED32) this.advance(4);
    else throw new WireError(`unsupported wire type ${wire}`);
  }

  advance(n: number): void {
    if (n > this.end - this.pos) throw new WireError('truncated fixed-width field');
    this.pos += n;
  }

  sub(): Reader {
    const [start, end] = this.span();
    return new Reader(this.buf, start, end);
  }
}

const toBigInt = (lo: number, hi: number): bigint => (BigInt(hi) << 32n) | BigInt(lo);
const int64Of = (lo: number, hi: number): Int64Like => (hi === 0 && lo < 2 ** 31 ? lo : BigInt.asIntN(64, toBigInt(lo, hi)));

/** Element readers of the repeated scalar fields, by how TensorFlow declares them. */
type Kind = 'float' | 'double' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool';
const REPEATED: Readonly<Record<number, readonly [keyof TensorProtoObject, Kind]>> = {
  5: ['float_val', 'float'],
  6: ['double_val', 'double'],
  7: ['int_val', 'int32'],
  9: ['scomplex_val', 'float'],
  10: ['int64_val', 'int64'],
  11: ['bool_val', 'bool'],
  12: ['dcomplex_val', 'double'],
  13: ['half_val', 'int32'],
  16: ['uint32_val', 'uint32'],
  17: ['uint64_val', 'uint64'],
};

function readElement(r: Reader, kind: Kind): number | bigint | boolean {
  switch (kind) {
    case 'float':
    case 'double': {
      const width = kind === 'float' ? 4 : 8;
      const at = r.pos;
      r.advance(width);
      const view = new DataView(r.buf.buffer, r.buf.byteOffset + at, width);
      return kind === 'float' ? view.getFloat32(0, true) : view.getFloat64(0, true);
    }
    case 'bool':
      return r.varint64().some((half) => half !== 0);
    case 'int32':
      return r.varint64()[0] | 0;
    case 'uint32':
      return r.varint64()[0];
    case 'int64': {
      const [lo, hi] = r.varint64();
      return BigInt.asIntN(64, toBigInt(lo, hi));
    }
    case 'uint64': {
      const [lo, hi] = r.varint64();
      return toBigInt(lo, hi);
    }
  }
}

/** A packed block of floats or doubles as one typed array (one copy: the block may be unaligned). */
function packedFloats(r: Reader, kind: 'float' | 'double', start: number, end: number): Float32Array | Float64Array {
  const width = kind === 'float' ? 4 : 8;
  if ((end - start) % width !== 0) throw new WireError(`packed ${kind} field of ${end - start} bytes`);
  // Not buf.slice: on a Buffer that is a view sharing the whole pool.
  const copy = new Uint8Array(end - start);
  copy.set(r.buf.subarray(start, end));
  return kind === 'float' ? new Float32Array(copy.buffer) : new Float64Array(copy.buffer);
}

type Values = ArrayLike<number | bigint | boolean>;

function readRepeated(r: Reader, wire: number, kind: Kind, previous: Values | undefined): Values {
  let values: Values;
  if (wire === BYTES) {
    const [start, end] = r.span();
    if (kind === 'float' || kind === 'double') values = packedFloats(r, kind, start, end);
    else {
      const packed = new Reader(r.buf, start, end);
      const list: (number | bigint | boolean)[] = [];
      while (!packed.done) list.push(readElement(packed, kind));
      values = list;
    }
  } else {
    const expected = kind === 'float' ? FIXED32 : kind === 'double' ? FIXED64 : VARINT;
    if (wire !== expected) throw new WireError(`wire type ${wire} for a repeated ${kind} field`);
    values = [readElement(r, kind)];
  }
  // Packed and unpacked runs of one field may both occur; they concatenate.
  return previous === undefined || previous.length === 0 ? values : [...Array.from(previous), ...Array.from(values)];
}

let dtypeNames: Map<number, string> | undefined;
/** Enum numbers to names, as proto-loader's `enums: String` gives them (unknown numbers stay numbers). */
function dtypeName(value: number): string | number {
  dtypeNames ??= new Map(Object.entries(protoRoot().lookupEnum('tensorflow.DataType').values).map(([name, n]) => [n, name]));
  return dtypeNames.get(value) ?? value;
}

function readShape(r: Reader, shape: TensorShapeObject & { dim: { size: Int64Like; name: string }[] }): void {
  while (!r.done) {
    const tag = r.tag();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 2 && wire === BYTES) {
      const d = r.sub();
      const dim = { size: 0 as Int64Like, name: '' };
      while (!d.done) {
        const t = d.tag();
        if (t === 8) dim.size = int64Of(...d.varint64());
        else if (t === 18) dim.name = d.string();
        else d.skip(t & 7);
      }
      shape.dim.push(dim);
    } else if (field === 3 && wire === VARINT) {
      (shape as { unknown_rank?: boolean }).unknown_rank = r.varint() !== 0;
    } else r.skip(wire);
  }
}

function readTensor(r: Reader, tensor: Record<string, unknown>): void {
  while (!r.done) {
    const tag = r.tag();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    const repeated = REPEATED[field];
    if (repeated) {
      tensor[repeated[0]] = readRepeated(r, wire, repeated[1], tensor[repeated[0]] as Values | undefined);
    } else if (field === 1 && wire === VARINT) {
      tensor.dtype = dtypeName(r.varint64()[0] | 0); // an enum is an int32: keep the low 32 bits
    } else if (field === 2 && wire === BYTES) {
      tensor.tensor_shape ??= { dim: [] };
      readShape(r.sub(), tensor.tensor_shape as TensorShapeObject & { dim: { size: Int64Like; name: string }[] });
    } else if (field === 3 && wire === VARINT) {
      tensor.version_number = r.varint64()[0] | 0;
    } else if (field === 4 && wire === BYTES) {
      const [start, end] = r.span();
      tensor.tensor_content = r.buf.subarray(start, end);
    } else if (field === 8 && wire === BYTES) {
      const [start, end] = r.span();
      ((tensor.string_val ??= []) as Uint8Array[]).push(r.buf.subarray(start, end));
    } else r.skip(wire);
  }
}

function readModelSpec(r: Reader, spec: ModelSpecObject): void {
  while (!r.done) {
    const tag = r.tag();
    if (tag === 10) spec.name = r.string();
    else if (tag === 18) {
      // google.protobuf.Int64Value { int64 value = 1; }
      // A message field seen twice merges (protobuf's rule), so an empty second one keeps the value.
      const v = r.sub();
      let value = spec.version_choice === 'version' && spec.version ? spec.version.value : '0';
      while (!v.done) {
        const t = v.tag();
        if (t === 8) value = BigInt.asIntN(64, toBigInt(...v.varint64())).toString();
        else v.skip(t & 7);
      }
      spec.version = { value };
      spec.version_choice = 'version';
    } else if (tag === 26) spec.signature_name = r.string();
    else if (tag === 34) {
      spec.version_label = r.string();
      spec.version_choice = 'version_label';
    } else r.skip(tag & 7);
  }
}

/** Decodes a PredictRequest; throws on malformed bytes (grpc-js answers INTERNAL, as before). */
export function readPredictRequest(bytes: Uint8Array): PredictRequestObject {
  const r = new Reader(bytes, 0, bytes.length);
  const request: PredictRequestObject = { model_spec: null, inputs: {}, output_filter: [] };
  while (!r.done) {
    const tag = r.tag();
    if (tag === 10) {
      request.model_spec ??= { name: '', version: null, version_label: '', signature_name: '' };
      readModelSpec(r.sub(), request.model_spec);
    } else if (tag === 18) {
      // map<string, TensorProto> entry { string key = 1; TensorProto value = 2; }
      const entry = r.sub();
      let key = '';
      const tensor: Record<string, unknown> = {};
      while (!entry.done) {
        const t = entry.tag();
        if (t === 10) key = entry.string();
        else if (t === 18) readTensor(entry.sub(), tensor);
        else entry.skip(t & 7);
      }
      setOwnEntry(request.inputs, key, tensor); // an input named "__proto__" stays an input
    } else if (tag === 26) {
      request.output_filter.push(r.string());
    } else r.skip(tag & 7);
  }
  return request;
}
