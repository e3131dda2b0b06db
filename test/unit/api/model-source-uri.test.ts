import { describe, expect, it } from 'vitest';
import { parseModelSourceUri } from '../../../src/api/model-source-uri.js';

describe('parseModelSourceUri', () => {
  it.each([
    ['s3://models/mnist', { kind: 's3', uri: 's3://models/mnist' }],
    ['pvc://models', { kind: 'pvc', claimName: 'models', path: '' }],
    ['pvc://models/', { kind: 'pvc', claimName: 'models', path: '' }],
    ['pvc://team.models/a/b//', { kind: 'pvc', claimName: 'team.models', path: 'a/b' }],
  ])('reads %s', (uri, expected) => {
    expect(parseModelSourceUri(uri)).toEqual(expected);
  });
});
