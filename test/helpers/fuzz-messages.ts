/**
 * Protobuf messages damaged in meaning but not in form: a valid message is decoded, one to three
 * of its fields are given other values of their kind (another dtype, dimensions of 0 or 10^6,
 * fewer or more values, empty or unknown names), and the result is encoded again. Bytes damaged
 * at random mostly fail to parse; these reach the code behind the parser, TensorFlow included.
 */
import fc from 'fast-check';
import { protoType } from '../../src/server/servables/tensorflow/proto-root.js';

type Path = (string | number)[];

const NUMBERS = [0, -1, 1, 2, 3, 4, 7, 9, 19, 23, 28, 100, 65_536, 1_000_000, 2 ** 31 - 1, -(2 ** 31)];
const STRINGS = ['', 'x', 'y', 'images', 'inputs', 'serving_default', 'predict_images', 'classify', 'regress', 'mnist', 'versioned', 'tiny', 'FP32', 'BYTES', 'INT64', 'FP16', 'DT_FLOAT', '\u0000', 'a'.repeat(300)];

/** Paths of every field value in a message object (repeated fields and their elements too). */
function leaves(value: unknown, at: Path = [], out: Path[] = []): Path[] {
  if (at.length > 0) out.push(at);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return out;
  if (Array.isArray(value)) value.forEach((v, i) => leaves(v, [...at, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) leaves(v, [...at, k], out);
  return out;
}

/** Another value of the same kind as `old`, chosen by `pick` (a random natural number). */
function substitute(old: unknown, pick: number, bytes: Uint8Array): unknown {
  if (Buffer.isBuffer(old) || old instanceof Uint8Array) return Buffer.from(bytes);
  if (Array.isArray(old)) {
    const list = old as unknown[];
    const choice = pick % 4;
    if (choice === 0) return [];
    if (choice === 1) return list.slice(0, Math.max(0, list.length - 1 - (pick % 3)));
    if (choice === 2) return [...list, ...list];
    return list.slice(0, 1);
  }
  if (typeof old === 'number') return NUMBERS[pick % NUMBERS.length];
  if (typeof old === 'string') return /^-?\d+$/.test(old) ? String(NUMBERS[pick % NUMBERS.length]) : STRINGS[pick % STRINGS.length];
  if (typeof old === 'boolean') return !old;
  return undefined; // a whole sub-message dropped
}

function setAt(value: unknown, path: Path, replacement: unknown): void {
  let node = value as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (replacement !== undefined) node[last] = replacement;
  else if (Array.isArray(node)) node.splice(last as number, 1);
  else delete node[last];
}

/** `valid` messages of protobuf type `typeName` with one to three fields given other values. */
export function damagedMessages(typeName: string, valid: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const type = protoType(typeName);
  const options = { longs: String, enums: Number, bytes: Buffer, defaults: false } as const;
  return fc
    .tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.nat(), fc.uint8Array({ maxLength: 48 })), { minLength: 1, maxLength: 3 }))
    .map(([bytes, edits]) => {
      const message = type.toObject(type.decode(bytes), options);
      for (const [where, pick, payload] of edits) {
        const paths = leaves(message);
        if (paths.length === 0) break;
        const path = paths[where % paths.length]!;
        let old: unknown = message;
        for (const key of path) old = (old as Record<string | number, unknown>)[key];
        setAt(message, path, substitute(old, pick, payload));
      }
      return type.encode(type.fromObject(message)).finish();
    });
}
