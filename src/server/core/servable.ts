import type { HostTensor } from './host-tensor.js';
import type { RowBlocks } from './row-blocks.js';
import type { SignatureMap, UnservableSignatures } from './signature.js';
import type { Hangup } from './hangup.js';

/**
 * Where one run's time went, filled in by the servables it passes through (Triton's statistics
 * split): waiting in a batching queue, making TensorFlow's input tensors, the session run, and
 * reading its outputs. `executions` is 1 for the request that accounts for a model execution and
 * 0 for the others merged into the same batch.
 */
export interface RunTiming {
  queueNs: number;
  inputNs: number;
  inferNs: number;
  outputNs: number;
  executions: number;
  /** Rows of the execution (a merged batch's, padding included); 0 when the caller's own. */
  batchSize: number;
}

export function newRunTiming(): RunTiming {
  return { queueNs: 0, inputNs: 0, inferNs: 0, outputNs: 0, executions: 0, batchSize: 0 };
}

export interface RunOptions {
  /** Not started once the caller has gone (core/hangup.ts). */
  readonly hangup?: Hangup;
  /** Not started once this has passed (core/deadline.ts). */
  readonly deadline?: number;
  /** Filled in with where the run's time went, when given. */
  readonly timing?: RunTiming;
  /**
   * The caller will not read the inputs again, so their buffers may move to the inference thread
   * instead of being copied (they are unusable afterwards).
   */
  readonly consumeInputs?: boolean;
}

export interface ServableBatching {
  /** Most rows in one merged batch. */
  readonly maxBatchSize: number;
  /** How long the oldest request may wait for company. */
  readonly batchTimeoutMicros: number;
  /** Sizes batches are padded up to; empty when batches run at their own size. */
  readonly allowedBatchSizes: readonly number[];
}

/** One loaded model version, ready to run. Implemented by servables/tensorflow. */
export interface Servable {
  readonly signatures: SignatureMap;
  /** Signatures of the SavedModel that cannot be served here, with why (an unsupported dtype, a sparse input). */
  readonly unservableSignatures?: UnservableSignatures;
  /** With server-side batching: how this version's batcher merges requests (what clients may be told). */
  readonly batching?: ServableBatching;
  /**
   * Runs a signature. `outputNames` selects outputs (all when undefined). Inputs have already been
   * checked against the signature by the caller; TensorFlow errors surface as ServingErrors.
   */
  run(
    signatureName: string,
    inputs: Readonly<Record<string, HostTensor>>,
    outputNames: readonly string[] | undefined,
    options?: RunOptions,
  ): Promise<Record<string, HostTensor>>;
  /**
   * Optional: `run` for a batch whose numeric inputs may still be row blocks, joined where the
   * tensor is built instead of on the caller's thread (row-blocks.ts). The batcher uses it when
   * present. The inputs count as consumed: their buffers may move away.
   */
  runRowBlocks?(
    signatureName: string,
    inputs: Readonly<Record<string, HostTensor | RowBlocks>>,
    outputNames: readonly string[] | undefined,
    options?: Omit<RunOptions, 'consumeInputs' | 'hangup'>,
  ): Promise<Record<string, HostTensor>>;
  /** Frees the version. Called only after every in-flight run has finished. */
  unload(): Promise<void>;
}

/** Loads one version from a complete directory on local disk (the model store). */
export interface ServableLoader {
  load(model: string, version: number, path: string, signal: AbortSignal): Promise<Servable>;
}
