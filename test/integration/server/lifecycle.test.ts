/**
 * Version lifecycle on a temp copy of `versioned` (y = 0.5x + version), with the real server
 * polling the directory: a new version swaps in under continuous load with zero failed requests,
 * deleting it rolls back, a corrupt version is reported while the previous one keeps serving,
 * config file changes apply without a restart, version labels and version 0.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { eventually } from '../../helpers/k8s/eventually.js';
import { statusOf, tfsClients, type TfsClients } from '../../helpers/server/grpc-client.js';
import { startLoad, type LoadResult } from '../../helpers/server/load-generator.js';
import { modelStatus, waitForAvailable } from '../../helpers/server/model-status.js';
import { fixtureVersionDir, publishVersion, tempDir, unpublishVersion, type TempDir } from '../../helpers/server/model-dirs.js';
import { rest } from '../../helpers/server/rest-client.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';
import { predictVersioned, restPredictVersioned, type VersionedAnswer } from '../../helpers/server/versioned-calls.js';

let models: TempDir;
let server: ServerProcess;
let clients: TfsClients;
let versionedPath: string;

const config = (extra = ''): string => `
model_config_list:
  - name: versioned
    base_path: ${join(models.path, 'versioned')}
${extra}
  - name: zero
    base_path: ${join(models.path, 'zero')}
`;

beforeAll(async () => {
  models = tempDir();
  versionedPath = join(models.path, 'versioned');
  mkdirSync(versionedPath);
  mkdirSync(join(models.path, 'zero'));
  publishVersion(fixtureVersionDir('versioned', 1), versionedPath, 1);
  publishVersion(fixtureVersionDir('versioned', 2), versionedPath, 2);
  // Version 0 is a version like any other (here: a copy of versioned/1, y = 0.5x + 1).
  publishVersion(fixtureVersionDir('versioned', 1), join(models.path, 'zero'), 0);
  server = await startServer({
    config: config(),
    args: ['--max_num_load_retries=1', '--load_retry_interval_micros=200000', '--model_config_file_poll_wait_seconds=1'],
  });
  clients = tfsClients(server.grpcTarget);
});

afterAll(async () => {
  clients?.close();
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
  models?.remove();
});

/** Continuous gRPC (3 callers) and REST (1 caller) predicts on `versioned` until stopped. */
function versionedLoad(): { stop: () => Promise<LoadResult<VersionedAnswer>>; latest: () => VersionedAnswer | undefined } {
  const grpcLoad = startLoad((i) => predictVersioned(clients, 'versioned', i % 50), 3);
  const restLoad = startLoad((i) => restPredictVersioned(server.restUrl, 'versioned', i % 50), 1);
  return {
    latest: () => grpcLoad.results.at(-1),
    async stop() {
      const [a, b] = await Promise.all([grpcLoad.stop(), restLoad.stop()]);
      return { ok: a.ok + b.ok, failures: [...a.failures, ...b.failures], results: [...a.results, ...b.results] };
    },
  };
}

function expectConsistent(result: LoadResult<VersionedAnswer>): void {
  expect(result.failures.map(String)).toEqual([]);
  // The version a response names is the one whose output it carries.
  expect(result.results.filter((r) => r.reported !== r.computed)).toEqual([]);
}

test('serves the newest version under the default latest{1} policy', async () => {
  expect(await predictVersioned(clients, 'versioned', 4)).toEqual({ reported: 2, computed: 2 });
  const statuses = await modelStatus(clients.model, 'versioned');
  expect(statuses.filter((s) => s.state === 'AVAILABLE').map((s) => s.version)).toEqual(['2']);
});

