import { latestDeadline } from '../core/deadline.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ServingError, toServingError } from '../../shared/errors.js';
import { copyBytes, type HostTensor, type NumericHostTensor } from '../core/host-tensor.js';
import type { RowBlocks } from '../core/row-blocks.js';
import { newRunTiming, type RunOptions, type RunTiming, type Servable, type ServableBatching, type ServableLoader } from '../core/servable.js';
import type { SignatureDef, SignatureMap, TensorInfo, UnservableSignatures } from '../core/signature.js';
import type { BatchScheduler, BatchTask, QueueParameters } from './batch-scheduler.js';
import { parseBatchingParameters, type BatchingParameters } from './batching-parameters.js';
import { concatRows, splitRows } from './tensor-rows.js';
import { ownEntry } from '../../shared/own-entry.js';

type Outputs = Record<string, HostTensor>;
/** A queued request: its inputs in the batch key's (sorted) input order. */
interface Request {
  readonly tensors: readonly HostTensor[];
  /** The caller's RunOptions.consumeInputs. */
  readonly consume: boolean;
  /** The caller's RunOptions.timing: its wait in the queue, and its batch's run. */
  readonly timing: RunTiming | undefined;
}
type Task = BatchTask<Request, Outputs>;

/** A signature can be batched when every tensor it names has a variable leading dimension. */
function hasBatchDimension(info: TensorInfo): boolean {
  return info.shape !== undefined && info.shape.length >= 1 && info.shape[0] === -1;
}

export function isBatchableSignature(signature: SignatureDef): boolean {
  return Object.values(signature.inputs).every(hasBatchDimension) && Object.values(signature.outputs).every(hasBatchDimension);
}

/** Rows of the request, or undefined when its inputs disagree on dimension 0 (left to TensorFlow). */
function requestRows(inputs: readonly HostTensor[]): number | undefined {
  const rows = inputs[0]?.shape[0];
  if (rows === undefined || rows < 1) return undefined;
  return inputs.every((t) => t.shape.length >= 1 && t.shape[0] === rows) ? rows : undefined;
}

/** Requests merge only with requests of the same signature, inputs, outputs and trailing dimensions. */
function batchKey(signatureName: string, keys: readonly string[], inputs: readonly HostTensor[], outputs: readonly string[]): string {
  const layout = keys.map((key, i) => `${key}:${inputs[i]!.dtype}:${inputs[i]!.shape.slice(1).join('x')}`);
  return `${signatureName}\n${layout.join(',')}\n${outputs.join(',')}`;
}

let nextServableId = 1;

/**
 * A servable whose runs are merged with other callers' into batches (TF Serving's
 * `--enable_batching`). Signatures without a variable batch dimension, and requests whose inputs
 * disagree on it, run unbatched. One failed batch fails every caller in it, as in TF Serving.
 */
export class BatchingServable implements Servable {
  private readonly id = nextServableId++;

  constructor(
    private readonly inner: Servable,
    private readonly scheduler: BatchScheduler,
    /** This version's own parameters; the scheduler's when absent. */
    private readonly params?: QueueParameters,
  ) {}

  get signatures(): SignatureMap {
    return this.inner.signatures;
  }

  get unservableSignatures(): UnservableSignatures | undefined {
    return this.inner.unservableSignatures;
  }

  get batching(): ServableBatching {
    const { maxBatchSize, batchTimeoutMicros, allowedBatchSizes } = this.params ?? this.scheduler.params;
    return { maxBatchSize, batchTimeoutMicros, allowedBatchSizes };
  }

  run(signatureName: string, inputs: Readonly<Record<string, HostTensor>>, outputNames: readonly string[] | undefined, options: RunOptions = {}): Promise<Outputs> {
    const signature = ownEntry(this.inner.signatures, signatureName);
    const keys = Object.keys(inputs).sort();
    const tensors = keys.map((key) => inputs[key]!);
    const rows = requestRows(tensors);
    if (!signature || !isBatchableSignature(signature) || rows === undefined) {
      return this.inner.run(signatureName, inputs, outputNames, options);
    }
    const outputs = outputNames ?? Object.keys(signature.outputs);
    const key = `${this.id}\n${batchKey(signatureName, keys, tensors, outputs)}`;
    const run = (tasks: readonly Task[], paddedRows: number): Promise<void> => this.runBatch(signatureName, keys, outputs, tasks, paddedRows);
    return this.scheduler.submit(key, rows, { tensors, consume: options.consumeInputs ?? false, timing: options.timing }, run, options, this.params);
  }

