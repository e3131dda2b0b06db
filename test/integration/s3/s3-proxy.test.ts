/**
 * A plain-http store behind a forward proxy (HTTP_PROXY): the built server sends its listings and
 * downloads as absolute-form requests through the proxy instead of its own direct HTTP client.
 * (The https case, a CONNECT tunnel with TLS to the store inside it, is in s3-tls.test.ts.)
 */
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ForwardProxy } from '../../helpers/s3/forward-proxy.js';
import { S3TestServer, createBucket, uploadDirectory, writeCredentialsDir } from '../../helpers/s3/s3-server.js';
import { FIXTURES_DIR } from '../../helpers/server/fixture-tensors.js';
import { tfsClients } from '../../helpers/server/grpc-client.js';
import { tempDir, type TempDir } from '../../helpers/server/model-dirs.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';
import { predictVersioned } from '../../helpers/server/versioned-calls.js';

let s3: S3TestServer;
let admin: S3Client;
let proxy: ForwardProxy;
let work: TempDir;
let server: ServerProcess | undefined;

beforeAll(async () => {
  s3 = await S3TestServer.start();
  admin = s3.client();
  await createBucket(admin, 'models');
  for (const v of [1, 2]) await uploadDirectory(admin, 'models', join(FIXTURES_DIR, 'models', 'versioned', String(v)), `versioned/${v}/`);
  proxy = await ForwardProxy.start();
  work = tempDir('tensorfleet-s3-proxy-');
  writeCredentialsDir(work.path);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await proxy?.stop();
  admin?.destroy();
  await s3?.close();
  work?.remove();
});

test('lists and downloads through HTTP_PROXY', async () => {
  server = await startServer({
    config: 'model_config_list:\n  - name: versioned\n    base_path: s3://models/versioned\n',
    args: [`--s3_endpoint=${s3.endpoint}`, `--s3_credentials_dir=${join(work.path, 'creds')}`, `--model_store=${join(work.path, 'store')}`],
    env: { HTTP_PROXY: proxy.url },
  });
  const clients = tfsClients(server.grpcTarget);
  try {
    expect(await predictVersioned(clients, 'versioned', 3)).toEqual({ reported: 2, computed: 2 });
  } finally {
    clients.close();
  }
  // Every listing and download of the version went through the proxy (one entry per request).
  expect(new Set(proxy.targets)).toEqual(new Set([`127.0.0.1:${s3.port}`]));
  expect(proxy.targets.length).toBeGreaterThanOrEqual(3);
});
