import type * as grpc from '@grpc/grpc-js';
import type { Http2Session } from 'node:http2';
import { performance } from 'node:perf_hooks';
import { BdpEstimator } from './bdp-estimator.js';
import { eachGrpcHttp2Server } from './grpc-http2-servers.js';

/*
 * grpc-js leaves Node's HTTP/2 receive windows at 64 KiB per stream and per connection, so a
 * client may send only 64 KiB of request per round trip on each connection: a 3.2 MB tensor
 * took ~50 round trips. gRPC's own servers (TF Serving's) start there too but grow the windows
 * with BDP pings; this does the same for ours (docs/decisions/0012-http2-flow-control-windows.md).
 */

export interface FlowControlOptions {
  /** `grpc.http2.lookahead_bytes`: each stream's receive window from the start (Node's default otherwise). */
  readonly initialWindowBytes?: number;
  /** `grpc.http2.bdp_probe`: grow the windows with BDP pings (on unless 0). */
  readonly bdpProbe: boolean;
  /** True while requests wait for inference: the server, not the network, is the bottleneck then. */
  readonly serverSaturated?: () => boolean;
}

/** The HTTP/2 default, which Node keeps: 2^16 - 1. */
export const DEFAULT_WINDOW_BYTES = 65_535;
/** BDP probing grows a stream's window up to this: 1 Gbit/s over a 128 ms round trip. */
export const MAX_PROBED_WINDOW_BYTES = 16 << 20;
/** The largest window HTTP/2 allows: 2^31 - 1. */
export const MAX_WINDOW_BYTES = 2 ** 31 - 1;

/** Applies the options to every HTTP/2 session of a bound grpc-js server. */
export function installFlowControl(server: grpc.Server, options: FlowControlOptions, onProblem: (reason: string) => void): void {
  if (!options.bdpProbe && options.initialWindowBytes === undefined) return;
  eachGrpcHttp2Server(server, onProblem, (http2Server) => http2Server.on('session', (session: Http2Session) => manageWindows(session, options)));
}

function manageWindows(session: Http2Session, options: FlowControlOptions): void {
  const initial = options.initialWindowBytes ?? DEFAULT_WINDOW_BYTES;
  if (initial !== DEFAULT_WINDOW_BYTES) advertiseWindow(session, initial);
  if (!options.bdpProbe) return;
  const estimator = new BdpEstimator(initial, MAX_PROBED_WINDOW_BYTES);
  let probing = false;
  let notBefore = 0;
  // A new call is the cue: the first on a connection, then at most one per back-off delay. While
  // the window keeps growing, the next probe starts once the client has acknowledged the new
  // window (earlier, it would still measure the old one), so one long upload grows too.
  const probe = (): void => {
    if (probing || session.destroyed || session.closed || performance.now() < notBefore) return;
    const bytesBefore = session.socket.bytesRead;
    const answered = (error: Error | null): void => {
      probing = false;
      if (error !== null || session.destroyed) return;
      const window = estimator.sample(session.socket.bytesRead - bytesBefore, options.serverSaturated?.() ?? false);
      notBefore = performance.now() + estimator.nextProbeDelayMs;
      if (window === undefined) return;
      if (estimator.nextProbeDelayMs > 0) {
        advertiseWindow(session, window);
        return;
      }
      probing = advertiseWindow(session, window, () => {
        probing = false;
        probe();
      });
    };
    probing = sendPing(session, answered);
  };
  session.on('stream', probe);
}

function sendPing(session: Http2Session, answered: (error: Error | null) => void): boolean {
  try {
    return session.ping(answered);
  } catch {
    return false; // closing, or too many pings unanswered: try again with a later call
  }
}

/**
 * Streams get `window`. A grown window gives the connection twice that, so one slow stream cannot
 * hold up the rest; at Node's default the connection keeps its own 64 KiB, whose admission control
 * the saturated server relies on (decision 0012). `acknowledged` runs once the client has the
 * new settings. Returns false if the session could not take them (it is closing, or the client
 * has not acknowledged earlier settings): the window then stays as it was.
 */
function advertiseWindow(session: Http2Session, window: number, acknowledged?: () => void): boolean {
  try {
    session.settings({ initialWindowSize: window }, (error) => (error ? undefined : acknowledged?.()));
    session.setLocalWindowSize(window <= DEFAULT_WINDOW_BYTES ? DEFAULT_WINDOW_BYTES : Math.min(MAX_WINDOW_BYTES, 2 * window));
    return true;
  } catch {
    return false;
  }
}
