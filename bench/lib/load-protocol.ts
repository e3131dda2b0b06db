/** Messages between the benchmark driver and its load-generator processes. */

export type LoadTarget =
  | {
      readonly kind: 'grpc';
      /** host:port */
      readonly address: string;
      /** Full method path, e.g. /tensorflow.serving.PredictionService/Predict. */
      readonly method: string;
      /** The serialized request message, base64 (serialized once by the driver). */
      readonly requestBase64: string;
      /** Sticky-key metadata: each call sends `header: <prefix><i % keys>` for a rotating i. */
      readonly stickyKey?: { readonly header: string; readonly prefix: string; readonly keys: number };
      /** TLS trusting `ca` (PEM file), presenting `cert`/`key` when set; plain text when absent. */
      readonly tls?: { readonly ca: string; readonly cert?: string; readonly key?: string };
    }
  | {
      readonly kind: 'http';
      readonly url: string;
      /** POST this body (base64) with this content type and any further headers; GET when absent. */
      readonly post?: { readonly bodyBase64: string; readonly contentType: string; readonly headers?: Readonly<Record<string, string>> };
    };

export interface LoadJob {
  readonly target: LoadTarget;
  /** Closed loop: this many calls outstanding at all times. */
  readonly concurrency: number;
  /** Calls completing in the first warmupMs are not recorded. */
  readonly warmupMs: number;
  readonly durationMs: number;
  /** When set, a single sequential caller pausing this long between calls (a probe). */
  readonly pauseMs?: number;
  /**
   * Go client only: also time each call to the kernel's receive time of its answer
   * (SO_TIMESTAMPNS), leaving out the client's own wait for a CPU. One caller per connection.
   */
  readonly socketTimestamps?: boolean;
}

export interface LoadResult {
  /** Latency of each recorded call, milliseconds. */
  readonly latenciesMs: number[];
  readonly errors: number;
  readonly firstError?: string;
  /** Length of the recorded window, milliseconds. */
  readonly windowMs: number;
  /** CPU time (user+system) the load process used during the window, milliseconds. */
  readonly cpuMs: number;
}

export type ToLoadProcess = { readonly type: 'job'; readonly job: LoadJob } | { readonly type: 'go' } | { readonly type: 'exit' };
export type FromLoadProcess =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly result: LoadResult }
  | { readonly type: 'failed'; readonly message: string };
