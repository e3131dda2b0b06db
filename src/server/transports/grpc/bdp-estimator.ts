/**
 * Sizes an HTTP/2 receive window from bandwidth-delay-product samples, as gRPC's own servers do
 * with BDP pings: send a PING, count the bytes that arrive until its ACK. When those bytes fill
 * half the window or more, the window, not the network, was the limit, so it doubles past them.
 * While requests already wait for inference, receiving more of them sooner cannot help, so the
 * window goes back to where it started and requests queue in the clients instead of the server.
 * Pure logic; flow-control.ts does the pinging.
 */
export class BdpEstimator {
  /** The receive window each stream is given now. */
  window: number;
  private readonly initialWindow: number;
  private readonly maxWindow: number;
  private delayMs = 0;

  /** Wait between probes once the window holds: doubles from here while nothing changes. */
  static readonly FIRST_DELAY_MS = 100;
  static readonly MAX_DELAY_MS = 10_000;

  constructor(initialWindow: number, maxWindow: number) {
    this.window = initialWindow;
    this.initialWindow = initialWindow;
    this.maxWindow = Math.max(maxWindow, initialWindow);
  }

  /**
   * Takes the bytes received during one ping's round trip, and whether the server was saturated
   * when its answer came. Returns the window to advertise from now on, or undefined to keep it.
   */
  sample(bytesDuringPing: number, serverSaturated: boolean): number | undefined {
    if (serverSaturated) {
      const shrunk = this.resize(this.initialWindow);
      // Saturation comes and goes with the load: after a change, look again soon.
      this.delayMs = shrunk === undefined ? this.backedOff() : BdpEstimator.FIRST_DELAY_MS;
      return shrunk;
    }
    // The receiver returns credit when half the window is used, so a flow held back by the
    // window moves between half and all of it per round trip: half is the test.
    if (bytesDuringPing * 2 < this.window || this.window >= this.maxWindow) {
      this.delayMs = this.backedOff();
      return undefined;
    }
    this.delayMs = 0;
    return this.resize(Math.min(this.maxWindow, Math.max(2 * bytesDuringPing, 2 * this.window)));
  }

  /** How long to wait before the next probe: none while the window is growing. */
  get nextProbeDelayMs(): number {
    return this.delayMs;
  }

  private backedOff(): number {
    return Math.min(Math.max(BdpEstimator.FIRST_DELAY_MS, this.delayMs * 2), BdpEstimator.MAX_DELAY_MS);
  }

  private resize(window: number): number | undefined {
    if (window === this.window) return undefined;
    this.window = window;
    return window;
  }
}
