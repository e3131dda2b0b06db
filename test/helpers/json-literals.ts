/** JSON number literals of every form, for the tests of readers that parse numbers themselves. */
import fc from 'fast-check';

/** Number literals of every form JSON allows, weighted towards the ones the fast path approximates. */
export const numberLiteral: fc.Arbitrary<string> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  fc.float({ noNaN: true, noDefaultInfinity: true }).map((f) => JSON.stringify(f)), // float32 values as doubles (numpy)
  fc.integer({ min: 0, max: 1000 }).map((k) => JSON.stringify(Math.fround(k / 1000))),
  fc.integer({ min: -300, max: 300 }),
  fc.stringMatching(/^-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][+-]?[0-9]{1,3})?$/),
  // Decimals halfway between two float32 values: the fast path must convert these exactly.
  fc.float({ min: Math.fround(1e-30), max: Math.fround(1e30), noNaN: true }).map((f) => {
    const next = new Float32Array([f]);
    const bits = new Uint32Array(next.buffer);
    bits[0]! += 1;
    return ((f + next[0]!) / 2).toPrecision(17);
  }),
  fc.constantFrom('-0', '0', '0.0', '1E+2', '1e-400', '1e400', '9007199254740993', '-9223372036854775808', '18446744073709551615', '123456789012345678901234567890'),
).map(String);

