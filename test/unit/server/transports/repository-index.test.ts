import { describe, expect, test } from 'vitest';
import { notFound } from '../../../../src/shared/errors.js';
import type { ModelVersionStatus } from '../../../../src/server/core/version-state.js';
import { repositoryIndex, type RepositorySource } from '../../../../src/server/transports/open-inference.js';

const version = (v: number, state: ModelVersionStatus['state'], errorMessage = ''): ModelVersionStatus => ({ version: v, state, errorCode: errorMessage ? 'UNKNOWN' : 'OK', errorMessage });

/** Versions by model as the model manager reports them; a model without versions answers NOT_FOUND, as it does. */
function source(models: Record<string, ModelVersionStatus[]>): RepositorySource {
  return {
    modelNames: () => Object.keys(models),
    status: (model) => {
      const versions = models[model] ?? [];
      if (versions.length === 0) throw notFound(`Could not find any versions of model ${model}`);
      return versions;
    },
  };
}

describe("Triton's repository index", () => {
  const models = source({
    a: [version(3, 'LOADING'), version(2, 'AVAILABLE'), version(1, 'UNLOADING')],
    b: [version(7, 'END', 'the SavedModel does not load: bad file'), version(6, 'START')],
    empty: [],
  });

  test("every version with Triton's state name, failures with their reason", () => {
    expect(repositoryIndex(models, false)).toEqual([
      { name: 'a', version: '3', state: 'LOADING', reason: '' },
      { name: 'a', version: '2', state: 'READY', reason: '' },
      { name: 'a', version: '1', state: 'UNLOADING', reason: '' },
      { name: 'b', version: '7', state: 'UNAVAILABLE', reason: 'the SavedModel does not load: bad file' },
      { name: 'b', version: '6', state: 'LOADING', reason: '' },
      { name: 'empty', state: 'UNAVAILABLE', reason: 'Could not find any versions of model empty' },
    ]);
  });

  test('ready only', () => {
    expect(repositoryIndex(models, true)).toEqual([{ name: 'a', version: '2', state: 'READY', reason: '' }]);
  });

  test('an error other than NOT_FOUND is not hidden', () => {
    const broken: RepositorySource = { modelNames: () => ['x'], status: () => { throw new Error('boom'); } };
    expect(() => repositoryIndex(broken, false)).toThrow('boom');
  });
});
