/**
 * Shared settings and input makers for the property and fuzz tests. Each run explores new random
 * inputs; a failure prints the seed and path that reproduce it. TENSORFLEET_FUZZ_SEED replays a
 * seed, TENSORFLEET_FUZZ_RUNS sets how many inputs each property tries (default 300) for a deeper
 * search by hand.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { DTYPES, elementCount, type HostTensor } from '../../src/server/core/host-tensor.js';

export function fuzzParameters(defaultRuns = 300): fc.Parameters<unknown> {
  const seed = process.env.TENSORFLEET_FUZZ_SEED;
  const runs = Number(process.env.TENSORFLEET_FUZZ_RUNS ?? defaultRuns);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`TENSORFLEET_FUZZ_RUNS must be a positive integer, got ${process.env.TENSORFLEET_FUZZ_RUNS}`);
  return { numRuns: runs, ...(seed === undefined ? {} : { seed: Number(seed) }) };
}

type Edit =
  | { kind: 'set'; at: number; value: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'repeat'; at: number; length: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x00, 0x7f, 0x80, 0xff)) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 32 }) }),
);

function applyEdit(bytes: Uint8Array, e: Edit): Uint8Array {
  if (bytes.length === 0) return e.kind === 'insert' ? e.bytes : bytes;
  const at = e.at % bytes.length;
  const before = bytes.subarray(0, at);
  switch (e.kind) {
    case 'set': {
      const out = Uint8Array.from(bytes);
      out[at] = e.value;
      return out;
    }
    case 'delete':
      return Buffer.concat([before, bytes.subarray(at + e.length)]);
    case 'insert':
      return Buffer.concat([before, e.bytes, bytes.subarray(at)]);
    case 'repeat':
      return Buffer.concat([bytes.subarray(0, at + e.length), bytes.subarray(at)]);
  }
}

/** Valid messages damaged by one to four random edits: byte changes, cuts, insertions, repeats. */
export function damagedBytes(valid: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.constantFrom(...valid), fc.array(edit, { minLength: 1, maxLength: 4 }))
    .map(([bytes, edits]) => edits.reduce(applyEdit, bytes));
}

/** Valid texts with zero to four of `tokens` inserted, or characters deleted, at random places. */
export function damagedText(valid: fc.Arbitrary<string>, tokens: readonly string[], extra: fc.Arbitrary<string> = fc.constant('')): fc.Arbitrary<string> {
  const piece = fc.oneof(fc.constantFrom(...tokens), extra);
  return fc.tuple(valid, fc.array(fc.tuple(fc.nat(), piece, fc.boolean()), { maxLength: 4 })).map(([text, edits]) =>
    edits.reduce((t, [at, inserted, remove]) => {
      const i = t.length === 0 ? 0 : at % t.length;
      return remove ? t.slice(0, i) + t.slice(i + 1) : t.slice(0, i) + inserted + t.slice(i);
    }, text),
  );
}

/** Damaged valid messages and, a fifth of the time, plain random bytes. */
export function hostileBytes(valid: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof({ weight: 4, arbitrary: damagedBytes(valid) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) });
}

/** Each tensor's bytes or strings match its shape: TensorFlow trusts what it is given. */
export function expectWellFormedTensors(tensors: Readonly<Record<string, HostTensor>>): void {
  for (const [name, t] of Object.entries(tensors)) {
    const count = elementCount(t.shape);
    expect(t.shape.every((d) => Number.isSafeInteger(d) && d >= 0), `${name} shape ${t.shape.join(',')}`).toBe(true);
    if (t.dtype === 'DT_STRING') expect(t.strings.length, name).toBe(count);
    else expect(t.bytes.byteLength, name).toBe(count * DTYPES[t.dtype].width);
  }
}
