import type { Servable } from './servable.js';

/** Which version a request wants: an explicit version, a label, or (neither) the default. */
export interface VersionSelector {
  readonly version?: number;
  readonly label?: string;
}

/**
 * A version held for one request. The version is not unloaded while a handle is held: call
 * `release()` exactly when the request is done with the servable (a `finally`). Releasing twice
 * is harmless.
 */
export interface ServableHandle {
  readonly model: string;
  readonly version: number;
  readonly servable: Servable;
  release(): void;
}

/** Counts in-flight uses of one version, and lets an unload wait for them to finish. */
export class InFlightCounter {
  private count = 0;
  private waiters: Array<() => void> = [];

  get size(): number {
    return this.count;
  }

  /** Registers one use; the returned function ends it (idempotent). */
  enter(): () => void {
    this.count += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.count -= 1;
      if (this.count === 0) {
        const waiters = this.waiters;
        this.waiters = [];
        for (const w of waiters) w();
      }
    };
  }

  /** Resolves once no use is in flight. */
  drained(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
