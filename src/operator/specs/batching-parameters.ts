import { BATCHING_DEFAULTS, type BatchingSpec } from '../../api/served-model-types.js';
import { parseDurationMicros } from './duration.js';

export const BATCHING_PARAMETERS_KEY = 'batching_parameters.txt';

/**
 * `spec.batching` as a BatchingParameters file in TF Serving's text format, wrapper-message
 * form (`max_batch_size { value: 64 }`), which our server and tensorflow_model_server both read.
 * Defaults are written out, so the file (and the restart hash built from it) is the same whether
 * or not the apiserver filled them in. num_batch_threads is written only when set: the server
 * then runs one batch per inference thread.
 */
export function renderBatchingParameters(batching: BatchingSpec): string {
  const lines = [
    '# spec.batching of this ServedModel. The server reads it only at start: changes roll the pods.',
    `max_batch_size { value: ${batching.maxBatchSize ?? BATCHING_DEFAULTS.maxBatchSize} }`,
    `batch_timeout_micros { value: ${parseDurationMicros(batching.batchTimeout ?? BATCHING_DEFAULTS.batchTimeout)} }`,
    `max_enqueued_batches { value: ${batching.maxEnqueuedBatches ?? BATCHING_DEFAULTS.maxEnqueuedBatches} }`,
  ];
  if (batching.numBatchThreads !== undefined) lines.push(`num_batch_threads { value: ${batching.numBatchThreads} }`);
  for (const size of batching.allowedBatchSizes ?? []) lines.push(`allowed_batch_sizes: ${size}`);
  return `${lines.join('\n')}\n`;
}
