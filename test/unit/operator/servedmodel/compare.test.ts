import { describe, expect, it } from 'vitest';
import { contains, firstDifference, hasPath, quantityValue } from '../../../../src/operator/servedmodel/compare.js';
import { desiredObjects } from '../../../../src/operator/servedmodel/desired.js';
import { DEFAULT_RENDER_CONFIG } from '../../../../src/operator/specs/operator-config.js';
import { servedModel } from '../fixtures.js';

describe('contains', () => {
  it.each([
    ['extra fields on the live object', { a: 1, b: { c: 2, d: 3 } }, { b: { c: 2 } }, true],
    ['a changed scalar', { a: 1 }, { a: 2 }, false],
    ['a missing field', {}, { a: 1 }, false],
    ['arrays of a different length', { l: [1, 2] }, { l: [1] }, false],
    ['array elements with server defaults', { l: [{ x: 1, y: 'default' }] }, { l: [{ x: 1 }] }, true],
    ['an empty list the server dropped', {}, { env: [] }, true],
    ['canonicalised quantities', { cpu: '1', mem: '1Gi' }, { cpu: '1000m', mem: '1024Mi' }, true],
    ['different quantities', { mem: '1Gi' }, { mem: '1G' }, false],
    ['plain strings', { s: 'abc' }, { s: 'abd' }, false],
  ])('%s', (_name, actual, desired, expected) => {
    expect(contains(actual, desired)).toBe(expected);
  });

  it('names the first difference', () => {
    expect(firstDifference({ a: { b: [1, 2] } }, { a: { b: [1, 3] } })).toBe('.a.b.1: want 3, have 2');
  });

  it.each([
    ['250m', 0.25],
    ['2', 2],
    ['1Ki', 1024],
    ['1e3', 1000],
    ['nonsense', undefined],
  ])('quantity %s = %s', (q, v) => expect(quantityValue(q)).toBe(v));
});

describe('hasPath', () => {
  it.each([
    [{ data: { a: 'x' } }, ['data', 'a'], true],
    [{ data: { a: '' } }, ['data', 'a'], true],
    [{ data: { b: 'x' } }, ['data', 'a'], false],
    [{}, ['data', 'a'], false],
    [{ data: 'text' }, ['data', 'a'], false],
    [undefined, ['data'], false],
  ])('%j has %j: %s', (object, path, expected) => expect(hasPath(object, path)).toBe(expected));
});

describe('desiredObjects', () => {
  const configMapSlot = (spec: Parameters<typeof servedModel>[0]) => desiredObjects(servedModel(spec), DEFAULT_RENDER_CONFIG).find((s) => s.kind === 'ConfigMap');

  it('wants the batching parameters gone from a ConfigMap once batching is off (contains alone would keep them)', () => {
    expect(configMapSlot({})?.absent).toEqual([['data', 'batching_parameters.txt']]);
    const live = { ...configMapSlot({ batching: {} })?.object };
    expect(contains(live, configMapSlot({})?.object)).toBe(true);
    expect(configMapSlot({})?.absent?.some((path) => hasPath(live, path))).toBe(true);
  });

  it('requires nothing absent while batching is on', () => {
    expect(configMapSlot({ batching: {} })?.absent).toBeUndefined();
  });
});
