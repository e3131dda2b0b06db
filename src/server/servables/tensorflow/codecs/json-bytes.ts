/**
 * JSON written straight into UTF-8 bytes, for large responses. Written as strings, a response of
 * 150k float32 values cost ~300 ns per value, most of it making and collecting one small string
 * per value, and then a pass to encode the text as UTF-8. Here numbers go into one growing buffer
 * as digits.
 */
import { float32Decimal, float32TextReference } from './float32-text.js';

const encoder = new TextEncoder();
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
/** Integers below this are written digit by digit; larger ones (not exact as doubles) as JavaScript writes them. */
const EXACT_INTEGERS = 2 ** 53;
const SMALL_INTEGERS = 2 ** 31;

export class JsonBytes {
  private buffer: Uint8Array<ArrayBuffer>;
  private length = 0;
  /** Digits of one number, last first. */
  private readonly scratch = new Uint8Array(24);

  constructor(initialBytes = 256) {
    this.buffer = new Uint8Array(initialBytes);
  }

  /** What was written: a view of the first bytes of the buffer. */
  bytes(): Uint8Array<ArrayBuffer> {
    return this.buffer.subarray(0, this.length);
  }

  /** Bytes the buffer holds now, written or not. */
  get capacity(): number {
    return this.buffer.length;
  }

  /** Starts over, keeping the buffer. */
  reset(): this {
    this.length = 0;
    return this;
  }

  byte(code: number): void {
    this.reserve(1);
    this.buffer[this.length++] = code;
  }

  /** Text known to be ASCII: punctuation, numbers written by JavaScript, base64. */
  ascii(text: string): void {
    this.reserve(text.length);
    for (let i = 0; i < text.length; i++) this.buffer[this.length++] = text.charCodeAt(i);
  }

  /** Any text, as UTF-8 (at most 3 bytes per UTF-16 unit). */
  text(text: string): void {
    this.reserve(3 * text.length);
    this.length += encoder.encodeInto(text, this.buffer.subarray(this.length)).written;
  }

  /** An integer as JSON: digit by digit when exact, else as JavaScript writes it. */
  integer(value: number): void {
    if (!(Math.abs(value) < EXACT_INTEGERS)) {
      this.ascii(String(value));
      return;
    }
    if (value < 0) this.byte(MINUS);
    this.digits(Math.abs(value), 0);
  }

  /** A float32 as TF Serving writes it (float32-text.ts): the text of float32TextReference. */
  float32(value: number): void {
    if (Number.isInteger(value)) {
      // String(-0) is "0".
      if (value === 0) this.byte(ZERO);
      else this.integer(value);
      return;
    }
    const decimal = float32Decimal(value);
    if (decimal === undefined) {
      this.ascii(float32TextReference(value));
      return;
    }
    if (value < 0) this.byte(MINUS);
    this.digits(decimal.scaled, decimal.decimals);
  }

  /** scaled * 10^-decimals in fixed notation, trailing zeros of the fraction dropped. */
  private digits(scaled: number, decimals: number): void {
    let count = 0;
    if (scaled < SMALL_INTEGERS) {
      // Integer division in 32 bits: the common case (float32 digits are at most 10^9).
      for (let rest = scaled | 0; rest > 0 || count <= decimals; ) {
        const tenth = (rest / 10) | 0;
        this.scratch[count++] = ZERO + rest - 10 * tenth;
        rest = tenth;
      }
    } else {
      for (let rest = scaled; rest > 0 || count <= decimals; rest = Math.floor(rest / 10)) this.scratch[count++] = ZERO + (rest % 10);
    }
    // scratch[0] is the last decimal; skip the fraction's trailing zeros.
    let last = 0;
    while (last < decimals && this.scratch[last] === ZERO) last++;
    this.reserve(count + 1);
    for (let i = count - 1; i >= decimals; i--) this.buffer[this.length++] = this.scratch[i]!;
    if (last === decimals) return;
    this.buffer[this.length++] = DOT;
    for (let i = decimals - 1; i >= last; i--) this.buffer[this.length++] = this.scratch[i]!;
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(2 * this.buffer.length, this.length + bytes));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }
}
