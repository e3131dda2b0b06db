/**
 * --enable_batching: concurrent requests are merged into batches (and padded up to the allowed
 * sizes), yet every caller gets exactly Python TensorFlow's answer for its own inputs; signatures
 * that cannot be batched keep working; a bad parameters file stops the server with a clear error.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { REPO_ROOT } from '../../helpers/server/build-check.js';
import { fixturePredictJobs, runConcurrently } from '../../helpers/server/fixture-predict-jobs.js';
import { FIXTURES_DIR } from '../../helpers/server/fixture-tensors.js';
import { type TfsClients } from '../../helpers/server/grpc-client.js';
import { rest, scrapeMetric } from '../../helpers/server/rest-client.js';
import { type ServerProcess } from '../../helpers/server/server-process.js';
import { startFixtureServer } from '../../helpers/server/fixture-server.js';

let server: ServerProcess;
let clients: TfsClients;
const dir = mkdtempSync(join(tmpdir(), 'tensorfleet-batching-'));

beforeAll(async () => {
  const params = join(dir, 'batching.pbtxt');
  // TF Serving's own file format: wrapper messages and a repeated field.
  writeFileSync(
    params,
    'max_batch_size { value: 16 }\nbatch_timeout_micros { value: 2000 }\nmax_enqueued_batches { value: 100 }\n' +
      'num_batch_threads { value: 1 }\nallowed_batch_sizes: 4\nallowed_batch_sizes: 16\n',
  );
  ({ server, clients } = await startFixtureServer({ args: ['--enable_batching', `--batching_parameters_file=${params}`] }));
});

afterAll(async () => {
  clients?.close();
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
  rmSync(dir, { recursive: true, force: true });
});

test('merged and padded batches give every caller its own correct outputs', async () => {
  const jobs = fixturePredictJobs(clients);
  expect(await runConcurrently(jobs, 6)).toEqual([]);
  const batches = await scrapeMetric(server.restUrl, 'tensorfleet_batch_size_count');
  const rows = await scrapeMetric(server.restUrl, 'tensorfleet_batch_size_sum');
  // Requests were really merged (more rows than batches) and padded to 4 or 16 rows.
  expect(batches).toBeGreaterThan(0);
  expect(rows / batches).toBeGreaterThan(1.5);
  expect(await scrapeMetric(server.restUrl, 'tensorfleet_batch_padding_rows_total')).toBeGreaterThan(0);
});

test('a request larger than the whole queue (16 x 100 rows) runs alone, with its own correct outputs', async () => {
  const x = Array.from({ length: 5000 }, (_, i) => i / 4);
  const { response } = await clients.prediction.call<{ outputs: { y: { float_val: number[] } } }>('Predict', {
    model_spec: { name: 'versioned', version: { value: 2 } },
    inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 5000 }] }, float_val: x } },
  });
  expect(response.outputs.y.float_val).toEqual(x.map((v) => 0.5 * v + 2));
});

test("the Open Inference Protocol's model config tells clients the batcher's sizes, as Triton's does", async () => {
  const config = await rest(server.restUrl, '/v2/models/mnist/config');
  expect(config.json).toMatchObject({
    max_batch_size: 16,
    input: [{ name: 'images', data_type: 'TYPE_FP32', dims: [28, 28, 1] }],
    output: [{ name: 'scores', data_type: 'TYPE_FP32', dims: [10] }],
    dynamic_batching: { preferred_batch_size: [4, 16], max_queue_delay_microseconds: 2000 },
  });
  // A signature without a batch dimension on every tensor is not batched: full shapes, as unbatched.
  expect((await rest(server.restUrl, '/v2/models/adder/config')).json).toMatchObject({ max_batch_size: 0 });
});

test('a batching parameters file the server cannot use stops it with a message naming the problem', () => {
  const cases: [string, RegExp][] = [
    ['max_batch_size { value: 8 }\nallowed_batch_sizes: 4\n', /last allowed_batch_sizes entry \(4\) must equal max_batch_size \(8\)/],
    ['max_batch_size { value: 8 }\npad_variable_length_inputs { value: true }\n', /unsupported field "pad_variable_length_inputs"/],
    ['max_batch_size { value: -1 }\n', /max_batch_size must be a non-negative integer/],
    ['max_batch_size { value: 8 \n', /batching parameters \(text format\)/],
  ];
  for (const [text, message] of cases) {
    const file = join(dir, 'bad.pbtxt');
    writeFileSync(file, text);
    const run = spawnSync(
      process.execPath,
      [join(REPO_ROOT, 'bin', 'tensorfleet.js'), 'serve', `--model_base_path=${join(FIXTURES_DIR, 'models', 'tiny')}`, '--port=0', '--rest_api_port=0', '--enable_batching', `--batching_parameters_file=${file}`],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 1, stderr: expect.stringMatching(message) as unknown });
  }
});
