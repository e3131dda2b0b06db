/**
 * TF Serving's --ssl_config_file on the real server: TLS on the gRPC port, with client
 * certificates required when client_verify is set; REST stays plain HTTP, as in TF Serving. The
 * official Python client passes every check over mutual TLS, and a config the server cannot use
 * stops it with a message naming the problem. Certificates: test/fixtures/tls
 * (scripts/fixtures/make-tls-certs.sh).
 */
import * as grpc from '@grpc/grpc-js';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { eventually } from '../../helpers/k8s/eventually.js';
import { REPO_ROOT } from '../../helpers/server/build-check.js';
import { FIXTURES_DIR } from '../../helpers/server/fixture-tensors.js';
import { fixturePredictJobs, runConcurrently } from '../../helpers/server/fixture-predict-jobs.js';
import { statusOf, tfsClients, type TfsClients } from '../../helpers/server/grpc-client.js';
import { tempDir, type TempDir } from '../../helpers/server/model-dirs.js';
import { expectOfficialClientChecksPass, officialClientPython } from '../../helpers/server/official-client.js';
import { rest } from '../../helpers/server/rest-client.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';
import { startFixtureServer } from '../../helpers/server/fixture-server.js';

const TLS_DIR = join(FIXTURES_DIR, 'tls');
const pemPath = (name: string): string => join(TLS_DIR, `${name}.pem`);
const pem = (name: string): string => readFileSync(pemPath(name), 'utf8');
/** A text-format string literal (JSON's escapes are a subset of text format's). */
const literal = (text: string): string => JSON.stringify(text);
/** PEM written line by line as adjacent literals, the way TF Serving configs often hold it. */
const lineByLine = (text: string): string => text.split(/(?<=\n)/).map(literal).join('\n  ');

const TINY_CONFIG = `model_config_list:\n  - {name: tiny, base_path: ${JSON.stringify(join(FIXTURES_DIR, 'models', 'tiny'))}}\n`;
const statusRequest = { model_spec: { name: 'tiny' } };

let dir: TempDir;
beforeAll(() => {
  dir = tempDir('tensorfleet-tls-');
});
afterAll(() => dir?.remove());

function sslConfigFile(name: string, text: string): string {
  const file = join(dir.path, name);
  writeFileSync(file, text);
  return file;
}

const mutualTls = (): string =>
  `server_key: ${literal(pem('server-key'))}\nserver_cert:\n  ${lineByLine(pem('server'))}\ncustom_ca: ${literal(pem('ca'))}\nclient_verify: true\n`;

const credentials = (client?: 'client' | 'other-client'): grpc.ChannelCredentials =>
  grpc.credentials.createSsl(Buffer.from(pem('ca')), client ? Buffer.from(pem(`${client}-key`)) : null, client ? Buffer.from(pem(client)) : null);

describe('with client_verify (mutual TLS)', () => {
  let server: ServerProcess;
  let clients: TfsClients;
  let python: string;

  beforeAll(async () => {
    python = await officialClientPython();
    ({ server, clients } = await startFixtureServer({ args: [`--ssl_config_file=${sslConfigFile('mutual.config', mutualTls())}`], credentials: credentials('client') }));
  }, 900_000);

  afterAll(async () => {
    clients?.close();
    if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
  });

  test('a client with a certificate from the configured CA gets every fixture answered as Python TensorFlow does', async () => {
    expect(await runConcurrently(fixturePredictJobs(clients), 2)).toEqual([]);
  });

  test('clients without a certificate, with one from another CA, or in plain text are refused', async () => {
    for (const [what, creds] of [
      ['no client certificate', credentials()],
      ['a certificate from another CA', credentials('other-client')],
      ['plain text', grpc.credentials.createInsecure()],
    ] as const) {
      const other = tfsClients(server.grpcTarget, { credentials: creds, ownConnection: true });
      try {
        const result = await statusOf(other.model.call('GetModelStatus', statusRequest, { deadlineMs: 5_000 }));
        expect(result.code, what).toBe(grpc.status.UNAVAILABLE);
      } finally {
        other.close();
      }
    }
  });

  test('REST stays plain HTTP, as in TF Serving', async () => {
    const reply = await rest(server.restUrl, '/v1/models/tiny');
    expect(reply.status).toBe(200);
  });

  test('the official TF Serving Python client passes every check over mutual TLS', async () => {
    await expectOfficialClientChecksPass(python, server.grpcTarget, ['--tls-ca', pemPath('ca'), '--tls-cert', pemPath('client'), '--tls-key', pemPath('client-key')]);
  }, 180_000);
});

describe('without client_verify', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    const config = `server_key: ${literal(pem('server-key'))}\nserver_cert: ${literal(pem('server'))}\n`;
    server = await startServer({ config: TINY_CONFIG, args: [`--ssl_config_file=${sslConfigFile('server-only.config', config)}`] });
  }, 120_000);

  afterAll(async () => {
    if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
  });

  test('clients that trust the CA connect without a certificate of their own; plain text is refused', async () => {
    const secure = tfsClients(server.grpcTarget, { credentials: credentials(), ownConnection: true });
    const plain = tfsClients(server.grpcTarget, { ownConnection: true });
    try {
      const { response } = await secure.model.call<{ model_version_status: { state: string }[] }>('GetModelStatus', statusRequest);
      expect(response.model_version_status.map((s) => s.state)).toEqual(['AVAILABLE']);
      expect((await statusOf(plain.model.call('GetModelStatus', statusRequest, { deadlineMs: 5_000 }))).code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      secure.close();
      plain.close();
    }
  });

  test('SIGTERM is not held by a connection whose TLS handshake never begins', async () => {
    const { hostname, port } = new URL(`http://${server.grpcTarget}`);
    const silent = await new Promise<Socket>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => resolve(socket));
      socket.once('error', reject);
    });
    silent.on('error', () => undefined).resume();
    const signalledAt = Date.now();
    expect(await server.stop()).toEqual({ code: 0, signal: null });
    expect((Date.now() - signalledAt) / 1000, 'the grace period is 30 s').toBeLessThan(20);
    silent.destroy();
  });
});

