/**
 * A fast path for the REST predict bodies that carry one dense tensor of numbers, the shape of
 * most large requests (an image): `{"instances": [[[...]]]}` or `{"inputs": [...]}`, optionally
 * with `"signature_name"`. Any other body, or anything unusual in one, is left to the general path
 * (parseJsonBody + decodePredictJson), which also words every error: this path gives the same
 * tensors or steps aside, it never refuses a request itself.
 *
 * Why: JSON.parse spent most of a 3 MB image body converting 17-digit decimals (numpy float32
 * values written as doubles) to exactly rounded doubles, and the decoder then walked 50k small
 * arrays. This reads the bytes once into a flat list of doubles. A literal of at most 15 digits
 * (times a power of ten up to 22) converts exactly with one operation; a longer one is
 * approximated within 2^-46 relative. A float32 input needs only that approximation: the float32
 * it rounds to is exact whenever the whole error interval rounds to the same float32 (all but
 * ~2^-22 of random values, and every value that is itself a float32). Everything else is
 * converted exactly from its literal.
 */
import { DTYPES, type DType, type HostTensor } from '../../../core/host-tensor.js';
import type { TensorInfo } from '../../../core/signature.js';
import { checkCount, tensorFromJsonElements, type JsonPredictInputs } from './json-tensor.js';
import type { TensorLimits } from './tensor-proto.js';

/** How a value was read: exactly, approximately (long mantissa), or not at all (kept as its literal). */
const EXACT = 0;
const APPROXIMATE = 1;
const LITERAL = 2;

/** A list of numbers read from a body: its shape and its values in row-major order. */
export interface NumberList {
  readonly shape: number[];
  readonly count: number;
  /** The values in row-major order: exact, or approximate / NaN as `kinds` says. */
  readonly values: Float64Array;
  readonly kinds: Uint8Array;
  /** Where each value's literal starts in the body, for exact conversion when needed. */
  readonly starts: Int32Array;
  readonly bytes: Uint8Array;
}

export interface DenseJsonBody extends NumberList {
  readonly signatureName: string | undefined;
  readonly format: 'row' | 'columnar';
}

// 10^0 .. 10^22: every one is a double exactly.
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
/** Relative error bound of an approximate value, with margin: at most 40 digits, each step adding ~2^-52. */
const APPROXIMATION_ERROR = 2 ** -44;
const MAX_APPROXIMATE_DIGITS = 40;
const MAX_DEPTH = 64;
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const isDigit = (c: number): boolean => c >= ZERO && c <= NINE;

/** Thrown inside the reader when the body is not one this path takes. */
class NotDense extends Error {}
function notDense(): never {
  throw new NotDense();
}

/** The body as one dense tensor of numbers, or undefined when it is not one (the general path decides then). */
export function readDenseJsonBody(bytes: Uint8Array): DenseJsonBody | undefined {
  try {
    return new DenseReader(bytes).body();
  } catch (error) {
    if (error instanceof NotDense) return undefined;
    throw error;
  }
}

/** The rectangular list of numbers that starts at `start` in `bytes`, or undefined when that is not one. */
export function readNumberList(bytes: Uint8Array, start: number): (NumberList & { readonly end: number }) | undefined {
  try {
    return new DenseReader(bytes, start).numberList();
  } catch (error) {
    if (error instanceof NotDense) return undefined;
    throw error;
  }
}

/**
 * The predict inputs of a dense body for a signature with one input, the same as the general
 * path decodes; undefined when that needs the general path (several inputs, an integer beyond
 * 2^53 or a literal of many digits for an integer dtype).
 */
export function decodeDenseJsonBody(dense: DenseJsonBody, signatureInputs: Readonly<Record<string, TensorInfo>>, limits: TensorLimits): JsonPredictInputs | undefined {
  const names = Object.keys(signatureInputs);
  if (names.length !== 1) return undefined;
  const name = names[0]!;
  const info = signatureInputs[name]!;
  if (DTYPES[info.dtype] === undefined) return undefined;
  checkCount(dense.shape, limits, name);
  const values = resolvedValues(dense, info.dtype);
  if (values === undefined) return undefined;
  const tensor: HostTensor = tensorFromJsonElements(values, info.dtype, dense.shape, name);
  return { format: dense.format, inputs: { [name]: tensor } };
}

/**
 * Values that store as the general path's would for this dtype; undefined if one cannot be had
 * here. Resolves in place: a body is decoded once.
 */
