/**
 * Classify and Regress on signatures whose outputs are not what those APIs read
 * (test/fixtures/models/odd_signatures, exported by scripts/fixtures/export_odd_signatures.py):
 * the server refuses them with a message naming the output, as TF Serving does, instead of
 * answering with empty labels, zero scores or doubles read as floats. The well-formed ones
 * (scores only, classes only) still answer, over gRPC, REST and MultiInference. A signature with
 * a dtype the server cannot serve (COMPLEX64) is named as such, not as missing.
 */
import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { FIXTURES_DIR } from '../../helpers/server/fixture-tensors.js';
import { statusOf, tfsClients, type TfsClients } from '../../helpers/server/grpc-client.js';
import { rest } from '../../helpers/server/rest-client.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';

let server: ServerProcess;
let clients: TfsClients;

beforeAll(async () => {
  server = await startServer({
    config: `model_config_list:\n  - {name: odd, base_path: ${JSON.stringify(join(FIXTURES_DIR, 'models', 'odd_signatures'))}}\n`,
  });
  clients = tfsClients(server.grpcTarget);
});

afterAll(async () => {
  clients?.close();
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
});

/** Two examples, x = 1.5 and x = 2.5 (not whole: JSON would send those as int64): the fixture's k = 1 + x is 2.5 and 3.5. */
const X = [1.5, 2.5];
const examples = X.map((x) => ({ features: { feature: { x: { float_list: { value: [x] } } } } }));
const grpcRequest = (signature: string): object => ({ model_spec: { name: 'odd', signature_name: signature }, input: { example_list: { examples } } });
const restBody = (signature: string): string => JSON.stringify({ signature_name: signature, examples: X.map((x) => ({ x })) });

interface ClassifyReply {
  result: { classifications: { classes: { label: string; score: number }[] }[] };
}

test('a signature with only scores classifies without labels, one with only classes without scores', async () => {
  const scores = await clients.prediction.call<ClassifyReply>('Classify', grpcRequest('scores_only'));
  expect(scores.response.result.classifications.map((c) => c.classes.map((k) => [k.label, k.score]))).toEqual([
    [['', 2.5], ['', 5]],
    [['', 3.5], ['', 7]],
  ]);
  const classes = await clients.prediction.call<ClassifyReply>('Classify', grpcRequest('classes_only'));
  expect(classes.response.result.classifications.map((c) => c.classes.map((k) => [k.label, k.score]))).toEqual([
    [['a', 0], ['b', 0]],
    [['a', 0], ['b', 0]],
  ]);
  const reply = await rest(server.restUrl, '/v1/models/odd:classify', { body: restBody('scores_only') });
  expect(reply.json).toEqual({ results: [[['', 2.5], ['', 5]], [['', 3.5], ['', 7]]] });
});

test.each([
  ['Classify', 'int_classes', 'INVALID_ARGUMENT', 'signature "int_classes": "classes" must be DT_STRING, and is DT_INT64'],
  ['Classify', 'double_scores', 'INVALID_ARGUMENT', 'signature "double_scores": "scores" must be DT_FLOAT, and is DT_DOUBLE'],
  ['Classify', 'flat_scores', 'INVALID_ARGUMENT', 'signature "flat_scores": "scores" must have shape [batch, classes], and has [2]'],
  ['Classify', 'one_row_scores', 'INVALID_ARGUMENT', 'signature "one_row_scores": "scores" returned 1 row for 2 examples'],
  ['Classify', 'mismatched_classes', 'INVALID_ARGUMENT', 'signature "mismatched_classes": "classes" and "scores" must have as many classes per example; they have 2 and 3'],
  ['Classify', 'probabilities', 'FAILED_PRECONDITION', 'signature "probabilities" cannot serve classify: it must have a "classes" or "scores" output, and has "probabilities"'],
  ['Regress', 'wide_outputs', 'INVALID_ARGUMENT', 'signature "wide_outputs": "outputs" must have shape [batch] or [batch, 1], and has [2,2]'],
  ['Regress', 'double_outputs', 'INVALID_ARGUMENT', 'signature "double_outputs": "outputs" must be DT_FLOAT, and is DT_DOUBLE'],
  ['Regress', 'one_row_outputs', 'INVALID_ARGUMENT', 'signature "one_row_outputs": "outputs" returned 1 row for 2 examples'],
  ['Regress', 'scores_only', 'FAILED_PRECONDITION', 'signature "scores_only" cannot serve regress: it must have an "outputs" output, and has "scores"'],
] as const)('%s on %s is %s, naming the output', async (method, signature, code, message) => {
  const status = await statusOf(clients.prediction.call(method, grpcRequest(signature)));
  expect(status.code).toBe(grpc.status[code]);
  expect(status.details).toBe(message);
  const reply = await rest(server.restUrl, `/v1/models/odd:${method.toLowerCase()}`, { body: restBody(signature) });
  expect(reply.status).toBe(400);
  expect(reply.json).toEqual({ error: message });
});

test('MultiInference refuses a task whose outputs are wrong, and answers when all are right', async () => {
  const task = (signature: string): object => ({ model_spec: { name: 'odd', signature_name: signature }, method_name: 'tensorflow/serving/classify' });
  const status = await statusOf(clients.prediction.call('MultiInference', { tasks: [task('scores_only'), task('double_scores')], input: { example_list: { examples } } }));
  expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
  expect(status.details).toBe('signature "double_scores": "scores" must be DT_FLOAT, and is DT_DOUBLE');
  const { response } = await clients.prediction.call<{ results: { classification_result: ClassifyReply['result'] }[] }>('MultiInference', {
    tasks: [task('scores_only'), task('classes_only')],
    input: { example_list: { examples } },
  });
  expect(response.results.map((r) => r.classification_result.classifications.length)).toEqual([2, 2]);
});

test('a signature with a dtype the server does not serve is UNIMPLEMENTED, saying which, on every API; the load log names it', async () => {
  const message = 'signature "complex_outputs" cannot be served: output outputs has unsupported dtype DT_COMPLEX64';
  for (const method of ['Regress', 'Classify']) {
    const status = await statusOf(clients.prediction.call(method, grpcRequest('complex_outputs')));
    expect(status.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(status.details).toBe(message);
  }
  const predict = await statusOf(clients.prediction.call('Predict', { model_spec: { name: 'odd', signature_name: 'complex_outputs' }, inputs: {} }));
  expect([predict.code, predict.details]).toEqual([grpc.status.UNIMPLEMENTED, message]);
  const reply = await rest(server.restUrl, '/v1/models/odd:predict', { body: { signature_name: 'complex_outputs', instances: [''] } });
  expect([reply.status, reply.json]).toEqual([501, { error: message }]);
  const unknown = await rest(server.restUrl, '/v1/models/odd:predict', { body: { signature_name: 'nope', instances: [''] } });
  expect(unknown.status).toBe(404);
  const warning = server.logs.find((line) => line.msg === 'signature not served');
  expect(warning).toMatchObject({ level: 40, model: 'odd', version: 1, signature: 'complex_outputs', reason: 'output outputs has unsupported dtype DT_COMPLEX64' });
});

test('the server keeps serving after every refusal', async () => {
  const reply = await rest(server.restUrl, '/v1/models/odd');
  expect(reply.json).toMatchObject({ model_version_status: [{ version: '1', state: 'AVAILABLE' }] });
});
