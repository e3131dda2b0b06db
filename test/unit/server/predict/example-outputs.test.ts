import { describe, expect, test } from 'vitest';
import type { HostTensor } from '../../../../src/server/core/host-tensor.js';
import type { SignatureDef } from '../../../../src/server/core/signature.js';
import { classificationsOf, classifyFetches, regressFetches, regressionValuesOf } from '../../../../src/server/predict/example-outputs.js';

const floats = (shape: number[], values: number[], offset = 0): HostTensor => {
  // An offset that is not a multiple of 4 is what a view into a received message can have.
  const buffer = new Uint8Array(offset + values.length * 4);
  const view = new DataView(buffer.buffer);
  values.forEach((v, i) => view.setFloat32(offset + i * 4, v, true));
  return { dtype: 'DT_FLOAT', shape, bytes: buffer.subarray(offset) };
};
const strings = (shape: number[], values: string[]): HostTensor => ({ dtype: 'DT_STRING', shape, strings: values.map((v) => new TextEncoder().encode(v)) });
const signature = (...outputs: string[]): SignatureDef => ({
  methodName: 'tensorflow/serving/predict',
  inputs: {},
  outputs: Object.fromEntries(outputs.map((key) => [key, { name: `${key}:0`, dtype: 'DT_FLOAT', shape: undefined }])),
});

describe('fetches', () => {
  test('classify fetches the classify outputs the signature has, and refuses one with neither', () => {
    expect(classifyFetches('s', signature('scores', 'classes', 'logits'))).toEqual(['classes', 'scores']);
    expect(classifyFetches('s', signature('scores'))).toEqual(['scores']);
    expect(() => classifyFetches('s', signature())).toThrow('signature "s" cannot serve classify: it must have a "classes" or "scores" output, and has no outputs');
  });

  test('regress fetches "outputs" only', () => {
    expect(regressFetches('s', signature('outputs', 'other'))).toEqual(['outputs']);
    expect(() => regressFetches('s', signature('y', 'z'))).toThrow('signature "s" cannot serve regress: it must have an "outputs" output, and has "y", "z"');
  });
});

describe('classificationsOf', () => {
  test('pairs labels and scores row by row, from unaligned bytes too', () => {
    const results = classificationsOf('s', { classes: strings([2, 2], ['a', 'b', 'c', 'd']), scores: floats([2, 2], [0.5, 0.25, 1, 2], 1) }, 2);
    expect(results).toEqual([
      { classes: [{ label: 'a', score: 0.5 }, { label: 'b', score: 0.25 }] },
      { classes: [{ label: 'c', score: 1 }, { label: 'd', score: 2 }] },
    ]);
  });

  test('a missing side leaves labels empty or scores zero, as the proto defaults', () => {
    expect(classificationsOf('s', { scores: floats([1, 2], [3, 4]) }, 1)).toEqual([{ classes: [{ label: '', score: 3 }, { label: '', score: 4 }] }]);
    expect(classificationsOf('s', { classes: strings([1, 1], ['x']) }, 1)).toEqual([{ classes: [{ label: 'x', score: 0 }] }]);
  });

  test('zero classes per example gives empty lists', () => {
    expect(classificationsOf('s', { scores: floats([2, 0], []) }, 2)).toEqual([{ classes: [] }, { classes: [] }]);
  });

  test.each([
    ['classes of another dtype', { classes: floats([1, 1], [1]) }, '"classes" must be DT_STRING, and is DT_FLOAT'],
    ['scores of another dtype', { scores: strings([1, 1], ['1']) }, '"scores" must be DT_FLOAT, and is DT_STRING'],
    ['rank 1', { scores: floats([1], [1]) }, '"scores" must have shape [batch, classes], and has [1]'],
    ['rank 3', { classes: strings([1, 1, 1], ['a']) }, '"classes" must have shape [batch, classes], and has [1,1,1]'],
    ['too many rows', { scores: floats([2, 1], [1, 2]) }, '"scores" returned 2 rows for 1 examples'],
    ['classes and scores disagree', { classes: strings([1, 1], ['a']), scores: floats([1, 2], [1, 2]) }, '"classes" and "scores" must have as many classes per example; they have 1 and 2'],
  ])('%s is INVALID_ARGUMENT', (_, outputs, message) => {
    expect(() => classificationsOf('s', outputs as Record<string, HostTensor>, 1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: `signature "s": ${message}` }) as Error);
  });
});

describe('regressionValuesOf', () => {
  test('takes [batch] and [batch, 1]', () => {
    expect(regressionValuesOf('s', { outputs: floats([2], [1.5, 2.5]) }, 2)).toEqual([1.5, 2.5]);
    expect(regressionValuesOf('s', { outputs: floats([2, 1], [1.5, 2.5], 3) }, 2)).toEqual([1.5, 2.5]);
  });

  test.each([
    ['[batch, 2]', { outputs: floats([1, 2], [1, 2]) }, '"outputs" must have shape [batch] or [batch, 1], and has [1,2]'],
    ['a scalar', { outputs: floats([], [1]) }, '"outputs" must have shape [batch] or [batch, 1], and has []'],
    ['fewer rows', { outputs: floats([0], []) }, '"outputs" returned 0 rows for 1 examples'],
    ['another dtype', { outputs: { dtype: 'DT_DOUBLE', shape: [1], bytes: new Uint8Array(8) } }, '"outputs" must be DT_FLOAT, and is DT_DOUBLE'],
    ['no outputs', {}, 'it returned no "outputs"'],
  ])('%s is INVALID_ARGUMENT', (_, outputs, message) => {
    expect(() => regressionValuesOf('s', outputs as Record<string, HostTensor>, 1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: `signature "s": ${message}` }) as Error);
  });
});
