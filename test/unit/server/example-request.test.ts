import { describe, expect, it } from 'vitest';
import { exampleRequest } from '../../../src/server/example-request.js';

describe('exampleRequest', () => {
  it('builds a zero-filled predict call with the batch dimension', () => {
    const call = exampleRequest(8501, 'tiny', 'serving_default', {
      methodName: 'tensorflow/serving/predict',
      inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 4] } },
      outputs: {},
    });
    expect(call).toBe(`curl -s -X POST http://localhost:8501/v1/models/tiny:predict -d '{"inputs":[[0,0,0,0]]}'`);
  });

  it('names a non-default signature and several inputs', () => {
    const call = exampleRequest(1, 'm', 'add', {
      methodName: 'tensorflow/serving/predict',
      inputs: { a: { name: 'a:0', dtype: 'DT_INT64', shape: [] }, b: { name: 'b:0', dtype: 'DT_INT64', shape: [] } },
      outputs: {},
    });
    expect(call).toContain(`'{"inputs":{"a":0,"b":0},"signature_name":"add"}'`);
  });

  it('gives up on strings, unknown ranks and huge inner dimensions', () => {
    const base = { methodName: 'x', outputs: {} };
    expect(exampleRequest(1, 'm', 's', { ...base, inputs: { s: { name: 's', dtype: 'DT_STRING', shape: [-1] } } })).toBeUndefined();
    expect(exampleRequest(1, 'm', 's', { ...base, inputs: { s: { name: 's', dtype: 'DT_FLOAT', shape: undefined } } })).toBeUndefined();
    expect(exampleRequest(1, 'm', 's', { ...base, inputs: { s: { name: 's', dtype: 'DT_FLOAT', shape: [-1, 224, 224, 3] } } })).toBeUndefined();
  });
});
