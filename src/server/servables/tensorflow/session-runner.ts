import { ServingError } from '../../../shared/errors.js';
import type { HostTensor } from '../../core/host-tensor.js';
import { isRowBlocks, joinRowBlocks } from '../../core/row-blocks.js';
import type { RunInput, WorkerRunTiming } from './inference-protocol.js';
import { TensorBridge } from './tensor-bridge.js';
import type { TfBinding } from './tf-binding.js';

/** Loads SavedModel sessions and runs them. Lives inside an inference worker. */
export class SessionRunner {
  private readonly bridge: TensorBridge;

  constructor(private readonly binding: TfBinding) {
    this.bridge = new TensorBridge(binding);
  }

  load(path: string, tags: readonly string[]): number {
    try {
      return this.binding.loadSavedModel(path, tags.join(','));
    } catch (error) {
      throw new ServingError('FAILED_PRECONDITION', `TensorFlow could not load the SavedModel at ${path}: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  unload(session: number): void {
    this.binding.deleteSavedModel(session);
  }

  /** Runs a session; `timing`, when given, gets the time spent making inputs, running and reading outputs. */
  run(session: number, inputNames: readonly string[], inputs: readonly RunInput[], outputNames: readonly string[], timing?: WorkerRunTiming): HostTensor[] {
    const inputIds: number[] = [];
    try {
      const started = performance.now();
      for (const input of inputs) inputIds.push(this.bridge.create(isRowBlocks(input) ? joinRowBlocks(input) : input));
      const inputsMade = performance.now();
      let outputs;
      try {
        outputs = this.binding.runSavedModel(session, inputIds, inputNames.join(','), outputNames.join(','));
      } catch (error) {
        // The request's tensors are the only thing that varies between calls of a loaded model.
        throw new ServingError('INVALID_ARGUMENT', messageOf(error).replace(/^Session fail to run with error: /, ''), {
          cause: error,
        });
      }
      // Read every output even after a failure, so none is left allocated in TensorFlow.
      const ranUntil = performance.now();
      const results: HostTensor[] = [];
      let failure: Error | undefined;
      for (const meta of outputs) {
        try {
          results.push(this.bridge.read(meta));
        } catch (error) {
          failure ??= error instanceof Error ? error : new Error(String(error));
        }
      }
      if (failure !== undefined) throw failure;
      if (timing !== undefined) {
        const ran = performance.now();
        timing.inputNs = nanos(inputsMade - started);
        timing.inferNs = nanos(ranUntil - inputsMade);
        timing.outputNs = nanos(ran - ranUntil);
      }
      return results;
    } finally {
      for (const id of inputIds) this.binding.deleteTensor(id);
    }
  }
}

const nanos = (ms: number): number => Math.round(ms * 1e6);

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
