import { DTYPES, type DType, type HostTensor } from '../../core/host-tensor.js';
import { TensorBridge } from './tensor-bridge.js';
import type { TfBinding } from './tf-binding.js';

/**
 * Sends one tensor of every dtype through the TensorBridge and back, on the calling thread, so
 * that every op the bridge uses (Bitcast, Cast) has run once. Two reasons:
 *
 * - tfjs-node's binding keeps op attribute names in one process-wide `std::set` that it fills on
 *   first use, without a lock (`ATTR_NAME_SET` in its tfjs_backend.cc). Two inference threads
 *   adding names at once corrupt it, and the process dies with SIGSEGV. Once every name we use
 *   is in, later calls only look names up, which threads may do together. So the first inference
 *   thread primes it before any other starts (InferencePool.start).
 * - TensorFlow then holds thread-local state whose destructors keep its libraries loaded until
 *   the process exits. Without it, a server that stops before any SavedModel loaded (startup
 *   failing on a port in use) unloads them when its last inference thread stops, and exiting then
 *   crashes (SIGSEGV) in an exit handler of the unloaded code.
 */
export function primeTensorflow(binding: TfBinding): void {
  const bridge = new TensorBridge(binding);
  for (const dtype of Object.keys(DTYPES) as DType[]) {
    const tensor: HostTensor =
      dtype === 'DT_STRING' ? { dtype, shape: [1], strings: [new Uint8Array([0])] } : { dtype, shape: [1], bytes: new Uint8Array(DTYPES[dtype].width) };
    const id = bridge.create(tensor);
    bridge.read({ id, shape: [1], dtype: DTYPES[dtype].enum });
  }
}
