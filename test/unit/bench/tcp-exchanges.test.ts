import { describe, expect, it } from 'vitest';
import type { TcpReceiveEvent } from '../../../bench/lib/perf-trace.js';
import { exchangesByConnection, probeExchanges } from '../../../bench/lib/tcp-exchanges.js';

const SERVER = 8500;
// tcp_probe names the receiving socket first: at the server, localPort is the server's.
const atServer = (time: number, client: number, dataBytes: number): TcpReceiveEvent => ({ kind: 'tcp', time, localPort: SERVER, remotePort: client, dataBytes });
const atClient = (time: number, client: number, dataBytes: number): TcpReceiveEvent => ({ kind: 'tcp', time, localPort: client, remotePort: SERVER, dataBytes });

describe('exchangesByConnection', () => {
  it('pairs the first request bytes at the server with the first answer bytes at the client, per connection', () => {
    const events = [
      atServer(1.0, 40001, 120),
      atServer(1.1, 40002, 80),
      atServer(1.2, 40001, 60), // more of the same request: the exchange started at 1.0
      atClient(1.3, 40002, 0), // a bare ACK is not an answer
      atClient(1.5, 40001, 90),
      atClient(1.6, 40001, 30), // rest of the answer
      atClient(2.0, 40002, 90),
      atClient(2.1, 40003, 50), // answer without a request (e.g. the server's SETTINGS): ignored
    ];
    const byConnection = exchangesByConnection(events, SERVER);
    expect(byConnection.get(40001)).toEqual([{ requestAt: 1.0, responseAt: 1.5 }]);
    expect(byConnection.get(40002)).toEqual([{ requestAt: 1.1, responseAt: 2.0 }]);
    expect(byConnection.has(40003)).toBe(false);
  });

  it('does not take small HTTP/2 control frames from the client (WINDOW_UPDATE, PING) for a request', () => {
    const events = [atServer(1.0, 40001, 13), atServer(1.2, 40001, 100), atClient(1.4, 40001, 40)];
    expect(exchangesByConnection(events, SERVER).get(40001)).toEqual([{ requestAt: 1.2, responseAt: 1.4 }]);
  });
});

describe('probeExchanges', () => {
  it('picks the connection with the fewest exchanges among those with enough of them', () => {
    const list = (n: number) => Array.from({ length: n }, (_, i) => ({ requestAt: i, responseAt: i + 0.5 }));
    const byConnection = new Map([
      [1, list(5000)],
      [2, list(700)],
      [3, list(3)], // the warm-up call of a process that then went away
    ]);
    expect(probeExchanges(byConnection, 20)).toHaveLength(700);
    expect(probeExchanges(new Map([[1, list(3)]]), 20)).toBeUndefined();
  });
});
