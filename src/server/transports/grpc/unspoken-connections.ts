import type * as grpc from '@grpc/grpc-js';
import type { Http2Session } from 'node:http2';
import type { Socket } from 'node:net';
import { eachGrpcHttp2Server } from './grpc-http2-servers.js';

/**
 * Connections to the gRPC port whose client has not spoken HTTP/2 yet: no SETTINGS frame, so no
 * call can be on them (a bare TCP connection, a TLS handshake not begun). grpc-js's tryShutdown
 * waits for every connection to end, and one of these held a shutdown for the whole grace period
 * (32 s measured, with the default 30 s); an idle gRPC channel closes at once (1.4 s). They are
 * closed when the server stops.
 *
 * A session is matched to its connection by the peer's address and port, which the raw socket and
 * the TLS socket over it share. Connections without a port (a Unix socket) are left to the grace
 * period.
 */
export class UnspokenConnections {
  private readonly sockets = new Set<Socket>();
  /** Peers (address:port) whose client sent its SETTINGS. */
  private readonly spoken = new Set<string>();

  constructor(server: grpc.Server, onProblem: (reason: string) => void) {
    eachGrpcHttp2Server(server, onProblem, (http2Server) => {
      http2Server.on('connection', (socket: Socket) => {
        if (socket.remotePort === undefined) return;
        this.sockets.add(socket);
        socket.once('close', () => {
          this.sockets.delete(socket);
          this.spoken.delete(peerOf(socket));
        });
      });
      http2Server.on('session', (session: Http2Session) => {
        session.once('remoteSettings', () => {
          if (session.socket?.remotePort !== undefined) this.spoken.add(peerOf(session.socket));
        });
      });
    });
  }

  /** Closes the connections that have not spoken HTTP/2. */
  closeUnspoken(): void {
    for (const socket of this.sockets) if (!this.spoken.has(peerOf(socket))) socket.destroy();
  }
}

function peerOf(socket: { remoteAddress?: string; remotePort?: number }): string {
  return `${socket.remoteAddress}:${socket.remotePort}`;
}