test('a new version swaps in under continuous load with zero failed requests', async () => {
  const load = versionedLoad();
  await sleep(300);
  publishVersion(fixtureVersionDir('versioned', 3), versionedPath, 3);
  await eventually(() => expect(load.latest()?.reported).toBe(3), 30_000, 50);
  await waitForAvailable(clients.model, 'versioned', [3]);
  await sleep(300);
  const result = await load.stop();
  expectConsistent(result);
  const versions = new Set(result.results.map((r) => r.reported));
  expect([...versions].sort()).toEqual([2, 3]);
  expect(result.ok).toBeGreaterThan(50);
});

test('deleting the newest version rolls back to the previous one with zero failed requests', async () => {
  const load = versionedLoad();
  await sleep(300);
  unpublishVersion(versionedPath, 3);
  await eventually(() => expect(load.latest()?.reported).toBe(2), 30_000, 50);
  await waitForAvailable(clients.model, 'versioned', [2]);
  await sleep(300);
  const result = await load.stop();
  expectConsistent(result);
  expect(result.results.at(-1)?.reported).toBe(2);
});

test('a corrupt version is reported as failed while the previous version keeps serving', async () => {
  // A complete-looking version (real variables) whose graph is garbage.
  const staging = join(models.path, 'corrupt-4');
  cpSync(fixtureVersionDir('versioned', 3), staging, { recursive: true });
  writeFileSync(join(staging, 'saved_model.pb'), Buffer.from('this is not a SavedModel protocol buffer \u0000\u00ff'.repeat(20)));
  const load = versionedLoad();
  publishVersion(staging, versionedPath, 4);
  const failed = await eventually(async () => {
    const v4 = (await modelStatus(clients.model, 'versioned')).find((s) => s.version === '4');
    expect(v4).toBeDefined();
    expect(v4!.status.error_code).not.toBe('OK');
    expect(v4!.status.error_message).not.toBe('');
    return v4!;
  }, 30_000, 100);
  // Retries are exhausted (--max_num_load_retries=1): END, as TF Serving reports a failed load.
  const final = await eventually(async () => {
    const v4 = (await modelStatus(clients.model, 'versioned')).find((s) => s.version === '4');
    expect(v4?.state).toBe('END');
    return v4!;
  }, 30_000, 100);
  const result = await load.stop();
  expectConsistent(result);
  expect(new Set(result.results.map((r) => r.reported))).toEqual(new Set([2]));
  expect(failed.status.error_message.length).toBeGreaterThan(10);
  expect(final.status.error_code).not.toBe('OK');
  const restStatus = await rest(server.restUrl, '/v1/models/versioned/versions/4');
  expect(restStatus.status).toBe(200);
  expect(restStatus.json).toMatchObject({ model_version_status: [{ version: '4', state: 'END', status: { error_message: final.status.error_message } }] });
  expect(server.logs.some((l) => l.level !== undefined && l.level >= 50 && l.version === 4)).toBe(true);
  unpublishVersion(versionedPath, 4);
  await eventually(async () => expect((await modelStatus(clients.model, 'versioned')).some((s) => s.version === '4' && s.state !== 'END')).toBe(false));
  expect(await predictVersioned(clients, 'versioned', 2)).toEqual({ reported: 2, computed: 2 });
});

