import net from 'node:net';
import { trackSocketPair } from '../socket-pair.js';

/**
 * A loopback TCP proxy in front of the S3 test server that injects the faults a real network
 * produces: connections cut after some bytes (truncated bodies) and slow links. Settings apply to
 * new and running connections; change them while a test runs.
 */
export class FaultProxy {
  /** Cut a connection once it has sent this many bytes to the client (undefined = never). */
  cutAfterBytes: number | undefined;
  /** Server→client bytes per second per connection (undefined = unlimited). */
  bytesPerSecond: number | undefined;
  /** Connections cut so far. */
  cuts = 0;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(targetPort: number): Promise<FaultProxy> {
    const holder: { proxy?: FaultProxy } = {};
    const server = net.createServer((client) => holder.proxy?.handle(client, targetPort));
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const proxy = new FaultProxy(server, (server.address() as net.AddressInfo).port);
    holder.proxy = proxy;
    return proxy;
  }

  handle(client: net.Socket, targetPort: number): void {
    const upstream = net.connect(targetPort, '127.0.0.1');
    const drop = trackSocketPair(this.sockets, client, upstream);
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (d: Buffer) => upstream.write(d));
    let sent = 0;
    let cut = false;
    upstream.on('data', (d: Buffer) => {
      if (cut) return;
      let chunk = d;
      if (this.cutAfterBytes !== undefined && sent + chunk.length > this.cutAfterBytes) {
        this.cuts++;
        cut = true;
        chunk = chunk.subarray(0, Math.max(0, this.cutAfterBytes - sent));
        client.write(chunk, drop);
        return;
      }
      sent += chunk.length;
      client.write(chunk);
      if (this.bytesPerSecond !== undefined) {
        upstream.pause();
        setTimeout(() => upstream.resume(), (chunk.length / this.bytesPerSecond) * 1000);
      }
    });
  }

  /** Drops every open connection (like a network blip). */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((res) => this.server.close(() => res()));
  }
}
