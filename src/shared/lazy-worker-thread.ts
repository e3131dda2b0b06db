import type { Worker } from 'node:worker_threads';
import { startSiblingWorker } from './sibling-worker.js';

interface Pending<Response> {
  resolve(response: Response): void;
  reject(error: Error): void;
}

/**
 * A worker thread next to the module `from` (see startSiblingWorker), started on its first call
 * and again after it dies; a death fails the calls then pending. It holds the process open only
 * while calls are pending. Each call carries an id, and the thread answers with a message of the
 * same id; what the answer means is the caller's business.
 */
export class LazyWorkerThread<Request, Response extends { readonly id: number }> {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending<Response>>();
  private nextId = 1;

  /**
   * @param label names the thread in errors, e.g. "the disk writer thread".
   * @param workerData what the thread gets as `workerData`.
   */
  constructor(
    private readonly from: string,
    private readonly name: string,
    private readonly label: string,
    private readonly workerData: unknown = undefined,
  ) {}

  /** Calls in flight. */
  get load(): number {
    return this.pending.size;
  }

  call(request: (id: number) => Request, transfer: readonly ArrayBuffer[] = []): Promise<Response> {
    const worker = (this.worker ??= this.start());
    const id = this.nextId++;
    if (this.pending.size === 0) worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage(request(id), [...transfer]);
    });
  }

  /** Stops the thread; pending calls fail. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    this.fail(worker, new Error(`${this.label} exited: closed`));
    await worker.terminate();
  }

  private start(): Worker {
    const worker = startSiblingWorker(this.from, this.name, this.workerData);
    worker.on('message', (response: Response) => this.settle(worker, response));
    worker.on('error', (error) => this.fail(worker, error));
    worker.on('exit', (code) => this.fail(worker, new Error(`${this.label} exited with code ${code}`)));
    return worker;
  }

  private settle(worker: Worker, response: Response): void {
    const pending = this.pending.get(response.id);
    if (pending === undefined) return;
    this.pending.delete(response.id);
    if (this.pending.size === 0) worker.unref();
    pending.resolve(response);
  }

  private fail(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}
