/**
 * A live fuzz of the real server: fixture requests damaged at random (fast-check) sent over gRPC
 * (TF Serving's and the Open Inference Protocol's services, as raw bytes) and REST (TF Serving's
 * and /v2 bodies, as raw bytes). Every call must end with a deliberate answer, an error status
 * with a message rather than a crash or a 5xx, and afterwards the server must still be up and
 * answer a valid request correctly. The unit fuzz tests check the decoders one by one; this
 * checks what lies past them (TensorFlow itself, with odd but well-formed tensors) and the
 * framing around them.
 */
import * as grpc from '@grpc/grpc-js';
import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { protoType } from '../../../src/server/servables/tensorflow/proto-root.js';
import { damagedBytes, fuzzParameters } from '../../helpers/fuzz.js';
import { damagedBody } from '../../helpers/fuzz-json.js';
import { damagedMessages } from '../../helpers/fuzz-messages.js';
import { examplesJson, examplesOf } from '../../helpers/server/fixture-examples.js';
import { columnarBody, inferJsonBody, rowBody } from '../../helpers/server/fixture-json.js';
import { startFixtureServer } from '../../helpers/server/fixture-server.js';
import { eachFixtureCase, type FixtureTensor } from '../../helpers/server/fixture-tensors.js';
import { rawUnaryCall, type TfsClients } from '../../helpers/server/grpc-client.js';
import { fixturePredictRequests } from '../../helpers/server/predict-request-meaning.js';
import type { ServerProcess } from '../../helpers/server/server-process.js';
import { predictVersioned } from '../../helpers/server/versioned-calls.js';

let server: ServerProcess;
let clients: TfsClients;
let raw: grpc.Client;

beforeAll(async () => {
  ({ server, clients } = await startFixtureServer({ args: ['--max_tensor_elements=200000'] }));
  raw = new grpc.Client(server.grpcTarget, grpc.credentials.createInsecure());
});

afterAll(async () => {
  raw?.close();
  clients?.close();
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
});

const encode = (type: string, message: object): Uint8Array => {
  const t = protoType(type);
  return t.encode(t.fromObject(message)).finish();
};

const rawCall = (path: string, bytes: Uint8Array): Promise<{ code: grpc.status; details: string }> => rawUnaryCall(raw, path, bytes);

/** Classify (or Regress) requests for the fixture signatures of that method, over each case's examples. */
function examplesRequests(method: 'classify' | 'regress'): Uint8Array[] {
  const type = method === 'classify' ? 'tensorflow.serving.ClassificationRequest' : 'tensorflow.serving.RegressionRequest';
  const out: Uint8Array[] = [];
  for (const { model, signature, spec, testCase } of eachFixtureCase()) {
    if (spec.method_name !== `tensorflow/serving/${method}` || testCase.examples === undefined) continue;
    out.push(encode(type, { model_spec: { name: model, signature_name: signature }, input: { example_list: { examples: examplesOf(testCase) } } }));
  }
  return out;
}

/** census's classify and regress signatures as one MultiInference over each case's examples. */
function multiInferenceRequests(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const { model, signature, testCase } of eachFixtureCase()) {
    if (model !== 'census' || signature !== 'classify' || testCase.examples === undefined) continue;
    const task = (name: string, method: string): object => ({ model_spec: { name: model, signature_name: name }, method_name: `tensorflow/serving/${method}` });
    out.push(encode('tensorflow.serving.MultiInferenceRequest', { tasks: [task('classify', 'classify'), task('regress', 'regress')], input: { example_list: { examples: examplesOf(testCase) } } }));
  }
  return out;
}

const V2_DATATYPE: Record<string, [string, string]> = {
  DT_FLOAT: ['FP32', 'fp32_contents'],
  DT_DOUBLE: ['FP64', 'fp64_contents'],
  DT_INT32: ['INT32', 'int_contents'],
  DT_INT64: ['INT64', 'int64_contents'],
  DT_BOOL: ['BOOL', 'bool_contents'],
  DT_STRING: ['BYTES', 'bytes_contents'],
};

