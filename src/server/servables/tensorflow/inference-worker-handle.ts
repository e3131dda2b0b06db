import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { startSiblingWorker } from '../../../shared/sibling-worker.js';
import { ServingError } from '../../../shared/errors.js';
import type { RunTiming } from '../../core/servable.js';
import type { WorkerRequest, WorkerResponse, WorkerResult } from './inference-protocol.js';

export type RequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

interface Pending {
  resolve(result: WorkerResult): void;
  reject(error: Error): void;
  /** Gets a run's timing from the worker's answer. */
  timing?: RunTiming;
}

/** One inference worker thread, seen from the main thread: its pending calls and its failure. */
export class InferenceWorkerHandle {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly onFailure: (error: Error) => void,
  ) {
    worker.on('message', (response: WorkerResponse) => this.settle(response));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new Error(`inference worker exited with code ${code}`)));
  }

  /** Starts a worker thread; `onFailure` runs once if it later dies (not after close()). */
  static async start(niceness: number, onFailure: (error: Error) => void): Promise<InferenceWorkerHandle> {
    const worker = startSiblingWorker(import.meta.url, 'inference-worker', { niceness });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`inference worker exited with code ${code} while starting`)));
    });
    return new InferenceWorkerHandle(worker, onFailure);
  }

  private busyBefore = 0;
  private busySince = 0;

  /** Milliseconds this thread has had work, from its start until now. */
  busyMs(): number {
    return this.busyBefore + (this.pending.size > 0 ? performance.now() - this.busySince : 0);
  }

  get load(): number {
    return this.pending.size;
  }

  get alive(): boolean {
    return this.failure === undefined;
  }

  call(body: RequestBody, transfer: ArrayBuffer[] = [], timing?: RunTiming): Promise<WorkerResult> {
    if (this.failure) return Promise.reject(new ServingError('UNAVAILABLE', `inference worker is down: ${this.failure.message}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.busySince = performance.now();
      this.pending.set(id, { resolve, reject, timing });
      this.worker.postMessage({ ...body, id }, transfer);
    });
  }

  /** Stops the thread at once, as a crash would (pending calls fail); the pool's fault drills use it. */
  async kill(): Promise<void> {
    await this.worker.terminate();
  }

  async close(): Promise<void> {
    this.failure ??= new Error('closed');
    await this.worker.terminate();
  }

  private settle(response: WorkerResponse): void {
    const pending = this.pending.get(response.id);
    if (!pending) return;
    this.pending.delete(response.id);
    if (this.pending.size === 0) this.busyBefore += performance.now() - this.busySince;
    if (response.ok && response.timing !== undefined && pending.timing !== undefined) {
      pending.timing.inputNs = response.timing.inputNs;
      pending.timing.inferNs = response.timing.inferNs;
      pending.timing.outputNs = response.timing.outputNs;
      pending.timing.executions = 1;
    }
    if (response.ok) pending.resolve(response.result);
    else pending.reject(new ServingError(response.code, response.message));
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const pending of this.pending.values()) {
      pending.reject(new ServingError('UNAVAILABLE', `inference worker failed: ${error.message}`, { cause: error }));
    }
    this.pending.clear();
    this.onFailure(error);
  }
}
