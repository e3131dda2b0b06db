/** The outcome of a load run: how many calls succeeded, every failure, and what each success returned. */
export interface LoadResult<T> {
  readonly ok: number;
  readonly failures: readonly unknown[];
  readonly results: readonly T[];
}

export interface LoadRun<T> {
  /** Successful calls so far. */
  readonly count: () => number;
  /** Results so far (in completion order). */
  readonly results: readonly T[];
  /** Stops issuing calls, waits for those in flight, and reports. */
  stop(): Promise<LoadResult<T>>;
}

/** Keeps `concurrency` calls of `call` in flight until stopped. */
export function startLoad<T>(call: (i: number) => Promise<T>, concurrency = 4): LoadRun<T> {
  let stopped = false;
  let issued = 0;
  const results: T[] = [];
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (!stopped) {
      try {
        results.push(await call(issued++));
      } catch (error) {
        // Failures may come back without any I/O: yield to timers so the test can stop us.
        if (failures.length < 1000) failures.push(error);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    count: () => results.length,
    results,
    async stop() {
      stopped = true;
      await Promise.all(workers);
      return { ok: results.length, failures, results };
    },
  };
}
