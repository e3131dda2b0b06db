/**
 * The lean download path (signed GETs over node:http) against a real S3-compatible server
 * (versitygw on loopback): whole objects, ranges, If-Match, awkward keys, wrong and rotated
 * credentials, virtual-host addressing; and, against a stand-in server for what versitygw cannot
 * be made to do, retries of 503s and a Range the server ignored.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ServingError } from '../../../src/shared/errors.js';
import { createS3Client } from '../../../src/server/sources/s3/create-s3-client.js';
import { s3Error } from '../../../src/server/sources/s3/download-files.js';
import { HttpObjectGetter, sdkBucketResolver } from '../../../src/server/sources/s3/http-object-getter.js';
import { objectGetterFor, sdkObjectGetter, type ObjectGetter, type ObjectRequest } from '../../../src/server/sources/s3/object-getter.js';
import { resolveS3Settings } from '../../../src/server/sources/s3/s3-settings.js';
import { ACCESS_KEY, SECRET_KEY, S3TestServer, createBucket, freePort, putObject, versitygwBinary } from '../../helpers/s3/s3-server.js';

const BUCKET = 'objects';
const BIG = randomBytes(3 * 1024 * 1024 + 17);
const ODD_KEY = 'm/1/assets/a b+c%2e(1)!*é~.bin';

let s3: S3TestServer;
let admin: S3Client;
let work: string;
const clients: S3Client[] = [];

beforeAll(async () => {
  s3 = await S3TestServer.start();
  admin = s3.client();
  await createBucket(admin, BUCKET);
  await putObject(admin, BUCKET, 'm/1/big.bin', BIG);
  await putObject(admin, BUCKET, ODD_KEY, 'odd key body');
  work = mkdtempSync(join(tmpdir(), 'tensorfleet-s3-getter-'));
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  admin?.destroy();
  await s3?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

function credentialsDir(secret: string): string {
  const dir = mkdtempSync(join(work, 'creds-'));
  writeFileSync(join(dir, 'accessKeyId'), ACCESS_KEY);
  writeFileSync(join(dir, 'secretAccessKey'), secret);
  return dir;
}

function getterFor(secret = SECRET_KEY, endpoint = s3.endpoint): ObjectGetter {
  const client = createS3Client(resolveS3Settings({ s3_endpoint: endpoint, s3_credentials_dir: credentialsDir(secret) }, {}), Date.now);
  clients.push(client);
  return objectGetterFor(client);
}

async function etagOf(client: S3Client, key: string): Promise<string> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: key }));
  const etag = page.Contents?.find((o) => o.Key === key)?.ETag;
  if (etag === undefined) throw new Error(`${key} not listed`);
  return etag.replace(/"/g, '');
}

async function body(getter: ObjectGetter, request: ObjectRequest): Promise<{ data: Buffer; etag: string | undefined }> {
  const { stream, etag } = await getter.get(request, new AbortController().signal);
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return { data: Buffer.concat(chunks), etag };
}

/** What the download path reports for a failed GET (the ServingError s3Error makes of it). */
async function failure(getter: ObjectGetter, request: ObjectRequest): Promise<ServingError> {
  try {
    await body(getter, request);
  } catch (error) {
    return s3Error(error, `download from bucket ${request.bucket}`);
  }
  throw new Error('the GET succeeded');
}

