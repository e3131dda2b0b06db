import { createServer, type Server } from 'node:http';
import type { OperatorMetrics } from './metrics.js';

export interface HealthState {
  /** The process is alive and its loops are running. */
  live(): boolean;
  /** Caches synced (or this replica is a standby waiting for leadership). */
  ready(): boolean;
}

/** /healthz, /readyz and /metrics on one port. Resolves once listening; returns the bound port. */
export async function startHealthServer(port: number, host: string, state: HealthState, metrics: OperatorMetrics): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/readyz') {
      const ok = path === '/healthz' ? state.live() : state.ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n');
    } else if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics.render());
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : port };
}
