/**
 * Bad requests over gRPC and REST get a coded error naming the problem, and never take the
 * server down. Limits are set small (--max_tensor_elements, --max_request_bytes) to reach them.
 */
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FIXTURES_DIR } from '../../helpers/server/fixture-tensors.js';
import { rawUnaryCall, statusOf, tfsClients, type TfsClients } from '../../helpers/server/grpc-client.js';
import { rest } from '../../helpers/server/rest-client.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';
import { predictVersioned } from '../../helpers/server/versioned-calls.js';

const MAX_ELEMENTS = 1000;
const MAX_BYTES = 64 * 1024;

let server: ServerProcess;
let clients: TfsClients;
let raw: grpc.Client;

beforeAll(async () => {
  server = await startServer({
    configFile: join(FIXTURES_DIR, 'model-config.yaml'),
    args: [`--max_tensor_elements=${MAX_ELEMENTS}`, `--max_request_bytes=${MAX_BYTES}`],
  });
  clients = tfsClients(server.grpcTarget);
  raw = new grpc.Client(server.grpcTarget, grpc.credentials.createInsecure());
});

afterAll(async () => {
  clients?.close();
  raw?.close();
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
});

const shape = (...dims: number[]): { dim: { size: string }[] } => ({ dim: dims.map((d) => ({ size: String(d) })) });
const floats = (values: number[], dims = [values.length]): object => ({ dtype: 'DT_FLOAT', tensor_shape: shape(...dims), float_val: values });
const int64 = (value: string): object => ({ dtype: 'DT_INT64', tensor_shape: shape(), int64_val: [value] });
const adder = (inputs: Record<string, object>): object => ({ model_spec: { name: 'adder', signature_name: 'add' }, inputs });
const versioned = (x: object, spec: object = {}): object => ({ model_spec: { name: 'versioned', ...spec }, inputs: { x } });

const { status: S } = grpc;

interface GrpcRow {
  readonly name: string;
  readonly method?: string;
  readonly service?: 'prediction' | 'model';
  readonly request: object;
  readonly code: number;
  /** Substrings the message must contain (it names the problem). */
  readonly says: readonly string[];
}

