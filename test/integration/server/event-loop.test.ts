/**
 * Sanity guard (the real thresholds live in bench/): while mnist is saturated by concurrent large
 * Predicts, GetModelStatus and /healthz stay about as fast as on an idle server. If inference
 * ran on the main thread, each status call would wait behind whole batches and this fails.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { protoType } from '../../../src/server/servables/tensorflow/proto-root.js';
import { rawUnaryCall, tfsClients, type TfsClients } from '../../helpers/server/grpc-client.js';
import { startLoad } from '../../helpers/server/load-generator.js';
import { processThreads } from '../../helpers/server/process-threads.js';
import { fixtureVersionDir } from '../../helpers/server/model-dirs.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';

let server: ServerProcess;
let clients: TfsClients;

beforeAll(async () => {
  server = await startServer({ config: `model_config_list:\n  - {name: mnist, base_path: ${join(fixtureVersionDir('mnist', 1), '..')}}\n` });
  clients = tfsClients(server.grpcTarget);
});

afterAll(async () => {
  clients?.close();
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
});

const p99 = (samples: number[]): number => [...samples].sort((a, b) => a - b)[Math.ceil(samples.length * 0.99) - 1]!;

/** Latencies (ms) of `n` sequential status calls and /healthz requests, interleaved. */
async function probe(n: number): Promise<{ status: number[]; healthz: number[] }> {
  const status: number[] = [];
  const healthz: number[] = [];
  for (let i = 0; i < n; i++) {
    let t = performance.now();
    await clients.model.call('GetModelStatus', { model_spec: { name: 'mnist' } });
    status.push(performance.now() - t);
    t = performance.now();
    const reply = await fetch(`${server.restUrl}/healthz`);
    await reply.text();
    healthz.push(performance.now() - t);
  }
  return { status, healthz };
}

test('status and health stay responsive while inference is saturated', async () => {
  await probe(20); // warm up connections
  const idle = await probe(100);

  // ~0.14 s per call even alone (MNIST on 6000 images, an 18.8 MB request): longer than the bounds
  // (5000 images took ~0.1 s, which a noisy idle p99 of 5 ms once put under its bound of 103 ms)
  // below, so main-thread inference would fail them.
  const batch = 6000;
  // tensor_content keeps the client's own encoding cheap, so the probe measures the server.
  const request = {
    model_spec: { name: 'mnist', signature_name: 'predict_images' },
    inputs: { images: { dtype: 'DT_FLOAT', tensor_shape: { dim: [batch, 28, 28, 1].map((d) => ({ size: String(d) })) }, tensor_content: Buffer.alloc(batch * 784 * 4, 0x3f) } },
  };
  // The first large call on a connection also grows its HTTP/2 windows (decision 0012), so it
  // uploads slower than the rest: time the second one.
  // The load has connections of its own, as other callers would: status calls sharing one with
  // megabytes of queued upload would measure the client's send queue, not the server.
  // The request is encoded once: encoding such a request per call stalled this process, whose probes
  // then measured the client.
  const type = protoType('tensorflow.serving.PredictRequest');
  const requestBytes = type.encode(type.fromObject(request)).finish();
  const loadClient = new grpc.Client(server.grpcTarget, grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.max_send_message_length': 64 << 20,
    'grpc.max_receive_message_length': 64 << 20,
  });
  const predict = async (): Promise<void> => {
    const answer = await rawUnaryCall(loadClient, '/tensorflow.serving.PredictionService/Predict', requestBytes);
    if (answer.code !== grpc.status.OK) throw new Error(`Predict failed: ${grpc.status[answer.code]} ${answer.details}`);
  };
  await predict();
  const solo = performance.now();
  await predict();
  const soloMs = performance.now() - solo;
  const predictMs: number[] = [];
  const load = startLoad(async () => {
    const t = performance.now();
    await predict();
    predictMs.push(performance.now() - t);
  }, 3);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const busy = await probe(100);
  const result = await load.stop();
  loadClient.close();

  expect(result.failures.map(String)).toEqual([]);
  const meanPredict = predictMs.reduce((a, b) => a + b, 0) / predictMs.length;
  const report = JSON.stringify({
    idleP99: { status: p99(idle.status), healthz: p99(idle.healthz) },
    busyP99: { status: p99(busy.status), healthz: p99(busy.healthz) },
    predicts: result.ok,
    soloMs,
    meanPredictMs: meanPredict,
  });
  // The load was real: calls queued behind each other for far longer than a status call takes.
  if (process.env.TENSORFLEET_TEST_VERBOSE === "1") console.log(report);
  const statusBound = 10 * p99(idle.status) + 50;
  const healthzBound = 10 * p99(idle.healthz) + 50;
  // The load was real: one call alone takes longer than the bounds, and calls queued behind each other.
  expect(soloMs, report).toBeGreaterThan(Math.max(statusBound, healthzBound));
  expect(meanPredict, report).toBeGreaterThan(soloMs);
  expect(p99(busy.status), report).toBeLessThan(statusBound);
  expect(p99(busy.healthz), report).toBeLessThan(healthzBound);
});

test('the event loop keeps normal priority while TensorFlow threads run at nice 10 (the default)', () => {
  const threads = processThreads(server.pid);
  const main = threads.find((t) => t.tid === server.pid);
  const tensorflow = threads.filter((t) => t.comm.startsWith('tf_'));
  const report = JSON.stringify(threads);
  expect(main?.nice, report).toBe(0);
  expect(tensorflow.length, report).toBeGreaterThan(0);
  expect(tensorflow.every((t) => t.nice === 10), report).toBe(true);
});
