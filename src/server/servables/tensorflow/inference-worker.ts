/**
 * Inference worker: owns native TensorFlow sessions so that synchronous TensorFlow calls never
 * block the main thread's event loop (health, status and metadata stay responsive).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toServingError } from '../../../shared/errors.js';
import type { HostTensor } from '../../core/host-tensor.js';
import { transferablesOf, type WorkerRequest, type WorkerResponse, type WorkerResult, type WorkerRunTiming } from './inference-protocol.js';
import { RunAdmission } from './run-admission.js';
import { SessionRunner } from './session-runner.js';
import { primeTensorflow } from './prime-tensorflow.js';
import { loadTfBinding } from './tf-binding.js';
import { lowerThreadPriority } from './thread-niceness.js';

if (!parentPort) throw new Error('inference-worker must run in a worker thread');
const port = parentPort;
// Before TensorFlow starts any thread: its pools inherit this thread's priority.
lowerThreadPriority((workerData as { niceness?: number } | undefined)?.niceness ?? 0);
const binding = loadTfBinding();
primeTensorflow(binding);
const runner = new SessionRunner(binding);
const admission = new RunAdmission();

function handle(request: WorkerRequest, timing: WorkerRunTiming): WorkerResult {
  switch (request.kind) {
    case 'load':
      return runner.load(request.path, request.tags);
    case 'run': {
      const refusal = admission.refusal(request.session, request.deadline, request.postedAt, Date.now());
      if (refusal) throw refusal;
      const started = performance.now();
      const outputs = runner.run(request.session, request.inputNames, request.inputs, request.outputNames, timing);
      admission.record(request.session, performance.now() - started);
      return outputs;
    }
    case 'unload':
      runner.unload(request.session);
      admission.forget(request.session);
      return null;
  }
}

port.on('message', (request: WorkerRequest) => {
  let response: WorkerResponse;
  let transfer: ArrayBuffer[] = [];
  try {
    const timing: WorkerRunTiming = { inputNs: 0, inferNs: 0, outputNs: 0 };
    const result = handle(request, timing);
    response = request.kind === 'run' ? { id: request.id, ok: true, result, timing } : { id: request.id, ok: true, result };
    if (Array.isArray(result)) transfer = transferablesOf(result as readonly HostTensor[]);
  } catch (error) {
    const coded = toServingError(error);
    response = { id: request.id, ok: false, code: coded.code, message: coded.message };
  }
  port.postMessage(response, transfer);
});
port.postMessage({ id: 0, ok: true, result: null } satisfies WorkerResponse);