describe('signed GETs against versitygw', () => {
  test('createS3Client attaches the lean getter', () => {
    expect(getterFor().kind).toBe('http');
    const client = createS3Client(resolveS3Settings({ s3_endpoint: s3.endpoint }, { TENSORFLEET_S3_SDK_GET: '1' }), Date.now);
    clients.push(client);
    expect(objectGetterFor(client).kind).toBe('sdk');
  });

  test('a whole object arrives byte for byte with its ETag', async () => {
    const etag = await etagOf(admin, 'm/1/big.bin');
    const got = await body(getterFor(), { bucket: BUCKET, key: 'm/1/big.bin', etag });
    expect(got.data.equals(BIG)).toBe(true);
    expect(got.etag).toBe(etag);
  });

  test.each([
    { start: 0, length: 1 },
    { start: 1_000_000, length: 1_048_576 },
    { start: BIG.length - 5, length: 5 },
  ])('Range $start+$length returns exactly those bytes', async ({ start, length }) => {
    const etag = await etagOf(admin, 'm/1/big.bin');
    const got = await body(getterFor(), { bucket: BUCKET, key: 'm/1/big.bin', etag, range: { start, length } });
    expect(got.data.equals(BIG.subarray(start, start + length))).toBe(true);
  });

  test('a key with spaces, plus, percent, parentheses and non-ASCII is addressed and signed right', async () => {
    const got = await body(getterFor(), { bucket: BUCKET, key: ODD_KEY, etag: await etagOf(admin, ODD_KEY) });
    expect(got.data.toString()).toBe('odd key body');
  });

  test('If-Match with an ETag the object no longer has fails as ABORTED (changed since listed)', async () => {
    await putObject(admin, BUCKET, 'm/2/changing.bin', 'first');
    const listed = await etagOf(admin, 'm/2/changing.bin');
    await putObject(admin, BUCKET, 'm/2/changing.bin', 'second, longer');
    const e = await failure(getterFor(), { bucket: BUCKET, key: 'm/2/changing.bin', etag: listed });
    expect(e.code).toBe('ABORTED');
    expect(e.message).toMatch(/HTTP 412.*changed since it was listed/);
  });

  test('a missing object is NOT_FOUND', async () => {
    const e = await failure(getterFor(), { bucket: BUCKET, key: 'm/1/nope.bin', etag: 'x' });
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toMatch(/NoSuchKey \(HTTP 404\)/);
  });

  test('a wrong secret is PERMISSION_DENIED naming the signature mismatch', async () => {
    const e = await failure(getterFor('not-the-secret'), { bucket: BUCKET, key: 'm/1/big.bin', etag: 'x' });
    expect(e.code).toBe('PERMISSION_DENIED');
    expect(e.message).toMatch(/SignatureDoesNotMatch \(HTTP 403\)/);
    expect(e.message).not.toContain('not-the-secret');
  });

  test('an unknown access key is PERMISSION_DENIED naming the key problem', async () => {
    const dir = credentialsDir(SECRET_KEY);
    writeFileSync(join(dir, 'accessKeyId'), 'nobody');
    const client = createS3Client(resolveS3Settings({ s3_endpoint: s3.endpoint, s3_credentials_dir: dir }, {}), Date.now);
    clients.push(client);
    const e = await failure(objectGetterFor(client), { bucket: BUCKET, key: 'm/1/big.bin', etag: 'x' });
    expect(e.code).toBe('PERMISSION_DENIED');
    // AWS says InvalidAccessKeyId (403); versitygw says XAdminUserNotFound (404).
    expect(e.message).toMatch(/(InvalidAccessKeyId|XAdminUserNotFound) \(HTTP 40[34]\).*access key/i);
  });

  test('rotated credential files are picked up without a new client', async () => {
    const dir = credentialsDir('old-secret');
    const client = createS3Client(resolveS3Settings({ s3_endpoint: s3.endpoint, s3_credentials_dir: dir }, {}), Date.now);
    clients.push(client);
    const getter = objectGetterFor(client);
    const request = { bucket: BUCKET, key: ODD_KEY, etag: await etagOf(admin, ODD_KEY) };
    expect((await failure(getter, request)).code).toBe('PERMISSION_DENIED');
    writeFileSync(join(dir, 'secretAccessKey'), SECRET_KEY);
    await sleep(1100); // the files are re-read at most once a second
    expect((await body(getter, request)).data.toString()).toBe('odd key body');
  });

  test('the SDK getter and the lean getter return the same bytes', async () => {
    const etag = await etagOf(admin, 'm/1/big.bin');
    const range = { start: 12345, length: 777_777 };
    const lean = await body(getterFor(), { bucket: BUCKET, key: 'm/1/big.bin', etag, range });
    const sdk = await body(sdkObjectGetter(admin), { bucket: BUCKET, key: 'm/1/big.bin', etag, range });
    expect(lean.data.equals(sdk.data)).toBe(true);
  });
});

describe('virtual-host addressing', () => {
  let gw: ChildProcess | undefined;
  let port: number;
  let data: string;

  beforeAll(async () => {
    data = mkdtempSync(join(tmpdir(), 'tensorfleet-s3-vhost-'));
    mkdirSync(join(data, 'gw'));
    mkdirSync(join(data, 'meta'));
    port = await freePort();
    gw = spawn(versitygwBinary(), ['--access', ACCESS_KEY, '--secret', SECRET_KEY, '--port', `127.0.0.1:${port}`, '--quiet', '--virtual-domain', 'localhost', 'posix', '--sidecar', join(data, 'meta'), join(data, 'gw')], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 300 && !(await canConnect(port)); i++) await sleep(50);
  });

  afterAll(async () => {
    if (gw !== undefined && gw.exitCode === null) {
      const exited = new Promise((r) => gw!.once('exit', r));
      gw.kill('SIGKILL');
      await exited;
    }
    rmSync(data, { recursive: true, force: true });
  });

  test('objects are fetched from http://<bucket>.localhost:<port>/<key> and listed from http://<bucket>.localhost:<port>/ when path-style is off', async () => {
    // `<bucket>.localhost` resolves nowhere here: the getter maps every name to loopback.
    const lookup: net.LookupFunction = (_host, options, callback) => {
      if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
    };
    const endpoint = `http://localhost:${port}`;
    const settings = resolveS3Settings({ s3_endpoint: endpoint, s3_path_style: false, s3_credentials_dir: credentialsDir(SECRET_KEY) }, {});
    const client = createS3Client(settings, Date.now);
    clients.push(client);
    const agentOptions = { keepAlive: true, lookup };
    const pathStyle = new S3ClientFor(endpoint, credentialsDir(SECRET_KEY));
    await pathStyle.put('vhost', 'k/one two.bin', 'over virtual host');
    const resolveBucket = sdkBucketResolver(client, settings);
    const resolved = await resolveBucket('vhost');
    expect(resolved).toMatchObject({ kind: 'sigv4', url: new URL(`http://vhost.localhost:${port}/`) });
    const getter = new HttpObjectGetter({
      resolveBucket,
      credentials: () => client.config.credentials(),
      httpAgent: new http.Agent(agentOptions),
      httpsAgent: new https.Agent(agentOptions),
      lookup,
      fallback: sdkObjectGetter(client),
      now: Date.now,
      sleep: (ms, signal) => sleep(ms, undefined, { signal }),
    });
    const got = await body(getter, { bucket: 'vhost', key: 'k/one two.bin', etag: await pathStyle.etag('vhost', 'k/one two.bin') });
    expect(got.data.toString()).toBe('over virtual host');
    const listed = await getter.list({ bucket: 'vhost', prefix: 'k/' }, new AbortController().signal);
    expect(listed.objects.map((o) => o.key)).toEqual(['k/one two.bin']);
    pathStyle.destroy();
  });
});

