import { Worker } from 'node:worker_threads';
import { ServingError } from '../../../shared/errors.js';
import type { HostTensor } from '../../core/host-tensor.js';
import {
  postableTensors,
  type WorkerRequest,
  type WorkerResponse,
  type WorkerResult,
} from './inference-protocol.js';

type RequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

interface Pending {
  resolve(result: WorkerResult): void;
  reject(error: Error): void;
}

export interface InferencePoolOptions {
  /** Nice value for the worker threads and TensorFlow's pools (Linux); 0 leaves them alone. */
  readonly niceness?: number;
}

/** One worker thread and the calls waiting on it. */
class InferenceWorker {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (response: WorkerResponse) => this.settle(response));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new Error(`inference worker exited with code ${code}`)));
  }

  static async start(options: InferencePoolOptions): Promise<InferenceWorker> {
    // Under vitest/tsx the sources are TypeScript; compiled builds run the .js next to this file.
    const fromSource = import.meta.url.endsWith('.ts');
    const url = new URL(fromSource ? './inference-worker.ts' : './inference-worker.js', import.meta.url);
    const workerData = { niceness: options.niceness ?? 0 };
    const worker = fromSource
      ? // Node 20 workers ignore --import, so register tsx inside the thread before importing.
        new Worker(
          `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`,
          { eval: true, workerData },
        )
      : new Worker(url, { workerData });
    const ready = new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`inference worker exited with code ${code} while starting`)));
    });
    await ready;
    return new InferenceWorker(worker);
  }

  get load(): number {
    return this.pending.size;
  }

  call(body: RequestBody, transfer: ArrayBuffer[] = []): Promise<WorkerResult> {
    if (this.failure) return Promise.reject(new ServingError('UNAVAILABLE', `inference worker is down: ${this.failure.message}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...body, id }, transfer);
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error('closed');
    await this.worker.terminate();
  }

  private settle(response: WorkerResponse): void {
    const pending = this.pending.get(response.id);
    if (!pending) return;
    this.pending.delete(response.id);
    if (response.ok) pending.resolve(response.result);
    else pending.reject(new ServingError(response.code, response.message));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const pending of this.pending.values()) {
      pending.reject(new ServingError('UNAVAILABLE', `inference worker failed: ${error.message}`, { cause: error }));
    }
    this.pending.clear();
  }
}

/** A SavedModel loaded into every worker of the pool: one session id per worker. */
export interface PooledSession {
  readonly sessions: readonly number[];
}

/**
 * Worker threads that own TensorFlow sessions. Every version is loaded into every worker, and
 * each call goes to the least busy worker. One worker is the default: TensorFlow already spreads
 * a single run over the cores; more workers help many small concurrent requests.
 */
export class InferencePool {
  private constructor(private readonly workers: readonly InferenceWorker[]) {}

  static async start(size: number, options: InferencePoolOptions = {}): Promise<InferencePool> {
    if (!Number.isInteger(size) || size < 1) throw new Error(`inference pool size must be a positive integer, got ${size}`);
    const workers = await Promise.all(Array.from({ length: size }, () => InferenceWorker.start(options)));
    return new InferencePool(workers);
  }

  async load(path: string, tags: readonly string[]): Promise<PooledSession> {
    const results = await Promise.allSettled(this.workers.map((w) => w.call({ kind: 'load', path, tags })));
    const sessions = results.map((r) => (r.status === 'fulfilled' ? (r.value as number) : undefined));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // Do not leak the sessions that did load.
      const unloads = sessions.flatMap((session, i) => (session === undefined ? [] : [this.workers[i]!.call({ kind: 'unload', session })]));
      await Promise.allSettled(unloads);
      throw failed.reason;
    }
    return { sessions: sessions as number[] };
  }

  async run(
    pooled: PooledSession,
    inputNames: readonly string[],
    inputs: readonly HostTensor[],
    outputNames: readonly string[],
    consumeInputs = false,
  ): Promise<HostTensor[]> {
    let index = 0;
    for (let i = 1; i < this.workers.length; i++) {
      if (this.workers[i]!.load < this.workers[index]!.load) index = i;
    }
    const postable = postableTensors(inputs, consumeInputs);
    const result = await this.workers[index]!.call(
      { kind: 'run', session: pooled.sessions[index]!, inputNames, inputs: postable.tensors, outputNames },
      postable.transfer,
    );
    return result as HostTensor[];
  }

  async unload(pooled: PooledSession): Promise<void> {
    await Promise.all(pooled.sessions.map((session, i) => this.workers[i]!.call({ kind: 'unload', session })));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