const GRPC_ROWS: GrpcRow[] = [
  { name: 'unknown model', request: versioned(floats([1]), { name: 'nope' }), code: S.NOT_FOUND, says: ['nope'] },
  { name: 'unknown version', request: versioned(floats([1]), { version: { value: '9' } }), code: S.NOT_FOUND, says: ['9'] },
  // As TF Serving: an unknown label is INVALID_ARGUMENT ("Unrecognized servable version label").
  { name: 'unknown label', request: versioned(floats([1]), { version_label: 'gold' }), code: S.INVALID_ARGUMENT, says: ['gold'] },
  { name: 'unknown signature', request: versioned(floats([1]), { signature_name: 'nope_sig' }), code: S.NOT_FOUND, says: ['nope_sig'] },
  { name: 'no model_spec', request: { inputs: { x: floats([1]) } }, code: S.INVALID_ARGUMENT, says: ['model_spec'] },
  { name: 'missing input', request: adder({ a: int64('1') }), code: S.INVALID_ARGUMENT, says: ['b'] },
  { name: 'extra input', request: adder({ a: int64('1'), b: int64('2'), c: int64('3') }), code: S.INVALID_ARGUMENT, says: ['c'] },
  { name: 'wrong dtype', request: versioned({ dtype: 'DT_INT32', tensor_shape: shape(1), int_val: [1] }), code: S.INVALID_ARGUMENT, says: ['DT_FLOAT', 'DT_INT32'] },
  { name: 'string for a float input', request: versioned({ dtype: 'DT_STRING', tensor_shape: shape(1), string_val: [Buffer.from('1')] }), code: S.INVALID_ARGUMENT, says: ['DT_STRING'] },
  { name: 'wrong rank', request: { model_spec: { name: 'tiny' }, inputs: { x: floats([1, 2, 3, 4]) } }, code: S.INVALID_ARGUMENT, says: ['x', 'shape'] },
  { name: 'wrong fixed dimension', request: { model_spec: { name: 'tiny' }, inputs: { x: floats([1, 2, 3, 4, 5], [1, 5]) } }, code: S.INVALID_ARGUMENT, says: ['x', 'dimension'] },
  { name: 'tensor_content not a multiple of the width', request: versioned({ dtype: 'DT_FLOAT', tensor_shape: shape(1), tensor_content: Buffer.alloc(3) }), code: S.INVALID_ARGUMENT, says: ['tensor_content', '3 bytes'] },
  { name: 'tensor_content size vs shape', request: versioned({ dtype: 'DT_FLOAT', tensor_shape: shape(3), tensor_content: Buffer.alloc(8) }), code: S.INVALID_ARGUMENT, says: ['x'] },
  { name: 'value count vs shape', request: versioned(floats([1, 2, 3], [2])), code: S.INVALID_ARGUMENT, says: ['float_val'] },
  { name: 'negative dimension', request: versioned({ dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '-2' }] }, float_val: [1] }), code: S.INVALID_ARGUMENT, says: ['-2'] },
  { name: 'no dtype', request: versioned({ tensor_shape: shape(1), float_val: [1] }), code: S.INVALID_ARGUMENT, says: ['dtype'] },
  { name: 'too many elements', request: { model_spec: { name: 'mnist', signature_name: 'predict_images' }, inputs: { images: floats(new Array<number>(2 * 784).fill(0.5), [2, 28, 28, 1]) } }, code: S.INVALID_ARGUMENT, says: [String(MAX_ELEMENTS)] },
  { name: 'oversize message', request: versioned(floats(new Array<number>(MAX_BYTES / 4 + 100).fill(1))), code: S.RESOURCE_EXHAUSTED, says: [] },
  { name: 'garbage JPEG bytes (TensorFlow op error)', request: { model_spec: { name: 'jpeg_labeler' }, inputs: { image_bytes: { dtype: 'DT_STRING', tensor_shape: shape(1), string_val: [Buffer.from('not a jpeg')] } } }, code: S.INVALID_ARGUMENT, says: [] },
  { name: 'Classify on a predict signature', method: 'Classify', request: { model_spec: { name: 'versioned' }, input: { example_list: { examples: [{ features: { feature: {} } }] } } }, code: S.INVALID_ARGUMENT, says: ['classify'] },
  { name: 'Regress with no examples', method: 'Regress', request: { model_spec: { name: 'census', signature_name: 'regress' }, input: { example_list: { examples: [] } } }, code: S.INVALID_ARGUMENT, says: ['examples'] },
  { name: 'GetModelMetadata of an unknown model', method: 'GetModelMetadata', request: { model_spec: { name: 'nope' }, metadata_field: ['signature_def'] }, code: S.NOT_FOUND, says: ['nope'] },
  { name: 'GetModelMetadata without a metadata_field', method: 'GetModelMetadata', request: { model_spec: { name: 'adder' }, metadata_field: [] }, code: S.INVALID_ARGUMENT, says: ['must specify at least one metadata_field'] },
  { name: 'GetModelMetadata of an unknown metadata_field', method: 'GetModelMetadata', request: { model_spec: { name: 'adder' }, metadata_field: ['signature_def', 'bogus'] }, code: S.INVALID_ARGUMENT, says: ['Metadata field bogus is not supported'] },
  { name: 'GetModelStatus of an unknown model', service: 'model', method: 'GetModelStatus', request: { model_spec: { name: 'nope' } }, code: S.NOT_FOUND, says: ['nope'] },
  { name: 'GetModelStatus of an unknown version', service: 'model', method: 'GetModelStatus', request: { model_spec: { name: 'adder', version: { value: '7' } } }, code: S.NOT_FOUND, says: ['7'] },
  { name: 'MultiInference without tasks', method: 'MultiInference', request: { tasks: [], input: { example_list: { examples: [{ features: { feature: {} } }] } } }, code: S.INVALID_ARGUMENT, says: ['at least one task'] },
  { name: 'MultiInference over two models', method: 'MultiInference', request: { tasks: [{ model_spec: { name: 'census', signature_name: 'classify' }, method_name: 'tensorflow/serving/classify' }, { model_spec: { name: 'census_tf2', signature_name: 'regress' }, method_name: 'tensorflow/serving/regress' }], input: { example_list: { examples: [{ features: { feature: {} } }] } } }, code: S.INVALID_ARGUMENT, says: ['same model', 'census_tf2'] },
  { name: 'MultiInference naming a signature twice', method: 'MultiInference', request: { tasks: [{ model_spec: { name: 'census', signature_name: 'regress' }, method_name: 'tensorflow/serving/regress' }, { model_spec: { name: 'census', signature_name: 'regress' }, method_name: 'tensorflow/serving/regress' }], input: { example_list: { examples: [{ features: { feature: {} } }] } } }, code: S.INVALID_ARGUMENT, says: ['duplicate', 'regress'] },
  { name: 'MultiInference with a predict task', method: 'MultiInference', request: { tasks: [{ model_spec: { name: 'census', signature_name: 'serving_default' }, method_name: 'tensorflow/serving/predict' }], input: { example_list: { examples: [{ features: { feature: {} } }] } } }, code: S.UNIMPLEMENTED, says: ['tensorflow/serving/predict'] },
  { name: 'MultiInference on an unknown signature', method: 'MultiInference', request: { tasks: [{ model_spec: { name: 'census', signature_name: 'nope' }, method_name: 'tensorflow/serving/classify' }], input: { example_list: { examples: [{ features: { feature: {} } }] } } }, code: S.NOT_FOUND, says: ['nope'] },
  { name: 'MultiInference on an unknown model', method: 'MultiInference', request: { tasks: [{ model_spec: { name: 'nope', signature_name: 'classify' }, method_name: 'tensorflow/serving/classify' }], input: { example_list: { examples: [{ features: { feature: {} } }] } } }, code: S.NOT_FOUND, says: ['nope'] },
  { name: 'MultiInference without a model name', method: 'MultiInference', request: { tasks: [{ method_name: 'tensorflow/serving/classify' }], input: { example_list: { examples: [{ features: { feature: {} } }] } } }, code: S.INVALID_ARGUMENT, says: ['model_spec.name'] },
];

