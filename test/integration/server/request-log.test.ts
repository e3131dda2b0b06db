/**
 * Request logging (a model's logging_config) on the real server: sampled calls from gRPC and REST
 * become PredictionLogs in TFRecord files that TF Serving's own Python protos read, failed calls
 * are not logged, and a log file replays as a warmup file of a new version.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { readPredictionLog } from '../../../src/server/servables/tensorflow/warmup/prediction-log.js';
import { readTfRecords } from '../../../src/server/servables/tensorflow/warmup/tfrecord-reader.js';
import { examplesJson, examplesOf } from '../../helpers/server/fixture-examples.js';
import { FIXTURES_DIR, loadExpected } from '../../helpers/server/fixture-tensors.js';
import { statusOf, tfsClients } from '../../helpers/server/grpc-client.js';
import { tempDir, type TempDir } from '../../helpers/server/model-dirs.js';
import { officialClientPython } from '../../helpers/server/official-client.js';
import { rest, scrapeMetric } from '../../helpers/server/rest-client.js';
import { startServer } from '../../helpers/server/server-process.js';

const run = promisify(execFile);
let dir: TempDir;
let python: string;
const logFiles = (model: string): string[] =>
  readdirSync(join(dir.path, 'logs'))
    .filter((f) => f.startsWith(`${model}.`) && f.endsWith('.tfrecord'))
    .map((f) => join(dir.path, 'logs', f));

async function recordsOf(files: readonly string[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const file of files) for await (const record of readTfRecords(file, 1 << 20)) out.push(record);
  return out;
}

const tinyRequest = (values: number[]): object => ({
  model_spec: { name: 'tiny' },
  inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }, { size: '4' }] }, float_val: values } },
});

beforeAll(async () => {
  dir = tempDir('tensorfleet-request-log-');
  python = await officialClientPython();
  const logging = (model: string, rate: number): string => `    logging_config: {log_collector_config: {type: tfrecord, filename_prefix: ${JSON.stringify(join(dir.path, 'logs', model))}}, sampling_config: {sampling_rate: ${rate}}}\n`;
  const server = await startServer({
    config:
      'model_config_list:\n' +
      `  - name: tiny\n    base_path: ${JSON.stringify(join(FIXTURES_DIR, 'models', 'tiny'))}\n${logging('tiny', 1)}` +
      `  - name: census\n    base_path: ${JSON.stringify(join(FIXTURES_DIR, 'models', 'census'))}\n${logging('census', 1)}` +
      `  - name: mnist\n    base_path: ${JSON.stringify(join(FIXTURES_DIR, 'models', 'mnist'))}\n${logging('mnist', 0)}`,
  });
  const clients = tfsClients(server.grpcTarget);
  try {
    await clients.prediction.call('Predict', tinyRequest([1, 2, 3, 4]));
    await clients.prediction.call('Predict', tinyRequest([5, 6, 7, 8]));
    expect((await rest(server.restUrl, '/v1/models/tiny:predict', { body: JSON.stringify({ instances: [[9, 10, 11, 12]] }) })).status).toBe(200);
    // Failed calls are not logged.
    expect((await statusOf(clients.prediction.call('Predict', { model_spec: { name: 'tiny' }, inputs: {} }))).code).not.toBe(0);
    const census = loadExpected('census').signatures;
    await clients.prediction.call('Classify', { model_spec: { name: 'census', signature_name: 'classify' }, input: { example_list: { examples: examplesOf(census.classify!.cases[1]!) } } });
    expect((await rest(server.restUrl, '/v1/models/census:regress', { body: examplesJson('regress', census.regress!.cases[0]!) })).status).toBe(200);
    await clients.prediction.call('MultiInference', {
      tasks: [
        { model_spec: { name: 'census', signature_name: 'classify' }, method_name: 'tensorflow/serving/classify' },
        { model_spec: { name: 'census', signature_name: 'regress' }, method_name: 'tensorflow/serving/regress' },
      ],
      input: { example_list: { examples: examplesOf(census.classify!.cases[0]!) } },
    });
    expect(await scrapeMetric(server.restUrl, 'tensorfleet_request_log_records_total', { model: 'tiny', outcome: 'queued' })).toBe(3);
  } finally {
    clients.close();
    // Stopping flushes the files.
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  }
}, 900_000);

afterAll(() => dir?.remove());

test('sampled calls become PredictionLogs, from gRPC and REST alike; failed calls and a 0 rate log nothing', async () => {
  const tiny = (await recordsOf(logFiles('tiny'))).map(readPredictionLog);
  expect(tiny.map((r) => r.kind)).toEqual(['predict', 'predict', 'predict']);
  // Logged as the server's encoder writes tensors: float_val (or tensor_content).
  const values = tiny.map((r) => {
    const x = r.kind === 'predict' ? r.request.inputs.x! : undefined;
    return x?.tensor_content?.length ? Array.from(new Float32Array(new Uint8Array(x.tensor_content).slice().buffer)) : Array.from(x?.float_val ?? []);
  });
  expect(values).toEqual([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]);
  const census = (await recordsOf(logFiles('census'))).map(readPredictionLog);
  expect(census.map((r) => [r.kind, r.kind === 'multi_inference' ? r.request.tasks.map((t) => t.model_spec?.signature_name).join('+') : r.request.model_spec?.signature_name])).toEqual([
    ['classify', 'classify'],
    ['regress', 'regress'],
    ['multi_inference', 'classify+regress'],
  ]);
  expect(logFiles('mnist')).toEqual([]);
});

test("TF Serving's own Python protos read the files: metadata, requests and responses", async () => {
  const script = `
import json, sys
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2
out = []
for path in sys.argv[1:]:
    for raw in tf.data.TFRecordDataset(path):
        log = prediction_log_pb2.PredictionLog.FromString(raw.numpy())
        kind = log.WhichOneof("log_type")
        entry = getattr(log, kind)
        row = {"kind": kind, "model": log.log_metadata.model_spec.name, "version": log.log_metadata.model_spec.version.value,
               "rate": log.log_metadata.sampling_config.sampling_rate, "tags": list(log.log_metadata.saved_model_tags)}
        if kind == "predict_log":
            row["y"] = [round(float(v), 4) for v in tf.make_ndarray(entry.response.outputs["y"]).reshape(-1)]
        elif kind == "classify_log":
            row["classifications"] = len(entry.response.result.classifications)
            row["examples"] = len(entry.request.input.example_list.examples)
        elif kind == "regress_log":
            row["regressions"] = len(entry.response.result.regressions)
        else:
            row["tasks"] = [(t.model_spec.signature_name, t.method_name) for t in entry.request.tasks]
            row["results"] = [r.WhichOneof("result") for r in entry.response.results]
        out.append(row)
print(json.dumps(out))
`;
  const result = await run(python, ['-c', script, ...logFiles('tiny'), ...logFiles('census')], { env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' }, maxBuffer: 16 * 1024 * 1024 });
  const rows = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>[];
  expect(rows.map((r) => [r.kind, r.model, r.version, r.rate, r.tags])).toEqual([
    ['predict_log', 'tiny', 1, 1, ['serve']],
    ['predict_log', 'tiny', 1, 1, ['serve']],
    ['predict_log', 'tiny', 1, 1, ['serve']],
    ['classify_log', 'census', 1, 1, ['serve']],
    ['regress_log', 'census', 1, 1, ['serve']],
    ['multi_inference_log', 'census', 1, 1, ['serve']],
  ]);
  expect(rows.slice(0, 3).every((r) => Array.isArray(r.y) && (r.y as number[]).length === 3)).toBe(true);
  expect(rows[3]).toMatchObject({ classifications: 3, examples: 3 });
  expect(rows[4]).toMatchObject({ regressions: 1 });
  expect(rows[5]).toMatchObject({
    tasks: [['classify', 'tensorflow/serving/classify'], ['regress', 'tensorflow/serving/regress']],
    results: ['classification_result', 'regression_result'],
  });
}, 120_000);

test('log files replay as the warmup files of new versions, MultiInference records included', async () => {
  const replay = (model: string): string => {
    const base = join(dir.path, 'replay', model);
    cpSync(join(FIXTURES_DIR, 'models', model, '1'), join(base, '1'), { recursive: true });
    mkdirSync(join(base, '1', 'assets.extra'), { recursive: true });
    cpSync(logFiles(model)[0]!, join(base, '1', 'assets.extra', 'tf_serving_warmup_requests'));
    return base;
  };
  const config = `model_config_list:\n  - {name: tiny, base_path: ${JSON.stringify(replay('tiny'))}}\n  - {name: census, base_path: ${JSON.stringify(replay('census'))}}\n`;
  const server = await startServer({ config });
  try {
    const warmed = server.logs.filter((l) => l.msg === 'warmed up version').map((l) => [l.model, l.records]);
    expect(warmed.sort()).toEqual([['census', 3], ['tiny', 3]]);
  } finally {
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  }
});
