/**
 * Operability of the real server: liveness and readiness (not ready while a model has no version),
 * grpc.health.v1 overall and per model, Prometheus metrics with version labels, server
 * reflection, and a graceful SIGTERM that lets in-flight calls finish.
 */
import { mkdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createRequire } from 'node:module';
import protobuf from 'protobufjs';
import { eventually } from '../../helpers/k8s/eventually.js';
import { askReflection, listServicesByReflection, statusOf, tfsClients, type TfsClients } from '../../helpers/server/grpc-client.js';
import { fixtureVersionDir, publishVersion, tempDir, type TempDir } from '../../helpers/server/model-dirs.js';
import { waitForAvailable } from '../../helpers/server/model-status.js';
import { metricSum, rest } from '../../helpers/server/rest-client.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';
import { predictVersioned, restPredictVersioned } from '../../helpers/server/versioned-calls.js';

let models: TempDir;
let server: ServerProcess;
let clients: TfsClients;

beforeAll(async () => {
  models = tempDir();
  mkdirSync(join(models.path, 'late'));
  server = await startServer({
    config: `
model_config_list:
  - name: versioned
    base_path: ${join(fixtureVersionDir('versioned', 1), '..')}
    model_version_policy: {all: {}}
  - name: late
    base_path: ${join(models.path, 'late')}
  - name: mnist
    base_path: ${join(fixtureVersionDir('mnist', 1), '..')}
`,
    waitReady: false,
  });
  clients = tfsClients(server.grpcTarget);
});

afterAll(async () => {
  clients?.close();
  // The last test stops the server itself; stop() then just reports that exit.
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
  models?.remove();
});

const healthOf = async (service: string): Promise<string> => (await clients.health.call<{ status: string }>('Check', { service })).response.status;

test('live at once; not ready (503, HTTP and gRPC health) until every model has a version', async () => {
  expect((await rest(server.restUrl, '/healthz')).status).toBe(200);
  // The models with versions load one after another; on a busy machine that takes a while.
  await eventually(async () => {
    expect(await healthOf('versioned')).toBe('SERVING');
    expect(await healthOf('mnist')).toBe('SERVING');
  }, 60_000);
  const notReady = await rest(server.restUrl, '/readyz');
  expect(notReady.status).toBe(503);
  expect(notReady.json).toEqual({ ready: false, waiting_for: ['late'] });
  const lateStatus = await rest(server.restUrl, '/v1/models/late');
  expect(lateStatus.status).toBe(404);
  expect(lateStatus.json).toEqual({ error: `Could not find any versions of model late; no numbered version directory under ${join(models.path, 'late')}` });
  expect(await healthOf('')).toBe('NOT_SERVING');
  expect(await healthOf('late')).toBe('NOT_SERVING');
  // A model that is not configured at all is unknown to the health service.
  expect((await statusOf(clients.health.call('Check', { service: 'nope' }))).code).toBe(5);

  publishVersion(fixtureVersionDir('tiny', 1), join(models.path, 'late'), 1);
  await eventually(async () => expect((await rest(server.restUrl, '/readyz')).status).toBe(200), 30_000, 100);
  expect(await healthOf('')).toBe('SERVING');
  expect(await healthOf('late')).toBe('SERVING');
  await server.waitForLog((l) => l.msg === 'all models available', 5000);
});

test('HEAD is answered as GET, without the body, on every GET endpoint (it was 400 on model paths)', async () => {
  // mnist: the metrics test below counts versioned's calls.
  for (const path of ['/v1/models/mnist', '/v1/models/mnist/versions/1/metadata', '/v2/models/mnist', '/v2/health/live', '/healthz', '/metrics']) {
    const [head, get] = await Promise.all([fetch(`${server.restUrl}${path}`, { method: 'HEAD' }), fetch(`${server.restUrl}${path}`)]);
    expect([path, head.status]).toEqual([path, get.status]);
    expect(get.status, path).toBe(200);
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
    expect(await head.text()).toBe('');
  }
  // A path that takes POST still refuses it.
  expect((await fetch(`${server.restUrl}/v1/models/mnist:predict`, { method: 'HEAD' })).status).toBe(400);
});

