/**
 * Model warmup (TF Serving's assets.extra/tf_serving_warmup_requests) on the real server. The
 * `counter` fixture counts its calls in a TensorFlow variable and carries three PredictLog
 * records written by Python TensorFlow, so a call's answer tells how many warmup runs its
 * inference thread made. Broken warmup files (test/fixtures/warmup/, or bytes changed here) must
 * fail their version's load with a status naming the problem, while the other models serve.
 */
import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { tfRecordOf } from '../../../src/server/request-log/tfrecord-frame.js';
import { eventually } from '../../helpers/k8s/eventually.js';
import { FIXTURES_DIR } from '../../helpers/server/fixture-tensors.js';
import { tfsClients, type TfsClients } from '../../helpers/server/grpc-client.js';
import { modelStatus, waitForAvailable, type VersionStatus } from '../../helpers/server/model-status.js';
import { fixtureVersionDir, tempDir, type TempDir } from '../../helpers/server/model-dirs.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';

const WARMUP_FILE = join('assets.extra', 'tf_serving_warmup_requests');
const COUNTER_WARMUP = readFileSync(join(fixtureVersionDir('counter', 1), WARMUP_FILE));
const COUNTER_RECORDS = 3;
const ITERATIONS = 2;
const warmupFixture = (name: string): Buffer => readFileSync(join(FIXTURES_DIR, 'warmup', name));

/** The first record of a TFRecord file, header and checksums included. */
function firstRecord(file: Buffer): Buffer {
  return file.subarray(0, 12 + Number(file.readBigUInt64LE(0)) + 4);
}

/** The counter's warmup file with one byte of its first record's data changed. */
function corrupted(file: Buffer): Buffer {
  const copy = Buffer.from(file);
  copy[12] = copy[12]! ^ 0xff;
  return copy;
}

/**
 * A model `name` under `models` holding version 1 of `fixture` with `warmup` as its warmup file
 * (`null` removes the file). Built under a dot name, which the server ignores, then renamed.
 */
function modelWithWarmup(models: TempDir, name: string, fixture: string, warmup: Buffer | null): string {
  const base = join(models.path, name);
  const staging = join(base, '.staging');
  mkdirSync(base);
  cpSync(fixtureVersionDir(fixture, 1), staging, { recursive: true });
  rmSync(join(staging, 'assets.extra'), { recursive: true, force: true });
  if (warmup !== null) {
    mkdirSync(join(staging, 'assets.extra'));
    writeFileSync(join(staging, WARMUP_FILE), warmup);
  }
  renameSync(staging, join(base, '1'));
  return base;
}

const FAILING: Record<string, { warmup: () => Buffer; code: string; message: RegExp }> = {
  unknown_input: {
    warmup: () => warmupFixture('counter-unknown-input.tfrecord'),
    code: 'INVALID_ARGUMENT',
    message: /warmup record 2 of .*tf_serving_warmup_requests: inputs do not match signature "serving_default".*not in the signature: nope/,
  },
  // A MultiInference task without a method name (replayed like a live call, which refuses it).
  multi_inference: {
    warmup: () => warmupFixture('counter-multi-inference.tfrecord'),
    code: 'UNIMPLEMENTED',
    message: /warmup record 1 of .*: unsupported method_name "" in a MultiInference task/,
  },
  // PredictionLog { session_run_log { request {} } }: a kind that is not replayed.
  session_run: { warmup: () => tfRecordOf(Uint8Array.of(0x2a, 0x02, 0x0a, 0x00)), code: 'UNIMPLEMENTED', message: /warmup record 1 of .*: session_run_log records cannot be replayed/ },
  corrupt: { warmup: () => corrupted(COUNTER_WARMUP), code: 'DATA_LOSS', message: /corrupt record data \(checksum mismatch\) at byte 0; is it a TFRecord file\?/ },
  truncated: { warmup: () => COUNTER_WARMUP.subarray(0, COUNTER_WARMUP.length - 3), code: 'DATA_LOSS', message: /truncated record at byte \d+/ },
  too_many: {
    warmup: () => Buffer.concat(Array.from({ length: 1001 }, () => firstRecord(COUNTER_WARMUP))),
    code: 'INVALID_ARGUMENT',
    message: /holds more than 1000 warmup records/,
  },
};

let models: TempDir;
let server: ServerProcess;
let clients: TfsClients;