describe('from files that rotate (--grpc_tls_cert_file, as a mounted Kubernetes TLS Secret)', () => {
  let server: ServerProcess;
  const tlsFile = (name: string): string => join(dir.path, 'mounted', name);
  const mount = (server_: 'server' | 'rotated-server', key: 'server' | 'rotated-server' = server_): void => {
    mkdirSync(join(dir.path, 'mounted'), { recursive: true });
    copyFileSync(pemPath(server_), tlsFile('tls.crt'));
    copyFileSync(pemPath(`${key}-key`), tlsFile('tls.key'));
  };
  /** A GetModelStatus on a new connection that trusts only `ca`. */
  const callTrusting = async (ca: 'ca' | 'other-ca'): Promise<number> => {
    const creds = grpc.credentials.createSsl(Buffer.from(pem(ca)), Buffer.from(pem('client-key')), Buffer.from(pem('client')));
    const clients = tfsClients(server.grpcTarget, { credentials: creds, ownConnection: true });
    try {
      return (await statusOf(clients.model.call('GetModelStatus', statusRequest, { deadlineMs: 5_000 }))).code;
    } finally {
      clients.close();
    }
  };

  beforeAll(async () => {
    mount('server');
    copyFileSync(pemPath('ca'), tlsFile('ca.crt'));
    const flags = [`--grpc_tls_cert_file=${tlsFile('tls.crt')}`, `--grpc_tls_key_file=${tlsFile('tls.key')}`, `--grpc_tls_client_ca_file=${tlsFile('ca.crt')}`, '--grpc_tls_reload_seconds=1'];
    server = await startServer({ config: TINY_CONFIG, args: flags });
  }, 120_000);

  afterAll(async () => {
    if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
  });

  test('serves the mounted certificate, asks for client certificates, and reports its expiry', async () => {
    expect(await callTrusting('ca')).toBe(grpc.status.OK);
    expect(await callTrusting('other-ca')).toBe(grpc.status.UNAVAILABLE);
    const plain = tfsClients(server.grpcTarget, { credentials: credentials(), ownConnection: true });
    try {
      expect((await statusOf(plain.model.call('GetModelStatus', statusRequest, { deadlineMs: 5_000 }))).code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      plain.close();
    }
    const metrics = (await rest(server.restUrl, '/metrics')).text;
    const expiry = Number(/^tensorfleet_grpc_tls_certificate_expiry_timestamp_seconds (\S+)$/m.exec(metrics)?.[1]);
    expect(expiry * 1000).toBeGreaterThan(Date.now() + 50 * 365 * 86_400_000);
  });

  test('a renewed certificate is served to new connections without a restart; a broken one is logged and the last good kept', async () => {
    mount('rotated-server');
    await eventually(async () => expect(await callTrusting('other-ca')).toBe(grpc.status.OK), 10_000);
    expect(await callTrusting('ca')).toBe(grpc.status.UNAVAILABLE);
    expect(server.logs.filter((l) => l.msg === 'reloaded the TLS certificate')).toHaveLength(1);

    // The new certificate with the old key: unusable, so the rotated one stays.
    mount('rotated-server', 'server');
    await eventually(() => expect(server.logs.some((l) => l.msg === 'kept the previous TLS certificate: the files could not be used')).toBe(true), 10_000);
    expect(await callTrusting('other-ca')).toBe(grpc.status.OK);
  });
});

test('an SSL config the server cannot use stops it before it loads a model, naming the problem', () => {
  const cases: [string, string, RegExp][] = [
    ['file names instead of PEM', 'server_key: "/etc/tls/key.pem"\nserver_cert: "/etc/tls/cert.pem"\n', /server_key must hold the PEM text of the private key .*not a file name/],
    ['a key of another certificate', `server_key: ${literal(pem('client-key'))}\nserver_cert: ${literal(pem('server'))}\n`, /SSL config: server_key, server_cert or custom_ca is not usable: .*key values mismatch/],
    ['an unknown field', `server_key: ${literal(pem('server-key'))}\nserver_cert: ${literal(pem('server'))}\nclient_ca_file: "x"\n`, /unsupported field "client_ca_file"; supported: server_key, server_cert, custom_ca, client_verify/],
    ['a missing file', '', /cannot read --ssl_config_file/],
  ];
  for (const [what, text, message] of cases) {
    const file = text === '' ? join(dir.path, 'missing.config') : sslConfigFile('bad.config', text);
    const run = spawnSync(
      process.execPath,
      [join(REPO_ROOT, 'bin', 'tensorfleet.js'), 'serve', `--model_base_path=${join(FIXTURES_DIR, 'models', 'tiny')}`, '--port=0', '--rest_api_port=0', `--ssl_config_file=${file}`],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect({ status: run.status, stderr: run.stderr }, what).toEqual({ status: 1, stderr: expect.stringMatching(message) as unknown });
    expect(run.stdout, what).not.toContain('version loading started');
  }
});
