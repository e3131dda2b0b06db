/**
 * JSON parsing for TF Serving's REST API, which (like its rapidjson parser) must:
 * - keep integers exact beyond 2^53 (int64 inputs): such literals come back as `bigint`;
 * - accept NaN, Infinity and -Infinity as numbers;
 * - for tf.Example values, tell `1.0` (a float feature) from `1` (an int64 feature):
 *   with `markDoubles`, literals written with a fraction or exponent come back as JsonDouble.
 * JSON.parse is used whenever none of that can matter (no integer part of 16+ digits, no NaN/Infinity,
 * no markDoubles), so ordinary requests parse at native speed.
 */
import { invalidArgument } from '../../../../shared/errors.js';

/** A number literal written with a fraction or exponent (only with markDoubles). */
export class JsonDouble {
  constructor(readonly value: number) {}
}

export interface ParseOptions {
  readonly markDoubles?: boolean;
  /** Deepest nesting accepted (default 256). */
  readonly maxDepth?: number;
}

// An integer part of 16+ digits (a fraction's digits do not count), or a non-finite literal.
const NEEDS_EXACT_PARSER = /(?<![\w.+-])-?\d{16}|NaN|Infinity/;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

export function parseJson(text: string, options: ParseOptions = {}): unknown {
  if (text.trim() === '') throw invalidArgument('JSON Parse error: The document is empty');
  if (options.markDoubles !== true && !NEEDS_EXACT_PARSER.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw invalidArgument(`JSON Parse error: ${(error as Error).message}`);
    }
  }
  return new Parser(text, options.markDoubles === true, options.maxDepth ?? 256).document();
}

class Parser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly markDoubles: boolean,
    private readonly maxDepth: number,
  ) {}

  document(): unknown {
    const value = this.value(0);
    this.space();
    if (this.pos !== this.text.length) this.fail('unexpected text after the JSON value');
    return value;
  }

  private fail(what: string): never {
    throw invalidArgument(`JSON Parse error: ${what} at offset ${this.pos}`);
  }

  private space(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  private value(depth: number): unknown {
    if (depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    this.space();
    const t = this.text;
    const c = t[this.pos];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    for (const [word, value] of LITERALS) {
      if (t.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    return this.number();
  }

  private object(depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.pos++;
    this.space();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.space();
      if (this.text[this.pos] !== '"') this.fail('expected a string key');
      const key = this.string();
      this.space();
      if (this.text[this.pos] !== ':') this.fail("expected ':'");
      this.pos++;
      // defineProperty: a "__proto__" key must stay data, as with JSON.parse.
      Object.defineProperty(out, key, { value: this.value(depth + 1), enumerable: true, writable: true, configurable: true });
      this.space();
      const c = this.text[this.pos++];
      if (c === '}') return out;
      if (c !== ',') this.fail("expected ',' or '}'");
    }
  }

  private array(depth: number): unknown[] {
    const out: unknown[] = [];
    this.pos++;
    this.space();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.space();
      const c = this.text[this.pos++];
      if (c === ']') return out;
      if (c !== ',') this.fail("expected ',' or ']'");
    }
  }

  private string(): string {
    const t = this.text;
    const start = this.pos;
    let i = start + 1;
    for (;;) {
      if (i >= t.length) this.fail('unterminated string');
      const c = t.charCodeAt(i);
      if (c === 0x22) break;
      i += c === 0x5c ? 2 : 1;
    }
    this.pos = i + 1;
    try {
      return JSON.parse(t.slice(start, i + 1)) as string;
    } catch {
      return this.fail('invalid string');
    }
  }

  private number(): unknown {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (match === null) this.fail('unexpected character');
    this.pos += match[0].length;
    const isDouble = match[1] !== undefined || match[2] !== undefined;
    if (isDouble) {
      const value = Number(match[0]);
      return this.markDoubles ? new JsonDouble(value) : value;
    }
    const value = Number(match[0]);
    return Number.isSafeInteger(value) ? value : BigInt(match[0]);
  }
}

const LITERALS: ReadonlyArray<readonly [string, unknown]> = [
  ['true', true],
  ['false', false],
  ['null', null],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-Infinity', Number.NEGATIVE_INFINITY],
];
