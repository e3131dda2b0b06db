/**
 * How busy the inference threads were lately: the share of the last sampling interval in which
 * they had work, from 0 to 1. The server samples it on a timer; readers take `recent` for free.
 */
export class UtilizationMeter {
  /** Saturated from this share of busy time on... */
  static readonly SATURATED_FROM = 0.95;
  /** ...until it falls below this: a band, so that a short dip does not flip the state. */
  static readonly SATURATED_UNTIL = 0.8;

  private lastBusyMs: number;
  private lastAt: number;
  private utilization = 0;
  private saturatedNow = false;

  constructor(
    private readonly busyMs: () => number,
    private readonly threads: () => number,
    private readonly now: () => number,
  ) {
    this.lastBusyMs = busyMs();
    this.lastAt = now();
  }

  /** Closes an interval (call it every ~100 ms). */
  sample(): void {
    const at = this.now();
    const busy = this.busyMs();
    const elapsed = (at - this.lastAt) * this.threads();
    // Clamped: a thread that died while busy stops counting mid-interval.
    if (elapsed > 0) this.utilization = Math.min(1, Math.max(0, (busy - this.lastBusyMs) / elapsed));
    this.saturatedNow = this.utilization >= (this.saturatedNow ? UtilizationMeter.SATURATED_UNTIL : UtilizationMeter.SATURATED_FROM);
    this.lastBusyMs = busy;
    this.lastAt = at;
  }

  get recent(): number {
    return this.utilization;
  }

  /** Whether the threads are saturated, by the intervals so far and the band above. */
  get saturated(): boolean {
    return this.saturatedNow;
  }
}
