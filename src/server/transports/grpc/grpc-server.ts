import { lstat, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath, type ServingStatus } from 'grpc-health-check';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import type { ChannelArguments } from './channel-arguments.js';

export interface GrpcServerOptions {
  readonly host: string;
  readonly port: number;
  readonly maxMessageBytes: number;
  /** 0 keeps connections open; otherwise clients reconnect (and rebalance) after this long. */
  readonly maxConnectionAgeSeconds: number;
  /** `--grpc_channel_arguments`: applied last, so they override the settings above. */
  readonly channelArguments?: ChannelArguments;
}

/** Server-wide gRPC settings: message limits, connection aging, keepalive, then the user's arguments. */
export function createGrpcServer(options: GrpcServerOptions): grpc.Server {
  const channelOptions: grpc.ChannelOptions = {
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
    // grpc.enable_channelz stays on although nothing serves channelz: with it off, grpc-js 1.14
    // does not track sessions, so forceShutdown() leaves open streams running (stream-table.test.ts).
  };
  if (options.maxConnectionAgeSeconds > 0) {
    channelOptions['grpc.max_connection_age_ms'] = options.maxConnectionAgeSeconds * 1000;
    // Calls running when a connection ages out get this long to finish.
    channelOptions['grpc.max_connection_age_grace_ms'] = 30_000;
  }
  return new grpc.Server({ ...channelOptions, ...options.channelArguments });
}

export function bindGrpcServer(server: grpc.Server, host: string, port: number, credentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
  return bindGrpcAddress(server, `${host}:${port}`, credentials);
}

/**
 * Listens on a UNIX socket too (TF Serving's --grpc_socket_path). A socket file left by a server
 * that did not shut down would make the bind fail, so it is replaced; any other file is not.
 */
export async function bindGrpcSocket(server: grpc.Server, path: string, credentials = grpc.ServerCredentials.createInsecure()): Promise<string> {
  const absolute = resolve(path);
  const existing = await lstat(absolute).catch(() => undefined);
  if (existing?.isSocket()) await unlink(absolute);
  else if (existing) throw new Error(`--grpc_socket_path ${absolute} exists and is not a socket`);
  await bindGrpcAddress(server, `unix:${absolute}`, credentials);
  return absolute;
}

function bindGrpcAddress(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.bindAsync(address, credentials, (error, bound) => (error ? reject(error) : resolvePort(bound)));
  });
}

/** grpc.health.v1 with one entry per model plus "" for the whole server. */
export class GrpcHealth {
  private readonly health = new HealthImplementation({ '': 'NOT_SERVING' });
  private readonly known = new Set<string>();

  addToServer(server: grpc.Server): void {
    this.health.addToServer(server);
  }

  /** Sets the overall status and one per model; models no longer listed become NOT_SERVING. */
  update(serverReady: boolean, models: ReadonlyMap<string, boolean>): void {
    this.health.setStatus('', serverReady ? 'SERVING' : 'NOT_SERVING');
    for (const name of this.known) if (!models.has(name)) this.health.setStatus(name, 'NOT_SERVING');
    for (const [name, available] of models) {
      const status: ServingStatus = available ? 'SERVING' : 'NOT_SERVING';
      this.health.setStatus(name, status);
      this.known.add(name);
    }
  }
}

/** Server reflection over our services plus grpc.health.v1, so grpcurl/grpc_cli list the health service too. */
export function addReflection(server: grpc.Server, definition: PackageDefinition): void {
  const health = loadSync(healthProtoPath, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  new ReflectionService({ ...definition, ...health }).addToServer(server);
}

/** Stops taking calls, lets running ones finish within the grace period, then closes. */
export function shutdownGrpcServer(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
