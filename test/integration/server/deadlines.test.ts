/**
 * Calls whose deadline passes while they wait for the inference thread are not run, nor are those
 * that waited in line and whose run would end after their deadline (core/deadline.ts,
 * run-admission.ts): under overload their callers give up, and running them anyway made every
 * call behind them late too. What that buys under sustained overload is measured by
 * `npm run bench -- overload` (docs/benchmarks.md): a test of it here depended on how fast this
 * machine's event loop sent answers back (62-75% of runs answered in time in one setting, 8% in
 * another, 0% without the estimate). gRPC deadlines come from the client, REST ones from
 * --rest_api_timeout_in_ms. Real server, real TensorFlow (a JPEG decoded and resized 2000 times per call).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { eventually } from '../../helpers/k8s/eventually.js';
import { statusOf, tfsClients, type TfsClients } from '../../helpers/server/grpc-client.js';
import { fixtureVersionDir } from '../../helpers/server/model-dirs.js';
import { metricSum } from '../../helpers/server/rest-client.js';
import { loadExpected } from '../../helpers/server/fixture-tensors.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';

const IMAGES = 2000;
const CALLS = 8;
const REST_TIMEOUT_MS = 300;
const CONFIG = `model_config_list:\n  - {name: jpeg_labeler, base_path: ${join(fixtureVersionDir('jpeg_labeler', 1), '..')}}\n`;
// The fixture's JPEG, decoded and resized in the graph: ~80 ms for 2000 of them here, from a request
// of only 1.7 MB, so the calls wait for inference rather than for their bytes to arrive.
const JPEG = Buffer.from(loadExpected('jpeg_labeler').signatures.serving_default!.cases[0]!.inputs.image_bytes!.values[0] as string, 'base64');

const grpcRequest = {
  model_spec: { name: 'jpeg_labeler' },
  inputs: { image_bytes: { dtype: 'DT_STRING', tensor_shape: { dim: [{ size: String(IMAGES) }] }, string_val: Array<Buffer>(IMAGES).fill(JPEG) } },
};

/** The /v2 form of the same call: BYTES elements as binary data (each after its 4-byte length). */
function restInfer(server: ServerProcess): Promise<{ status: number; text: string }> {
  const element = Buffer.concat([Buffer.alloc(4), JPEG]);
  element.writeUInt32LE(JPEG.length, 0);
  const binary = Buffer.concat(Array<Buffer>(IMAGES).fill(element));
  const json = Buffer.from(JSON.stringify({ inputs: [{ name: 'image_bytes', shape: [IMAGES], datatype: 'BYTES', parameters: { binary_data_size: binary.length } }], outputs: [{ name: 'label' }] }));
  return fetch(`${server.restUrl}/v2/models/jpeg_labeler/infer`, {
    method: 'POST',
    headers: { 'inference-header-content-length': String(json.length), 'content-type': 'application/octet-stream' },
    body: Buffer.concat([json, binary]),
  }).then(async (r) => ({ status: r.status, text: await r.text() }));
}

async function metrics(server: ServerProcess): Promise<{ expired: number; ok: number; busySeconds: number }> {
  const text = await (await fetch(`${server.restUrl}/metrics`)).text();
  return {
    expired: metricSum(text, ':tensorflow:serving:request_count', { model_name: 'jpeg_labeler', status: 'DEADLINE_EXCEEDED' }),
    ok: metricSum(text, ':tensorflow:serving:request_count', { model_name: 'jpeg_labeler', status: 'OK' }),
    busySeconds: metricSum(text, 'tensorfleet_inference_busy_seconds_total'),
  };
}

for (const batching of [false, true]) {
  describe(batching ? 'with batching' : 'unbatched', () => {
    let server: ServerProcess;
    let clients: TfsClients;

    beforeAll(async () => {
      // Batches of one call: the queue, not the batch size, is what this is about.
      const args = [`--rest_api_timeout_in_ms=${REST_TIMEOUT_MS}`, ...(batching ? ['--enable_batching=true'] : [])];
      server = await startServer({ config: CONFIG, args });
      clients = tfsClients(server.grpcTarget);
    });

    afterAll(async () => {
      clients?.close();
      if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
    });

    test('gRPC: of calls queued past their deadline, those still waiting are not run', async () => {
      // Warm up, then time one call alone: its inference time and its latency.
      await clients.prediction.call('Predict', grpcRequest);
      const before = await metrics(server);
      const started = performance.now();
      await clients.prediction.call('Predict', grpcRequest);
      const aloneMs = performance.now() - started;
      const aloneBusy = (await metrics(server)).busySeconds - before.busySeconds;

      // Room for two or three of the calls (eight arrive at once, so the first waits for its bytes
      // too: 2x was too tight once on Node 24): the rest wait past their deadline.
      const deadlineMs = Math.max(3 * aloneMs, 150);
      const from = await metrics(server);
      const results = await Promise.all(Array.from({ length: CALLS }, () => statusOf(clients.prediction.call('Predict', grpcRequest, { deadlineMs }))));
      const codes = results.map((r) => grpc.status[r.code]);
      expect(codes.every((c) => c === 'OK' || c === 'DEADLINE_EXCEEDED'), JSON.stringify(results)).toBe(true);
      expect(codes.filter((c) => c === 'OK').length, `alone ${aloneMs.toFixed(0)} ms`).toBeGreaterThan(0);

      // The server answers each call too, run or refused, once the inference thread reaches it.
      let to = from;
      await eventually(async () => {
        to = await metrics(server);
        expect(to.ok - from.ok + (to.expired - from.expired)).toBe(CALLS);
      }, 10_000, 50);
      const run = to.ok - from.ok;
      const refused = to.expired - from.expired;
      expect(refused, `alone ${aloneMs.toFixed(0)} ms, deadline ${deadlineMs.toFixed(0)} ms, ${run} run`).toBeGreaterThanOrEqual(2);
      // The inference thread spent about what the calls it ran cost, not all eight calls' worth,
      // and the runs it started were ones that could end in time: their callers got the answers.
      expect(to.busySeconds - from.busySeconds).toBeLessThan((run + 1.5) * aloneBusy);
      expect(codes.filter((c) => c === 'OK').length, `${run} run`).toBeGreaterThanOrEqual(run - 1);

      // The queue is empty again: a call without a deadline right after is served.
      expect((await clients.prediction.call('Predict', grpcRequest)).response).toHaveProperty('outputs');
    });

    test(`REST: calls still waiting for the inference thread after --rest_api_timeout_in_ms get 504, naming why`, async () => {
      const from = await metrics(server);
      const replies = await Promise.all(Array.from({ length: CALLS }, () => restInfer(server)));
      const statuses = replies.map((r) => r.status);
      expect(statuses.every((s) => s === 200 || s === 504), JSON.stringify(statuses)).toBe(true);
      const late = replies.filter((r) => r.status === 504);
      expect(late.length, JSON.stringify(statuses)).toBeGreaterThanOrEqual(1);
      for (const reply of late) expect((JSON.parse(reply.text) as { error: string }).error).toMatch(/deadline exceeded while the call waited .*; it was not run/);
      const to = await metrics(server);
      expect(to.expired - from.expired).toBe(late.length);
      expect(server.logs.filter((l) => (l.level ?? 0) >= 50)).toEqual([]);
    });
  });
}