export function resolvedValues(dense: NumberList, dtype: DType): Float64Array | undefined {
  const { values, kinds, count } = dense;
  const float32 = dtype === 'DT_FLOAT';
  const exactOnly = !float32 && dtype !== 'DT_DOUBLE';
  for (let i = 0; i < count; i++) {
    const kind = kinds[i];
    if (kind === EXACT) continue;
    // An integer dtype would show (or keep, as int64) the literal's exact value.
    if (exactOnly) return undefined;
    if (float32 && kind === APPROXIMATE) {
      const value = values[i]!;
      const margin = Math.abs(value) * APPROXIMATION_ERROR;
      if (Math.fround(value - margin) === Math.fround(value + margin)) continue;
    }
    values[i] = literalValue(dense, i);
    // A literal beyond a double's range: the general path refuses it, with the words.
    if (!Number.isFinite(values[i]!)) return undefined;
  }
  return values.subarray(0, count);
}

/** The bytes a number literal is made of. */
const LITERAL_BYTES = new Set([...'-+.eE0123456789'].map((c) => c.charCodeAt(0)));

/** The exactly rounded double of a value's literal, as JSON.parse reads it. */
function literalValue(dense: NumberList, i: number): number {
  let text = '';
  for (let k = dense.starts[i]!; k < dense.bytes.length && LITERAL_BYTES.has(dense.bytes[k]!); k++) text += String.fromCharCode(dense.bytes[k]!);
  return Number(text);
}

