import { LazyWorkerThread } from '../../../shared/lazy-worker-thread.js';
import type { DiskWriteRequest, DiskWriteResponse } from './disk-write-protocol.js';

/**
 * Writes downloaded bodies on threads of their own. Each write through the libuv pool costs a
 * hand-off to a pool thread and a wake-up of the event loop: at 32 KiB per call
 * (WRITE_PIECE_BYTES) a 1 GiB download paid that 32k times on the main thread, and a small file
 * three times (open, write, close). Here the main thread posts one message per batch or file and
 * the writer thread makes the system calls. Creating files can be slow (on this VM's ext4 up to
 * 0.7 ms of kernel time each, shortly after many deletions), and it no longer stalls the event loop.
 * A thread starts on its first write, holds the process open only while writes are pending,
 * and is started again if it dies (its pending writes fail).
 */
export class DiskWriter {
  private readonly threads: WriterThread[];

  /** `threads`: how many files can be created or written at once. */
  constructor(threads = DEFAULT_THREADS) {
    this.threads = Array.from({ length: threads }, () => new WriterThread());
  }

  /** Whether `buffers` can go to the thread without a copy (all in shared memory). */
  static accepts(buffers: readonly Buffer[]): boolean {
    return buffers.every((b) => b.buffer instanceof SharedArrayBuffer);
  }

  /** Writes `buffers` into the open file `fd` from `position` on; they must satisfy `accepts`. */
  write(fd: number, buffers: readonly Buffer[], position: number): Promise<void> {
    return this.leastBusy().send((id) => ({ kind: 'write', id, fd, position, pieces: buffers }), []);
  }

  /** Creates (or truncates) the file `path` holding `data`. `data` is copied unless it is shared memory. */
  createFile(path: string, data: Buffer): Promise<void> {
    const thread = this.leastBusy();
    if (data.buffer instanceof SharedArrayBuffer) return thread.send((id) => ({ kind: 'create', id, path, data }), []);
    // Posting a view would copy its whole backing store (a pooled Buffer's slab): copy the bytes and hand them over.
    const copy = new Uint8Array(data);
    return thread.send((id) => ({ kind: 'create', id, path, data: copy }), [copy.buffer]);
  }

  /** Stops the threads (pending writes fail). */
  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.close()));
  }

  private leastBusy(): WriterThread {
    let best = this.threads[0]!;
    for (const t of this.threads) if (t.load < best.load) best = t;
    return best;
  }
}

/**
 * Two threads: creating a file is the slow step when many small files arrive (kernel time, not
 * the disk), and s5cmd, which creates files from many goroutines, overlapped it where one thread
 * could not. More threads than that only contend for the same directory on a 2-core machine.
 */
const DEFAULT_THREADS = 2;

/** One writer thread, started on first use and again after it dies. */
class WriterThread {
  private readonly thread = new LazyWorkerThread<DiskWriteRequest, DiskWriteResponse>(import.meta.url, 'disk-writer-thread', 'the disk writer thread');

  get load(): number {
    return this.thread.load;
  }

  async send(request: (id: number) => DiskWriteRequest, transfer: ArrayBuffer[]): Promise<void> {
    const response = await this.thread.call(request, transfer);
    if (response.ok) return;
    const error = new Error(response.message) as NodeJS.ErrnoException;
    if (response.code !== undefined) error.code = response.code;
    throw error;
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}

let shared: DiskWriter | undefined;

/** The process's writer: its threads serve every download. */
export function sharedDiskWriter(): DiskWriter {
  return (shared ??= new DiskWriter());
}