test('version 0 is served, pinned and unpinned, and reported as 0', async () => {
  expect(await predictVersioned(clients, 'zero', 6)).toEqual({ reported: 0, computed: 1 });
  expect(await predictVersioned(clients, 'zero', 6, { version: 0 })).toEqual({ reported: 0, computed: 1 });
  const status = await rest(server.restUrl, '/v1/models/zero');
  expect(status.json).toEqual({ model_version_status: [{ version: '0', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });
  const restReply = await rest(server.restUrl, '/v1/models/zero/versions/0:predict', { body: { instances: [2] } });
  expect(restReply.json).toEqual({ predictions: [2] });
  expect(restReply.headers.get('x-tensorfleet-model-version')).toBe('0');
});

test('model config file changes apply without a restart: policy, labels, models added and removed', async () => {
  const pid = server.pid;
  // latest{2} brings version 1 back next to 2; labels name them; tiny is added; zero is removed.
  writeFileSync(
    server.configPath,
    `
model_config_list:
  - name: versioned
    base_path: ${versionedPath}
    model_version_policy: {latest: {num_versions: 2}}
    version_labels: {stable: 1, canary: 2}
  - name: tiny
    base_path: ${join(fixtureVersionDir('tiny', 1), '..')}
`,
  );
  await waitForAvailable(clients.model, 'versioned', [1, 2]);
  await waitForAvailable(clients.model, 'tiny', [1]);
  await eventually(async () => expect((await predictVersioned(clients, 'versioned', 0, { label: 'stable' })).reported).toBe(1));
  expect(await predictVersioned(clients, 'versioned', 0, { label: 'canary' })).toEqual({ reported: 2, computed: 2 });
  // Unpinned requests go to the newest available version.
  expect((await predictVersioned(clients, 'versioned', 0)).reported).toBe(2);
  const byLabel = await rest(server.restUrl, '/v1/models/versioned/labels/stable:predict', { body: { instances: [0] } });
  expect(byLabel.json).toEqual({ predictions: [1] });
  expect(byLabel.headers.get('x-tensorfleet-model-version')).toBe('1');
  await eventually(async () => expect((await statusOf(predictVersioned(clients, 'zero', 0))).code).toBe(grpc.status.NOT_FOUND));
  expect(server.pid).toBe(pid);
  expect(server.logs.some((l) => l.msg === 'model config reloaded')).toBe(true);
});

test('a label may only point at an available version', async () => {
  writeFileSync(
    server.configPath,
    `
model_config_list:
  - name: versioned
    base_path: ${versionedPath}
    model_version_policy: {latest: {num_versions: 2}}
    version_labels: {stable: 1, canary: 2, future: 9}
  - name: tiny
    base_path: ${join(fixtureVersionDir('tiny', 1), '..')}
`,
  );
  await server.waitForLog((l) => l.label === 'future' && l.version === 9, 15_000);
  const call = await statusOf(predictVersioned(clients, 'versioned', 0, { label: 'future' }));
  expect(call.code).toBe(grpc.status.INVALID_ARGUMENT);
  expect(call.details).toContain('future');
  expect(await predictVersioned(clients, 'versioned', 0, { label: 'stable' })).toEqual({ reported: 1, computed: 1 });
});

test('moving the base path to a copy with the same version numbers swaps the new copies in under load, with zero failed requests', async () => {
  // The new base path holds version 1 and, as version 2, the graph of versioned/3 (y = 0.5x + 3).
  const moved = join(models.path, 'moved');
  mkdirSync(moved);
  publishVersion(fixtureVersionDir('versioned', 1), moved, 1);
  publishVersion(fixtureVersionDir('versioned', 3), moved, 2);
  const load = versionedLoad();
  await sleep(300);
  writeFileSync(
    server.configPath,
    `
model_config_list:
  - name: versioned
    base_path: ${moved}
    model_version_policy: {latest: {num_versions: 2}}
    version_labels: {stable: 1, canary: 2}
`,
  );
  await eventually(() => expect(load.latest()).toEqual({ reported: 2, computed: 3 }), 30_000, 50);
  await server.waitForLog((l) => l.msg === 'version reloaded; the previous copy unloads once its requests end' && l.version === 1, 30_000);
  await sleep(300);
  const result = await load.stop();
  expect(result.failures.map(String)).toEqual([]);
  // Each answer came from one whole copy of version 2: the old graph or the new one.
  expect(result.results.filter((r) => r.reported !== 2 || (r.computed !== 2 && r.computed !== 3))).toEqual([]);
  expect(await predictVersioned(clients, 'versioned', 0, { label: 'stable' })).toEqual({ reported: 1, computed: 1 });
  const statuses = await modelStatus(clients.model, 'versioned');
  expect(statuses.filter((s) => s.state === 'AVAILABLE').map((s) => s.version).sort()).toEqual(['1', '2']);
});
