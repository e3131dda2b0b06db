import { describe, expect, it } from 'vitest';
import type { HostTensor } from '../../../../src/server/core/host-tensor.js';
import { compareOutputs } from '../../../../src/server/routing/compare-outputs.js';
import { ServingError } from '../../../../src/shared/errors.js';
import { numeric, strings } from './tensor-fixtures.js';

const one = (t: HostTensor): Record<string, HostTensor> => ({ out: t });

describe('compareOutputs', () => {
  it.each([
    { name: 'FLOAT within tolerance', p: numeric('DT_FLOAT', [2], [1, 2]), s: numeric('DT_FLOAT', [2], [1.25, 2]), tol: 0.25, agree: true, diff: 0.25 },
    { name: 'FLOAT beyond tolerance', p: numeric('DT_FLOAT', [2], [1, 2]), s: numeric('DT_FLOAT', [2], [1, 2.5]), tol: 0.25, agree: false, diff: 0.5 },
    { name: 'DOUBLE exact at tolerance 0', p: numeric('DT_DOUBLE', [1], [0.1]), s: numeric('DT_DOUBLE', [1], [0.1]), tol: 0, agree: true, diff: 0 },
    { name: 'DOUBLE one ulp apart at tolerance 0', p: numeric('DT_DOUBLE', [1], [1]), s: numeric('DT_DOUBLE', [1], [1 + 2 ** -52]), tol: 0, agree: false, diff: 2 ** -52 },
    { name: 'INT32', p: numeric('DT_INT32', [2], [-5, 7]), s: numeric('DT_INT32', [2], [-4, 7]), tol: 1, agree: true, diff: 1 },
    { name: 'UINT32 extremes', p: numeric('DT_UINT32', [1], [0]), s: numeric('DT_UINT32', [1], [4294967295]), tol: 1, agree: false, diff: 4294967295 },
    { name: 'INT16', p: numeric('DT_INT16', [1], [-32768]), s: numeric('DT_INT16', [1], [32767]), tol: 0, agree: false, diff: 65535 },
    { name: 'UINT16', p: numeric('DT_UINT16', [1], [65535]), s: numeric('DT_UINT16', [1], [65535]), tol: 0, agree: true, diff: 0 },
    { name: 'INT8', p: numeric('DT_INT8', [2], [-128, 3]), s: numeric('DT_INT8', [2], [-128, 1]), tol: 1, agree: false, diff: 2 },
    { name: 'UINT8', p: numeric('DT_UINT8', [1], [200]), s: numeric('DT_UINT8', [1], [201]), tol: 1, agree: true, diff: 1 },
    // HALF/BFLOAT16 as bit patterns: 0x3c00 = 1, 0x3c01 = 1 + 2^-10; 0x3f80 = 1, 0x3f81 = 1 + 2^-7.
    { name: 'HALF within', p: numeric('DT_HALF', [1], [0x3c00]), s: numeric('DT_HALF', [1], [0x3c01]), tol: 0.001, agree: true, diff: 2 ** -10 },
    { name: 'HALF beyond', p: numeric('DT_HALF', [1], [0x3c00]), s: numeric('DT_HALF', [1], [0x3c01]), tol: 0.0005, agree: false, diff: 2 ** -10 },
    { name: 'BFLOAT16 within', p: numeric('DT_BFLOAT16', [1], [0x3f80]), s: numeric('DT_BFLOAT16', [1], [0x3f81]), tol: 0.01, agree: true, diff: 2 ** -7 },
    { name: 'BFLOAT16 beyond', p: numeric('DT_BFLOAT16', [1], [0x3f80]), s: numeric('DT_BFLOAT16', [1], [0x3f81]), tol: 0.005, agree: false, diff: 2 ** -7 },
    { name: 'INT64 beyond 2^53 exact', p: numeric('DT_INT64', [1], [2n ** 60n]), s: numeric('DT_INT64', [1], [2n ** 60n + 1n]), tol: 0, agree: false, diff: 1 },
    { name: 'INT64 within an integer tolerance', p: numeric('DT_INT64', [2], [-3n, 9n]), s: numeric('DT_INT64', [2], [-1n, 9n]), tol: 2.5, agree: true, diff: 2 },
    { name: 'UINT64 max', p: numeric('DT_UINT64', [1], [2n ** 64n - 1n]), s: numeric('DT_UINT64', [1], [2n ** 64n - 1n]), tol: 0, agree: true, diff: 0 },
    { name: 'BOOL equal', p: numeric('DT_BOOL', [2], [1, 0]), s: numeric('DT_BOOL', [2], [1, 0]), tol: 5, agree: true, diff: 0 },
    { name: 'BOOL differs whatever the tolerance', p: numeric('DT_BOOL', [1], [1]), s: numeric('DT_BOOL', [1], [0]), tol: 5, agree: false, diff: Infinity },
    { name: 'STRING equal bytes', p: strings([2], ['cat', 'dög']), s: strings([2], ['cat', 'dög']), tol: 0, agree: true, diff: 0 },
    { name: 'STRING differs', p: strings([2], ['cat', 'dog']), s: strings([2], ['cat', 'dot']), tol: 1, agree: false, diff: Infinity },
    { name: 'two NaNs agree', p: numeric('DT_FLOAT', [1], [NaN]), s: numeric('DT_FLOAT', [1], [NaN]), tol: 0, agree: true, diff: 0 },
    { name: 'NaN against a number', p: numeric('DT_FLOAT', [1], [NaN]), s: numeric('DT_FLOAT', [1], [1]), tol: 1e9, agree: false, diff: Infinity },
    { name: 'equal infinities agree', p: numeric('DT_DOUBLE', [1], [-Infinity]), s: numeric('DT_DOUBLE', [1], [-Infinity]), tol: 0, agree: true, diff: 0 },
    { name: 'opposite infinities', p: numeric('DT_DOUBLE', [1], [Infinity]), s: numeric('DT_DOUBLE', [1], [-Infinity]), tol: 1, agree: false, diff: Infinity },
    { name: 'infinite tolerance accepts any numbers', p: numeric('DT_INT64', [1], [0n]), s: numeric('DT_INT64', [1], [2n ** 62n]), tol: Infinity, agree: true, diff: 2 ** 62 },
    { name: 'scalar', p: numeric('DT_FLOAT', [], [3]), s: numeric('DT_FLOAT', [], [3]), tol: 0, agree: true, diff: 0 },
    { name: 'empty tensor', p: numeric('DT_FLOAT', [0, 4], []), s: numeric('DT_FLOAT', [0, 4], []), tol: 0, agree: true, diff: 0 },
  ])('$name', ({ p, s, tol, agree, diff }) => {
    const result = compareOutputs(one(p), one(s), tol);
    expect(result.agree).toBe(agree);
    expect(result.maxAbsDiff).toBe(diff);
    expect(result.mismatch === undefined).toBe(agree);
  });

  type Outputs = Record<string, HostTensor>;
  it.each<{ name: string; p: Outputs; s: Outputs; mismatch: string }>([
    {
      name: 'a missing output',
      p: { a: numeric('DT_FLOAT', [1], [1]), b: numeric('DT_FLOAT', [1], [1]) },
      s: { a: numeric('DT_FLOAT', [1], [1]) },
      mismatch: 'output "b" is missing from the shadow',
    },
    {
      name: 'an extra output',
      p: { a: numeric('DT_FLOAT', [1], [1]) },
      s: { a: numeric('DT_FLOAT', [1], [1]), z: numeric('DT_FLOAT', [1], [1]) },
      mismatch: 'output "z" is only in the shadow',
    },
    {
      name: 'another dtype',
      p: { a: numeric('DT_FLOAT', [1], [1]) },
      s: { a: numeric('DT_DOUBLE', [1], [1]) },
      mismatch: 'output "a" is DT_FLOAT in the primary but DT_DOUBLE in the shadow',
    },
    {
      name: 'another shape with as many elements',
      p: { a: numeric('DT_FLOAT', [2, 3], [1, 2, 3, 4, 5, 6]) },
      s: { a: numeric('DT_FLOAT', [3, 2], [1, 2, 3, 4, 5, 6]) },
      mismatch: 'output "a" has shape [2,3] in the primary but [3,2] in the shadow',
    },
    {
      name: 'a truncated byte buffer',
      p: { a: numeric('DT_FLOAT', [2], [1, 2]) },
      s: { a: { dtype: 'DT_FLOAT', shape: [2], bytes: new Uint8Array(4) } },
      mismatch: 'output "a" in the shadow has 4 bytes, 8 expected for DT_FLOAT [2]',
    },
  ])('disagrees structurally on $name, with maxAbsDiff Infinity', ({ p, s, mismatch }) => {
    expect(compareOutputs(p, s, 1)).toEqual({ agree: false, maxAbsDiff: Infinity, mismatch });
  });

  it('names the first out-of-tolerance element and still reports the largest difference', () => {
    const result = compareOutputs(
      { a: numeric('DT_DOUBLE', [4], [0, 0, 0, 0]), b: numeric('DT_DOUBLE', [1], [0]) },
      { a: numeric('DT_DOUBLE', [4], [0, 0.5, 0.1, 2]), b: numeric('DT_DOUBLE', [1], [3]) },
      0.2,
    );
    expect(result).toEqual({
      agree: false,
      maxAbsDiff: 3,
      mismatch: 'output "a" element 1 differs by 0.5 (primary 0, shadow 0.5; tolerance 0.2)',
    });
  });

  it('agrees on no outputs at all', () => {
    expect(compareOutputs({}, {}, 0)).toEqual({ agree: true, maxAbsDiff: 0 });
  });

  it.each([-1, NaN])('rejects tolerance %s with INVALID_ARGUMENT', (tolerance) => {
    let thrown: unknown;
    try {
      compareOutputs({}, {}, tolerance);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ServingError);
    expect((thrown as ServingError).code).toBe('INVALID_ARGUMENT');
    expect((thrown as ServingError).message).toContain(`tolerance must be a number >= 0, got ${tolerance}`);
  });
});
