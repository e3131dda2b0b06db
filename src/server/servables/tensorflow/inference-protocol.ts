import type { ErrorCode } from '../../../shared/errors.js';
import type { HostTensor } from '../../core/host-tensor.js';

/** Messages between the main thread and an inference worker. */
export type WorkerRequest =
  | { readonly kind: 'load'; readonly id: number; readonly path: string; readonly tags: readonly string[] }
  | {
      readonly kind: 'run';
      readonly id: number;
      readonly session: number;
      /** Graph tensor names ("serving_default_x:0"), aligned with `inputs`. */
      readonly inputNames: readonly string[];
      readonly inputs: readonly HostTensor[];
      readonly outputNames: readonly string[];
    }
  | { readonly kind: 'unload'; readonly id: number; readonly session: number };

export type WorkerResult = number | readonly HostTensor[] | null;

export type WorkerResponse =
  | { readonly id: number; readonly ok: true; readonly result: WorkerResult }
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

/**
 * Prepares tensors for posting to a worker with exactly one copy: a view into a larger buffer
 * is copied out (posting it would clone the whole buffer) and the copy is transferred; a tensor
 * owning its whole buffer is cloned by postMessage, so the caller's data is never detached.
 */
export function postableTensors(tensors: readonly HostTensor[]): { tensors: HostTensor[]; transfer: ArrayBuffer[] } {
  const transfer: ArrayBuffer[] = [];
  const out = tensors.map((tensor) => {
    if (tensor.dtype === 'DT_STRING') return tensor;
    const { bytes } = tensor;
    if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return tensor;
    const copy = bytes.slice();
    transfer.push(copy.buffer);
    return { ...tensor, bytes: copy };
  });
  return { tensors: out, transfer };
}
