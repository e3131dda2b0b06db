/**
 * The official TensorFlow Serving Python client (tensorflow-serving-api, unmodified) against our
 * server serving every fixture: test/compat/tfs_client_check.py must pass every check.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { REPO_ROOT } from '../../helpers/server/build-check.js';
import { FIXTURES_DIR } from '../../helpers/server/fixture-tensors.js';
import { tfsClients, type TfsClients } from '../../helpers/server/grpc-client.js';
import { waitForAvailable } from '../../helpers/server/model-status.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';

const run = promisify(execFile);

let server: ServerProcess;
let clients: TfsClients;
let python: string;

beforeAll(async () => {
  // Creates the venv on first use (minutes); then prints its python path as the last line.
  const env = await run('bash', [join(REPO_ROOT, 'scripts', 'python', 'ensure-python-env.sh')], { maxBuffer: 64 * 1024 * 1024, timeout: 900_000 });
  python = env.stdout.trim().split('\n').at(-1)!;
  server = await startServer({ configFile: join(FIXTURES_DIR, 'model-config.yaml') });
  clients = tfsClients(server.grpcTarget);
  await waitForAvailable(clients.model, 'versioned', [1, 2, 3]);
}, 900_000);

afterAll(async () => {
  clients?.close();
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
});

test('tfs_client_check.py passes every check against the server', async () => {
  const result = await run(python, [join(REPO_ROOT, 'test', 'compat', 'tfs_client_check.py'), server.grpcTarget, FIXTURES_DIR], {
    maxBuffer: 16 * 1024 * 1024,
    timeout: 120_000,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
  }).catch((error: { code?: number; stdout?: string; stderr?: string }) => ({ ...error, failedWith: error.code }));
  const stdout = result.stdout ?? '';
  const summary = /^(\d+) passed, (\d+) failed$/m.exec(stdout);
  const failures = stdout.split('\n').filter((line) => line.startsWith('FAIL'));
  expect({ failedWith: 'failedWith' in result ? result.failedWith : 0, failures }, `${stdout.slice(-4000)}\n${result.stderr?.slice(-2000) ?? ''}`).toEqual({ failedWith: 0, failures: [] });
  expect(summary, stdout.slice(-2000)).not.toBeNull();
  expect(Number(summary![1])).toBeGreaterThanOrEqual(61);
  expect(Number(summary![2])).toBe(0);
}, 180_000);
