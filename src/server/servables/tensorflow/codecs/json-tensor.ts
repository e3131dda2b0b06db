/**
 * TF Serving's REST JSON <-> HostTensor (predict), and the classify/regress response bodies.
 *
 * Requests (parse the body with parseJsonBody first, look up the signature, then decode):
 * - row format `{"instances": [...]}`: each element is one batch row; a plain value/list when the
 *   signature has one input, else an object keyed by input name. Rows must agree in shape;
 *   the tensor's shape is [rows, ...row shape].
 * - columnar format `{"inputs": ...}`: a value/list for a single input, or an object of inputs.
 * - values are JSON numbers/bools/strings, `{"b64": "..."}` for DT_STRING bytes, converted to
 *   the dtype the signature declares.
 * Int64 decision: like TF Serving, int64/uint64 values are JSON integer literals, and they are
 * exact over the whole 64-bit range (the parser keeps literals beyond 2^53 as bigint); a
 * number that is not an exact integer, or a quoted string, is refused with INVALID_ARGUMENT.
 * Leniency beyond TF Serving: DT_HALF/DT_BFLOAT16 accept numbers, integral floats like 2.0
 * are accepted for integer dtypes, and integer values are range-checked per dtype. As in TF
 * Serving, a finite number beyond a floating dtype's range is refused (it would be stored as
 * ±Infinity); unlike TF Serving, integer literals beyond 2^24 (FLOAT) or 2^53 (DOUBLE) round to
 * the nearest value, as fractional literals do, rather than being refused.
 *
 * Responses match TF Serving's json_tensor rules: `predictions` (row: one output -> list of
 * its rows; several -> list of objects keyed by output name; all outputs must share the batch
 * size) or `outputs` (columnar: one output -> its value; several -> object by name); DT_STRING
 * outputs whose name ends in `_bytes` become {"b64": ...}; non-finite floats are written as
 * NaN / Infinity / -Infinity (not strict JSON, as TF Serving does); floats use 6 significant
 * digits, or 9 when 6 do not read back as the same float32 (TF Serving's rule); int64 is written exactly.
 */
import { endianness } from 'node:os';
import { DTYPES, INTEGER_RANGES, MAX_RANK, type DType, type HostTensor, elementCount } from '../../../core/host-tensor.js';
import type { TensorInfo } from '../../../core/signature.js';
import { invalidArgument } from '../../../../shared/errors.js';
import { JsonDouble, parseJson } from './exact-json.js';
import { JsonBytes } from './json-bytes.js';
import type { TensorLimits } from './tensor-proto.js';

export type JsonPredictFormat = 'row' | 'columnar';

