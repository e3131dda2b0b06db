import type { Worker } from 'node:worker_threads';
import { startSiblingWorker } from '../../../shared/sibling-worker.js';
import type { DiskWriteRequest, DiskWriteResponse } from './disk-write-protocol.js';

interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * Writes blocks held in SharedArrayBuffers (RawHttpClient's bodies) on a thread of its own. Each
 * write through the libuv pool costs a hand-off to a pool thread and a wake-up of the event loop;
 * at 32 KiB per call (WRITE_PIECE_BYTES) a 1 GiB download paid that 32k times on the main thread.
 * Here the main thread posts one message per batch and the writer thread loops over write(2).
 * The thread starts on the first write, holds the process open only while writes are pending,
 * and is started again if it dies (its pending writes fail).
 */
export class DiskWriter {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  /** Whether `buffers` can go to the thread without a copy (all in shared memory). */
  static accepts(buffers: readonly Buffer[]): boolean {
    return buffers.every((b) => b.buffer instanceof SharedArrayBuffer);
  }

  /** Writes `buffers` into the open file `fd` from `position` on; they must satisfy `accepts`. */
  write(fd: number, buffers: readonly Buffer[], position: number): Promise<void> {
    const worker = (this.worker ??= this.start());
    const id = this.nextId++;
    if (this.pending.size === 0) worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: DiskWriteRequest = { id, fd, position, pieces: buffers };
      worker.postMessage(request);
    });
  }

  /** Stops the thread (pending writes fail). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = startSiblingWorker(import.meta.url, 'disk-writer-thread', undefined);
    worker.on('message', (response: DiskWriteResponse) => this.settle(worker, response));
    worker.on('error', (error) => this.fail(worker, error));
    worker.on('exit', (code) => this.fail(worker, new Error(`the disk writer thread exited with code ${code}`)));
    return worker;
  }

  private settle(worker: Worker, response: DiskWriteResponse): void {
    const pending = this.pending.get(response.id);
    if (pending === undefined) return;
    this.pending.delete(response.id);
    if (this.pending.size === 0) worker.unref();
    if (response.ok) pending.resolve();
    else {
      const error = new Error(response.message) as NodeJS.ErrnoException;
      if (response.code !== undefined) error.code = response.code;
      pending.reject(error);
    }
  }

  private fail(worker: Worker, error: Error): void {
    if (this.worker === worker) this.worker = undefined;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}

let shared: DiskWriter | undefined;

/** The process's writer: one thread serves every download. */
export function sharedDiskWriter(): DiskWriter {
  return (shared ??= new DiskWriter());
}
