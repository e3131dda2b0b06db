/**
 * The HTTP/2 stream registry swap (install-stream-tables.ts) on a real grpc-js server and client:
 * it is installed on this Node (so a Node or grpc-js upgrade that changes the internals fails
 * here, not silently), calls work over one connection, and graceful and forced shutdown still
 * see the open streams through it.
 */
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { afterEach, expect, it } from 'vitest';
import { GrpcHealth, bindGrpcServer, createGrpcServer, shutdownGrpcServer } from '../../../src/server/transports/grpc/grpc-server.js';
import { installStreamTables, type StreamTableInstall } from '../../../src/server/transports/grpc/install-stream-tables.js';
import { UnaryClient } from '../../helpers/server/grpc-client.js';

interface Running {
  server: grpc.Server;
  install: StreamTableInstall;
  problems: string[];
  target: string;
}

const started: { server: grpc.Server; clients: grpc.Client[] }[] = [];

afterEach(() => {
  for (const { server, clients } of started.splice(0)) {
    clients.forEach((c) => c.close());
    server.forceShutdown();
  }
});

async function start(): Promise<Running> {
  const server = createGrpcServer({ host: '127.0.0.1', port: 0, maxMessageBytes: 4 << 20, maxConnectionAgeSeconds: 0 });
  const health = new GrpcHealth();
  health.addToServer(server);
  health.update(true, new Map([['m', true]]));
  const port = await bindGrpcServer(server, '127.0.0.1', 0);
  const problems: string[] = [];
  const install = installStreamTables(server, (reason) => problems.push(reason));
  started.push({ server, clients: [] });
  return { server, install, problems, target: `127.0.0.1:${port}` };
}

function healthClient(running: Running): grpc.Client {
  const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
  const client = new Health(running.target, grpc.credentials.createInsecure());
  started.at(-1)!.clients.push(client);
  return client;
}

it('is installed on the session, and 2000 calls (32 at a time) over one connection all succeed', async () => {
  const running = await start();
  const health = new UnaryClient(healthClient(running));
  let done = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (done < 2000) {
        done++;
        const { response } = await health.call<{ status: string }>('check', { service: 'm' });
        expect(response.status).toBe('SERVING');
      }
    }),
  );
  expect(running.problems).toEqual([]);
  expect(running.install.sessions).toBe(1);
});

it('lets a graceful shutdown finish as soon as the last call is done (the table counts open streams)', async () => {
  const running = await start();
  const health = new UnaryClient(healthClient(running));
  await Promise.all(Array.from({ length: 50 }, () => health.call('check', { service: '' })));
  const t0 = Date.now();
  await shutdownGrpcServer(running.server, 10_000);
  expect(Date.now() - t0).toBeLessThan(5_000);
  expect(running.install.sessions).toBe(1);
});

it('still ends streams left open when the grace period runs out', async () => {
  const running = await start();
  const client = healthClient(running) as unknown as { watch(request: object): grpc.ClientReadableStream<{ status: string }> };
  const watch = client.watch({ service: 'm' });
  const ended = new Promise<string>((resolve) => {
    watch.on('error', (error: grpc.ServiceError) => resolve(`error ${error.code}`));
    watch.on('end', () => resolve('end'));
  });
  await new Promise<void>((resolve) => watch.once('data', () => resolve()));
  const t0 = Date.now();
  await shutdownGrpcServer(running.server, 300);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(250); // it waited for the open stream
  expect(await ended).toMatch(/^(error \d+|end)$/);
  expect(running.install.sessions).toBe(1);
});