beforeAll(async () => {
  models = tempDir();
  const entries = [
    { name: 'counter', base: modelWithWarmup(models, 'counter', 'counter', COUNTER_WARMUP) },
    { name: 'census', base: modelWithWarmup(models, 'census', 'census', warmupFixture('census-classify-regress.tfrecord')) },
    { name: 'no_warmup', base: modelWithWarmup(models, 'no_warmup', 'counter', null) },
    ...Object.entries(FAILING).map(([name, failing]) => ({ name, base: modelWithWarmup(models, name, 'counter', failing.warmup()) })),
  ];
  server = await startServer({
    config: `model_config_list:\n${entries.map((e) => `  - {name: ${e.name}, base_path: ${JSON.stringify(e.base)}}`).join('\n')}\n`,
    args: ['--inference_threads=2', `--num_request_iterations_for_warmup=${ITERATIONS}`, '--max_num_load_retries=0'],
    waitReady: false,
  });
  clients = tfsClients(server.grpcTarget);
  await Promise.all(['counter', 'census', 'no_warmup'].map((name) => waitForAvailable(clients.model, name, [1], 60_000)));
});

afterAll(async () => {
  clients?.close();
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
  models?.remove();
});

/** The counter's `calls` output for one Predict: how many times that thread's session ran it. */
async function counterCalls(model: string): Promise<number> {
  const { response } = await clients.prediction.call<{ outputs: Record<string, { int64_val: string[] }> }>('Predict', {
    model_spec: { name: model },
    inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 1 }] }, float_val: [1] } },
  });
  return Number(response.outputs.calls!.int64_val[0]);
}

test('every inference thread replays every record the configured number of times before the version serves', async () => {
  // Calls at once spread over both threads, and every session that answers was warmed: a cold one
  // would answer 1. (model-warmup-threads.test.ts shows each thread's share deterministically.)
  const calls = await Promise.all(Array.from({ length: 16 }, () => counterCalls('counter')));
  expect(Math.min(...calls)).toBe(COUNTER_RECORDS * ITERATIONS + 1);
  const line = await server.waitForLog((l) => l.msg === 'warmed up version' && l.model === 'counter');
  expect(line).toMatchObject({ version: 1, records: COUNTER_RECORDS, iterations: ITERATIONS, threads: 2 });
});

test('a version without a warmup file loads as before', async () => {
  expect(await counterCalls('no_warmup')).toBe(1);
  expect(server.logs.some((l) => l.msg === 'warmed up version' && l.model === 'no_warmup')).toBe(false);
});

test('Classify and Regress records are replayed on their signatures', async () => {
  const line = await server.waitForLog((l) => l.msg === 'warmed up version' && l.model === 'census');
  expect(line).toMatchObject({ records: 2 });
  const { response } = await clients.model.call<{ model_version_status: VersionStatus[] }>('GetModelStatus', { model_spec: { name: 'census' } });
  expect(response.model_version_status.map((s) => s.state)).toEqual(['AVAILABLE']);
});

test.each(Object.entries(FAILING))('a warmup file that cannot be replayed fails the load (%s)', async (name, failing) => {
  const status = await eventually(async () => {
    const [v1] = await modelStatus(clients.model, name);
    expect(v1?.state).toBe('END');
    return v1!;
  }, 60_000, 100);
  expect(status.status.error_code).toBe(failing.code);
  expect(status.status.error_message).toMatch(failing.message);
  // The server and its other models are unaffected.
  expect(await counterCalls('no_warmup')).toBeGreaterThan(0);
});

test('--enable_model_warmup=false serves the version without replaying its file', async () => {
  const plain = await startServer({
    config: `model_config_list:\n  - {name: counter, base_path: ${JSON.stringify(join(models.path, 'counter'))}}\n`,
    args: ['--enable_model_warmup=false'],
  });
  const plainClients = tfsClients(plain.grpcTarget, { ownConnection: true });
  try {
    const { response } = await plainClients.prediction.call<{ outputs: Record<string, { int64_val: string[] }> }>('Predict', {
      model_spec: { name: 'counter' },
      inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 1 }] }, float_val: [1] } },
    });
    expect(Number(response.outputs.calls!.int64_val[0])).toBe(1);
  } finally {
    plainClients.close();
    expect(await plain.stop()).toEqual({ code: 0, signal: null });
  }
});