  private async runBatch(signatureName: string, keys: readonly string[], outputNames: readonly string[], tasks: readonly Task[], paddedRows: number): Promise<void> {
    try {
      const started = this.scheduler.now();
      const timing = newRunTiming();
      // The batch is worth running while any of its callers still waits. Each caller's wait was
      // judged when the batch formed (batch-scheduler.ts); judged here, for the whole batch, whole
      // batches were refused under overload and the next ones ended late too.
      const limits = { deadline: latestDeadline(tasks.map((task) => task.deadline)) };
      const first = tasks[0]!;
      // A batch of one unpadded request runs as is: no copies, no splitting.
      const alone = tasks.length === 1 && first.rows === paddedRows;
      const outputs = alone
        ? // A lone request's inputs belong to its caller.
          await this.inner.run(signatureName, Object.fromEntries(keys.map((key, i) => [key, first.payload.tensors[i]!])), outputNames, {
            consumeInputs: first.payload.consume,
            timing,
            ...limits,
          })
        : await this.runJoined(signatureName, keys, outputNames, tasks, paddedRows, { timing, ...limits });
      shareTiming(tasks, started, timing, paddedRows);
      if (alone) return first.resolve(outputs);
      const perTask: Outputs[] = tasks.map(() => ({}));
      const rows = tasks.map((t) => t.rows);
      for (const name of outputNames) {
        const batched = outputs[name]!;
        if (batched.shape[0] !== paddedRows) {
          throw new ServingError(
            'FAILED_PRECONDITION',
            `batching: output "${name}" has ${batched.shape.length === 0 ? 'no batch dimension' : `${batched.shape[0]} rows`} for a batch of ${paddedRows}; ` +
              'this signature cannot be batched (serve the model without --enable_batching)',
          );
        }
        splitRows(batched, rows).forEach((part, i) => (perTask[i]![name] = part));
      }
      tasks.forEach((task, i) => task.resolve(perTask[i]!));
    } catch (error) {
      for (const task of tasks) task.reject(error as Error);
    }
  }

  /**
   * Runs the batch's rows as one tensor per input. When the servable can join numeric rows itself
   * (in its inference thread), they go as row blocks and this thread copies nothing but the
   * blocks of callers that read their inputs again; otherwise they are joined here.
   */
  private runJoined(
    signatureName: string,
    keys: readonly string[],
    outputNames: readonly string[],
    tasks: readonly Task[],
    paddedRows: number,
    options: RunOptions,
  ): Promise<Outputs> {
    const partsOf = (i: number): HostTensor[] => tasks.map((t) => t.payload.tensors[i]!);
    if (this.inner.runRowBlocks === undefined) {
      // Joined inputs are our own copies.
      const inputs = Object.fromEntries(keys.map((key, i) => [key, concatRows(partsOf(i), paddedRows)]));
      return this.inner.run(signatureName, inputs, outputNames, { ...options, consumeInputs: true });
    }
    const inputs = Object.fromEntries(
      keys.map((key, i): [string, HostTensor | RowBlocks] => {
        const parts = partsOf(i);
        const first = parts[0]!;
        if (first.dtype === 'DT_STRING') return [key, concatRows(parts, paddedRows)];
        const blocks = parts.map((part, t) => {
          const { bytes } = part as NumericHostTensor;
          return tasks[t]!.payload.consume ? bytes : copyBytes(bytes);
        });
        return [key, { kind: 'row-blocks', dtype: first.dtype, shape: [paddedRows, ...first.shape.slice(1)], blocks }];
      }),
    );
    return this.inner.runRowBlocks(signatureName, inputs, outputNames, options);
  }

  unload(): Promise<void> {
    return this.inner.unload();
  }
}

/** A SavedModel's own batching parameters, read with --enable_per_model_batching_parameters. */
export const PER_MODEL_BATCHING_FILE = 'batching_params.pbtxt';

/**
 * Each request of a batch waited from its enqueueing to `started` and shares the batch's run; the
 * first one accounts for the execution.
 */
function shareTiming(tasks: readonly Task[], started: number, batch: RunTiming, paddedRows: number): void {
  tasks.forEach((task, i) => {
    const timing = task.payload.timing;
    if (timing === undefined) return;
    timing.queueNs = Math.max(0, Math.round((started - task.enqueuedAt) * 1e6));
    timing.inputNs = batch.inputNs;
    timing.inferNs = batch.inferNs;
    timing.outputNs = batch.outputNs;
    timing.executions = i === 0 ? batch.executions : 0;
    timing.batchSize = paddedRows;
  });
}

/**
 * Wraps every servable a loader makes in a BatchingServable sharing one scheduler. With
 * `perModel`, a version directory holding batching_params.pbtxt is batched by that file's sizes,
 * timeout and queue bound (the scheduler's fields fill in what it leaves out); its
 * num_batch_threads is ignored, as the threads are shared, and a file that cannot be used fails
 * the load.
 */
export class BatchingLoader implements ServableLoader {
  constructor(
    private readonly inner: ServableLoader,
    private readonly scheduler: BatchScheduler,
    private readonly perModel = false,
  ) {}

  async load(model: string, version: number, path: string, signal: AbortSignal): Promise<Servable> {
    const params = this.perModel ? await ownParameters(path, this.scheduler.params) : undefined;
    return new BatchingServable(await this.inner.load(model, version, path, signal), this.scheduler, params);
  }
}

async function ownParameters(versionDir: string, shared: BatchingParameters): Promise<QueueParameters | undefined> {
  const file = join(versionDir, PER_MODEL_BATCHING_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ServingError('INVALID_ARGUMENT', `cannot read ${file}: ${String(error)}`);
  }
  try {
    return parseBatchingParameters(text, shared);
  } catch (error) {
    throw new ServingError('INVALID_ARGUMENT', `${PER_MODEL_BATCHING_FILE} of this version: ${toServingError(error).message}`);
  }
}
