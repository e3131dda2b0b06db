import http from 'node:http';
import net from 'node:net';

/**
 * A small forward proxy on loopback, as a corporate one works: CONNECT tunnels (https) and
 * absolute-form requests (plain http). It remembers what it was asked to reach.
 */
export class ForwardProxy {
  /** `host:port` of every tunnel and request, in order. */
  readonly targets: string[] = [];
  /** Tunnels are taken off the HTTP server's books: stop() ends them itself. */
  private readonly sockets = new Set<net.Socket>();
  private constructor(private readonly server: http.Server) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  static async start(): Promise<ForwardProxy> {
    const server = http.createServer();
    const proxy = new ForwardProxy(server);
    const track = (socket: net.Socket): void => {
      proxy.sockets.add(socket);
      socket.once('close', () => proxy.sockets.delete(socket));
    };
    server.on('connection', track);
    server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
      const target = req.url ?? '';
      proxy.targets.push(target);
      const colon = target.lastIndexOf(':');
      const upstream = net.connect(Number(target.slice(colon + 1)), target.slice(0, colon), () => {
        track(upstream);
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const url = new URL(req.url ?? '');
      proxy.targets.push(url.host);
      const upstream = http.request({ hostname: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