test('metrics carry TF Serving names and per-version labels', async () => {
  // Ready means one version of each model; the calls below need all three of this one.
  await waitForAvailable(clients.model, 'versioned', [1, 2, 3], 60_000);
  for (let i = 0; i < 3; i++) await predictVersioned(clients, 'versioned', i, { version: 2 });
  await restPredictVersioned(server.restUrl, 'versioned', 1);
  await statusOf(predictVersioned(clients, 'versioned', 1, { version: 9 }));
  for (const path of ['/metrics', '/monitoring/prometheus/metrics']) {
    const text = (await rest(server.restUrl, path)).text;
    expect(metricSum(text, ':tensorflow:serving:request_count', { model_name: 'versioned', status: 'OK' })).toBe(4);
    expect(metricSum(text, ':tensorflow:serving:request_count', { model_name: 'versioned', status: 'NOT_FOUND' })).toBe(1);
    expect(metricSum(text, 'tensorfleet_requests_total', { model: 'versioned', version: '2', code: 'OK', api: 'predict' })).toBe(3);
    expect(metricSum(text, 'tensorfleet_requests_total', { model: 'versioned', version: '3', code: 'OK' })).toBe(1);
    expect(metricSum(text, 'tensorfleet_request_duration_seconds_count', { model: 'versioned', version: '2' })).toBe(3);
    expect(text).toMatch(/^# TYPE :tensorflow:serving:request_latency histogram$/m);
  }
});

test('metrics report the inference threads and their busy time: it grows with work, never faster than the clock', async () => {
  await waitForAvailable(clients.model, 'versioned', [1, 2, 3], 60_000);
  const scrape = async (): Promise<string> => (await rest(server.restUrl, '/metrics')).text;
  const t0 = performance.now();
  const before = await scrape();
  for (let i = 0; i < 20; i++) await predictVersioned(clients, 'versioned', i, { version: 2 });
  const after = await scrape();
  const elapsedSeconds = (performance.now() - t0) / 1000;
  expect(metricSum(after, 'tensorfleet_inference_threads')).toBe(1);
  expect(after).toMatch(/^# TYPE tensorfleet_inference_busy_seconds_total counter$/m);
  const busySeconds = metricSum(after, 'tensorfleet_inference_busy_seconds_total') - metricSum(before, 'tensorfleet_inference_busy_seconds_total');
  expect(busySeconds).toBeGreaterThan(0);
  expect(busySeconds).toBeLessThanOrEqual(elapsedSeconds);
});

test('server reflection lists the served services', async () => {
  const services = await listServicesByReflection(clients.reflection);
  expect(services).toEqual(expect.arrayContaining(['tensorflow.serving.PredictionService', 'tensorflow.serving.ModelService', 'inference.GRPCInferenceService', 'grpc.health.v1.Health']));
});

const fileDescriptorProto = protobuf.Root.fromJSON(createRequire(import.meta.url)('protobufjs/google/protobuf/descriptor.json') as protobuf.INamespace).lookupType(
  'google.protobuf.FileDescriptorProto',
);

test('server reflection describes a service and its messages, as grpcurl asks', async () => {
  const answer = await askReflection(clients.reflection, { file_containing_symbol: 'tensorflow.serving.PredictionService' });
  const files = ((answer['file_descriptor_response'] as { file_descriptor_proto?: Buffer[] } | undefined)?.file_descriptor_proto ?? []).map((bytes) =>
    fileDescriptorProto.toObject(fileDescriptorProto.decode(bytes)) as {
      name: string;
      package: string;
      messageType?: { name: string }[];
      service?: { name: string; method: { name: string; inputType: string; outputType: string }[] }[];
    },
  );
  const service = files.flatMap((file) => file.service ?? []).find((s) => s.name === 'PredictionService');
  expect(service?.method, JSON.stringify(files.map((f) => f.name))).toContainEqual(
    expect.objectContaining({ name: 'Predict', inputType: '.tensorflow.serving.PredictRequest', outputType: '.tensorflow.serving.PredictResponse' }),
  );
  // The files the service imports come along, so a client can build the request types.
  const messages = files.flatMap((file) => (file.messageType ?? []).map((m) => `${file.package}.${m.name}`));
  expect(messages).toEqual(expect.arrayContaining(['tensorflow.serving.PredictRequest', 'tensorflow.serving.ModelSpec', 'tensorflow.TensorProto', 'tensorflow.TensorShapeProto']));
});

test('HandleReloadConfigRequest applies a new model list; a bad one is refused and changes nothing', async () => {
  const entry = (name: string, basePath: string): object => ({ name, base_path: basePath, model_platform: 'tensorflow' });
  const list = [
    { ...entry('versioned', join(fixtureVersionDir('versioned', 1), '..')), model_version_policy: { all: {} } },
    entry('late', join(models.path, 'late')),
    entry('mnist', join(fixtureVersionDir('mnist', 1), '..')),
    entry('adder', join(fixtureVersionDir('adder', 1), '..')),
  ];
  const ok = await clients.model.call<{ status: { error_code: string; error_message: string } }>('HandleReloadConfigRequest', { config: { model_config_list: { config: list } } });
  expect(ok.response.status.error_code).toBe('OK');
  await eventually(async () => expect(await healthOf('adder')).toBe('SERVING'), 30_000, 100);
  const sum = await clients.prediction.call<{ outputs: { sum: { int64_val: string[] } } }>('Predict', {
    model_spec: { name: 'adder', signature_name: 'add' },
    inputs: { a: { dtype: 'DT_INT64', tensor_shape: { dim: [] }, int64_val: ['40'] }, b: { dtype: 'DT_INT64', tensor_shape: { dim: [] }, int64_val: ['2'] } },
  });
  expect(sum.response.outputs.sum.int64_val).toEqual(['42']);

  const bad = await clients.model.call<{ status: { error_code: string; error_message: string } }>('HandleReloadConfigRequest', {
    config: { model_config_list: { config: [...list, { name: 'broken' }] } },
  });
  expect(bad.response.status.error_code).toBe('INVALID_ARGUMENT');
  expect(bad.response.status.error_message).toContain('base_path');
  expect(await healthOf('adder')).toBe('SERVING');
  expect((await statusOf(clients.health.call('Check', { service: 'broken' }))).code).toBe(5);
});

const MNIST_ZEROS = Array.from({ length: 28 }, () => Array.from({ length: 28 }, () => [0]));

/** A plain TCP connection to an http:// URL's port, once connected; it closes when the server closes it. */
function openConnection(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.once('error', reject);
    socket.on('end', () => socket.end());
    socket.resume(); // what the server sends (a gRPC server's SETTINGS) is read and dropped, so 'end' comes
  });
}

