/**
 * The HTTP/2 stream registry swap (install-stream-tables.ts) on a real grpc-js server and client:
 * it is installed on this Node (so a Node or grpc-js upgrade that changes the internals fails
 * here, not silently), calls work over one connection, and graceful and forced shutdown still
 * see the open streams through it.
 */
import type * as grpc from '@grpc/grpc-js';
import { afterEach, expect, it } from 'vitest';
import { shutdownGrpcServer } from '../../../src/server/transports/grpc/grpc-server.js';
import { installStreamTables, type StreamTableInstall } from '../../../src/server/transports/grpc/install-stream-tables.js';
import { UnaryClient } from '../../helpers/server/grpc-client.js';
import { checkServing, startHealthGrpcServer, type HealthGrpcServer } from '../../helpers/server/health-grpc-server.js';

interface Running extends HealthGrpcServer {
  install: StreamTableInstall;
  problems: string[];
}

const started: HealthGrpcServer[] = [];

afterEach(() => started.splice(0).forEach((running) => running.close()));

async function start(): Promise<Running> {
  const running = await startHealthGrpcServer();
  started.push(running);
  const problems: string[] = [];
  const install = installStreamTables(running.server, (reason) => problems.push(reason));
  return { ...running, install, problems };
}

it('is installed on the session, and 2000 calls (32 at a time) over one connection all succeed', async () => {
  const running = await start();
  await checkServing(running.client(), 2000, 32);
  expect(running.problems).toEqual([]);
  expect(running.install.sessions).toBe(1);
});

it('lets a graceful shutdown finish as soon as the last call is done (the table counts open streams)', async () => {
  const running = await start();
  const health = new UnaryClient(running.client());
  await Promise.all(Array.from({ length: 50 }, () => health.call('check', { service: '' })));
  const t0 = Date.now();
  await shutdownGrpcServer(running.server, 10_000);
  expect(Date.now() - t0).toBeLessThan(5_000);
  expect(running.install.sessions).toBe(1);
});

it('still ends streams left open when the grace period runs out', async () => {
  const running = await start();
  const client = running.client() as unknown as { watch(request: object): grpc.ClientReadableStream<{ status: string }> };
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
