import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { expect } from 'vitest';
import { GrpcHealth, bindGrpcServer, createGrpcServer } from '../../../src/server/transports/grpc/grpc-server.js';
import { UnaryClient } from './grpc-client.js';

/** A bound grpc-js server (our createGrpcServer) with only grpc.health.v1, model "m" serving. */
export interface HealthGrpcServer {
  readonly server: grpc.Server;
  readonly target: string;
  /** A new Health client (its own channel); closed by close(). */
  client(): grpc.Client;
  close(): void;
}

export async function startHealthGrpcServer(): Promise<HealthGrpcServer> {
  const server = createGrpcServer({ host: '127.0.0.1', port: 0, maxMessageBytes: 4 << 20, maxConnectionAgeSeconds: 0 });
  const health = new GrpcHealth();
  health.addToServer(server);
  health.update(true, new Map([['m', true]]));
  const target = `127.0.0.1:${await bindGrpcServer(server, '127.0.0.1', 0)}`;
  const clients: grpc.Client[] = [];
  const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
  return {
    server,
    target,
    client() {
      const client = new Health(target, grpc.credentials.createInsecure());
      clients.push(client);
      return client;
    },
    close() {
      clients.forEach((c) => c.close());
      server.forceShutdown();
    },
  };
}

/** Makes `total` Check calls for "m", `concurrency` at a time over one client, each answered SERVING. */
export async function checkServing(client: grpc.Client, total: number, concurrency: number): Promise<void> {
  const health = new UnaryClient(client);
  let started = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < total) {
        started++;
        const { response } = await health.call<{ status: string }>('check', { service: 'm' });
        expect(response.status).toBe('SERVING');
      }
    }),
  );
}
