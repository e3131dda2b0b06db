import { describe, expect, test } from 'vitest';
import type { HostTensor } from '../../../../src/server/core/host-tensor.js';
import { concatRows, splitRows } from '../../../../src/server/batching/tensor-rows.js';

const floats = (shape: number[], values: number[]): HostTensor => ({ dtype: 'DT_FLOAT', shape, bytes: new Uint8Array(new Float32Array(values).buffer) });
const valuesOf = (t: HostTensor): number[] => (t.dtype === 'DT_STRING' ? [] : [...new Float32Array(t.bytes.slice().buffer)]);
const text = (t: HostTensor): string[] => (t.dtype === 'DT_STRING' ? t.strings.map((s) => Buffer.from(s).toString()) : []);
const strings = (shape: number[], values: string[]): HostTensor => ({ dtype: 'DT_STRING', shape, strings: values.map((v) => Buffer.from(v)) });

describe('concatRows', () => {
  test('joins numeric tensors along dimension 0 and pads by repeating the first row', () => {
    const joined = concatRows([floats([1, 2], [1, 2]), floats([2, 2], [3, 4, 5, 6])], 5);
    expect(joined.shape).toEqual([5, 2]);
    expect(valuesOf(joined)).toEqual([1, 2, 3, 4, 5, 6, 1, 2, 1, 2]);
  });

  test('reads parts that are views into larger buffers', () => {
    const backing = new Float32Array([9, 9, 7, 8, 9]);
    const view: HostTensor = { dtype: 'DT_FLOAT', shape: [1, 2], bytes: new Uint8Array(backing.buffer, 8, 8) };
    expect(valuesOf(concatRows([view, floats([1, 2], [1, 2])], 2))).toEqual([7, 8, 1, 2]);
  });

  test('joins and pads string tensors with several elements per row', () => {
    const joined = concatRows([strings([1, 2], ['a', 'b']), strings([1, 2], ['c', 'd'])], 3);
    expect(joined.shape).toEqual([3, 2]);
    expect(text(joined)).toEqual(['a', 'b', 'c', 'd', 'a', 'b']);
  });

  test('handles rows of zero elements', () => {
    const joined = concatRows([floats([2, 0], []), floats([1, 0], [])], 4);
    expect(joined).toMatchObject({ shape: [4, 0] });
    expect(joined.dtype !== 'DT_STRING' && joined.bytes.byteLength).toBe(0);
  });
});

describe('splitRows', () => {
  test('gives each caller its rows, in order, and drops padding', () => {
    const parts = splitRows(floats([4, 2, 1], [1, 2, 3, 4, 5, 6, 7, 8]), [1, 2]);
    expect(parts.map((p) => p.shape)).toEqual([
      [1, 2, 1],
      [2, 2, 1],
    ]);
    expect(parts.map(valuesOf)).toEqual([
      [1, 2],
      [3, 4, 5, 6],
    ]);
  });

  test('splits string tensors', () => {
    expect(splitRows(strings([3], ['x', 'y', 'z']), [2, 1]).map(text)).toEqual([['x', 'y'], ['z']]);
  });

  test('concat then split is the identity for every numeric width', () => {
    for (const dtype of ['DT_INT8', 'DT_HALF', 'DT_INT32', 'DT_INT64'] as const) {
      const width = { DT_INT8: 1, DT_HALF: 2, DT_INT32: 4, DT_INT64: 8 }[dtype];
      const a: HostTensor = { dtype, shape: [2, 3], bytes: Uint8Array.from({ length: 6 * width }, (_, i) => i) };
      const b: HostTensor = { dtype, shape: [1, 3], bytes: Uint8Array.from({ length: 3 * width }, (_, i) => 200 - i) };
      const [a2, b2] = splitRows(concatRows([a, b], 4), [2, 1]);
      expect([a2, b2].map((t) => t!.dtype !== 'DT_STRING' && [...t!.bytes])).toEqual([[...a.bytes], [...b.bytes]]);
    }
  });
});
