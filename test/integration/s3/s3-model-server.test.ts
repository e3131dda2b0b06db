/**
 * The built model server (`node bin/tensorfleet.js serve`) with an s3:// base path on a real
 * S3-compatible server: it serves the synced version, and a new version uploaded while gRPC and
 * REST predicts run is taken over with zero failed requests; deleting it rolls back; the S3
 * metrics and store follow; moving the base path to another prefix with the same version number
 * swaps the new copy in. Credentials come from files, the endpoint from TF Serving's
 * S3_ENDPOINT/S3_USE_HTTPS variables.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { eventually } from '../../helpers/k8s/eventually.js';
import { assertBuildFresh } from '../../helpers/server/build-check.js';
import { tfsClients, type TfsClients } from '../../helpers/server/grpc-client.js';
import { startLoad } from '../../helpers/server/load-generator.js';
import { rest } from '../../helpers/server/rest-client.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';
import { predictVersioned, restPredictVersioned } from '../../helpers/server/versioned-calls.js';
import { ACCESS_KEY, SECRET_KEY, S3TestServer, createBucket, deletePrefix, uploadDirectory } from '../../helpers/s3/s3-server.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/models/versioned');
let s3: S3TestServer;
let admin: S3Client;
let server: ServerProcess;
let clients: TfsClients;
let work: string;

beforeAll(async () => {
  assertBuildFresh();
  s3 = await S3TestServer.start();
  admin = s3.client();
  await createBucket(admin, 'models');
  for (const v of [1, 2]) await uploadDirectory(admin, 'models', join(FIXTURES, String(v)), `versioned/${v}/`);
  work = mkdtempSync(join(tmpdir(), 'tensorfleet-s3-server-'));
  const creds = join(work, 'creds');
  rmSync(creds, { force: true, recursive: true });
  await import('node:fs/promises').then((fs) => fs.mkdir(creds));
  writeFileSync(join(creds, 'accessKeyId'), ACCESS_KEY);
  writeFileSync(join(creds, 'secretAccessKey'), SECRET_KEY);
  // The server process inherits the environment: TF Serving's variables name the endpoint.
  process.env.S3_ENDPOINT = `127.0.0.1:${s3.port}`;
  process.env.S3_USE_HTTPS = '0';
  process.env.TENSORFLEET_S3_CREDENTIALS_DIR = creds;
  server = await startServer({
    config: 'model_config_list:\n  - name: versioned\n    base_path: s3://models/versioned\n',
    args: [`--model_store=${join(work, 'store')}`, '--file_system_poll_wait_seconds=1', '--model_config_file_poll_wait_seconds=1'],
  });
  clients = tfsClients(server.grpcTarget);
}, 120_000);

afterAll(async () => {
  clients?.close();
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
  admin?.destroy();
  await s3?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('serves the newest S3 version, synced into the store', async () => {
  expect(await predictVersioned(clients, 'versioned', 4)).toEqual({ reported: 2, computed: 2 });
  expect(readdirSync(join(work, 'store', 'versioned')).filter((n) => !n.startsWith('.'))).toEqual(['2']);
});

test('a version uploaded under load takes over with no failed request; deleting it rolls back', async () => {
  const grpcLoad = startLoad((i) => predictVersioned(clients, 'versioned', i % 50), 3);
  const restLoad = startLoad((i) => restPredictVersioned(server.restUrl, 'versioned', i % 50), 1);
  await uploadDirectory(admin, 'models', join(FIXTURES, '3'), 'versioned/3/');
  await eventually(() => {
    if (grpcLoad.results.at(-1)?.reported !== 3) throw new Error('still not on version 3');
  }, 30_000);
  // Version 2 left the policy and was unloaded: the store drops it.
  await eventually(() => {
    const dirs = readdirSync(join(work, 'store', 'versioned')).filter((n) => !n.startsWith('.'));
    if (JSON.stringify(dirs) !== '["3"]') throw new Error(`store holds ${dirs.join(',')}`);
  }, 15_000);
  await deletePrefix(admin, 'models', 'versioned/3/');
  await eventually(() => {
    if (grpcLoad.results.at(-1)?.reported !== 2) throw new Error('still not back on version 2');
  }, 30_000);
  const [a, b] = await Promise.all([grpcLoad.stop(), restLoad.stop()]);
  expect([...a.failures, ...b.failures].map(String)).toEqual([]);
  expect([...a.results, ...b.results].filter((r) => r.reported !== r.computed)).toEqual([]);
  expect(a.ok + b.ok).toBeGreaterThan(100);

  const metrics = (await rest(server.restUrl, '/monitoring/prometheus/metrics')).text;
  expect(metrics).toMatch(/tensorfleet_s3_sync_versions_total\{model="versioned",outcome="ok"\} [3-9]/);
  expect(metrics).toMatch(/tensorfleet_s3_sync_bytes_total\{model="versioned"\} [1-9]/);
  expect(metrics).not.toContain(SECRET_KEY);
  expect(JSON.stringify(server.logs)).not.toContain(SECRET_KEY);
});

test('moving the base path to another prefix with the same version number syncs and swaps in the new copy under load', async () => {
  // s3://models/moved/2 holds the graph of versioned/3 (y = 0.5x + 3) as version 2.
  await uploadDirectory(admin, 'models', join(FIXTURES, '3'), 'moved/2/');
  const load = startLoad((i) => predictVersioned(clients, 'versioned', i % 50), 3);
  await eventually(() => expect(load.results.length).toBeGreaterThan(5), 10_000);
  writeFileSync(server.configPath, 'model_config_list:\n  - name: versioned\n    base_path: s3://models/moved\n');
  await eventually(() => expect(load.results.at(-1)).toEqual({ reported: 2, computed: 3 }), 45_000);
  const result = await load.stop();
  expect(result.failures.map(String)).toEqual([]);
  expect(result.results.filter((r) => r.reported !== 2 || (r.computed !== 2 && r.computed !== 3))).toEqual([]);
  expect(server.logs.some((l) => l.msg === 'version reloaded; the previous copy unloads once its requests end' && l.origin === 's3://models/moved/2/')).toBe(true);
  expect(readdirSync(join(work, 'store', 'versioned')).filter((n) => !n.startsWith('.'))).toEqual(['2']);
});
