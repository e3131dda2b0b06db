/**
 * `--grpc_channel_arguments` reaches the gRPC server: a stream limit shows in the HTTP/2 settings
 * the server sends, and calls beyond it wait their turn instead of failing.
 */
import http2 from 'node:http2';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { fixtureVersionDir } from '../../helpers/server/model-dirs.js';
import { tfsClients, type TfsClients } from '../../helpers/server/grpc-client.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';

let server: ServerProcess;
let clients: TfsClients;

beforeAll(async () => {
  server = await startServer({
    config: `model_config_list:\n  - {name: versioned, base_path: ${join(fixtureVersionDir('versioned', 1), '..')}}\n`,
    args: ['--grpc_channel_arguments=grpc.max_concurrent_streams=2'],
  });
  clients = tfsClients(server.grpcTarget);
});

afterAll(async () => {
  clients?.close();
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
});

test('the server announces the stream limit in its HTTP/2 settings', async () => {
  const session = http2.connect(`http://${server.grpcTarget}`);
  try {
    const settings = await new Promise<http2.Settings>((resolve, reject) => {
      session.once('remoteSettings', resolve);
      session.once('error', reject);
    });
    expect(settings.maxConcurrentStreams).toBe(2);
  } finally {
    session.close();
  }
});

test('twenty calls at once over one connection all succeed, two at a time', async () => {
  const x = { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }] }, float_val: [2] };
  const answers = await Promise.all(
    Array.from({ length: 20 }, () => clients.prediction.call<{ outputs: { y: { float_val: number[] } } }>('Predict', { model_spec: { name: 'versioned' }, inputs: { x } })),
  );
  // versioned serves its newest version (3): y = 0.5 * x + 3.
  expect(answers.map((a) => a.response.outputs.y.float_val)).toEqual(new Array(20).fill([4]));
});
