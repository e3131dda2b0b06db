/**
 * The official Python clients, unmodified, against our server serving every fixture:
 * tensorflow-serving-api over gRPC (test/compat/tfs_client_check.py) and Triton's HTTP and gRPC
 * clients over the Open Inference Protocol (test/compat/v2_client_check.py) must pass every check.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TfsClients } from '../../helpers/server/grpc-client.js';
import { expectOfficialClientChecksPass, expectV2ClientChecksPass, officialClientPython } from '../../helpers/server/official-client.js';
import { type ServerProcess } from '../../helpers/server/server-process.js';
import { startFixtureServer } from '../../helpers/server/fixture-server.js';

let server: ServerProcess;
let clients: TfsClients;
let python: string;

beforeAll(async () => {
  python = await officialClientPython();
  ({ server, clients } = await startFixtureServer());
}, 900_000);

afterAll(async () => {
  clients?.close();
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
});

test('tfs_client_check.py passes every check against the server', async () => {
  await expectOfficialClientChecksPass(python, server.grpcTarget);
}, 180_000);

test('v2_client_check.py (tritonclient.http and .grpc) passes every check against the Open Inference Protocol APIs', async () => {
  await expectV2ClientChecksPass(python, new URL(server.restUrl).host, server.grpcTarget);
}, 180_000);
