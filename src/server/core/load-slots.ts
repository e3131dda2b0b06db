/**
 * A FIFO counting semaphore for loads (`num_load_threads`). Waiting for a slot honours an
 * AbortSignal, so a version that disappears while queued leaves the queue.
 */
export class LoadSlots {
  private free: number;
  private readonly queue: Array<{ grant: () => void; signal: AbortSignal }> = [];

  constructor(slots: number) {
    if (!Number.isSafeInteger(slots) || slots < 1) throw new RangeError(`load slots must be an integer >= 1, got ${slots}`);
    this.free = slots;
  }

  /** Resolves with a release function once a slot is free; rejects with the abort reason. */
  acquire(signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      const waiter = {
        signal,
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve(this.releaser());
        },
      };
      const onAbort = (): void => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        reject(asError(signal.reason));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
      this.dispatch();
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.free += 1;
      this.dispatch();
    };
  }

  private dispatch(): void {
    while (this.free > 0 && this.queue.length > 0) {
      this.free -= 1;
      this.queue.shift()!.grant();
    }
  }
}

const asError = (reason: unknown): Error => (reason instanceof Error ? reason : new Error(String(reason)));
