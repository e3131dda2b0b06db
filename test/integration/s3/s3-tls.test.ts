/**
 * S3 over TLS with a private CA, as an in-cluster MinIO often runs: the built server trusts the
 * CA given by --s3_ca_file and serves the model; without it the certificate is refused, the
 * model is reported unavailable with the reason, and the server stays up and live; a bundle
 * rotated in place is trusted without a restart. Last, the
 * operator's pod for a ServedModel with source.caBundleRef, run as a process: its arguments and
 * environment, with the ConfigMap's key where the pod would mount it. And the same store behind a
 * forward proxy (HTTPS_PROXY, with NO_PROXY), as in a corporate network.
 */
import { copyFileSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildDeployment, S3_CA_DIR } from '../../../src/operator/specs/deployment.js';
import { DEFAULT_RENDER_CONFIG } from '../../../src/operator/specs/operator-config.js';
import { eventually } from '../../helpers/k8s/eventually.js';
import { FIXTURES_DIR } from '../../helpers/server/fixture-tensors.js';
import { tfsClients } from '../../helpers/server/grpc-client.js';
import { tempDir, type TempDir } from '../../helpers/server/model-dirs.js';
import { rest } from '../../helpers/server/rest-client.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';
import { predictVersioned } from '../../helpers/server/versioned-calls.js';
import { ForwardProxy } from '../../helpers/s3/forward-proxy.js';
import { S3TestServer, createBucket, uploadDirectory, writeCredentialsDir } from '../../helpers/s3/s3-server.js';

const TLS = join(FIXTURES_DIR, 'tls');
const CONFIG = 'model_config_list:\n  - name: versioned\n    base_path: s3://models/versioned\n';
let s3: S3TestServer;
let admin: S3Client;
let work: TempDir;
const servers: ServerProcess[] = [];

/** Predicts with a fresh client: the server serves version 1, the one uploaded. */
async function expectServesVersion1(server: ServerProcess, seed: number): Promise<void> {
  const clients = tfsClients(server.grpcTarget);
  try {
    expect(await predictVersioned(clients, 'versioned', seed)).toEqual({ reported: 1, computed: 1 });
  } finally {
    clients.close();
  }
}

const serve = async (extraArgs: string[], waitReady: boolean, env?: Record<string, string>): Promise<ServerProcess> => {
  const server = await startServer({
    config: CONFIG,
    args: [`--s3_credentials_dir=${join(work.path, 'creds')}`, `--model_store=${join(work.path, `store-${servers.length}`)}`, ...extraArgs],
    waitReady,
    ...(env ? { env } : {}),
  });
  servers.push(server);
  return server;
};

beforeAll(async () => {
  s3 = await S3TestServer.start({ tls: { certFile: join(TLS, 'server.pem'), keyFile: join(TLS, 'server-key.pem'), caFile: join(TLS, 'ca.pem') } });
  admin = s3.client();
  await createBucket(admin, 'models');
  await uploadDirectory(admin, 'models', join(FIXTURES_DIR, 'models', 'versioned', '1'), 'versioned/1/');
  work = tempDir('tensorfleet-s3-tls-');
  writeCredentialsDir(work.path);
}, 60_000);

afterAll(async () => {
  for (const server of servers) await server.stop();
  admin?.destroy();
  await s3?.close();
  work?.remove();
});

test('trusts the CA of --s3_ca_file and serves the model from https', async () => {
  expect(s3.endpoint).toMatch(/^https:/);
  const server = await serve([`--s3_endpoint=${s3.endpoint}`, `--s3_ca_file=${join(TLS, 'ca.pem')}`], true);
  await expectServesVersion1(server, 2);
});

test('without the CA: the certificate is refused, the model is unavailable with the reason, and the server stays live', async () => {
  const server = await serve([`--s3_endpoint=${s3.endpoint}`], false);
  await eventually(() => expect(server.logs.some((l) => JSON.stringify(l).includes('certificate'))).toBe(true), 20_000);
  expect((await rest(server.restUrl, '/healthz')).status).toBe(200);
  expect((await rest(server.restUrl, '/readyz')).status).toBe(503);
  const status = await rest(server.restUrl, '/v1/models/versioned');
  expect(status.status).toBe(404);
  expect((status.json as { error: string }).error).toContain('listing s3://models/versioned/ failed: Error: unable to verify the first certificate');
});