describe('gRPC', () => {
  test.each(GRPC_ROWS)('$name', async ({ method, service, request, code, says }) => {
    const result = await statusOf((service === 'model' ? clients.model : clients.prediction).call(method ?? 'Predict', request));
    expect({ code: S[result.code], details: result.details }).toMatchObject({ code: S[code] });
    expect(result.details.length).toBeGreaterThan(0);
    for (const word of says) expect(result.details).toContain(word);
  });
});

// Bytes that are no valid message of the method's type: INTERNAL, as every gRPC implementation
// answers a request it cannot parse, with the reason (grpc-js alone would drop it).
const UNREADABLE_ROWS: { name: string; path: string; bytes: number[]; says: string[] }[] = [
  // model_spec (field 1, length 10) holding name (field 1, length 8) with 0xff bytes: not UTF-8.
  { name: 'a model name that is not UTF-8', path: '/tensorflow.serving.PredictionService/Predict', bytes: [0x0a, 10, 0x0a, 8, ...Buffer.from('adder'), 0xff, 0xfe, 0xfd], says: ['Predict request', 'UTF-8'] },
  { name: 'a truncated Predict request', path: '/tensorflow.serving.PredictionService/Predict', bytes: [0x0a, 10, 0x0a, 8, ...Buffer.from('add')], says: ['Predict request', 'truncated'] },
  { name: 'field number 0', path: '/tensorflow.serving.PredictionService/Predict', bytes: [0x00, 1], says: ['Predict request'] },
  // Field 5, wire type 6: no such wire type.
  { name: 'an invalid wire type in GetModelStatus', path: '/tensorflow.serving.ModelService/GetModelStatus', bytes: [0x2e], says: ['GetModelStatus request', 'wire type 6'] },
  // raw_input_contents (field 7) claims 20 bytes and has 3.
  { name: 'a truncated ModelInfer request', path: '/inference.GRPCInferenceService/ModelInfer', bytes: [0x3a, 20, ...Buffer.from('abc')], says: ['ModelInfer request', 'out of range'] },
  // model_name (field 1, a string) claims 20 bytes and has 5: protobufjs 7 read it as the 5.
  { name: 'a ModelInfer model name running past the message', path: '/inference.GRPCInferenceService/ModelInfer', bytes: [0x0a, 20, ...Buffer.from('adder')], says: ['ModelInfer request', 'out of range'] },
  // inputs (field 5, length 4) holding name (field 1) that claims 6 bytes: it would run into the
  // next field of the outer message (id, field 3).
  { name: 'an input name running past its tensor', path: '/inference.GRPCInferenceService/ModelInfer', bytes: [0x2a, 4, 0x0a, 6, 0x61, 0x62, 0x1a, 3, 0x78, 0x79, 0x7a], says: ['ModelInfer request', 'out of range'] },
  // model_spec (field 1, length 7) holding name (field 1) that claims 20 bytes.
  { name: 'a GetModelStatus model name running past the message', path: '/tensorflow.serving.ModelService/GetModelStatus', bytes: [0x0a, 7, 0x0a, 20, ...Buffer.from('adder')], says: ['GetModelStatus request', 'out of range'] },
];

