import { describe, expect, test } from 'vitest';
import { defaultBatchingParameters, paddedBatchSize, parseBatchingParameters } from '../../../../src/server/batching/batching-parameters.js';

const defaults = defaultBatchingParameters(2);

describe('parseBatchingParameters', () => {
  test.each([
    ['TF Serving wrapper form', 'max_batch_size { value: 128 }\nbatch_timeout_micros { value: 100 }\nnum_batch_threads { value: 4 }\nmax_enqueued_batches { value: 1000 }', { maxBatchSize: 128, batchTimeoutMicros: 100, numBatchThreads: 4, maxEnqueuedBatches: 1000 }],
    ['plain scalars', 'max_batch_size: 8\nbatch_timeout_micros: 0', { maxBatchSize: 8, batchTimeoutMicros: 0 }],
    ['allowed sizes, repeated', 'max_batch_size { value: 32 }\nallowed_batch_sizes: 8\nallowed_batch_sizes: 32', { allowedBatchSizes: [8, 32] }],
    ['allowed sizes, list form', 'max_batch_size: 32\nallowed_batch_sizes: [4, 16, 32]', { allowedBatchSizes: [4, 16, 32] }],
    ['empty file keeps the defaults', '# nothing\n', defaults],
  ])('%s', (_title, text, expected) => {
    expect(parseBatchingParameters(text, defaults)).toMatchObject(expected);
  });

  test.each([
    ['unknown field', 'pad_variable_length_inputs { value: true }', /unsupported field "pad_variable_length_inputs"/],
    ['field given twice', 'max_batch_size: 4\nmax_batch_size: 8', /"max_batch_size" given twice/],
    ['negative', 'max_batch_size { value: -4 }', /max_batch_size must be a non-negative integer, got -4/],
    ['fraction', 'batch_timeout_micros: 1.5', /batch_timeout_micros must be a non-negative integer, got 1.5/],
    ['text value', 'num_batch_threads: "two"', /num_batch_threads must be a non-negative integer, got "two"/],
    ['zero batch size', 'max_batch_size: 0', /max_batch_size must be at least 1/],
    ['zero threads', 'num_batch_threads: 0', /num_batch_threads must be at least 1/],
    ['sizes not increasing', 'max_batch_size: 8\nallowed_batch_sizes: [4, 4, 8]', /strictly increasing, got \[4, 4, 8\]/],
    ['last size not the max', 'max_batch_size: 8\nallowed_batch_sizes: [2, 4]', /last allowed_batch_sizes entry \(4\) must equal max_batch_size \(8\)/],
    ['syntax error', 'max_batch_size {', /batching parameters \(text format\)/],
  ])('refuses %s', (_title, text, message) => {
    expect(() => parseBatchingParameters(text, defaults)).toThrow(message);
  });
});

test('paddedBatchSize rounds up to the next allowed size, or keeps the rows when none are set', () => {
  const params = { ...defaults, maxBatchSize: 16, allowedBatchSizes: [2, 8, 16] };
  expect([1, 2, 3, 8, 9, 16].map((rows) => paddedBatchSize(rows, params))).toEqual([2, 2, 8, 8, 16, 16]);
  expect(paddedBatchSize(5, defaults)).toBe(5);
});