class DenseReader {
  private pos = 0;
  private count = 0;
  // Allocated with the first number (most bodies that are not dense never reach one), sized for
  // literals of ~16 bytes (float32 values written as doubles), grown when shorter.
  private values = new Float64Array(0);
  private kinds = new Uint8Array(0);
  private starts = new Int32Array(0);

  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
  ) {
    this.pos = start;
  }

  body(): DenseJsonBody {
    this.space();
    this.expect(OPEN_BRACE);
    let signatureName: string | undefined;
    let format: 'row' | 'columnar' | undefined;
    let shape: number[] | undefined;
    const seen = new Set<string>();
    for (;;) {
      this.space();
      const key = this.key();
      if (seen.has(key)) notDense();
      seen.add(key);
      this.space();
      this.expect(COLON);
      this.space();
      if (key === 'signature_name') signatureName = this.string();
      else if (key === 'instances' || key === 'inputs') {
        format = key === 'instances' ? 'row' : 'columnar';
        shape = this.denseArray();
      } else notDense();
      this.space();
      if (this.peek() === COMMA) {
        this.pos++;
        continue;
      }
      this.expect(CLOSE_BRACE);
      break;
    }
    this.space();
    if (this.pos !== this.bytes.length || format === undefined || shape === undefined || (seen.has('instances') && seen.has('inputs'))) notDense();
    const { count, values, kinds, starts, bytes } = this;
    return { signatureName, format, shape, count, values, kinds, starts, bytes };
  }

  private peek(): number {
    return this.pos < this.bytes.length ? this.bytes[this.pos]! : -1;
  }

  private expect(byte: number): void {
    if (this.peek() !== byte) notDense();
    this.pos++;
  }

  private space(): void {
    const { bytes } = this;
    let c = bytes[this.pos];
    while (c === SPACE || c === LF || c === CR || c === TAB) c = bytes[++this.pos];
  }

  /** An object key of plain ASCII without escapes (any other goes to the general path). */
  private key(): string {
    this.expect(QUOTE);
    let key = '';
    for (let c = this.peek(); c !== QUOTE; c = this.peek()) {
      if (c < SPACE || c >= 0x7f || c === BACKSLASH) notDense();
      key += String.fromCharCode(c);
      this.pos++;
    }
    this.pos++;
    return key;
  }

  /** A JSON string, read as the general path reads it (escapes, and invalid UTF-8 as U+FFFD). */
  private string(): string {
    const start = this.pos;
    this.expect(QUOTE);
    for (let c = this.peek(); c !== QUOTE; c = this.peek()) {
      if (c === -1 || c < SPACE) notDense();
      this.pos += c === BACKSLASH ? 2 : 1;
    }
    this.pos++;
    try {
      return JSON.parse(utf8.decode(this.bytes.subarray(start, this.pos))) as string;
    } catch {
      return notDense();
    }
  }

  /** The list at the reader's place (see denseArray), and where it ends. */
  numberList(): NumberList & { readonly end: number } {
    const shape = this.denseArray();
    const { count, values, kinds, starts, bytes } = this;
    return { shape, count, values, kinds, starts, bytes, end: this.pos };
  }

  /**
   * A non-empty rectangular list of lists ... of numbers: its shape (following first elements, as
   * the general path does), with its numbers appended in row-major order.
   */
  private denseArray(): number[] {
    const shape: number[] = [];
    const lengths: number[] = [];
    let rank = -1;
    let depth = 0;
    for (;;) {
      // At the start of an element of the list at `depth` (0: not in a list yet).
      const c = this.peek();
      if (c === OPEN_BRACKET) {
        if ((rank !== -1 && depth >= rank) || depth >= MAX_DEPTH) notDense();
        this.pos++;
        lengths[depth++] = 0;
        this.space();
        if (this.peek() === CLOSE_BRACKET) notDense();
        continue;
      }
      if (depth === 0) notDense();
      if (rank === -1) rank = depth;
      else if (depth !== rank) notDense();
      // A list of numbers, read in one loop: most of a body is these.
      lengths[depth - 1] = this.numbers();
      // After a list's last element: more of its parent, or its end (and maybe the parent's).
      for (;;) {
        this.expect(CLOSE_BRACKET);
        // The first list to close at a depth is the first element's: it sets the length there.
        const length = lengths[depth - 1]!;
        const known = shape[depth - 1];
        if (known === undefined) shape[depth - 1] = length;
        else if (known !== length) notDense();
        depth--;
        if (depth === 0) return shape;
        this.space();
        lengths[depth - 1]!++;
        if (this.peek() === COMMA) {
          this.pos++;
          this.space();
          break;
        }
      }
    }
  }

  /** The numbers of a list up to (not past) its closing bracket: how many. */
  private numbers(): number {
    const { bytes } = this;
    let count = 0;
    for (;;) {
      this.number();
      count++;
      let i = this.pos;
      let c = bytes[i];
      while (c === SPACE || c === LF || c === CR || c === TAB) c = bytes[++i];
      if (c !== COMMA) {
        this.pos = i;
        return count;
      }
      c = bytes[++i];
      while (c === SPACE || c === LF || c === CR || c === TAB) c = bytes[++i];
      this.pos = i;
    }
  }

  /** A JSON number: its value exactly, approximately, or only its literal's place. */
  private number(): void {
    const { bytes } = this;
    const length = bytes.length;
    const start = this.pos;
    let i = start;
    const negative = i < length && bytes[i] === MINUS;
    if (negative) i++;
    // Integer part: 0, or digits not starting with 0 (leading zeros are not JSON).
    if (i >= length || !isDigit(bytes[i]!)) notDense();
    let mantissa = 0;
    let digits = 0;
    if (bytes[i] === ZERO) {
      i++;
      if (i < length && isDigit(bytes[i]!)) notDense();
    } else {
      for (; i < length; i++) {
        const c = bytes[i]!;
        if (c < ZERO || c > NINE) break;
        mantissa = mantissa * 10 + (c - ZERO);
        digits++;
      }
    }
    let fractionDigits = 0;
    if (i < length && bytes[i] === DOT) {
      i++;
      if (i >= length || !isDigit(bytes[i]!)) notDense();
      for (; i < length; i++) {
        const c = bytes[i]!;
        if (c < ZERO || c > NINE) break;
        mantissa = mantissa * 10 + (c - ZERO);
        fractionDigits++;
      }
      digits += fractionDigits;
    }
    let exponent = 0;
    if (i < length && (bytes[i] === 0x65 || bytes[i] === 0x45)) {
      i++;
      let sign = 1;
      if (i < length && (bytes[i] === MINUS || bytes[i] === PLUS)) sign = bytes[i++] === MINUS ? -1 : 1;
      if (i >= length || !isDigit(bytes[i]!)) notDense();
      for (; i < length; i++) {
        const c = bytes[i]!;
        if (c < ZERO || c > NINE) break;
        if (exponent < 1e6) exponent = exponent * 10 + (c - ZERO);
      }
      exponent *= sign;
    }
    this.pos = i;
    const power = exponent - fractionDigits;
    let kind = LITERAL;
    let value = NaN;
    if (mantissa === 0) {
      kind = EXACT;
      value = 0;
    } else if (power >= -22 && power <= 22 && digits <= MAX_APPROXIMATE_DIGITS) {
      // One operation on exact operands is exactly rounded: exact while the mantissa is (<= 15 digits).
      kind = digits <= 15 ? EXACT : APPROXIMATE;
      value = power >= 0 ? mantissa * POWERS_OF_TEN[power]! : mantissa / POWERS_OF_TEN[-power]!;
    }
    if (this.count === this.values.length) this.grow();
    const k = this.count++;
    this.values[k] = negative ? -value : value;
    this.kinds[k] = kind;
    this.starts[k] = start;
  }

  private grow(): void {
    const size = this.values.length === 0 ? Math.max(1024, this.bytes.length >> 4) : this.values.length * 2;
    const values = new Float64Array(size);
    values.set(this.values);
    const kinds = new Uint8Array(size);
    kinds.set(this.kinds);
    const starts = new Int32Array(size);
    starts.set(this.starts);
    Object.assign(this, { values, kinds, starts });
  }
}
