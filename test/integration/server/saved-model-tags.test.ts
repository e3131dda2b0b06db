/**
 * --saved_model_tags on the real server, with `tagged`: one SavedModel whose meta graphs {serve}
 * (y = x + 1) and {serve, gpu} (y = x + 2) were written by Python TensorFlow, and `tagged_gpu`,
 * which has only the {serve, gpu} one. The tag set picks
 * the graph that runs; a model without it fails to load with a status listing the sets it has.
 * Also: a TF Serving flag without effect here starts the server and is reported.
 */
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { eventually } from '../../helpers/k8s/eventually.js';
import { FIXTURES_DIR } from '../../helpers/server/fixture-tensors.js';
import { tfsClients, type TfsClients } from '../../helpers/server/grpc-client.js';
import { modelStatus } from '../../helpers/server/model-status.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';

const started: { server: ServerProcess; clients: TfsClients }[] = [];
afterAll(async () => {
  for (const { server, clients } of started) {
    clients.close();
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  }
});

const model = (name: string): string => `  - {name: ${name}, base_path: ${JSON.stringify(join(FIXTURES_DIR, 'models', name))}}`;

async function serve(models: string[], args: string[], waitReady = true): Promise<{ server: ServerProcess; clients: TfsClients }> {
  const server = await startServer({ config: `model_config_list:\n${models.map(model).join('\n')}\n`, args, waitReady });
  const entry = { server, clients: tfsClients(server.grpcTarget, { ownConnection: true }) };
  started.push(entry);
  return entry;
}

async function predictTagged(clients: TfsClients, name = 'tagged'): Promise<number[]> {
  const { response } = await clients.prediction.call<{ outputs: { y: { float_val: number[] } } }>('Predict', {
    model_spec: { name },
    inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 2 }] }, float_val: [1, 3] } },
  });
  return response.outputs.y.float_val;
}

test('the default tag set {serve} loads the serve meta graph; a TF Serving flag without effect is reported', async () => {
  const { server, clients } = await serve(['tagged'], ['--grpc_max_threads=16']);
  expect(await predictTagged(clients)).toEqual([2, 4]);
  const warning = await server.waitForLog((l) => l.msg === 'ignored TF Serving flag --grpc_max_threads');
  expect(warning).toMatchObject({ flag: 'grpc_max_threads', reason: expect.stringContaining('event loop') as unknown });
});

test('--saved_model_tags=gpu,serve loads the {serve, gpu} meta graph, in any order; a model without that set fails to load', async () => {
  const { clients } = await serve(['tagged', 'tagged_gpu', 'tiny'], ['--saved_model_tags=gpu, serve', '--max_num_load_retries=0'], false);
  const tiny = await eventually(async () => {
    const [v1] = await modelStatus(clients.model, 'tiny');
    expect(v1?.state).toBe('END');
    return v1!;
  }, 60_000, 100);
  expect(tiny.status.error_code).toBe('FAILED_PRECONDITION');
  expect(tiny.status.error_message).toMatch(/saved_model\.pb has no meta graph tagged \{gpu,serve\} \(tag sets found: \{serve\}\)/);
  const tagged = await eventually(async () => predictTagged(clients), 60_000, 100);
  expect(tagged).toEqual([3, 5]);
  // Only {serve, gpu} there: TensorFlow itself was asked for that set, not only our signature reader.
  const gpuOnly = await eventually(async () => {
    const [v1] = await modelStatus(clients.model, 'tagged_gpu');
    expect(['AVAILABLE', 'END']).toContain(v1?.state);
    return v1!;
  }, 60_000, 100);
  expect(gpuOnly.status.error_message).toBe('');
  expect(await predictTagged(clients, 'tagged_gpu')).toEqual([3, 5]);
});
