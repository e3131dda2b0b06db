import { invalidArgument } from '../../shared/errors.js';
import { parseTextFormat } from '../config/text-format.js';

/** How requests are merged into batches (`--enable_batching`, `--batching_parameters_file`). */
export interface BatchingParameters {
  /** Most rows (dimension 0, summed over the merged requests) in one batch. */
  readonly maxBatchSize: number;
  /** How long the oldest queued request may wait for company; 0 batches only what piles up while busy. */
  readonly batchTimeoutMicros: number;
  /** A queue holding this many full batches refuses further requests with UNAVAILABLE. */
  readonly maxEnqueuedBatches: number;
  /** Batches running at the same time, over all models. */
  readonly numBatchThreads: number;
  /** When set, a batch is padded up to the next of these sizes (ascending; the last = maxBatchSize). */
  readonly allowedBatchSizes: readonly number[];
}

/**
 * Defaults chosen by measurement on CPU (docs/decisions/0004): no waiting, because under load the
 * queue fills while the previous batch runs; one batch in flight per inference thread.
 */
export function defaultBatchingParameters(inferenceThreads: number): BatchingParameters {
  return { maxBatchSize: 64, batchTimeoutMicros: 0, maxEnqueuedBatches: 64, numBatchThreads: inferenceThreads, allowedBatchSizes: [] };
}

const FIELDS = {
  max_batch_size: 'maxBatchSize',
  batch_timeout_micros: 'batchTimeoutMicros',
  max_enqueued_batches: 'maxEnqueuedBatches',
  num_batch_threads: 'numBatchThreads',
} as const;

/** TF Serving writes these fields as wrapper messages (`max_batch_size { value: 128 }`); accept both forms. */
function unwrap(field: string, raw: unknown): number {
  const value = typeof raw === 'object' && raw !== null && 'value' in raw ? raw.value : raw;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(`batching parameters: ${field} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Reads a BatchingParameters file in TF Serving's text format (`max_batch_size { value: 128 }`
 * or `max_batch_size: 128`). Fields left out keep their defaults; unknown fields are refused.
 */
export function parseBatchingParameters(text: string, defaults: BatchingParameters): BatchingParameters {
  const doc = parseTextFormat(text, 'batching parameters');
  const result: { -readonly [K in keyof BatchingParameters]: BatchingParameters[K] } = { ...defaults };
  for (const [field, raw] of Object.entries(doc)) {
    if (field === 'allowed_batch_sizes') {
      result.allowedBatchSizes = (Array.isArray(raw) ? raw : [raw]).map((v) => unwrap(field, v));
    } else if (field in FIELDS) {
      result[FIELDS[field as keyof typeof FIELDS]] = unwrap(field, raw);
    } else {
      throw invalidArgument(
        `batching parameters: unsupported field "${field.replace(' (repeated)', '')}"${field.endsWith(' (repeated)') ? ' given twice' : ''}; ` +
          `supported: ${[...Object.keys(FIELDS), 'allowed_batch_sizes'].join(', ')}`,
      );
    }
  }
  return checkBatchingParameters(result);
}

export function checkBatchingParameters(params: BatchingParameters): BatchingParameters {
  const { maxBatchSize, maxEnqueuedBatches, numBatchThreads, allowedBatchSizes } = params;
  if (maxBatchSize < 1) throw invalidArgument('batching parameters: max_batch_size must be at least 1');
  if (maxEnqueuedBatches < 1) throw invalidArgument('batching parameters: max_enqueued_batches must be at least 1');
  if (numBatchThreads < 1) throw invalidArgument('batching parameters: num_batch_threads must be at least 1');
  if (allowedBatchSizes.length > 0) {
    if (allowedBatchSizes.some((size, i) => size < 1 || (i > 0 && size <= allowedBatchSizes[i - 1]!))) {
      throw invalidArgument(`batching parameters: allowed_batch_sizes must be positive and strictly increasing, got [${allowedBatchSizes.join(', ')}]`);
    }
    if (allowedBatchSizes.at(-1) !== maxBatchSize) {
      throw invalidArgument(`batching parameters: the last allowed_batch_sizes entry (${allowedBatchSizes.at(-1)}) must equal max_batch_size (${maxBatchSize})`);
    }
  }
  return params;
}

/** The batch size actually run: `rows` rounded up to the next allowed size, if any are set. */
export function paddedBatchSize(rows: number, params: Pick<BatchingParameters, 'allowedBatchSizes'>): number {
  return params.allowedBatchSizes.find((size) => size >= rows) ?? rows;
}
