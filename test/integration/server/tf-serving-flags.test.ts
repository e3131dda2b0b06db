/**
 * A tensorflow_model_server command line with the flags TF Serving added lately, on the real
 * server: gRPC on a UNIX socket (where a stale socket file was left), Predict outputs in
 * tensor_content, CORS on the REST API, TensorFlow's threads from a session ConfigProto, and the
 * flags that mean nothing here accepted and reported. The official Python client passes every
 * check over the socket, reading every dtype from tensor_content.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../../helpers/server/build-check.js';
import { FIXTURES_DIR } from '../../helpers/server/fixture-tensors.js';
import { fixturePredictJobs, runConcurrently } from '../../helpers/server/fixture-predict-jobs.js';
import { tfsClients, type TfsClients } from '../../helpers/server/grpc-client.js';
import { tempDir, type TempDir } from '../../helpers/server/model-dirs.js';
import { expectOfficialClientChecksPass, officialClientPython } from '../../helpers/server/official-client.js';
import { rest } from '../../helpers/server/rest-client.js';
import { type ServerProcess } from '../../helpers/server/server-process.js';
import { startFixtureServer } from '../../helpers/server/fixture-server.js';

const IGNORED = ['enable_grpc_healthcheck_service', 'xla_cpu_compilation_enabled', 'num_tflite_pools', 'skip_initialize_tpu', 'use_alts_credentials'];

let dir: TempDir;
beforeAll(() => {
  dir = tempDir('tensorfleet-tfs-flags-');
});
afterAll(() => dir?.remove());

function serveOnce(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'tensorfleet.js'), 'serve', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('a TF Serving command line with the newer flags', () => {
  let server: ServerProcess;
  let python: string;
  let socket: string;
  let clients: TfsClients;
  const sessionConfig = (): string => {
    const file = join(dir.path, 'session.config');
    writeFileSync(file, 'intra_op_parallelism_threads: 2\ninter_op_parallelism_threads: 1\ngpu_options { allow_growth: true }\nallow_soft_placement: true\n');
    return file;
  };

  beforeAll(async () => {
    python = await officialClientPython();
    socket = join(dir.path, 'tfs.sock');
    // A socket file left behind by a server that was killed (Python exits without unlinking it).
    const stale = spawnSync(python, ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(socket)})`]);
    expect(stale.status).toBe(0);
    expect(existsSync(socket)).toBe(true);
    ({ server, clients } = await startFixtureServer({
      args: [
        `--grpc_socket_path=${socket}`,
        '--enable_serialization_as_tensor_content=true',
        '--rest_api_enable_cors_support',
        `--tensorflow_session_config_file=${sessionConfig()}`,
        '--enable_grpc_healthcheck_service=true',
        '--xla_cpu_compilation_enabled=true',
        '--num_tflite_pools',
        '2',
        '--skip_initialize_tpu',
        '--use_alts_credentials=false',
      ],
      target: () => `unix:${socket}`,
    }));
  }, 900_000);

  afterAll(async () => {
    clients?.close();
    if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
  });

  test('serves gRPC on the UNIX socket too, with every numeric output in tensor_content and strings in string_val', async () => {
    expect(server.logs.find((l) => l.msg === 'server started')).toMatchObject({ grpcSocket: socket });
    expect(await runConcurrently(fixturePredictJobs(clients), 1)).toEqual([]);
    type Reply = { outputs: Record<string, { tensor_content?: Buffer; float_val?: number[]; string_val?: Buffer[] }> };
    const tiny = await clients.prediction.call<Reply>('Predict', {
      model_spec: { name: 'tiny' },
      inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 1 }, { size: 4 }] }, float_val: [1, 2, 3, 4] } },
    });
    const [output] = Object.values(tiny.response.outputs);
    expect(output?.tensor_content?.length).toBeGreaterThan(0);
    expect(output?.float_val ?? []).toEqual([]);
    // The TCP port serves the same.
    const tcp = tfsClients(server.grpcTarget);
    const overTcp = await tcp.prediction.call<Reply>('Predict', { model_spec: { name: 'tiny' }, inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 1 }, { size: 4 }] }, float_val: [1, 2, 3, 4] } } });
    tcp.close();
    expect(Object.values(overTcp.response.outputs)[0]?.tensor_content).toEqual(output?.tensor_content);
  });

  test('the official Python client passes every check over the socket, reading tensor_content with tf.make_ndarray', async () => {
    await expectOfficialClientChecksPass(python, `unix:${socket}`);
  }, 180_000);

  test('answers CORS preflights, and lets any origin read answers and the serving version', async () => {
    const preflight = await rest(server.restUrl, '/v1/models/tiny:predict', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-user' },
    });
    expect(preflight.status).toBe(204);
    expect(Object.fromEntries([...preflight.headers].filter(([k]) => k.startsWith('access-control-')))).toEqual({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'content-type, x-user',
      'access-control-expose-headers': 'x-tensorfleet-model-version, inference-header-content-length',
      'access-control-max-age': '600',
    });
    const predict = await rest(server.restUrl, '/v1/models/tiny:predict', { body: { instances: [[1, 2, 3, 4]] }, headers: { origin: 'https://app.example' } });
    expect(predict.status).toBe(200);
    expect(predict.headers.get('access-control-allow-origin')).toBe('*');
    const notFound = await rest(server.restUrl, '/v1/models/nope', { headers: { origin: 'https://app.example' } });
    expect({ status: notFound.status, origin: notFound.headers.get('access-control-allow-origin') }).toEqual({ status: 404, origin: '*' });
    // The Open Inference Protocol's answers too, binary ones with the header a page needs to split them.
    const binary = await fetch(`${server.restUrl}/v2/models/tiny/infer`, {
      method: 'POST',
      headers: { origin: 'https://app.example' },
      body: JSON.stringify({ parameters: { binary_data_output: true }, inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] }),
    });
    await binary.arrayBuffer();
    expect({ status: binary.status, origin: binary.headers.get('access-control-allow-origin'), length: Number(binary.headers.get('inference-header-content-length')) > 0 }).toEqual({ status: 200, origin: '*', length: true });
  });

  test('sizes TensorFlow from the session config, and reports what it ignored', () => {
    expect(server.logs.find((l) => l.msg === 'tensorflow thread pools')).toMatchObject({ intraOp: '2', interOp: '1' });
    const ignored = server.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('ignored TF Serving flag')).map((l) => l.flag);
    expect(ignored).toEqual([...IGNORED, 'tensorflow_session_config_file: gpu_options', 'tensorflow_session_config_file: allow_soft_placement']);
  });
});

test('--version prints the server\'s and TensorFlow\'s versions', () => {
  const run = serveOnce(['--version']);
  expect(run.status).toBe(0);
  expect(run.stdout).toMatch(/^TensorFleet ModelServer: \d+\.\d+\.\d+\nTensorFlow Library: 2\.\d+\.\d+\n$/);
});

test('a session config, socket path or port the server cannot use stops it with a message naming the problem, not a crash', async () => {
  // Taken ports fail at bind time, after the inference threads loaded TensorFlow: exiting then used to crash (SIGSEGV).
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const busyPort = (busy.address() as AddressInfo).port;
  const tiny = `--model_base_path=${join(FIXTURES_DIR, 'models', 'tiny')}`;
  const config = (name: string, text: string): string => {
    const file = join(dir.path, name);
    writeFileSync(file, text);
    return file;
  };
  const cases: [string[], RegExp][] = [
    [[`--tensorflow_session_config_file=${config('graph.config', 'graph_options { optimizer_options { opt_level: L0 } }\n')}`], /session config: field "graph_options" is not supported; TensorFleet takes intra_op_parallelism_threads and inter_op_parallelism_threads/],
    [[`--tensorflow_session_config_file=${config('negative.config', 'intra_op_parallelism_threads: -2\n')}`], /intra_op_parallelism_threads must be an integer of at least 0, got -2/],
    [[`--tensorflow_session_config_file=${join(dir.path, 'missing.config')}`], /cannot read --tensorflow_session_config_file/],
    [[`--grpc_socket_path=${config('not-a-socket', 'data')}`], /--grpc_socket_path .*not-a-socket exists and is not a socket/],
    [['--grpc_bind_address=127.0.0.1', `--port=${busyPort}`], /EADDRINUSE/],
  ];
  for (const [args, message] of cases) {
    const run = serveOnce([tiny, '--port=0', '--rest_api_port=0', ...args]);
    expect(run.stderr, args.join(' ')).not.toContain('Segmentation fault');
    expect({ status: run.status, stderr: run.stderr }, args.join(' ')).toEqual({ status: 1, stderr: expect.stringMatching(message) as unknown });
  }
  busy.close();
  const refused = serveOnce([tiny, '--mixed_precision=bfloat16']);
  expect({ status: refused.status, stderr: refused.stderr }).toEqual({ status: 2, stderr: expect.stringMatching(/--mixed_precision is not supported: mixed precision is not supported/) as unknown });
});
