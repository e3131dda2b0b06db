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
 * Prepares tensors for posting to a worker with at most one copy. A view into a larger buffer is
 * copied out (posting it would clone the whole buffer) and the copy is transferred. A tensor
 * owning its whole buffer is transferred when the caller consumes its inputs, else cloned by
 * postMessage, so a caller that reads its inputs again (a shadow copy) never sees them detached.
 */
export function postableTensors(tensors: readonly HostTensor[], consume: boolean): { tensors: HostTensor[]; transfer: ArrayBuffer[] } {
  const transfer = new Set<ArrayBuffer>();
  const out = tensors.map((tensor) => {
    if (tensor.dtype === 'DT_STRING') return tensor;
    const { bytes } = tensor;
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    if (whole) {
      if (consume && bytes.buffer instanceof ArrayBuffer) transfer.add(bytes.buffer);
      return tensor;
    }
    const copy = bytes.slice();
    transfer.add(copy.buffer);
    return { ...tensor, bytes: copy };
  });
  return { tensors: out, transfer: [...transfer] };
}
