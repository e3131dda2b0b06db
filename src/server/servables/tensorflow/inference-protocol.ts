import type { ErrorCode } from '../../../shared/errors.js';
import { copyBytes, type HostTensor } from '../../core/host-tensor.js';
import { isWholeMessageBuffer } from '../../core/message-buffers.js';
import { isRowBlocks, type RowBlocks } from '../../core/row-blocks.js';

/** Messages between the main thread and an inference worker. */
export type WorkerRequest =
  | { readonly kind: 'load'; readonly id: number; readonly path: string; readonly tags: readonly string[] }
  | {
      readonly kind: 'run';
      readonly id: number;
      readonly session: number;
      /** Graph tensor names ("serving_default_x:0"), aligned with `inputs`. */
      readonly inputNames: readonly string[];
      readonly inputs: readonly RunInput[];
      readonly outputNames: readonly string[];
      /** Epoch ms: the worker may refuse the run once this is near (run-admission.ts). */
      readonly deadline?: number;
      /** Epoch ms when the main thread posted it (set with `deadline`): how long it waited. */
      readonly postedAt?: number;
    }
  | { readonly kind: 'unload'; readonly id: number; readonly session: number };

export type WorkerResult = number | readonly HostTensor[] | null;

/** Where a run's time went inside the worker, in nanoseconds (Triton's compute_input/infer/output). */
export interface WorkerRunTiming {
  inputNs: number;
  inferNs: number;
  outputNs: number;
}

export type WorkerResponse =
  | { readonly id: number; readonly ok: true; readonly result: WorkerResult; readonly timing?: WorkerRunTiming }
  | { readonly id: number; readonly ok: false; readonly code: ErrorCode; readonly message: string };

/** The ArrayBuffers a message can hand over without copying. */
export function transferablesOf(tensors: readonly HostTensor[]): ArrayBuffer[] {
  const buffers: ArrayBuffer[] = [];
  for (const tensor of tensors) {
    if (tensor.dtype === 'DT_STRING') continue;
    const { buffer } = tensor.bytes;
    // Only whole, unshared buffers may move: a view into a larger buffer would take it all along.
    if (buffer instanceof ArrayBuffer && tensor.bytes.byteLength === buffer.byteLength && !buffers.includes(buffer)) {
      buffers.push(buffer);
    }
  }
  return buffers;
}

/** An input of a run: a tensor, or a batch's row blocks the worker joins (row-blocks.ts). */
export type RunInput = HostTensor | RowBlocks;

/**
 * Prepares inputs for posting to a worker with at most one copy, and none when it can:
 * - a tensor owning its whole buffer, or a view into a buffer that holds only its request's
 *   message (message-buffers.ts), moves with its buffer when the caller consumes its inputs;
 * - a view into a larger, shared buffer is copied out (posting it would clone the whole buffer)
 *   and the copy moves;
 * - otherwise postMessage clones it, so a caller that reads its inputs again (a shadow copy)
 *   never sees them detached.
 * Row blocks are always consumed: the batcher hands over copies of any block it must keep.
 */
export function postableTensors(inputs: readonly RunInput[], consume: boolean): { tensors: RunInput[]; transfer: ArrayBuffer[] } {
  const transfer = new Set<ArrayBuffer>();
  const postable = (bytes: Uint8Array, consumed: boolean): Uint8Array => {
    const { buffer } = bytes;
    const whole = bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength;
    if (whole || isWholeMessageBuffer(buffer)) {
      if (consumed && buffer instanceof ArrayBuffer) transfer.add(buffer);
      if (consumed || whole) return bytes;
    }
    const copy = copyBytes(bytes);
    transfer.add(copy.buffer);
    return copy;
  };
  const tensors = inputs.map((input): RunInput => {
    if (isRowBlocks(input)) return { ...input, blocks: input.blocks.map((block) => postable(block, true)) };
    if (input.dtype === 'DT_STRING') return input;
    return { ...input, bytes: postable(input.bytes, consume) };
  });
  return { tensors, transfer: [...transfer] };
}
