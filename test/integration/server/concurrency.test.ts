/**
 * Many different requests at once, on a server with two inference threads: every caller gets its
 * own correct answer (no tensors mixed up between concurrent calls or threads), and calls the
 * client abandons (deadline, cancel) leave the server healthy.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { fixturePredictJobs, runConcurrently } from '../../helpers/server/fixture-predict-jobs.js';
import { statusOf, type TfsClients } from '../../helpers/server/grpc-client.js';
import { rest } from '../../helpers/server/rest-client.js';
import { type ServerProcess } from '../../helpers/server/server-process.js';
import { startFixtureServer } from '../../helpers/server/fixture-server.js';

let server: ServerProcess;
let clients: TfsClients;

beforeAll(async () => {
  ({ server, clients } = await startFixtureServer({ args: ['--inference_threads=2'] }));
});

afterAll(async () => {
  clients?.close();
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
});

test('hundreds of mixed concurrent Predicts each get their own correct answer', async () => {
  expect(await runConcurrently(fixturePredictJobs(clients), 6)).toEqual([]);
});

test('calls abandoned by their clients (deadline, cancel) leave the server healthy', async () => {
  const batch = 2000;
  const request = {
    model_spec: { name: 'mnist', signature_name: 'predict_images' },
    inputs: { images: { dtype: 'DT_FLOAT', tensor_shape: { dim: [batch, 28, 28, 1].map((d) => ({ size: String(d) })) }, tensor_content: Buffer.alloc(batch * 784 * 4, 0x3e) } },
  };
  const expired = await Promise.all(Array.from({ length: 6 }, () => statusOf(clients.prediction.call('Predict', request, { deadlineMs: 20 }))));
  expect(expired.map((s) => grpc.status[s.code])).toEqual(new Array<string>(6).fill('DEADLINE_EXCEEDED'));
  // REST callers that hang up mid-request.
  const aborts = Array.from({ length: 4 }, async () => {
    const controller = new AbortController();
    const pending = fetch(`${server.restUrl}/v1/models/versioned:predict`, { method: 'POST', body: JSON.stringify({ instances: new Array<number>(50_000).fill(1) }), signal: controller.signal });
    setTimeout(() => controller.abort(), 1);
    await pending.then((r) => r.text()).catch(() => undefined);
  });
  await Promise.all(aborts);
  await sleep(500);
  expect((await rest(server.restUrl, '/healthz')).status).toBe(200);
  const { response } = await clients.prediction.call<{ outputs: { scores: { float_val: number[] } } }>('Predict', {
    ...request,
    inputs: { images: { ...request.inputs.images, tensor_shape: { dim: [1, 28, 28, 1].map((d) => ({ size: String(d) })) }, tensor_content: Buffer.alloc(784 * 4, 0x3e) } },
  });
  expect(response.outputs.scores.float_val).toHaveLength(10);
  expect(server.logs.filter((l) => typeof l.msg === 'string' && l.msg.includes('unexpectedly'))).toEqual([]);
});
