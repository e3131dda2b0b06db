import { describe, expect, it } from 'vitest';
import type { HostTensor } from '../../../../src/server/core/host-tensor.js';
import type { SignatureDef } from '../../../../src/server/core/signature.js';
import { checkInputs, selectOutputs, signatureOf } from '../../../../src/server/predict/check-inputs.js';

const signature: SignatureDef = {
  methodName: 'tensorflow/serving/predict',
  inputs: {
    images: { name: 'images:0', dtype: 'DT_FLOAT', shape: [-1, 2, 2] },
    flag: { name: 'flag:0', dtype: 'DT_BOOL', shape: [] },
    anything: { name: 'anything:0', dtype: 'DT_STRING', shape: undefined },
  },
  outputs: { scores: { name: 's:0', dtype: 'DT_FLOAT', shape: [-1] }, labels: { name: 'l:0', dtype: 'DT_STRING', shape: [-1] } },
};

const floats = (shape: number[]): HostTensor => ({ dtype: 'DT_FLOAT', shape, bytes: new Uint8Array(4 * shape.reduce((a, b) => a * b, 1)) });
const flag: HostTensor = { dtype: 'DT_BOOL', shape: [], bytes: new Uint8Array(1) };
const text: HostTensor = { dtype: 'DT_STRING', shape: [3, 1], strings: [new Uint8Array(), new Uint8Array(), new Uint8Array()] };

describe('checkInputs', () => {
  it('accepts inputs that match, any batch size, any shape where the rank is unknown', () => {
    expect(() => checkInputs('sig', signature, { images: floats([5, 2, 2]), flag, anything: text })).not.toThrow();
  });

  it.each([
    ['a missing input', { images: floats([1, 2, 2]), flag }, /missing: anything/],
    ['an extra input', { images: floats([1, 2, 2]), flag, anything: text, extra: flag }, /not in the signature: extra/],
    ['a wrong dtype', { images: floats([1, 2, 2]), flag: floats([]), anything: text }, /input "flag" must be DT_BOOL, but the request has DT_FLOAT/],
    ['a wrong rank', { images: floats([2, 2]), flag, anything: text }, /input "images" must have shape \[-1,2,2\] \(rank 3\)/],
    ['a wrong fixed dimension', { images: floats([1, 2, 3]), flag, anything: text }, /dimension 2 is 3 in \[1,2,3\]/],
    // An input of unknown rank would hand it to TensorFlow, which holds at most 254 dimensions.
    ['more dimensions than TensorFlow holds', { images: floats([1, 2, 2]), flag, anything: { ...text, shape: [3, ...new Array<number>(254).fill(1)] } }, /input "anything" has 255 dimensions, more than TensorFlow's 254/],
  ])('refuses %s with INVALID_ARGUMENT naming it', (_case, inputs, message) => {
    expect(() => checkInputs('sig', signature, inputs as Record<string, HostTensor>)).toThrowError(message);
    try {
      checkInputs('sig', signature, inputs);
    } catch (error) {
      expect((error as { code: string }).code).toBe('INVALID_ARGUMENT');
    }
  });

  it('counts only own keys: an input named like an Object property is still missing when absent', () => {
    const odd: SignatureDef = { ...signature, inputs: { constructor: { name: 'c:0', dtype: 'DT_BOOL' as const, shape: [] } } };
    expect(() => checkInputs('sig', odd, {})).toThrowError(/missing: constructor/);
    expect(() => checkInputs('sig', odd, { constructor: flag })).not.toThrow();
  });
});

describe('selectOutputs', () => {
  it('returns every output without a filter, and the filter otherwise', () => {
    expect(selectOutputs('sig', signature, [])).toEqual(['scores', 'labels']);
    expect(selectOutputs('sig', signature, ['labels'])).toEqual(['labels']);
  });

  it('refuses unknown and repeated outputs', () => {
    expect(() => selectOutputs('sig', signature, ['nope'])).toThrowError(/output_filter names nope/);
    expect(() => selectOutputs('sig', signature, ['scores', 'scores'])).toThrowError(/more than once/);
  });

  it('refuses names that every object inherits (found by the live fuzz test)', () => {
    expect(() => selectOutputs('sig', signature, ['toString'])).toThrowError(/output_filter names toString/);
  });
});

describe('signatureOf', () => {
  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])('answers NOT_FOUND for "%s", not an inherited member', (name) => {
    const source = { signatures: { serving_default: signature }, unservableSignatures: { other: 'output c has unsupported dtype DT_COMPLEX64' } };
    expect(() => signatureOf(source, name)).toThrowError(`signature "${name}" not found; the model has: serving_default`);
  });

  it('says why a signature the SavedModel has cannot be served (UNIMPLEMENTED)', () => {
    const source = { signatures: { serving_default: signature }, unservableSignatures: { complex: 'output c has unsupported dtype DT_COMPLEX64' } };
    expect(() => signatureOf(source, 'complex')).toThrowError(
      expect.objectContaining({ code: 'UNIMPLEMENTED', message: 'signature "complex" cannot be served: output c has unsupported dtype DT_COMPLEX64' }) as Error,
    );
    expect(signatureOf(source, 'serving_default')).toBe(signature);
  });
});
