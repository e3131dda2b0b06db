/**
 * --enable_per_model_batching_parameters on the real server: a version directory holding
 * batching_params.pbtxt is batched by that file (here at most 2 rows, padded to 2) while the
 * server's file allows 16, and a version whose file cannot be used fails its load with a message
 * naming the file.
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { eventually } from '../../helpers/k8s/eventually.js';
import { tfsClients, type TfsClients } from '../../helpers/server/grpc-client.js';
import { fixtureVersionDir, tempDir, type TempDir } from '../../helpers/server/model-dirs.js';
import { modelStatus, waitForAvailable } from '../../helpers/server/model-status.js';
import { scrapeMetric } from '../../helpers/server/rest-client.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';

let dir: TempDir;
let server: ServerProcess;
let clients: TfsClients;

function modelWith(name: string, batchingParams: string): string {
  const base = join(dir.path, name);
  cpSync(fixtureVersionDir('tiny', 1), join(base, '1'), { recursive: true });
  writeFileSync(join(base, '1', 'batching_params.pbtxt'), batchingParams);
  return base;
}

beforeAll(async () => {
  dir = tempDir('tensorfleet-per-model-batching-');
  const shared = join(dir.path, 'shared.pbtxt');
  writeFileSync(shared, 'max_batch_size { value: 16 }\nbatch_timeout_micros { value: 5000 }\nnum_batch_threads { value: 1 }\n');
  const pairs = modelWith('pairs', 'max_batch_size { value: 2 }\nallowed_batch_sizes: 2\nnum_batch_threads { value: 8 }\n');
  const broken = modelWith('broken', 'max_batch_size { value: 4 }\nallowed_batch_sizes: 2\n');
  server = await startServer({
    config: `model_config_list:\n  - {name: pairs, base_path: ${JSON.stringify(pairs)}}\n  - {name: broken, base_path: ${JSON.stringify(broken)}}\n`,
    args: ['--enable_batching', `--batching_parameters_file=${shared}`, '--enable_per_model_batching_parameters', '--max_num_load_retries=0'],
    waitReady: false,
  });
  clients = tfsClients(server.grpcTarget);
  await waitForAvailable(clients.model, 'pairs', [1]);
}, 120_000);

afterAll(async () => {
  clients?.close();
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
  dir?.remove();
});

test("a version's own batching_params.pbtxt sizes its batches, within the server's shared batch threads", async () => {
  const calls = Array.from({ length: 12 }, (_, i) =>
    clients.prediction.call('Predict', { model_spec: { name: 'pairs' }, inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 1 }, { size: 4 }] }, float_val: [i, 0, 0, 0] } } }),
  );
  await Promise.all(calls);
  const batches = await scrapeMetric(server.restUrl, 'tensorfleet_batch_size_count');
  const rows = await scrapeMetric(server.restUrl, 'tensorfleet_batch_size_sum');
  expect(rows).toBe(12);
  // Every batch held at most 2 rows, and some held 2 (the shared file would allow 16).
  expect(await scrapeMetric(server.restUrl, 'tensorfleet_batch_size_bucket', { le: '2' })).toBe(batches);
  expect(batches).toBeLessThan(12);
});

test('a version whose batching_params.pbtxt cannot be used fails to load, naming the file and the problem', async () => {
  const [status] = await eventually(async () => {
    const statuses = await modelStatus(clients.model, 'broken');
    expect(statuses[0]?.status.error_message).toBeTruthy();
    return statuses;
  }, 30_000);
  expect(status?.state).not.toBe('AVAILABLE');
  expect(status?.status.error_message).toMatch(/batching_params\.pbtxt of this version: batching parameters: the last allowed_batch_sizes entry \(2\) must equal max_batch_size \(4\)/);
});
