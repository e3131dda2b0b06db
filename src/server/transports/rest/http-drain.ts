import type http from 'node:http';
import type { Socket } from 'node:net';

/**
 * Shutdown of an HTTP/1.1 server: it stops accepting, connections with no request open close at
 * once, the others once their last response is written, and whatever is left after the grace
 * period is cut.
 *
 * Node's closeIdleConnections() leaves out connections that have not sent a request yet, which
 * clients and proxies open ahead of use: one of them held a shutdown for the whole grace period
 * (30 s by default). So each connection's open requests are counted here from the start.
 */
export class HttpDrain {
  /** Open connections and how many requests each has in progress. */
  private readonly requests = new Map<Socket, number>();
  private closing = false;

  constructor(private readonly server: http.Server) {
    server.on('connection', (socket: Socket) => {
      this.requests.set(socket, 0);
      socket.once('close', () => this.requests.delete(socket));
    });
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const socket = req.socket;
      const open = this.requests.get(socket);
      if (open === undefined) return; // closed already
      this.requests.set(socket, open + 1);
      res.once('close', () => {
        if (!this.requests.has(socket)) return;
        const left = this.requests.get(socket)! - 1;
        this.requests.set(socket, left);
        if (this.closing && left === 0) endAfterWrites(socket);
      });
    });
  }

  /** Resolves when every connection has closed, or after `graceMs` with the rest cut off. */
  close(graceMs: number): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.server.closeAllConnections();
        resolve();
      }, graceMs);
      timer.unref();
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      // Nothing is being written on these: no response to wait for.
      for (const [socket, open] of this.requests) if (open === 0) socket.destroy();
    });
  }
}

/** Sends what is buffered, then closes (a client that never closes its side does not hold it). */
function endAfterWrites(socket: Socket): void {
  socket.once('finish', () => socket.destroy());
  socket.end();
}
