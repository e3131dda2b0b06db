import net from 'node:net';
import { trackSocketPair } from '../socket-pair.js';

/**
 * A loopback TCP proxy that holds every chunk for `delayMs` in each direction: a network round
 * trip of about twice that, for tests of what latency does to a protocol (this kernel has no
 * netem). Chunks keep their order: Node runs timers of equal delay first in, first out.
 */
export class DelayProxy {
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, delayMs: number): Promise<DelayProxy> {
    const holder: { proxy?: DelayProxy } = {};
    const server = net.createServer((client) => holder.proxy?.relay(client, net.connect(targetPort, '127.0.0.1'), delayMs));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.proxy = new DelayProxy(server, (server.address() as net.AddressInfo).port);
    return holder.proxy;
  }

  get target(): string {
    return `127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: net.Socket, upstream: net.Socket, delayMs: number): void {
    const drop = trackSocketPair(this.sockets, client, upstream);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      from.setNoDelay(true);
      from.on('data', (chunk) => setTimeout(() => to.destroyed || to.write(chunk), delayMs));
      from.on('close', () => setTimeout(drop, delayMs));
      from.on('error', drop);
    }
  }
}