export interface JsonPredictInputs {
  readonly format: JsonPredictFormat;
  readonly inputs: Record<string, HostTensor>;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** Parses a request body; it must be a JSON object. */
export function parseJsonBody(text: string): Record<string, unknown> {
  const body = parseJson(text);
  if (!isPlainObject(body)) throw invalidArgument('JSON request body must be an object');
  return body;
}

/** The optional `signature_name` of a parsed body. */
export function requestSignatureName(body: Record<string, unknown>): string | undefined {
  const name = body['signature_name'];
  if (name === undefined) return undefined;
  if (typeof name !== 'string') throw invalidArgument("'signature_name' must be a string");
  return name;
}

/** Decodes `instances` or `inputs` of a predict body against the signature's inputs. */
export function decodePredictJson(
  body: Record<string, unknown>,
  signatureInputs: Readonly<Record<string, TensorInfo>>,
  limits: TensorLimits,
): JsonPredictInputs {
  const names = Object.keys(signatureInputs);
  if (names.length === 0) throw invalidArgument('the signature has no inputs');
  const hasInstances = 'instances' in body;
  const hasInputs = 'inputs' in body;
  if (hasInstances && hasInputs) throw invalidArgument("request must have only one of 'instances' or 'inputs'");
  if (hasInstances) return { format: 'row', inputs: decodeInstances(body['instances'], signatureInputs, names, limits) };
  if (hasInputs) return { format: 'columnar', inputs: decodeColumnar(body['inputs'], signatureInputs, names, limits) };
  throw invalidArgument("request is missing 'inputs' or 'instances'");
}

function decodeInstances(
  instances: unknown,
  infos: Readonly<Record<string, TensorInfo>>,
  names: string[],
  limits: TensorLimits,
): Record<string, HostTensor> {
  if (!Array.isArray(instances)) throw invalidArgument("'instances' must be a list");
  if (instances.length === 0) throw invalidArgument("'instances' is an empty list");
  const objects = isNamedObject(instances[0]);
  if (!objects && names.length > 1) {
    throw invalidArgument(
      `'instances' is a plain list, but the signature has ${names.length} inputs (${names.join(', ')}): ` +
        'give each instance as an object keyed by input name',
    );
  }
  const rows: Record<string, unknown[]> = {};
  for (const name of names) rows[name] = [];
  instances.forEach((instance, i) => {
    if (objects) {
      if (!isNamedObject(instance)) throw invalidArgument(`'instances'[${i}] is not an object like 'instances'[0]`);
      const keys = Object.keys(instance);
      const unknown = keys.filter((k) => !Object.hasOwn(infos, k));
      const missing = names.filter((n) => !Object.hasOwn(instance, n));
      if (unknown.length > 0 || missing.length > 0) {
        throw invalidArgument(
          `'instances'[${i}] must have exactly the keys ${names.join(', ')}` +
            (missing.length > 0 ? `; missing ${missing.join(', ')}` : '') +
            (unknown.length > 0 ? `; unknown ${unknown.join(', ')}` : ''),
        );
      }
      for (const name of names) rows[name]?.push(instance[name]);
    } else {
      if (isNamedObject(instance)) throw invalidArgument(`'instances'[${i}] is an object but 'instances'[0] is not`);
      rows[names[0] as string]?.push(instance);
    }
  });
  const out: Record<string, HostTensor> = {};
  for (const name of names) {
    const info = infos[name] as TensorInfo;
    const items = rows[name] as unknown[];
    const rowShape = denseShape(items[0]);
    const shape = [items.length, ...rowShape];
    checkRank(shape, name);
    checkCount(shape, limits, name);
    const fill = new Filler(info.dtype, elementCount(shape), name);
    items.forEach((item, i) => {
      const itemShape = denseShape(item);
      if (itemShape.join(',') !== rowShape.join(',')) {
        throw invalidArgument(
          `input ${name}: instance ${i} has shape [${itemShape.join(',')}] but instance 0 has [${rowShape.join(',')}]`,
        );
      }
      fill.values(item, rowShape, 0);
    });
    out[name] = fill.tensor(shape);
  }
  return out;
}

function decodeColumnar(
  inputs: unknown,
  infos: Readonly<Record<string, TensorInfo>>,
  names: string[],
  limits: TensorLimits,
): Record<string, HostTensor> {
  if (!isNamedObject(inputs)) {
    if (names.length > 1) {
      throw invalidArgument(
        `'inputs' is a plain value/list, but the signature has ${names.length} inputs (${names.join(', ')}): ` +
          'give an object keyed by input name',
      );
    }
    const name = names[0] as string;
    return { [name]: columnTensor(inputs, infos[name] as TensorInfo, name, limits) };
  }
  const unknown = Object.keys(inputs).filter((k) => !Object.hasOwn(infos, k));
  if (unknown.length > 0) throw invalidArgument(`'inputs' has unknown input(s) ${unknown.join(', ')}; expected ${names.join(', ')}`);
  const out: Record<string, HostTensor> = {};
  for (const name of names) {
    if (!Object.hasOwn(inputs, name)) throw invalidArgument(`missing input ${name} in 'inputs'`);
    out[name] = columnTensor(inputs[name], infos[name] as TensorInfo, name, limits);
  }
  return out;
}

function columnTensor(value: unknown, info: TensorInfo, name: string, limits: TensorLimits): HostTensor {
  const shape = denseShape(value);
  checkRank(shape, name);
  checkCount(shape, limits, name);
  const fill = new Filler(info.dtype, elementCount(shape), name);
  fill.values(value, shape, 0);
  return fill.tensor(shape);
}

export function checkCount(shape: readonly number[], limits: TensorLimits, name: string): void {
  let count = 1;
  for (const d of shape) {
    count *= d;
    if (count > limits.maxElements) {
      throw invalidArgument(`input ${name} has more than ${limits.maxElements} elements (the limit)`);
    }
  }
}

/** Refuses lists nested deeper than a tensor's most dimensions, before they are walked (recursively). */
function checkRank(shape: readonly number[], name: string): void {
  if (shape.length > MAX_RANK) throw invalidArgument(`input ${name}: lists nested ${shape.length} deep, more than TensorFlow's ${MAX_RANK} dimensions`);
}

/** Shape from the nesting of lists, following first elements (as TF Serving does). */
function denseShape(value: unknown): number[] {
  const shape: number[] = [];
  let v = value;
  while (Array.isArray(v)) {
    shape.push(v.length);
    if (v.length === 0) break;
    v = v[0];
  }
  return shape;
}

function isB64(value: unknown): value is { b64: string } {
  return isPlainObject(value) && Object.keys(value).length === 1 && typeof value['b64'] === 'string';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object that names inputs (not a {"b64": ...} value). */
function isNamedObject(value: unknown): value is Record<string, unknown> {
  return isPlainObject(value) && !isB64(value);
}

const INT_RANGE = INTEGER_RANGES;

/**
 * A finite number that would be stored as ±Infinity is refused, as TF Serving refuses JSON
 * values "without loss of precision" beyond a float's range (its IsLosslessDecimal).
 */
const RANGE_WORDS: Partial<Record<DType, string>> = {
  DT_FLOAT: 'within the range of a float, ±3.4028235e38',
  DT_HALF: 'within the range of a half, ±65504',
  DT_BFLOAT16: 'within the range of a bfloat16, ±3.3895314e38',
};

/** The least magnitude a double rounds up to Infinity from, as a float32: FLT_MAX + half an ulp. */
const FLOAT32_OVERFLOW = 2 ** 128 - 2 ** 103;

function rangeWords(dtype: DType): string {
  return RANGE_WORDS[dtype] ?? `within the range of ${dtype}`;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Writes leaf values of one input, in row-major order, into its typed storage. */
class Filler {
  private readonly view: DataView | undefined;
  private readonly strings: Uint8Array[] | undefined;
  private readonly bytes: Uint8Array | undefined;
  /** FLOAT or DOUBLE elements as a typed array, for runs of plain numbers (tensors are little-endian). */
  private readonly floats: Float32Array | Float64Array | undefined;
  private index = 0;

  constructor(
    private readonly dtype: DType,
    count: number,
    private readonly name: string,
  ) {
    if (dtype === 'DT_STRING') this.strings = [];
    else {
      this.bytes = new Uint8Array(count * DTYPES[dtype].width);
      this.view = new DataView(this.bytes.buffer);
      if (LITTLE_ENDIAN && dtype === 'DT_FLOAT') this.floats = new Float32Array(this.bytes.buffer);
      if (LITTLE_ENDIAN && dtype === 'DT_DOUBLE') this.floats = new Float64Array(this.bytes.buffer);
    }
  }

  /**
   * Writes the next elements, in order: what `leaf` does one by one, with numbers stored straight
   * into the typed array. Images are long runs of floats, and one dispatch per element cost as
   * much as parsing the JSON.
   */
  run(list: ArrayLike<unknown>, shape: readonly number[]): void {
    const floats = this.floats;
    if (floats === undefined) {
      for (let j = 0; j < list.length; j++) this.values(list[j], shape, shape.length);
      return;
    }
    let i = this.index;
    let large = false;
    for (let j = 0; j < list.length; j++) {
      const item = list[j];
      if (typeof item === 'number') {
        floats[i++] = item;
        // FLOAT32_OVERFLOW written out, and a flag looked at after the loop: this runs once per
        // pixel of an image, and a constant read or a call here made the loop 1.6x slower.
        if (item >= 3.4028235677973366e38 || item <= -3.4028235677973366e38) large = true;
      } else {
        this.index = i;
        this.values(item, shape, shape.length);
        i = this.index;
      }
    }
    this.index = i;
    if (large && this.dtype === 'DT_FLOAT') this.checkFloat32Range(list);
  }

  /** Refuses a finite number beyond a float's range, which would be stored as ±Infinity. */
  private checkFloat32Range(list: ArrayLike<unknown>): void {
    for (let j = 0; j < list.length; j++) {
      const item = list[j];
      if (typeof item === 'number' && Math.abs(item) >= FLOAT32_OVERFLOW && Number.isFinite(item)) this.bad(item, rangeWords(this.dtype));
    }
  }

  tensor(shape: number[]): HostTensor {
    if (this.dtype === 'DT_STRING') return { dtype: 'DT_STRING', shape, strings: this.strings as Uint8Array[] };
    return { dtype: this.dtype, shape, bytes: this.bytes as Uint8Array };
  }

  /** Fills `value`, which must have exactly `shape` (from `level` on). */
  values(value: unknown, shape: readonly number[], level: number): void {
    if (level === shape.length) {
      if (Array.isArray(value)) throw invalidArgument(`input ${this.name}: found a list nested deeper than the first element's (rank ${shape.length})`);
      this.leaf(value);
      return;
    }
    if (!Array.isArray(value)) {
      throw invalidArgument(`input ${this.name}: found a value at depth ${level + 1} but expected a list (rank ${shape.length})`);
    }
    if (value.length !== shape[level]) {
      throw invalidArgument(
        `input ${this.name}: a list at depth ${level + 1} has ${value.length} elements but expected ${shape[level]} (lists must be rectangular)`,
      );
    }
    if (level === shape.length - 1) this.run(value, shape);
    else for (const item of value) this.values(item, shape, level + 1);
  }

  private bad(value: unknown, expected: string): never {
    throw invalidArgument(`input ${this.name}: JSON value ${describe(value)} is not ${expected} (${this.dtype})`);
  }

  /** Writes the next element in row-major order. */
  leaf(value: unknown): void {
    const i = this.index++;
    const view = this.view as DataView;
    switch (this.dtype) {
      case 'DT_STRING':
        (this.strings as Uint8Array[]).push(this.stringBytes(value));
        return;
      case 'DT_BOOL':
        if (typeof value !== 'boolean') this.bad(value, 'a bool');
        view.setUint8(i, value ? 1 : 0);
        return;
      case 'DT_FLOAT': {
        const v = this.number(value);
        if (Math.abs(v) >= FLOAT32_OVERFLOW && Number.isFinite(v)) this.bad(value, rangeWords('DT_FLOAT'));
        view.setFloat32(i * 4, v, true);
        return;
      }
      case 'DT_DOUBLE':
        view.setFloat64(i * 8, this.number(value), true);
        return;
      case 'DT_HALF':
      case 'DT_BFLOAT16': {
        const v = this.number(value);
        const bits = this.dtype === 'DT_HALF' ? toHalfBits(v) : toBfloat16Bits(v);
        const infinite = this.dtype === 'DT_HALF' ? (bits & 0x7fff) === 0x7c00 : (bits & 0x7fff) === 0x7f80;
        if (infinite && Number.isFinite(v)) this.bad(value, rangeWords(this.dtype));
        view.setUint16(i * 2, bits, true);
        return;
      }
      case 'DT_INT64':
      case 'DT_UINT64': {
        const v = typeof value === 'bigint' ? value : typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : undefined;
        if (v === undefined) this.bad(value, 'an exact integer');
        if (this.dtype === 'DT_INT64') {
          if (v < -(2n ** 63n) || v >= 2n ** 63n) this.bad(value, 'in the int64 range');
          view.setBigInt64(i * 8, v, true);
        } else {
          if (v < 0n || v >= 2n ** 64n) this.bad(value, 'in the uint64 range');
          view.setBigUint64(i * 8, v, true);
        }
        return;
      }
      default: {
        const [lo, hi] = INT_RANGE[this.dtype] as readonly [number, number];
        if (typeof value !== 'number' || !Number.isInteger(value)) this.bad(value, 'an integer');
        if (value < lo || value > hi) this.bad(value, `in the range [${lo}, ${hi}]`);
        const width = DTYPES[this.dtype].width;
        if (width === 1) view.setUint8(i, value & 0xff);
        else if (width === 2) view.setUint16(i * 2, value & 0xffff, true);
        else view.setUint32(i * 4, value >>> 0, true);
      }
    }
  }

  private number(value: unknown): number {
    if (typeof value === 'number') return value;
    if (typeof value === 'bigint') return Number(value);
    return this.bad(value, 'a number');
  }

  private stringBytes(value: unknown): Uint8Array {
    if (typeof value === 'string') return utf8.encode(value);
    // Bytes as such: gRPC elements (the Open Inference Protocol's bytes_contents), never JSON's.
    if (value instanceof Uint8Array) return value;
    if (isB64(value)) {
      const text = value.b64;
      if (!BASE64.test(text) || text.replace(/=+$/, '').length % 4 === 1) {
        throw invalidArgument(`input ${this.name}: {"b64": ...} value is not valid base64`);
      }
      return new Uint8Array(Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64'));
    }
    return this.bad(value, 'a string or {"b64": "..."}');
  }
}

/** A tensor of `shape` from its elements in row-major order, as JSON decodes them (the V2 protocol's flat `data`). */
export function tensorFromJsonElements(elements: ArrayLike<unknown>, dtype: DType, shape: number[], name: string): HostTensor {
  const fill = new Filler(dtype, elements.length, name);
  fill.run(elements, []);
  return fill.tensor(shape);
}

/** A JSON value for an error message: at most ~60 characters, however large the value. */
function describe(value: unknown): string {
  const parts: string[] = [];
  let length = 0;
  let truncated = false;
  const piece = (text: string): boolean => {
    if (length >= 60) {
      truncated = true;
      return false;
    }
    parts.push(text);
    length += text.length;
    return true;
  };
  // Writes until the budget is spent, so a huge list costs no more than a short one.
  const write = (v: unknown): boolean => {
    if (typeof v === 'bigint') return piece(v.toString());
    if (typeof v === 'number') return piece(formatNumber(v));
    if (v instanceof JsonDouble) return piece(formatNumber(v.value));
    if (typeof v === 'string') return piece(JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v));
    if (Array.isArray(v)) {
      if (!piece('[')) return false;
      for (let i = 0; i < v.length; i++) if ((i > 0 && !piece(',')) || !write(v[i])) return false;
      return piece(']');
    }
    if (v !== null && typeof v === 'object') {
      if (!piece('{')) return false;
      let first = true;
      for (const [k, item] of Object.entries(v)) {
        if ((!first && !piece(',')) || !piece(`${JSON.stringify(k)}:`) || !write(item)) return false;
        first = false;
      }
      return piece('}');
    }
    return piece(String(v));
  };
  write(value);
  const text = parts.join('');
  return truncated || text.length > 60 ? text.slice(0, 60) + '...' : text;
}

const LITTLE_ENDIAN = endianness() === 'LE';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits of a number (round to nearest even; via float32). */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half++; // a carry into the exponent is correct rounding
  return sign | half;
}

export function fromHalfBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** bfloat16 bits of a number (upper half of float32, round to nearest even). */
export function toBfloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0] as number;
  if (Number.isNaN(value)) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

export function fromBfloat16Bits(bits: number): number {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0] as number;
}

