/** Weight of the newest time in a key's typical time. */
const SMOOTHING = 0.2;

/**
 * Exponentially smoothed durations (ms) by key, for the most recently used keys: how long a
 * session's runs or a queue's batches have lately taken (run-admission.ts, batch-scheduler.ts).
 */
export class TypicalTimes<Key> {
  private readonly times = new Map<Key, number>();

  constructor(private readonly kept = 256) {}

  typical(key: Key): number | undefined {
    return this.times.get(key);
  }

  record(key: Key, ms: number): void {
    const typical = this.times.get(key);
    // Re-inserted, so the map's first key is the least recently recorded.
    this.times.delete(key);
    this.times.set(key, typical === undefined ? ms : typical + SMOOTHING * (ms - typical));
    if (this.times.size > this.kept) this.times.delete(this.times.keys().next().value!);
  }

  forget(key: Key): void {
    this.times.delete(key);
  }
}