test('SIGTERM lets in-flight calls finish, then the process exits 0, not held by open connections that carry no call', async () => {
  // mnist with a large batch keeps the inference thread busy for a while per call.
  const batch = 1000;
  const images = { dtype: 'DT_FLOAT', tensor_shape: { dim: [batch, 28, 28, 1].map((d) => ({ size: String(d) })) }, tensor_content: Buffer.alloc(batch * 784 * 4, 1) };
  const request = { model_spec: { name: 'mnist', signature_name: 'predict_images' }, inputs: { images } };
  await clients.prediction.call('Predict', request);
  // Six calls queue on the one inference thread. SIGTERM comes as soon as the first of them
  // answers, so the other five are still running or queued. (Timing the signal from a measured
  // call instead flaked: a slow warm-up call let all six finish before the signal.)
  const finishedAt: number[] = [];
  let firstAnswered: () => void = () => {};
  const firstAnswer = new Promise<void>((resolve) => (firstAnswered = resolve));
  const inFlight = Array.from({ length: 6 }, () =>
    clients.prediction
      .call<{ outputs: { scores: { float_val: number[] } } }>('Predict', request)
      .finally(() => {
        finishedAt.push(Date.now());
        firstAnswered();
      }),
  );
  // A REST call in flight too, and connections with no call: one that never sent a request (as
  // clients and proxies open ahead of use) and one idle after its call, and on the gRPC port one
  // that never spoke HTTP/2. Each of the silent ones held the exit for the whole grace period
  // (30 s) before.
  const restInFlight = rest(server.restUrl, '/v1/models/mnist:predict', { body: { signature_name: 'predict_images', instances: Array<number[][][]>(200).fill(MNIST_ZEROS) } });
  const silent = await openConnection(server.restUrl);
  const silentGrpc = await openConnection(`http://${server.grpcTarget}`);
  const idle = await openConnection(server.restUrl);
  idle.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((resolve) => idle.once('data', resolve));
  await firstAnswer;
  const signalledAt = Date.now();
  const exit = server.stop();
  expect((await restInFlight).status).toBe(200);
  const results = await Promise.allSettled(inFlight);
  expect(results.map((r) => (r.status === 'fulfilled' ? 'ok' : String(r.reason)))).toEqual(new Array<string>(6).fill('ok'));
  for (const r of results) if (r.status === 'fulfilled') expect(r.value.response.outputs.scores.float_val).toHaveLength(batch * 10);
  // The drain was exercised: calls were still running when the signal was sent.
  expect(finishedAt.filter((t) => t > signalledAt).length).toBeGreaterThanOrEqual(2);
  expect(await exit).toEqual({ code: 0, signal: null });
  const exitSeconds = (Date.now() - signalledAt) / 1000;
  expect(exitSeconds, 'the grace period is 30 s').toBeLessThan(20);
  await eventually(() => expect([silent.closed, idle.closed, silentGrpc.closed]).toEqual([true, true, true]), 5_000, 20);
  expect(server.logs.some((l) => l.msg === 'server stopped')).toBe(true);
  // New calls are refused once it is gone.
  expect((await statusOf(clients.prediction.call('Predict', request, { deadlineMs: 2000 }))).code).not.toBe(0);
});