/** A number as TF Serving writes it: NaN/Infinity/-Infinity raw, finite ones shortest-exact. */
export function formatNumber(value: number): string {
  if (Number.isFinite(value)) return String(value);
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

/**
 * A float32 as TF Serving writes it: 6 significant digits when they read back as the same
 * float32, else 9 (always enough), trailing zeros dropped (float32-text.ts), as text.
 */
export function formatFloat32(value: number): string {
  const out = new JsonBytes(32);
  out.float32(value);
  return utf8Decoder.decode(out.bytes());
}

/** Writes one tensor's values (from dimension `dim` on) as nested JSON lists. */
class TensorWriter {
  private readonly view: DataView | undefined;
  private offset = 0;

  constructor(
    private readonly tensor: HostTensor,
    private readonly asBytes: boolean,
  ) {
    if (tensor.dtype !== 'DT_STRING') this.view = new DataView(tensor.bytes.buffer, tensor.bytes.byteOffset, tensor.bytes.byteLength);
  }

  write(out: JsonBytes, dim: number): void {
    const shape = this.tensor.shape;
    if (dim >= shape.length) {
      this.next(out);
      return;
    }
    const size = shape[dim] as number;
    const innermost = dim === shape.length - 1;
    out.byte(OPEN_LIST);
    for (let i = 0; i < size; i++) {
      if (i > 0) out.byte(COMMA);
      if (innermost) this.next(out);
      else this.write(out, dim + 1);
    }
    out.byte(CLOSE_LIST);
  }

  private next(out: JsonBytes): void {
    const i = this.offset++;
    const t = this.tensor;
    if (t.dtype === 'DT_STRING') {
      const s = t.strings[i] as Uint8Array;
      if (this.asBytes) out.ascii(`{"b64":"${Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('base64')}"}`);
      else out.text(JSON.stringify(utf8Decoder.decode(s)));
      return;
    }
    const view = this.view as DataView;
    switch (t.dtype) {
      case 'DT_FLOAT':
        return out.float32(view.getFloat32(i * 4, true));
      case 'DT_DOUBLE':
        return out.ascii(formatNumber(view.getFloat64(i * 8, true)));
      case 'DT_HALF':
        return out.ascii(formatNumber(fromHalfBits(view.getUint16(i * 2, true))));
      case 'DT_BFLOAT16':
        return out.ascii(formatNumber(fromBfloat16Bits(view.getUint16(i * 2, true))));
      case 'DT_INT64':
        return out.ascii(view.getBigInt64(i * 8, true).toString());
      case 'DT_UINT64':
        return out.ascii(view.getBigUint64(i * 8, true).toString());
      case 'DT_BOOL':
        return out.ascii(view.getUint8(i) !== 0 ? 'true' : 'false');
      case 'DT_INT32':
        return out.integer(view.getInt32(i * 4, true));
      case 'DT_UINT32':
        return out.integer(view.getUint32(i * 4, true));
      case 'DT_INT16':
        return out.integer(view.getInt16(i * 2, true));
      case 'DT_UINT16':
        return out.integer(view.getUint16(i * 2, true));
      case 'DT_INT8':
        return out.integer(view.getInt8(i));
      case 'DT_UINT8':
        return out.integer(view.getUint8(i));
    }
  }
}

const OPEN_LIST = 0x5b;
const CLOSE_LIST = 0x5d;
const COMMA = 0x2c;

/** Writes the tensor's elements as one flat JSON list in row-major order; strings as UTF-8 text. */
export function writeFlatJsonList(out: JsonBytes, tensor: HostTensor): void {
  new TensorWriter({ ...tensor, shape: [elementCount(tensor.shape)] }, false).write(out, 0);
}

/** True when TF Serving writes this output's strings as {"b64": ...}. */
export function isBytesOutput(name: string, tensor: HostTensor): boolean {
  return tensor.dtype === 'DT_STRING' && name.endsWith('_bytes');
}

/** The predict response body, in the request's format, as text (encodePredictJsonBytes decoded). */
export function encodePredictJson(outputs: Readonly<Record<string, HostTensor>>, format: JsonPredictFormat): string {
  return utf8Decoder.decode(encodePredictJsonBytes(outputs, format));
}

/** The predict response body, in the request's format, as UTF-8. Outputs are written in key order. */
export function encodePredictJsonBytes(outputs: Readonly<Record<string, HostTensor>>, format: JsonPredictFormat): Uint8Array<ArrayBuffer> {
  const out = new JsonBytes(initialBytes(outputs));
  writePredictJson(out, outputs, format);
  return out.bytes();
}

/**
 * Writes the predict response body into `out` (for a caller that reuses one writer and copies
 * small bodies out: a fresh buffer per small response costs more than writing it).
 */
export function writePredictJson(out: JsonBytes, outputs: Readonly<Record<string, HostTensor>>, format: JsonPredictFormat): void {
  const names = Object.keys(outputs);
  if (names.length === 0) throw invalidArgument('cannot write an empty set of outputs as JSON');
  const writerOf = (name: string): TensorWriter => new TensorWriter(outputs[name] as HostTensor, isBytesOutput(name, outputs[name] as HostTensor));
  if (format === 'columnar') {
    out.ascii('{"outputs":');
    if (names.length === 1) writerOf(names[0] as string).write(out, 0);
    else writeByName(out, names, names.map(writerOf), 0);
    out.ascii('}');
    return;
  }
  let batch = 0;
  for (const name of names) {
    const size = (outputs[name] as HostTensor).shape[0];
    if (size === undefined) throw invalidArgument(`output ${name} is a scalar; the row format needs a batch dimension`);
    if (size < 1) throw invalidArgument(`output ${name} has invalid batch size ${size}`);
    if (batch !== 0 && size !== batch) throw invalidArgument(`output ${name} has batch size ${size} but another output has ${batch}`);
    batch = size;
  }
  const writers = names.map(writerOf);
  out.ascii('{"predictions":[');
  for (let row = 0; row < batch; row++) {
    if (row > 0) out.byte(COMMA);
    if (names.length === 1) (writers[0] as TensorWriter).write(out, 1);
    else writeByName(out, names, writers, 1);
  }
  out.ascii(']}');
}

/** {"name": value, ...}: each writer's tensor from dimension `dim` on (one row of each, or all of it). */
function writeByName(out: JsonBytes, names: readonly string[], writers: readonly TensorWriter[], dim: number): void {
  out.ascii('{');
  names.forEach((name, i) => {
    if (i > 0) out.byte(COMMA);
    out.text(JSON.stringify(name));
    out.ascii(':');
    (writers[i] as TensorWriter).write(out, dim);
  });
  out.ascii('}');
}

/** A first guess at the body's size, so that it rarely grows: ~10 bytes per number. */
function initialBytes(outputs: Readonly<Record<string, HostTensor>>): number {
  let elements = 0;
  for (const tensor of Object.values(outputs)) elements += elementCount(tensor.shape);
  return Math.min(256 + 10 * elements, 256 * 1024 * 1024);
}

/** One classified example's classes. */
export type JsonClasses = ReadonlyArray<{ readonly label: string; readonly score: number }>;

/** {"results": [[[label, score], ...], ...]} as TF Serving's classify writes it. */
export function encodeClassifyJson(classifications: ReadonlyArray<JsonClasses>): string {
  if (classifications.length === 0) throw invalidArgument('cannot write an empty classification result as JSON');
  const rows = classifications.map(
    (classes) => '[' + classes.map((c) => `[${JSON.stringify(c.label)},${formatFloat32(Math.fround(c.score))}]`).join(',') + ']',
  );
  return `{"results":[${rows.join(',')}]}`;
}

/** {"results": [value, ...]} as TF Serving's regress writes it. */
export function encodeRegressJson(values: ReadonlyArray<number>): string {
  if (values.length === 0) throw invalidArgument('cannot write an empty regression result as JSON');
  return `{"results":[${values.map((v) => formatFloat32(Math.fround(v))).join(',')}]}`;
}
