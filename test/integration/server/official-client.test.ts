/**
 * The official TensorFlow Serving Python client (tensorflow-serving-api, unmodified) against our
 * server serving every fixture: test/compat/tfs_client_check.py must pass every check.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { FIXTURES_DIR } from '../../helpers/server/fixture-tensors.js';
import { tfsClients, type TfsClients } from '../../helpers/server/grpc-client.js';
import { waitForAvailable } from '../../helpers/server/model-status.js';
import { expectOfficialClientChecksPass, officialClientPython } from '../../helpers/server/official-client.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';

let server: ServerProcess;
let clients: TfsClients;
let python: string;

beforeAll(async () => {
  python = await officialClientPython();
  server = await startServer({ configFile: join(FIXTURES_DIR, 'model-config.yaml') });
  clients = tfsClients(server.grpcTarget);
  await waitForAvailable(clients.model, 'versioned', [1, 2, 3]);
}, 900_000);

afterAll(async () => {
  clients?.close();
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
});

test('tfs_client_check.py passes every check against the server', async () => {
  await expectOfficialClientChecksPass(python, server.grpcTarget);
}, 180_000);
