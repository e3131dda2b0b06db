import type { TraceEvent } from './perf-trace.js';

/** One call on a connection that carries one call at a time (a probe): when the server's socket
 *  received the request, and when the client's socket received the first bytes of the answer. */
export interface Exchange {
  readonly requestAt: number;
  readonly responseAt: number;
}

/**
 * Smallest segment taken as the start of a request. HTTP/2 control frames a client sends on its
 * own (WINDOW_UPDATE 13 bytes, PING 17, SETTINGS ack 9) are smaller than any gRPC request
 * (a HEADERS frame and a DATA frame with its 5-byte prefix: 23 bytes of framing alone).
 */
const MIN_REQUEST_BYTES = 24;

/** Request/response pairs per client port, for connections to `serverPort` (pure). */
export function exchangesByConnection(events: readonly TraceEvent[], serverPort: number): Map<number, Exchange[]> {
  const pending = new Map<number, number>();
  const exchanges = new Map<number, Exchange[]>();
  for (const event of events) {
    if (event.kind !== 'tcp' || event.dataBytes === 0) continue;
    if (event.localPort === serverPort) {
      if (event.dataBytes >= MIN_REQUEST_BYTES && !pending.has(event.remotePort)) pending.set(event.remotePort, event.time);
    } else if (event.remotePort === serverPort) {
      const requestAt = pending.get(event.localPort);
      if (requestAt === undefined) continue;
      pending.delete(event.localPort);
      let list = exchanges.get(event.localPort);
      if (!list) exchanges.set(event.localPort, (list = []));
      list.push({ requestAt, responseAt: event.time });
    }
  }
  return exchanges;
}

/**
 * The probe's connection: the one with the fewest exchanges among those with at least
 * `minExchanges` (load connections carry many calls per exchange window and far more segments).
 */
export function probeExchanges(byConnection: ReadonlyMap<number, readonly Exchange[]>, minExchanges: number): readonly Exchange[] | undefined {
  let best: readonly Exchange[] | undefined;
  for (const list of byConnection.values()) {
    if (list.length >= minExchanges && (best === undefined || list.length < best.length)) best = list;
  }
  return best;
}