describe('against a stand-in server', () => {
  let server: http.Server;
  let endpoint: string;
  let answers: { status: number; body: string; headers?: Record<string, string> }[] = [];
  let requests = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      requests++;
      const a = answers.shift() ?? { status: 200, body: 'payload', headers: { etag: '"e1"', 'content-length': '7' } };
      res.writeHead(a.status, a.headers ?? {});
      res.end(a.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const slowDown = { status: 503, body: '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>' };

  test('503 SlowDown is retried, then succeeds', async () => {
    answers = [slowDown, slowDown];
    requests = 0;
    const got = await body(getterFor(SECRET_KEY, endpoint), { bucket: 'b', key: 'k', etag: 'e1' });
    expect(got.data.toString()).toBe('payload');
    expect(requests).toBe(3);
  });

  test('503 on every try ends as UNAVAILABLE with the server message', async () => {
    answers = [slowDown, slowDown, slowDown];
    requests = 0;
    const e = await failure(getterFor(SECRET_KEY, endpoint), { bucket: 'b', key: 'k', etag: 'e1' });
    expect(e.code).toBe('UNAVAILABLE');
    expect(e.message).toMatch(/SlowDown \(HTTP 503\): Please reduce your request rate/);
    expect(requests).toBe(3);
  });

  test('a 200 answer to a ranged GET is refused, not written at the wrong offset', async () => {
    answers = [{ status: 200, body: 'the whole object', headers: { etag: '"e1"' } }];
    const e = await failure(getterFor(SECRET_KEY, endpoint), { bucket: 'b', key: 'k', etag: 'e1', range: { start: 4, length: 3 } });
    expect(e.code).toBe('UNAVAILABLE');
    expect(e.message).toMatch(/ignored the Range/);
  });

  test('a store answering without Content-Length (chunked) is read through node:http from then on', async () => {
    const getter = getterFor(SECRET_KEY, endpoint);
    answers = [{ status: 200, body: 'chunked payload', headers: { etag: '"e1"' } }, { status: 200, body: 'chunked payload', headers: { etag: '"e1"' } }];
    requests = 0;
    expect((await body(getter, { bucket: 'b', key: 'k', etag: 'e1' })).data.toString()).toBe('chunked payload');
    // The first GET is repeated once by the general-purpose client.
    expect(requests).toBe(2);
    answers = [{ status: 200, body: 'chunked again', headers: { etag: '"e1"' } }];
    expect((await body(getter, { bucket: 'b', key: 'k', etag: 'e1' })).data.toString()).toBe('chunked again');
    expect(requests).toBe(3);
  });

  test('an error without an XML body is named after its status', async () => {
    answers = [{ status: 403, body: '' }];
    const e = await failure(getterFor(SECRET_KEY, endpoint), { bucket: 'b', key: 'k', etag: 'e1' });
    expect(e.code).toBe('PERMISSION_DENIED');
    expect(e.message).toMatch(/AccessDenied \(HTTP 403\)/);
  });
});

/** Path-style SDK access to the virtual-host gateway, for setup. */
class S3ClientFor {
  private readonly client: S3Client;
  constructor(endpoint: string, credentials: string) {
    this.client = createS3Client(resolveS3Settings({ s3_endpoint: endpoint, s3_credentials_dir: credentials }, {}), Date.now);
  }
  async put(bucket: string, key: string, body: string): Promise<void> {
    await createBucket(this.client, bucket).catch(() => undefined);
    await putObject(this.client, bucket, key, body);
  }
  async etag(bucket: string, key: string): Promise<string> {
    const page = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }));
    return page.Contents![0]!.ETag!.replace(/"/g, '');
  }
  destroy(): void {
    this.client.destroy();
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      res(true);
    });
    socket.once('error', () => res(false));
  });
}
