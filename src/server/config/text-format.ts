import { invalidArgument } from '../../shared/errors.js';
import { setOwnEntry } from '../../shared/own-entry.js';

/**
 * A small reader for protobuf *text format*, enough for TensorFlow Serving's `ModelServerConfig`
 * files (`model_config_list { config { name: "x" ... } }`). It knows no schema: it turns the text
 * into plain objects shaped like our YAML config, so one validator checks both formats.
 *
 * Schema knowledge needed to build that shape is kept to three facts about the message:
 * - `config`, `versions`, `variants` and `allowed_batch_sizes` (BatchingParameters) are repeated
 *   (always arrays, even with one element);
 * - `version_labels` is a map, written as repeated `{ key: ... value: ... }` entries;
 * - `model_config_list` holds its models under `config`, which we flatten into the list itself.
 */
const REPEATED_FIELDS = new Set(['config', 'versions', 'variants', 'allowed_batch_sizes']);
const MAP_FIELDS = new Set(['version_labels']);

type Scalar = string | number | boolean;
type TextValue = Scalar | TextMessage;
interface TextMessage {
  readonly fields: Array<{ readonly name: string; readonly value: TextValue; readonly line: number }>;
}

interface Token {
  readonly kind: 'ident' | 'string' | 'number' | 'punct';
  readonly text: string;
  readonly line: number;
}

function tokenize(text: string, what: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  const fail = (message: string): never => {
    throw invalidArgument(`${what} (text format) line ${line}: ${message}`);
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line += 1;
      i += 1;
    } else if (/\s/.test(c)) {
      i += 1;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i += 1;
    } else if ('{}<>:;,[]'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, line });
      i += 1;
    } else if (c === '"' || c === "'") {
      let value = '';
      i += 1;
      for (;;) {
        if (i >= text.length || text[i] === '\n') fail('unterminated string');
        const d = text[i]!;
        if (d === c) break;
        if (d === '\\') {
          const e = text[i + 1];
          const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };
          if (e === undefined || escapes[e] === undefined) fail(`unsupported escape \\${e ?? ''}`);
          value += escapes[e!]!;
          i += 2;
        } else {
          value += d;
          i += 1;
        }
      }
      i += 1;
      // Adjacent string literals concatenate, as in C.
      const last = tokens[tokens.length - 1];
      if (last?.kind === 'string') tokens[tokens.length - 1] = { ...last, text: last.text + value };
      else tokens.push({ kind: 'string', text: value, line });
    } else if (/[-+0-9.]/.test(c)) {
      const m = /^[-+]?(?:0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)[fF]?/.exec(text.slice(i));
      if (!m) fail(`unexpected character '${c}'`);
      tokens.push({ kind: 'number', text: m![0], line });
      i += m![0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i))!;
      tokens.push({ kind: 'ident', text: m[0], line });
      i += m[0].length;
    } else {
      fail(`unexpected character '${c}'`);
    }
  }
  return tokens;
}

function parseMessage(tokens: Token[], start: number, close: string | undefined, what: string): { message: TextMessage; next: number } {
  const fields: TextMessage['fields'] = [];
  let i = start;
  const at = (k: number): Token | undefined => tokens[k];
  const fail = (message: string, token: Token | undefined): never => {
    const where = token ? `line ${token.line}` : 'end of input';
    throw invalidArgument(`${what} (text format) ${where}: ${message}`);
  };
  for (;;) {
    const t = at(i);
    if (t === undefined) {
      if (close !== undefined) fail(`missing '${close}'`, t);
      return { message: { fields }, next: i };
    }
    if (t.kind === 'punct' && t.text === close) return { message: { fields }, next: i + 1 };
    if (t.kind === 'punct' && (t.text === ';' || t.text === ',')) {
      i += 1;
      continue;
    }
    if (t.kind !== 'ident') fail(`expected a field name, found '${t.text}'`, t);
    const name = t.text;
    i += 1;
    let colon = false;
    if (at(i)?.kind === 'punct' && at(i)?.text === ':') {
      colon = true;
      i += 1;
    }
    const v = at(i);
    if (v?.kind === 'punct' && (v.text === '{' || v.text === '<')) {
      const parsed = parseMessage(tokens, i + 1, v.text === '{' ? '}' : '>', what);
      fields.push({ name, value: parsed.message, line: t.line });
      i = parsed.next;
    } else if (v?.kind === 'punct' && v.text === '[' && colon) {
      // Short repeated form: `versions: [1, 2]`.
      i += 1;
      while (!(at(i)?.kind === 'punct' && at(i)?.text === ']')) {
        const e = at(i);
        if (e === undefined) fail(`missing ']'`, e);
        if (e!.kind === 'punct' && e!.text === ',') {
          i += 1;
          continue;
        }
        fields.push({ name, value: scalarOf(e!, fail), line: e!.line });
        i += 1;
      }
      i += 1;
    } else {
      if (!colon) fail(`expected ':' or '{' after '${name}'`, v);
      if (v === undefined || v.kind === 'punct') fail(`expected a value for '${name}'`, v);
      let value = scalarOf(v!, fail);
      i += 1;
      // Adjacent string literals are one string, as in C (how PEM text is written line by line).
      while (typeof value === 'string' && v!.kind === 'string' && at(i)?.kind === 'string') value += at(i++)!.text;
      fields.push({ name, value, line: v!.line });
    }
  }
}

function scalarOf(t: Token, fail: (message: string, token: Token) => never): Scalar {
  if (t.kind === 'string') return t.text;
  if (t.kind === 'number') {
    const n = Number(t.text.replace(/[fF]$/, ''));
    if (!Number.isFinite(n)) fail(`bad number '${t.text}'`, t);
    return n;
  }
  if (t.kind === 'ident') {
    if (t.text === 'true' || t.text === 'True') return true;
    if (t.text === 'false' || t.text === 'False') return false;
    return t.text; // an enum value
  }
  return fail(`unexpected '${t.text}'`, t);
}

/**
 * Text format → plain object (see the file comment). Throws INVALID_ARGUMENT on syntax errors,
 * naming `what` was being read.
 */
export function parseTextFormat(text: string, what = 'model config'): Record<string, unknown> {
  const { message } = parseMessage(tokenize(text, what), 0, undefined, what);
  return toPlain(message, undefined);
}

function toPlain(message: TextMessage, parentField: string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { name, value } of message.fields) {
    if (MAP_FIELDS.has(name)) {
      const entry = typeof value === 'object' ? toPlain(value, name) : {};
      const map = (out[name] ??= {}) as Record<string, unknown>;
      // A malformed entry keeps its raw shape under a recognisable key so the validator reports it.
      if (typeof entry.key === 'string' && Object.keys(entry).every((k) => k === 'key' || k === 'value')) {
        setOwnEntry(map, entry.key, entry.value);
      } else {
        map[`<entry ${Object.keys(map).length}>`] = entry;
      }
      continue;
    }
    const plain = typeof value === 'object' ? toPlain(value, name) : value;
    if (REPEATED_FIELDS.has(name)) {
      ((out[name] ??= []) as unknown[]).push(plain);
    } else if (Object.hasOwn(out, name)) {
      // A repeated singular field: keep both so the validator can name the duplicate.
      setOwnEntry(out, `${name} (repeated)`, plain);
    } else {
      setOwnEntry(out, name, plain);
    }
  }
  // `model_config_list { config {...} config {...} }` → `model_config_list: [...]`.
  if (parentField === undefined && isRecord(out.model_config_list)) {
    const list = out.model_config_list;
    if (Object.keys(list).every((k) => k === 'config')) out.model_config_list = list.config ?? [];
  }
  return out;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
