/**
 * JSON parsing for TF Serving's REST API, which (like its rapidjson parser) must:
 * - keep integers exact beyond 2^53 (int64 inputs): such literals come back as `bigint`;
 * - accept NaN, Infinity and -Infinity as numbers;
 * - for tf.Example values, tell `1.0` (a float feature) from `1` (an int64 feature):
 *   with `markDoubles`, literals written with a fraction or exponent come back as JsonDouble.
 * JSON.parse reads every document first, at native speed; only a document it refuses (NaN or
 * Infinity, or not JSON at all) or whose numbers include an integer beyond 2^53 is read again by
 * the parser below, as is every document with markDoubles.
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

export function parseJson(text: string, options: ParseOptions = {}): unknown {
  if (text.trim() === '') throw invalidArgument('JSON Parse error: The document is empty');
  const exact = (): unknown => new Parser(text, options.markDoubles === true, options.maxDepth ?? 256).document();
  if (options.markDoubles === true) return exact();
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    // NaN and Infinity are JSON to TF Serving; anything else the exact parser refuses too, saying where.
    return exact();
  }
  return holdsInexactInteger(value) ? exact() : value;
}

/**
 * Whether a parsed document has a number that is an integer beyond 2^53: JSON.parse may have
 * rounded its literal, which the exact parser would keep as a bigint. Walks without recursion,
 * since JSON.parse accepts any depth. (A literal such as 1e20 also counts: reading it again
 * costs time, not correctness.)
 */
function holdsInexactInteger(root: unknown): boolean {
  if (typeof root !== 'object' || root === null) return typeof root === 'number' && beyondSafe(root);
  const pending: object[] = [root];
  while (pending.length > 0) {
    const node = pending.pop()!;
    const items: unknown[] = Array.isArray(node) ? node : Object.values(node);
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (typeof item === 'number') {
        if (beyondSafe(item)) return true;
      } else if (typeof item === 'object' && item !== null) pending.push(item);
    }
  }
  return false;
}

/** Every double of this magnitude is an integer, so this is "an integer beyond 2^53" (or infinite). */
const beyondSafe = (n: number): boolean => n > Number.MAX_SAFE_INTEGER || n < -Number.MAX_SAFE_INTEGER;

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

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
    const start = this.pos;
    this.pos += match[0].length;
    const value = Number(match[0]);
    // As rapidjson (TF Serving's parser) refuses it: a literal such as 1e400 is no double, and
    // JSON.parse would have read it as Infinity. (Infinity itself is a literal of its own.)
    if (!Number.isFinite(value)) {
      this.pos = start;
      this.fail('number too large for a double');
    }
    const isDouble = match[1] !== undefined || match[2] !== undefined;
    if (isDouble) return this.markDoubles ? new JsonDouble(value) : value;
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
