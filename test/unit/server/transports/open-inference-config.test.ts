import { describe, expect, test } from 'vitest';
import type { ServableBatching } from '../../../../src/server/core/servable.js';
import type { SignatureDef } from '../../../../src/server/core/signature.js';
import { modelConfig } from '../../../../src/server/transports/open-inference-config.js';

const tensor = (dtype: 'DT_FLOAT' | 'DT_STRING' | 'DT_INT64', shape: number[] | undefined) => ({ name: 'graph:0', dtype, shape });
const signature = (inputs: SignatureDef['inputs'], outputs: SignatureDef['outputs']): SignatureDef => ({ methodName: 'tensorflow/serving/predict', inputs, outputs });
const batching: ServableBatching = { maxBatchSize: 32, batchTimeoutMicros: 500, allowedBatchSizes: [8, 32] };

describe("Triton's model config of a signature", () => {
  const batchable = signature({ x: tensor('DT_FLOAT', [-1, 4]), s: tensor('DT_STRING', [-1]) }, { y: tensor('DT_INT64', [-1, 2]) });

  test('unbatched: max_batch_size 0, full shapes, TYPE_STRING for strings', () => {
    expect(modelConfig('m', 'tensorflow_savedmodel', batchable, undefined)).toEqual({
      name: 'm',
      platform: 'tensorflow_savedmodel',
      backend: 'tensorflow',
      max_batch_size: 0,
      input: [
        { name: 'x', data_type: 'TYPE_FP32', dims: [-1, 4] },
        { name: 's', data_type: 'TYPE_STRING', dims: [-1] },
      ],
      output: [{ name: 'y', data_type: 'TYPE_INT64', dims: [-1, 2] }],
    });
  });

  test("batched: the batcher's sizes, and dims without the batch dimension", () => {
    expect(modelConfig('m', 'tensorflow_savedmodel', batchable, batching)).toMatchObject({
      max_batch_size: 32,
      input: [
        { name: 'x', dims: [4] },
        { name: 's', dims: [] },
      ],
      output: [{ name: 'y', dims: [2] }],
      dynamic_batching: { preferred_batch_size: [8, 32], max_queue_delay_microseconds: 500 },
    });
  });

  test.each([
    ['a scalar input', signature({ a: tensor('DT_INT64', []) }, { y: tensor('DT_INT64', [-1]) })],
    ['a fixed leading dimension', signature({ a: tensor('DT_FLOAT', [2, 4]) }, { y: tensor('DT_FLOAT', [-1]) })],
    ['an input of unknown rank', signature({ a: tensor('DT_FLOAT', undefined) }, { y: tensor('DT_FLOAT', [-1]) })],
  ])('with batching on, %s is not batched: max_batch_size 0 and full shapes', (_case, sig) => {
    const config = modelConfig('m', 'tensorflow_savedmodel', sig, batching);
    expect(config.max_batch_size).toBe(0);
    expect(config.dynamic_batching).toBeUndefined();
    expect(config.input[0]!.dims).toEqual(sig.inputs['a']!.shape ?? [-1]);
  });
});
