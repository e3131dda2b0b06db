import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { FIXTURES_DIR } from './fixture-tensors.js';
import { tfsClients, type TfsClients } from './grpc-client.js';
import { waitForAvailable } from './model-status.js';
import { startServer, type ServerProcess } from './server-process.js';

export interface FixtureServerOptions {
  /** More `serve` flags. */
  readonly args?: readonly string[];
  /** Where the clients connect; default the server's TCP port. */
  readonly target?: (server: ServerProcess) => string;
  readonly credentials?: grpc.ChannelCredentials;
}

/**
 * The server with every fixture model (test/fixtures/model-config.yaml) and clients of it,
 * resolved once `versioned`'s three versions are available, so every fixture can be called.
 */
export async function startFixtureServer(options: FixtureServerOptions = {}): Promise<{ server: ServerProcess; clients: TfsClients }> {
  const server = await startServer({ configFile: join(FIXTURES_DIR, 'model-config.yaml'), args: options.args ?? [] });
  const clients = tfsClients(options.target?.(server) ?? server.grpcTarget, options.credentials ? { credentials: options.credentials } : {});
  try {
    await waitForAvailable(clients.model, 'versioned', [1, 2, 3]);
  } catch (error) {
    // The caller gets no handle to stop it with: a server left running would outlive the test run.
    clients.close();
    await server.stop();
    throw error;
  }
  return { server, clients };
}