describe('gRPC: unreadable request bytes', () => {
  test.each(UNREADABLE_ROWS)('$name', async ({ path, bytes, says }) => {
    const answer = await rawUnaryCall(raw, path, Uint8Array.from(bytes));
    expect(answer.code, answer.details).toBe(S.INTERNAL);
    expect(answer.details).toMatch(/^Error deserializing request: /);
    for (const word of says) expect(answer.details).toContain(word);
  });
});

interface RestRow {
  readonly name: string;
  readonly path: string;
  readonly method?: string;
  readonly body?: string;
  readonly status: number | '4xx';
  readonly says: readonly string[];
}

const REST_ROWS: RestRow[] = [
  { name: 'unknown model', path: '/v1/models/nope:predict', body: '{"instances":[1]}', status: 404, says: ['nope'] },
  { name: 'unknown version', path: '/v1/models/versioned/versions/9:predict', body: '{"instances":[1]}', status: 404, says: ['9'] },
  { name: 'unknown label', path: '/v1/models/versioned/labels/gold:predict', body: '{"instances":[1]}', status: 400, says: ['gold'] },
  { name: 'unknown signature', path: '/v1/models/versioned:predict', body: '{"signature_name":"nope_sig","instances":[1]}', status: 404, says: ['nope_sig'] },
  { name: 'malformed JSON', path: '/v1/models/versioned:predict', body: '{"instances": [1,', status: 400, says: [] },
  { name: 'neither instances nor inputs', path: '/v1/models/versioned:predict', body: '{"values":[1]}', status: 400, says: [] },
  { name: 'both instances and inputs', path: '/v1/models/versioned:predict', body: '{"instances":[1],"inputs":[1]}', status: 400, says: [] },
  { name: 'missing input', path: '/v1/models/adder:predict', body: '{"signature_name":"add","inputs":{"a":1}}', status: 400, says: ['b'] },
  { name: 'extra input', path: '/v1/models/adder:predict', body: '{"signature_name":"add","inputs":{"a":1,"b":2,"c":3}}', status: 400, says: ['c'] },
  { name: 'int64 beyond range', path: '/v1/models/adder:predict', body: '{"signature_name":"add","inputs":{"a":9223372036854775808,"b":1}}', status: 400, says: ['9223372036854775808'] },
  { name: 'fraction for an int64', path: '/v1/models/adder:predict', body: '{"signature_name":"add","inputs":{"a":1.5,"b":1}}', status: 400, says: ['1.5'] },
  { name: 'string for a float', path: '/v1/models/versioned:predict', body: '{"instances":["one"]}', status: 400, says: ['one'] },
  { name: 'a float beyond its range', path: '/v1/models/versioned:predict', body: '{"instances":[1, 1e39]}', status: 400, says: ['1e+39', 'range of a float'] },
  { name: 'a float beyond its range, columnar', path: '/v1/models/versioned:predict', body: '{"inputs":{"x":[[-3.5e38]]}}', status: 400, says: ['-3.5e+38', 'range of a float'] },
  {
    name: 'a float beyond its range, Open Inference Protocol',
    path: '/v2/models/versioned/infer',
    body: '{"inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[1,1e39]}]}',
    status: 400,
    says: ['1e+39', 'range of a float'],
  },
  { name: 'ragged instances', path: '/v1/models/tiny:predict', body: '{"instances":[[1,2,3,4],[1,2,3]]}', status: 400, says: [] },
  { name: 'wrong inner dimension', path: '/v1/models/tiny:predict', body: '{"instances":[[1,2,3]]}', status: 400, says: ['x'] },
  { name: 'invalid base64', path: '/v1/models/jpeg_labeler:predict', body: '{"instances":[{"b64":"@@@"}]}', status: 400, says: ['b64'] },
  { name: 'too many elements', path: '/v1/models/versioned:predict', body: JSON.stringify({ instances: new Array(MAX_ELEMENTS + 1).fill(1) }), status: 400, says: [String(MAX_ELEMENTS)] },
  { name: 'oversize body', path: '/v1/models/versioned:predict', body: JSON.stringify({ instances: new Array(MAX_BYTES).fill(1) }), status: 413, says: ['max_request_bytes'] },
  { name: 'unknown endpoint', path: '/v2/whatever', status: 404, says: [] },
  { name: 'GET on :predict', path: '/v1/models/versioned:predict', method: 'GET', status: '4xx', says: [] },
  { name: 'bad version in the path', path: '/v1/models/versioned/versions/-1:predict', body: '{"instances":[1]}', status: '4xx', says: [] },
  { name: 'classify on a predict signature', path: '/v1/models/versioned:classify', body: '{"examples":[{"x":1.0}]}', status: 400, says: ['classify'] },
  { name: 'status of an unknown model', path: '/v1/models/nope', status: 404, says: ['nope'] },
  { name: 'metadata of an unknown version', path: '/v1/models/adder/versions/5/metadata', status: 404, says: ['5'] },
];

