/**
 * Calls whose clients have gone are not run (core/hangup.ts): with batching, a call cancelled
 * while it waits in the batching queue leaves it when its batch forms, over gRPC (the client
 * cancels: RST_STREAM) and REST (the client closes its connection). Unbatched calls are handed to
 * the inference thread at once, so there only a call cancelled before that is spared. Real server,
 * real TensorFlow (a JPEG decoded and resized 2000 times per call, ~80 ms here; 8000 times for the call kept).
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { statusOf, tfsClients, type TfsClients } from '../../helpers/server/grpc-client.js';
import { loadExpected } from '../../helpers/server/fixture-tensors.js';
import { fixtureVersionDir } from '../../helpers/server/model-dirs.js';
import { metricSum } from '../../helpers/server/rest-client.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';

const IMAGES = 2000;
const CANCELLED_CALLS = 6;
const CONFIG = `model_config_list:\n  - {name: jpeg_labeler, base_path: ${join(fixtureVersionDir('jpeg_labeler', 1), '..')}}\n`;
const JPEG_B64 = loadExpected('jpeg_labeler').signatures.serving_default!.cases[0]!.inputs.image_bytes!.values[0] as string;
const JPEG = Buffer.from(JPEG_B64, 'base64');

const grpcRequestOf = (images: number): object => ({
  model_spec: { name: 'jpeg_labeler' },
  inputs: { image_bytes: { dtype: 'DT_STRING', tensor_shape: { dim: [{ size: String(images) }] }, string_val: Array<Buffer>(images).fill(JPEG) } },
});
const grpcRequest = grpcRequestOf(IMAGES);
// The call that is kept runs ~4x as long, so the others have time to arrive and queue behind it.
const keptRequest = grpcRequestOf(4 * IMAGES);
const restBody = JSON.stringify({ instances: Array<object>(IMAGES).fill({ image_bytes: { b64: JPEG_B64 } }) });

let server: ServerProcess;
let clients: TfsClients;

beforeAll(async () => {
  server = await startServer({ config: CONFIG, args: ['--enable_batching=true'] });
  clients = tfsClients(server.grpcTarget);
});

afterAll(async () => {
  clients?.close();
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
});

async function metrics(): Promise<{ received: number; cancelled: number; ok: number; busySeconds: number }> {
  const text = await (await fetch(`${server.restUrl}/metrics`)).text();
  const count = (labels: Record<string, string>): number => metricSum(text, ':tensorflow:serving:request_count', { model_name: 'jpeg_labeler', ...labels });
  return {
    received: count({}),
    cancelled: count({ status: 'CANCELLED' }),
    ok: count({ status: 'OK' }),
    busySeconds: metricSum(text, 'tensorfleet_inference_busy_seconds_total'),
  };
}

/** The metrics once the server has answered every call it received and the inference thread is idle. */
async function settledMetrics(): Promise<Awaited<ReturnType<typeof metrics>>> {
  let last = await metrics();
  for (;;) {
    await sleep(300);
    const now = await metrics();
    if (now.busySeconds === last.busySeconds && now.received === last.received) return now;
    last = now;
  }
}

/**
 * Sends one call that is kept, then CANCELLED_CALLS that `send` starts and whose clients go once
 * they wait in the queue behind it; returns how many calls the server received, ran and refused.
 */
async function abandonQueuedCalls<T>(send: (signal: AbortSignal) => Promise<T>, answered: (answer: T) => boolean): Promise<Abandoned> {
  await clients.prediction.call('Predict', keptRequest); // warm
  const from = await settledMetrics();
  const started = performance.now();
  const kept = clients.prediction.call('Predict', keptRequest);
  await sleep(20);
  const controller = new AbortController();
  // A small call can overtake the kept one on the connection and be answered before the abort.
  let answeredBeforeAbort = 0;
  const abandoned = Array.from({ length: CANCELLED_CALLS }, () =>
    send(controller.signal).then(
      (answer) => {
        if (!controller.signal.aborted && answered(answer)) answeredBeforeAbort++;
      },
      () => undefined,
    ),
  );
  // Let the calls arrive: the kept one is running (~300 ms) and the others wait behind it.
  await sleep(150);
  controller.abort();
  await Promise.all(abandoned);
  await kept;
  const to = await settledMetrics();
  return { received: to.received - from.received, run: to.ok - from.ok, cancelled: to.cancelled - from.cancelled, answeredBeforeAbort, keptMs: Math.round(performance.now() - started) };
}

interface Abandoned {
  readonly received: number;
  readonly run: number;
  readonly cancelled: number;
  readonly answeredBeforeAbort: number;
  readonly keptMs: number;
}

/**
 * The kept call ran, and of the others only those answered before their clients went, plus at most
 * one whose batch formed a moment before.
 */
function expectAbandonedNotRun(r: Abandoned): void {
  const detail = JSON.stringify(r);
  expect(r.received - r.answeredBeforeAbort, detail).toBeGreaterThanOrEqual(4);
  expect(r.run, detail).toBeLessThanOrEqual(2 + r.answeredBeforeAbort);
  expect(r.cancelled, detail).toBe(r.received - r.run);
}

test('gRPC: calls whose clients cancel while they wait in the batching queue are not run', async () => {
  expectAbandonedNotRun(await abandonQueuedCalls((signal) => statusOf(clients.prediction.call('Predict', grpcRequest, { signal })), (status) => status.code === 0));
  expect((await clients.prediction.call('Predict', grpcRequest)).response).toHaveProperty('outputs');
  expect(server.logs.filter((l) => (l.level ?? 0) >= 50)).toEqual([]);
});

test('REST: calls whose clients close their connection while they wait in the batching queue are not run', async () => {
  expectAbandonedNotRun(await abandonQueuedCalls((signal) => fetch(`${server.restUrl}/v1/models/jpeg_labeler:predict`, { method: 'POST', body: restBody, signal }), (reply) => reply.ok));
  expect(server.logs.filter((l) => (l.level ?? 0) >= 50)).toEqual([]);
});