/** Fixture cases whose inputs the Open Inference Protocol carries in typed contents. */
function inferRequests(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const { model, signature, testCase } of eachFixtureCase()) {
    const inputs = Object.entries(testCase.inputs);
    if (inputs.length === 0 || !inputs.every(([, t]) => V2_DATATYPE[t.dtype])) continue;
    const tensor = ([name, t]: [string, FixtureTensor]): object => {
      const [datatype, field] = V2_DATATYPE[t.dtype]!;
      const values = t.dtype === 'DT_STRING' ? t.values.map((v) => Buffer.from(String(v), 'base64')) : t.values.map((v) => (t.dtype === 'DT_INT64' ? String(v) : v));
      return { name, datatype, shape: t.shape.map(String), contents: { [field]: values } };
    };
    out.push(encode('inference.ModelInferRequest', { model_name: model, parameters: { signature_name: { string_param: signature } }, inputs: inputs.map(tensor) }));
  }
  return out;
}

/**
 * Every call gets a deliberate answer: OK, or a coded error with a message. INTERNAL only for
 * bytes that are no valid message of the method's type, with the reason.
 */
function expectDeliberate(path: string, answer: { code: grpc.status; details: string }): void {
  const context = `${path}: ${grpc.status[answer.code]} ${answer.details}`;
  const deliberate: grpc.status[] = [grpc.status.OK, grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND, grpc.status.FAILED_PRECONDITION, grpc.status.RESOURCE_EXHAUSTED, grpc.status.UNIMPLEMENTED, grpc.status.INTERNAL];
  expect(deliberate, context).toContain(answer.code);
  if (answer.code === grpc.status.INTERNAL) expect(answer.details, context).toMatch(/^Error deserializing request: the \w+ request is not a valid protobuf message: \S/);
  else if (answer.code !== grpc.status.OK) expect(answer.details.length, context).toBeGreaterThan(0);
}

async function expectStillServing(): Promise<void> {
  expect(await predictVersioned(clients, 'versioned', 2)).toEqual({ reported: 3, computed: 3 });
  expect(server.logs.filter((line) => (line.level ?? 0) >= 60), 'fatal log lines').toEqual([]);
}

describe('the server under damaged gRPC requests', () => {
  const methods: [string, string, Uint8Array[]][] = [
    ['/tensorflow.serving.PredictionService/Predict', 'tensorflow.serving.PredictRequest', fixturePredictRequests()],
    ['/tensorflow.serving.PredictionService/Classify', 'tensorflow.serving.ClassificationRequest', examplesRequests('classify')],
    ['/tensorflow.serving.PredictionService/Regress', 'tensorflow.serving.RegressionRequest', examplesRequests('regress')],
    ['/tensorflow.serving.PredictionService/GetModelMetadata', 'tensorflow.serving.GetModelMetadataRequest', [encode('tensorflow.serving.GetModelMetadataRequest', { model_spec: { name: 'mnist' }, metadata_field: ['signature_def'] })]],
    ['/tensorflow.serving.ModelService/GetModelStatus', 'tensorflow.serving.GetModelStatusRequest', [encode('tensorflow.serving.GetModelStatusRequest', { model_spec: { name: 'versioned', version: { value: 2 } } })]],
    ['/tensorflow.serving.PredictionService/MultiInference', 'tensorflow.serving.MultiInferenceRequest', multiInferenceRequests()],
    ['/inference.GRPCInferenceService/ModelInfer', 'inference.ModelInferRequest', inferRequests()],
    ...(['ModelReady', 'ModelMetadata', 'ModelConfig', 'ModelStatistics'] as const).map((method): [string, string, Uint8Array[]] => [
      `/inference.GRPCInferenceService/${method}`,
      `inference.${method}Request`,
      [encode(`inference.${method}Request`, { name: 'versioned', version: '2' })],
    ]),
    ['/inference.GRPCInferenceService/RepositoryIndex', 'inference.RepositoryIndexRequest', [encode('inference.RepositoryIndexRequest', { ready: true })]],
  ];

  test.each(methods)('%s', async (path, type, valid) => {
    expect(valid.length, 'seed requests').toBeGreaterThan(0);
    const answered = { ok: 0, refused: 0 };
    // Now and then a request as it was, which must still be served amid the damaged ones.
    const requests = fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...valid) }, { weight: 5, arbitrary: damagedMessages(type, valid) }, { weight: 5, arbitrary: damagedBytes(valid) });
    await fc.assert(
      fc.asyncProperty(requests, async (bytes) => {
        const answer = await rawCall(path, bytes);
        expectDeliberate(path, answer);
        if (valid.includes(bytes)) expect(answer, `${path}: an undamaged request`).toEqual({ code: grpc.status.OK, details: '' });
        answered[answer.code === grpc.status.OK ? 'ok' : 'refused']++;
      }),
      fuzzParameters(200),
    );
    expect(answered.ok, JSON.stringify(answered)).toBeGreaterThan(0);
    expect(answered.refused, JSON.stringify(answered)).toBeGreaterThan(0);
    await expectStillServing();
  });
});