describe('REST', () => {
  test.each(REST_ROWS)('$name', async ({ path, method, body, status, says }) => {
    const reply = await rest(server.restUrl, path, { ...(method ? { method } : {}), ...(body !== undefined ? { body } : {}) });
    if (status === '4xx') expect(reply.status, reply.text).toBeGreaterThanOrEqual(400);
    if (status === '4xx') expect(reply.status, reply.text).toBeLessThan(500);
    else expect(reply.status, reply.text).toBe(status);
    const error = (reply.json as { error?: unknown } | undefined)?.error;
    expect(typeof error, reply.text).toBe('string');
    for (const word of says) expect(error).toContain(word);
  });
});

test('after every bad request the server is alive, healthy and serving', async () => {
  expect(server.logs.filter((l) => l.msg === 'server stopping')).toEqual([]);
  expect((await rest(server.restUrl, '/healthz')).status).toBe(200);
  expect((await rest(server.restUrl, '/readyz')).status).toBe(200);
  expect(await predictVersioned(clients, 'versioned', 2, { version: 3 })).toEqual({ reported: 3, computed: 3 });
  const reply = await rest(server.restUrl, '/v1/models/adder:predict', { body: '{"signature_name":"add","inputs":{"a":40,"b":2}}' });
  expect(reply.json).toEqual({ outputs: 42 });
  // None of them was an unexpected (INTERNAL) failure.
  expect(server.logs.filter((l) => typeof l.msg === 'string' && l.msg.includes('unexpectedly'))).toEqual([]);
});
