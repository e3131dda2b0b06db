/**
 * How a shadow's outputs compare with the primary's, for the shadow metrics and logs. Pure.
 */
import type { HostTensor, NumericHostTensor, StringHostTensor } from '../core/host-tensor.js';
import { invalidArgument } from '../../shared/errors.js';
import { decodeNumbers, type DecodedNumbers } from './tensor-numbers.js';

export interface OutputComparison {
  /** Same output names, dtypes and shapes; numbers within tolerance; strings and bools equal. */
  readonly agree: boolean;
  /**
   * The largest absolute difference between corresponding numeric elements (0 when there are
   * none). Infinity when the outputs differ in a way with no numeric distance: a missing output,
   * another dtype or shape, a different string or bool, NaN against a number.
   */
  readonly maxAbsDiff: number;
  /** The first disagreement found (outputs in name order), for a log line. */
  readonly mismatch?: string;
}

/**
 * Compares two sets of named outputs. `tolerance` is absolute: elements agree when
 * |primary - shadow| <= tolerance (two NaNs agree; equal infinities agree). 64-bit integers are
 * compared exactly as BigInt. Throws INVALID_ARGUMENT for a negative or NaN tolerance.
 */
export function compareOutputs(
  primary: Readonly<Record<string, HostTensor>>,
  shadow: Readonly<Record<string, HostTensor>>,
  tolerance: number,
): OutputComparison {
  if (!(tolerance >= 0)) throw invalidArgument(`shadow tolerance must be a number >= 0, got ${tolerance}`);
  let maxAbsDiff = 0;
  let mismatch: string | undefined;
  const note = (message: string): void => {
    mismatch ??= message;
  };

  const names = [...new Set([...Object.keys(primary), ...Object.keys(shadow)])].sort();
  for (const name of names) {
    const p = primary[name];
    const s = shadow[name];
    if (p === undefined || s === undefined) {
      maxAbsDiff = Infinity;
      note(p === undefined ? `output "${name}" is only in the shadow` : `output "${name}" is missing from the shadow`);
      continue;
    }
    if (p.dtype !== s.dtype) {
      maxAbsDiff = Infinity;
      note(`output "${name}" is ${p.dtype} in the primary but ${s.dtype} in the shadow`);
      continue;
    }
    if (!sameShape(p.shape, s.shape)) {
      maxAbsDiff = Infinity;
      note(`output "${name}" has shape [${p.shape.join(',')}] in the primary but [${s.shape.join(',')}] in the shadow`);
      continue;
    }
    const result =
      p.dtype === 'DT_STRING'
        ? compareStrings(p, s as StringHostTensor)
        : compareNumbers(p, s as NumericHostTensor, tolerance);
    if (result.maxAbsDiff > maxAbsDiff || Number.isNaN(result.maxAbsDiff)) maxAbsDiff = result.maxAbsDiff;
    if (result.mismatch !== undefined) note(`output "${name}" ${result.mismatch}`);
  }
  return mismatch === undefined ? { agree: true, maxAbsDiff } : { agree: false, maxAbsDiff, mismatch };
}

interface TensorResult {
  readonly maxAbsDiff: number;
  readonly mismatch?: string;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function compareStrings(p: StringHostTensor, s: StringHostTensor): TensorResult {
  if (p.strings.length !== s.strings.length) {
    return { maxAbsDiff: Infinity, mismatch: `has ${p.strings.length} strings in the primary but ${s.strings.length} in the shadow` };
  }
  for (let i = 0; i < p.strings.length; i++) {
    if (!Buffer.from(p.strings[i]!).equals(s.strings[i]!)) {
      return { maxAbsDiff: Infinity, mismatch: `element ${i} differs (strings are compared exactly)` };
    }
  }
  return { maxAbsDiff: 0 };
}

function compareNumbers(p: NumericHostTensor, s: NumericHostTensor, tolerance: number): TensorResult {
  let a: DecodedNumbers;
  let b: DecodedNumbers;
  try {
    a = decodeNumbers(p);
  } catch (error) {
    return { maxAbsDiff: Infinity, mismatch: `in the primary ${(error as Error).message}` };
  }
  try {
    b = decodeNumbers(s);
  } catch (error) {
    return { maxAbsDiff: Infinity, mismatch: `in the shadow ${(error as Error).message}` };
  }
  if (a.kind === 'bigint' && b.kind === 'bigint') return compareBigInts(a.values, b.values, tolerance);
  if (a.kind === 'float' && b.kind === 'float') {
    return p.dtype === 'DT_BOOL' ? compareExact(a.values, b.values) : compareFloats(a.values, b.values, tolerance);
  }
  // Same dtype decodes to the same kind; kept total for the type checker.
  return { maxAbsDiff: Infinity, mismatch: 'could not be decoded alike' };
}

function compareFloats(a: Float64Array, b: Float64Array, tolerance: number): TensorResult {
  let max = 0;
  let mismatch: string | undefined;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    // Equal values (equal infinities too) and two NaNs agree; NaN against a number, or unequal
    // infinities, have no finite distance.
    const diff = x === y || (Number.isNaN(x) && Number.isNaN(y)) ? 0 : Number.isNaN(x - y) ? Infinity : Math.abs(x - y);
    if (diff > max) max = diff;
    if (diff > tolerance && mismatch === undefined) {
      mismatch = `element ${i} differs by ${diff} (primary ${x}, shadow ${y}; tolerance ${tolerance})`;
    }
  }
  return mismatch === undefined ? { maxAbsDiff: max } : { maxAbsDiff: max, mismatch };
}

function compareExact(a: Float64Array, b: Float64Array): TensorResult {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return { maxAbsDiff: Infinity, mismatch: `element ${i} differs (primary ${a[i] === 1}, shadow ${b[i] === 1})` };
  }
  return { maxAbsDiff: 0 };
}

function compareBigInts(a: BigInt64Array | BigUint64Array, b: BigInt64Array | BigUint64Array, tolerance: number): TensorResult {
  // Exact integer comparison: only the whole part of the tolerance can matter between integers.
  const limit = tolerance === Infinity ? undefined : BigInt(Math.floor(tolerance));
  let max = 0n;
  let mismatch: string | undefined;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const diff = x > y ? x - y : y - x;
    if (diff > max) max = diff;
    if (limit !== undefined && diff > limit && mismatch === undefined) {
      mismatch = `element ${i} differs by ${diff} (primary ${x}, shadow ${y}; tolerance ${tolerance})`;
    }
  }
  return mismatch === undefined ? { maxAbsDiff: Number(max) } : { maxAbsDiff: Number(max), mismatch };
}