interface RestCase {
  readonly path: string;
  readonly body: string;
}

function restCases(): RestCase[] {
  const cases: RestCase[] = [];
  for (const { model, version, signature, spec, testCase: c } of eachFixtureCase()) {
    const verb = spec.method_name.replace('tensorflow/serving/', '');
    if (c.examples !== undefined && (verb === 'classify' || verb === 'regress')) cases.push({ path: `/v1/models/${model}:${verb}`, body: examplesJson(signature, c) });
    const inputs = Object.entries(c.inputs);
    if (inputs.length === 0) continue;
    cases.push({ path: `/v1/models/${model}/versions/${version}:predict`, body: columnarBody(c.inputs, signature) });
    // Rows need every input batched alike (a scalar input has no rows).
    const batch = inputs[0]![1].shape[0];
    const batched = inputs.every(([name, t]) => t.shape.length > 0 && t.shape[0] === batch && (spec.input_specs[name]?.shape?.length ?? 0) > 0);
    if (batched) cases.push({ path: `/v1/models/${model}:predict`, body: rowBody(c.inputs, signature) });
    cases.push({ path: `/v2/models/${model}/infer`, body: inferJsonBody(c.inputs, signature) });
  }
  return cases;
}

/** Damaged in meaning (JSON nodes replaced) or in form (bytes changed, cut, inserted: even UTF-8 broken). */
function damagedRest(cases: readonly RestCase[]): fc.Arbitrary<RestRequest> {
  const byPath = fc.constantFrom(...cases).chain((c) => damagedBytes([Buffer.from(c.body)]).map((body) => ({ path: c.path, body })));
  const byMeaning = damagedBody(cases).map((c) => ({ path: c.path, body: Buffer.from(c.text) }));
  const undamaged = fc.constantFrom(...cases).map((c) => ({ path: c.path, body: Buffer.from(c.body), undamaged: true }));
  return fc.oneof({ weight: 1, arbitrary: undamaged }, { weight: 5, arbitrary: byMeaning }, { weight: 5, arbitrary: byPath });
}

interface RestRequest {
  readonly path: string;
  readonly body: Uint8Array;
  readonly headers?: Record<string, string>;
  /** A request as it was, which must still be served amid the damaged ones. */
  readonly undamaged?: boolean;
}

