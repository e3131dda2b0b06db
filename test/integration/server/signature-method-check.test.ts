/**
 * --enable_signature_method_name_check=true, as in TF Serving: Classify and Regress then take only
 * signatures recorded with their method names (census, a TF1 SavedModel), and refuse those that
 * tf.saved_model.save records as predict (census_tf2). Without the flag (the default) both work:
 * predict-fixtures.test.ts and the official client's check run them.
 */
import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { FIXTURES_DIR, loadExpected } from '../../helpers/server/fixture-tensors.js';
import { statusOf, tfsClients, type TfsClients } from '../../helpers/server/grpc-client.js';
import { rest } from '../../helpers/server/rest-client.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';

let server: ServerProcess;
let clients: TfsClients;

beforeAll(async () => {
  server = await startServer({
    config: `model_config_list:\n${['census', 'census_tf2'].map((m) => `  - {name: ${m}, base_path: ${JSON.stringify(join(FIXTURES_DIR, 'models', m))}}`).join('\n')}\n`,
    args: ['--enable_signature_method_name_check=true'],
  });
  clients = tfsClients(server.grpcTarget);
});

afterAll(async () => {
  clients?.close();
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
});

const examples = [{ features: { feature: { age: { float_list: { value: [39] } }, hours: { float_list: { value: [40] } } } } }];
const examplesRequest = (model: string, signature: string): object => ({ model_spec: { name: model, signature_name: signature }, input: { example_list: { examples } } });

test('signatures with the classify/regress method names still serve Classify and Regress', async () => {
  const classify = await clients.prediction.call<{ result: { classifications: unknown[] } }>('Classify', examplesRequest('census', 'classify'));
  expect(classify.response.result.classifications).toHaveLength(1);
  const regress = await clients.prediction.call<{ result: { regressions: unknown[] } }>('Regress', examplesRequest('census', 'regress'));
  expect(regress.response.result.regressions).toHaveLength(1);
});

test.each([
  ['Classify', 'classify', 'tensorflow/serving/classify'],
  ['Regress', 'regress', 'tensorflow/serving/regress'],
])('%s on a signature recorded as predict is INVALID_ARGUMENT, naming both method names', async (method, signature, wanted) => {
  const status = await statusOf(clients.prediction.call(method, examplesRequest('census_tf2', signature)));
  expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
  expect(status.details).toBe(`signature "${signature}" is a tensorflow/serving/predict signature, not ${wanted} (--enable_signature_method_name_check is on)`);
  const reply = await rest(server.restUrl, `/v1/models/census_tf2:${signature}`, { body: JSON.stringify({ signature_name: signature, examples: [{ age: 39.0, hours: 40.0 }] }) });
  expect(reply.status).toBe(400);
  expect(reply.json).toEqual({ error: status.details });
});

test('Predict still takes the predict signatures of a TF2 model', async () => {
  const [c] = loadExpected('census_tf2').signatures.classify!.cases;
  const examplesTensor = { dtype: 'DT_STRING', tensor_shape: { dim: [{ size: c!.inputs.inputs!.shape[0] }] }, string_val: c!.inputs.inputs!.values.map((v) => Buffer.from(String(v), 'base64')) };
  const { response } = await clients.prediction.call<{ outputs: Record<string, unknown> }>('Predict', {
    model_spec: { name: 'census_tf2', signature_name: 'classify' },
    inputs: { inputs: examplesTensor },
  });
  expect(Object.keys(response.outputs).sort()).toEqual(['classes', 'scores']);
});