test('a CA bundle replaced in place (as trust-manager rotates it) is trusted without a restart', async () => {
  // The pod's mounted bundle first holds another CA, so the store's certificate is refused.
  const dir = join(work.path, 'rotating-ca');
  mkdirSync(dir);
  const bundle = join(dir, 'ca.crt');
  copyFileSync(join(TLS, 'other-ca.pem'), bundle);
  const server = await serve([`--s3_endpoint=${s3.endpoint}`, `--s3_ca_file=${bundle}`], false);
  await eventually(async () => expect(((await rest(server.restUrl, '/v1/models/versioned')).json as { error?: string }).error).toContain('unable to verify the first certificate'), 20_000);
  // A ConfigMap volume swaps in the new file: write it beside, then rename over.
  copyFileSync(join(TLS, 'ca.pem'), `${bundle}.new`);
  renameSync(`${bundle}.new`, bundle);
  await eventually(async () => expect((await rest(server.restUrl, '/readyz')).status).toBe(200), 40_000);
  await expectServesVersion1(server, 7);
  expect(server.logs.some((l) => JSON.stringify(l).includes('S3 CA bundle changed'))).toBe(true);
}, 90_000);

test("the operator's pod for source.caBundleRef trusts the ConfigMap's CA", async () => {
  const sm = {
    apiVersion: 'tensorfleet.dev/v1alpha1',
    kind: 'ServedModel',
    metadata: { name: 'versioned', namespace: 'ml', uid: 'uid-1' },
    spec: { source: { uri: 's3://models/versioned', endpoint: s3.endpoint, caBundleRef: { name: 'internal-ca', key: 'bundle.pem' } } },
  } as const;
  const container = buildDeployment(sm, DEFAULT_RENDER_CONFIG).spec?.template.spec?.containers[0];
  // What the kubelet would do with the ConfigMap volume: its key, as the file the pod reads.
  const mounted = join(work.path, 's3-ca');
  mkdirSync(mounted);
  copyFileSync(join(TLS, 'ca.pem'), join(mounted, 'ca.crt'));
  const caArgs = (container?.args ?? []).filter((a) => a.startsWith('--s3_ca_file=')).map((a) => a.replace(S3_CA_DIR, mounted));
  expect(caArgs).toHaveLength(1);
  const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value ?? '']));
  expect(env).toEqual({ TENSORFLEET_S3_ENDPOINT: s3.endpoint });
  const server = await serve(caArgs, true, env);
  await expectServesVersion1(server, 5);
});

test('reaches the store through HTTPS_PROXY (a CONNECT tunnel, TLS to the store inside it), unless NO_PROXY names it', async () => {
  const proxy = await ForwardProxy.start();
  try {
    const args = [`--s3_endpoint=${s3.endpoint}`, `--s3_ca_file=${join(TLS, 'ca.pem')}`];
    const proxied = await serve(args, true, { HTTPS_PROXY: proxy.url, NO_PROXY: 'example.internal' });
    expect(proxied.logs.find((l) => l.msg === 'S3 source configured')).toMatchObject({ proxy: `${proxy.url}/` });
    await expectServesVersion1(proxied, 6);
    expect(new Set(proxy.targets)).toEqual(new Set([`localhost:${s3.port}`]));
    // It keeps listing the store: stop it before counting what the next server does.
    await proxied.stop();
    servers.splice(servers.indexOf(proxied), 1);

    const tunnels = proxy.targets.length;
    const direct = await serve(args, true, { HTTPS_PROXY: proxy.url, NO_PROXY: 'localhost' });
    expect(direct.logs.find((l) => l.msg === 'S3 source configured')).toMatchObject({ proxy: 'none' });
    expect(proxy.targets.length).toBe(tunnels);
  } finally {
    await proxy.stop();
  }
});