/** Sends every request; each must get 200 or a 4xx whose JSON names the problem. */
async function expectRestAnswers(requests: fc.Arbitrary<RestRequest>, runs: number): Promise<void> {
  const answered = { ok: 0, refused: 0 };
  await fc.assert(
    fc.asyncProperty(requests, async ({ path, body, headers, undamaged }) => {
      const response = await fetch(`${server.restUrl}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
      const text = await response.text();
      answered[response.status === 200 ? 'ok' : 'refused']++;
      const context = `${path} ${JSON.stringify(headers ?? {})} ${response.status} ${text.slice(0, 200)}`;
      expect(response.status, context).toBeLessThan(500);
      if (undamaged === true) expect(response.status, context).toBe(200);
      if (response.status >= 400) expect((JSON.parse(text) as { error?: string }).error, context).toMatch(/\w/);
    }),
    fuzzParameters(runs),
  );
  expect(answered.ok, JSON.stringify(answered)).toBeGreaterThan(0);
  expect(answered.refused, JSON.stringify(answered)).toBeGreaterThan(0);
  await expectStillServing();
}

const JSON_LENGTH_HEADER = 'inference-header-content-length';

/** /v2 infer with the binary tensor extension: FP32 inputs as raw bytes after the JSON. */
function binaryInferCases(): { path: string; json: string; binary: Buffer }[] {
  const cases = [];
  for (const { model, signature, testCase } of eachFixtureCase()) {
    const inputs = Object.entries(testCase.inputs);
    if (inputs.length === 0 || !inputs.every(([, t]) => t.dtype === 'DT_FLOAT')) continue;
    const parts = inputs.map(([name, t]) => ({ name, t, bytes: Buffer.from(Float32Array.from(t.values as number[]).buffer) }));
    const json = JSON.stringify({
      parameters: { signature_name: signature },
      inputs: parts.map(({ name, t, bytes }) => ({ name, datatype: 'FP32', shape: t.shape, parameters: { binary_data_size: bytes.length } })),
    });
    cases.push({ path: `/v2/models/${model}/infer`, json, binary: Buffer.concat(parts.map((p) => p.bytes)) });
  }
  return cases;
}

describe('the server under damaged REST requests', () => {
  test('TF Serving predict/classify/regress and /v2 infer answer 2xx or 4xx with an error naming the problem', async () => {
    await expectRestAnswers(damagedRest(restCases()), 600);
  });

  test('/v2 infer with binary tensors: damaged bytes, JSON and header lengths', async () => {
    const cases = binaryInferCases();
    expect(cases.length, 'seed requests').toBeGreaterThan(0);
    const withLength = (path: string, json: Uint8Array, binary: Uint8Array, length = String(json.length)): RestRequest => ({
      path,
      body: Buffer.concat([json, binary]),
      headers: { [JSON_LENGTH_HEADER]: length },
    });
    const byMeaning = damagedBody(cases.map((c) => ({ ...c, body: c.json }))).map((c) => withLength(c.path, Buffer.from(c.text), c.binary));
    const byBytes = fc
      .constantFrom(...cases)
      .chain((c) => damagedBytes([Buffer.concat([Buffer.from(c.json), c.binary])]).map((body) => ({ path: c.path, body, headers: { [JSON_LENGTH_HEADER]: String(c.json.length) } })));
    const byHeader = fc
      .tuple(fc.constantFrom(...cases), fc.oneof(fc.integer({ min: -2, max: 4000 }).map(String), fc.constantFrom('', 'abc', '1e3', '0x10', ' 12', '9007199254740993')))
      .map(([c, length]) => withLength(c.path, Buffer.from(c.json), c.binary, length));
    const undamaged = fc.constantFrom(...cases).map((c) => ({ ...withLength(c.path, Buffer.from(c.json), c.binary), undamaged: true }));
    await expectRestAnswers(fc.oneof({ weight: 1, arbitrary: undamaged }, { weight: 3, arbitrary: byMeaning }, { weight: 3, arbitrary: byBytes }, { weight: 3, arbitrary: byHeader }), 400);
  });
});

describe('the server under odd request paths', () => {
  test('every method and path made of API words and odd segments gets an answer below 500, with an error naming the problem', async () => {
    const segment = fc.oneof(
      fc.constantFrom('v1', 'v2', 'models', 'versioned', 'mnist', 'versions', 'labels', 'stable', 'metadata', 'ready', 'infer', 'config', 'stats', 'repository', 'index', 'health', 'live'),
      fc.constantFrom('1', '0', '-1', '1e3', '99999999999999999999', '%E0%A4%A', '%ZZ', '%00', '%2F', '..', '.', '', '__proto__', 'constructor', 'x'.repeat(300), 'versioned:predict', 'mnist:classify', ':regress', '[', '%C0'),
    );
    const target = fc.oneof(
      fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => `/${parts.join('/')}`),
      fc.constantFrom('//[', '/v1/models/versioned?x=%ZZ', '/v2/models/versioned/versions/2/ready#f'),
    );
    await fc.assert(
      fc.asyncProperty(target, fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD'), async (path, method) => {
        const reply = await rawHttp(method, path);
        const context = `${method} ${path}: ${reply.status} ${reply.body.slice(0, 200)}`;
        expect(reply.status, context).toBeGreaterThanOrEqual(200);
        expect(reply.status, context).toBeLessThan(500);
        if (reply.status >= 400 && method !== 'HEAD') expect((JSON.parse(reply.body) as { error?: string }).error, context).toMatch(/\w/);
      }),
      fuzzParameters(600),
    );
    expect(server.logs.filter((line) => line.msg === 'REST request failed unexpectedly'), 'unexpected REST errors').toEqual([]);
    await expectStillServing();
  });
});

/** One HTTP request with the target exactly as given (fetch would normalise it first). */
function rawHttp(method: string, target: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(server.restUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port: Number(port), method, path: target, headers: { 'content-length': 0 } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
