import { describe, expect, it } from 'vitest';
import type { BatchingSpec } from '../../../../src/api/served-model-types.js';
import { renderBatchingParameters } from '../../../../src/operator/specs/batching-parameters.js';
import { defaultBatchingParameters, parseBatchingParameters, type BatchingParameters } from '../../../../src/server/batching/batching-parameters.js';

// The server's defaults for one inference thread: what the operator's pods run with.
const serverDefaults = defaultBatchingParameters(1);
/** What the model server makes of the rendered file: the only reading that matters. */
const asServerReadsIt = (spec: BatchingSpec): BatchingParameters => parseBatchingParameters(renderBatchingParameters(spec), serverDefaults);

describe('renderBatchingParameters', () => {
  it.each<[string, BatchingSpec, Partial<BatchingParameters>]>([
    ['{} (the server defaults)', {}, {}],
    ['what the CRD defaults fill in', { maxBatchSize: 64, batchTimeout: '0s', maxEnqueuedBatches: 64 }, {}],
    ['a larger batch', { maxBatchSize: 256 }, { maxBatchSize: 256 }],
    ['a timeout in microseconds', { batchTimeout: '500us' }, { batchTimeoutMicros: 500 }],
    ['a timeout in milliseconds', { batchTimeout: '2ms' }, { batchTimeoutMicros: 2000 }],
    ['a fractional timeout', { batchTimeout: '1.5ms' }, { batchTimeoutMicros: 1500 }],
    ['a sum of units', { batchTimeout: '1s250ms' }, { batchTimeoutMicros: 1_250_000 }],
    ['a sub-microsecond fraction (rounded)', { batchTimeout: '2.6us' }, { batchTimeoutMicros: 3 }],
    ['queue depth and threads', { maxEnqueuedBatches: 8, numBatchThreads: 4 }, { maxEnqueuedBatches: 8, numBatchThreads: 4 }],
    ['allowed sizes', { maxBatchSize: 32, allowedBatchSizes: [4, 8, 32] }, { maxBatchSize: 32, allowedBatchSizes: [4, 8, 32] }],
    ['one allowed size', { allowedBatchSizes: [64] }, { allowedBatchSizes: [64] }],
    ['an empty allowed list', { allowedBatchSizes: [] }, {}],
  ])('%s reaches the server as intended', (_name, spec, expected) => {
    expect(asServerReadsIt(spec)).toEqual({ ...serverDefaults, ...expected });
  });

  it('leaves num_batch_threads to the server unless set, so it follows --inference_threads', () => {
    expect(renderBatchingParameters({})).not.toContain('num_batch_threads');
    expect(parseBatchingParameters(renderBatchingParameters({}), defaultBatchingParameters(3)).numBatchThreads).toBe(3);
  });

  it('writes the wrapper-message form TF Serving writes, defaults spelled out', () => {
    expect(renderBatchingParameters({ batchTimeout: '2ms', numBatchThreads: 2, maxBatchSize: 16, allowedBatchSizes: [8, 16] })).toBe(
      [
        '# spec.batching of this ServedModel. The server reads it only at start: changes roll the pods.',
        'max_batch_size { value: 16 }',
        'batch_timeout_micros { value: 2000 }',
        'max_enqueued_batches { value: 64 }',
        'num_batch_threads { value: 2 }',
        'allowed_batch_sizes: 8',
        'allowed_batch_sizes: 16',
        '',
      ].join('\n'),
    );
  });

  it('renders the same text whether the apiserver filled in the defaults or not', () => {
    expect(renderBatchingParameters({})).toBe(renderBatchingParameters({ maxBatchSize: 64, batchTimeout: '0s', maxEnqueuedBatches: 64 }));
  });

  it('is refused by the server for what the CRD rejects (the rules agree)', () => {
    // The CRD rejects this (test/integration/operator/crd-validation.test.ts); the server agrees.
    expect(() => asServerReadsIt({ maxBatchSize: 32, allowedBatchSizes: [8, 16] })).toThrow(/must equal max_batch_size/);
    expect(() => asServerReadsIt({ allowedBatchSizes: [8, 8, 64] })).toThrow(/strictly increasing/);
  });
});
