/**
 * The S3 source against a real S3-compatible server (versitygw on loopback), with the fixture
 * SavedModels `versioned/1..3` as content: initial sync, no re-download after a restart,
 * deletion, partial uploads, truncated bodies, the server stopped mid-download, rotated
 * credential files, unsafe keys and a full disk.
 */
import { eventually } from '../../helpers/k8s/eventually.js';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import type { ModelConfig, VersionPolicy } from '../../../src/server/config/model-config.js';
import type { Logger } from '../../../src/server/core/logger.js';
import { createS3Client } from '../../../src/server/sources/s3/create-s3-client.js';
import { S3VersionSource } from '../../../src/server/sources/s3/s3-version-source.js';
import { resolveS3Settings } from '../../../src/server/sources/s3/s3-settings.js';
import { FaultProxy } from '../../helpers/s3/fault-proxy.js';
import { ACCESS_KEY, SECRET_KEY, S3TestServer, createBucket, deletePrefix, putObject, uploadDirectory } from '../../helpers/s3/s3-server.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/models/versioned');
const BUCKET = 'models';

let s3: S3TestServer;
let admin: S3Client;
let work: string;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  s3 = await S3TestServer.start();
  admin = s3.client();
  await createBucket(admin, BUCKET);
  work = mkdtempSync(join(tmpdir(), 'tensorfleet-s3-source-'));
});

afterAll(async () => {
  admin?.destroy();
  await s3?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** A logger that keeps what it was told, to assert on warnings and redaction. */
function memoryLogger(lines: { level: string; obj: object; msg?: string }[] = []): Logger & { lines: typeof lines } {
  const at =
    (level: string) =>
    (obj: object | string, msg?: string): void => {
      lines.push(typeof obj === 'string' ? { level, obj: {}, msg: obj } : { level, obj, ...(msg !== undefined ? { msg } : {}) });
    };
  const logger: Logger & { lines: typeof lines } = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug'), child: () => logger, lines };
  return logger;
}

interface Harness {
  source: S3VersionSource;
  store: string;
  inUse: Set<number>;
  logger: ReturnType<typeof memoryLogger>;
  bytes: () => number;
  credentials: string;
}

function harness(options: { endpoint?: string; store?: string; credentials?: string; marker?: string; retryInitialMs?: number } = {}): Harness {
  const credentials = options.credentials ?? mkdtempSync(join(work, 'creds-'));
  if (options.credentials === undefined) {
    writeFileSync(join(credentials, 'accessKeyId'), ACCESS_KEY);
    writeFileSync(join(credentials, 'secretAccessKey'), `${SECRET_KEY}\n`);
  }
  const settings = resolveS3Settings({ s3_endpoint: options.endpoint ?? s3.endpoint, s3_credentials_dir: credentials, s3_part_size_mb: 1 }, {});
  const client = createS3Client(settings, Date.now);
  const inUse = new Set<number>();
  const logger = memoryLogger();
  let bytes = 0;
  const counter = { inc: (_l: object, n = 1) => void (bytes += n), set: () => undefined };
  const source = new S3VersionSource({
    client,
    storeDir: options.store ?? mkdtempSync(join(work, 'store-')),
    logger,
    now: Date.now,
    sleep: (ms, signal) => sleep(ms, undefined, { signal }),
    isInUse: (_m, v) => inUse.has(v),
    concurrency: 8,
    transfer: settings.transfer,
    confirmDelayMs: 100,
    retryInitialMs: options.retryInitialMs ?? 100,
    retryMaxMs: 500,
    ...(options.marker !== undefined ? { completionMarker: options.marker } : {}),
    metrics: {
      bytes: { inc: (_l, n) => void (bytes += n) },
      versions: counter,
      failures: counter,
      remainingBytes: counter,
      bytesPerSecond: counter,
    },
  });
  cleanups.push(async () => {
    await source.close();
    client.destroy();
  });
  return { source, store: (source as unknown as { o: { storeDir: string } }).o.storeDir, inUse, logger, bytes: () => bytes, credentials };
}

const model = (prefix: string, policy: VersionPolicy = { kind: 'latest', numVersions: 2 }): ModelConfig => ({
  name: 'm',
  basePath: `s3://${BUCKET}/${prefix}`,
  versionPolicy: policy,
  versionLabels: {},
  routing: {},
});

/** Lists (waiting for downloads) until three listings in a row agree; returns the offered versions. */
async function settle(h: Harness, config: ModelConfig, rounds = 10): Promise<number[]> {
  let last = '';
  let same = 0;
  for (let i = 0; i < rounds && same < 2; i++) {
    const listing = await h.source.list(config, new AbortController().signal);
    await h.source.idle();
    const now = JSON.stringify([...listing.keys()].sort());
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return JSON.parse(last) as number[];
}

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

function treeOf(dir: string): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string): void => {
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(abs, e.name), r);
      else out.push(r);
    }
  };
  walk(dir, '');
  return out.sort();
}

async function upload(prefix: string, version: number, skip?: (rel: string) => boolean): Promise<void> {
  await uploadDirectory(admin, BUCKET, join(FIXTURES, String(version)), `${prefix}/${version}/`, skip);
}

test('initial sync downloads the aspired versions, verified, and nothing else', async () => {
  for (const v of [1, 2, 3]) await upload('initial', v);
  const h = harness();
  expect(await settle(h, model('initial'))).toEqual([2, 3]);
  const modelDir = join(h.store, 'm');
  expect(readdirSync(modelDir).filter((n) => !n.startsWith('.')).sort()).toEqual(['2', '3']);
  for (const v of [2, 3]) {
    const dir = join(modelDir, String(v));
    expect(treeOf(dir)).toEqual(['.tensorfleet-manifest.json', 'fingerprint.pb', 'saved_model.pb', 'variables/variables.data-00000-of-00001', 'variables/variables.index']);
    for (const f of ['saved_model.pb', 'variables/variables.index', 'variables/variables.data-00000-of-00001']) {
      expect(sha(join(dir, f))).toBe(sha(join(FIXTURES, String(v), f)));
    }
  }
  expect(readdirSync(join(modelDir, '.staging'))).toEqual([]);
});

test('a restart finds synced versions in the store and downloads nothing again', async () => {
  for (const v of [1, 2]) await upload('restart', v);
  const first = harness();
  expect(await settle(first, model('restart'))).toEqual([1, 2]);
  expect(first.bytes()).toBeGreaterThan(0);
  // A crash left a partial download behind.
  mkdirSync(join(first.store, 'm', '.staging', '9-abc'), { recursive: true });
  writeFileSync(join(first.store, 'm', '.staging', '9-abc', 'saved_model.pb'), 'partial');
  const second = harness({ store: first.store });
  const listing = await second.source.list(model('restart'), new AbortController().signal);
  expect([...listing.keys()].sort()).toEqual([1, 2]);
  await second.source.idle();
  expect(second.bytes()).toBe(0);
  expect(existsSync(join(first.store, 'm', '.staging', '9-abc'))).toBe(false);
});

test('a deleted version leaves the listing, an older one takes its place, and the store drops it once unused', async () => {
  for (const v of [1, 2, 3]) await upload('deletion', v);
  const h = harness();
  const config = model('deletion');
  expect(await settle(h, config)).toEqual([2, 3]);
  h.inUse.add(2).add(3); // the manager serves both
  await deletePrefix(admin, BUCKET, 'deletion/3/');
  expect(await settle(h, config)).toEqual([1, 2]);
  // Still loaded: kept on disk.
  expect(existsSync(join(h.store, 'm', '3'))).toBe(true);
  h.inUse.delete(3); // the manager unloaded it
  await settle(h, config);
  expect(readdirSync(join(h.store, 'm')).filter((n) => !n.startsWith('.')).sort()).toEqual(['1', '2']);
});

test('right after its download, a version deleted from S3 leaves the listing, and one changed in S3 (not loaded) is synced again', async () => {
  await upload('fresh', 1);
  const h = harness();
  const config = model('fresh', { kind: 'latest', numVersions: 1 });
  const signal = new AbortController().signal;
  await h.source.list(config, signal);
  await h.source.idle();
  // The next listing reuses the objects the download just checked, but the version prefix is listed.
  await deletePrefix(admin, BUCKET, 'fresh/1/');
  expect([...(await h.source.list(config, signal)).keys()]).toEqual([]);

  await upload('fresh', 1);
  expect(await settle(h, config)).toEqual([1]);
  const changed = Buffer.concat([readFileSync(join(FIXTURES, '1', 'saved_model.pb')), Buffer.from([0])]);
  await putObject(admin, BUCKET, 'fresh/1/saved_model.pb', changed);
  expect(await settle(h, config)).toEqual([1]);
  expect(sha(join(h.store, 'm', '1', 'saved_model.pb'))).toBe(createHash('sha256').update(changed).digest('hex'));
});

test('explains an empty listing: no version prefix, one not complete yet, a download under way; nothing once it offers a version', async () => {
  const h = harness();
  const config = model('explained', { kind: 'latest', numVersions: 1 });
  const list = (): Promise<number> => h.source.list(config, new AbortController().signal).then((l) => l.size);
  expect(await list()).toBe(0);
  expect(h.source.explain(config)).toBe(`no numbered version directory under s3://${BUCKET}/explained/`);
  await upload('explained', 1, (rel) => rel === 'variables/variables.index');
  expect(await list()).toBe(0);
  expect(h.source.explain(config)).toBe(`version 1 under s3://${BUCKET}/explained/ not complete yet (a SavedModel, unchanged between two listings)`);
  await upload('explained', 1, (rel) => rel !== 'variables/variables.index');
  // Complete once a second listing finds it unchanged; the download then starts in the background.
  await eventually(async () => {
    expect(await list()).toBe(0);
    expect(h.source.explain(config)).toMatch(new RegExp(`^downloading version 1 from s3://${BUCKET}/explained/( \\(version 1: [0-9.]+ of [0-9.]+ MB\\))?$`));
  });
  await h.source.idle();
  expect(await list()).toBe(1);
  expect(h.source.explain(config)).toBeUndefined();
});

test('a partially uploaded version is offered only once complete and unchanged', async () => {
  await upload('partial', 1);
  const h = harness();
  const config = model('partial', { kind: 'latest', numVersions: 1 });
  expect(await settle(h, config)).toEqual([1]);
  // Graph and data, no variables index yet: not a complete SavedModel.
  await upload('partial', 2, (rel) => rel === 'variables/variables.index');
  expect(await settle(h, config)).toEqual([1]);
  expect(existsSync(join(h.store, 'm', '2'))).toBe(false);
  expect(h.logger.lines.some((l) => l.msg === 'model version not complete yet' && (l.obj as { version?: number }).version === 2)).toBe(true);
  await upload('partial', 2, (rel) => rel !== 'variables/variables.index');
  expect(await settle(h, config)).toEqual([2]);
});

test('with a completion marker, a version waits for the marker however long it looks complete', async () => {
  await upload('marker', 1);
  await putObject(admin, BUCKET, 'marker/1/.complete', '');
  await upload('marker', 2);
  const h = harness({ marker: '.complete' });
  const config = model('marker', { kind: 'latest', numVersions: 1 });
  expect(await settle(h, config)).toEqual([1]);
  expect(existsSync(join(h.store, 'm', '1', '.complete'))).toBe(false);
  await putObject(admin, BUCKET, 'marker/2/.complete', '');
  expect(await settle(h, config)).toEqual([2]);
});

test('bodies cut mid-transfer never reach the store; the version arrives intact once the network heals', async () => {
  await upload('truncated', 1);
  const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
  for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
  await upload('truncated', 2, (rel) => rel.startsWith('variables/variables.data'));
  await putObject(admin, BUCKET, 'truncated/2/variables/variables.data-00000-of-00001', big);
  const proxy = await FaultProxy.start(s3.port);
  cleanups.push(() => proxy.close());
  const h = harness({ endpoint: proxy.endpoint });
  const config = model('truncated', { kind: 'latest', numVersions: 1 });
  proxy.cutAfterBytes = 200_000; // listings fit through one connection; a 1 MiB part does not
  expect(await settle(h, config)).toEqual([]); // only the aspired version 2 is fetched
  expect(proxy.cuts).toBeGreaterThan(0);
  expect(existsSync(join(h.store, 'm', '2'))).toBe(false);
  expect(h.logger.lines.some((l) => l.level === 'error' && l.msg?.includes('not synced'))).toBe(true);
  // Nothing to serve yet: the model status says what goes wrong.
  expect(h.source.explain(config)).toMatch(new RegExp(`^downloading version 2 from s3://${BUCKET}/truncated/, which failed \\d+ times? in a row \\(.+\\); retrying$`));
  proxy.cutAfterBytes = undefined; // the network heals
  proxy.dropAll();
  await sleep(600); // the backoff
  expect(await settle(h, config)).toEqual([2]);
  expect(sha(join(h.store, 'm', '2', 'variables', 'variables.data-00000-of-00001'))).toBe(createHash('sha256').update(big).digest('hex'));
  expect(readdirSync(join(h.store, 'm', '.staging'))).toEqual([]);
});

test('the S3 server stopped mid-download: listings fail with backoff, the download resumes after a restart', async () => {
  await upload('outage', 1);
  const big = Buffer.alloc(12 * 1024 * 1024, 3);
  for (let i = 0; i < big.length; i += 1000) big[i] = (i / 1000) % 256;
  await upload('outage', 2, (rel) => rel.startsWith('variables/variables.data'));
  await putObject(admin, BUCKET, 'outage/2/variables/variables.data-00000-of-00001', big);
  const proxy = await FaultProxy.start(s3.port);
  cleanups.push(() => proxy.close());
  proxy.bytesPerSecond = 4 * 1024 * 1024; // per connection: a few seconds for the whole object
  const h = harness({ endpoint: proxy.endpoint, retryInitialMs: 1500 });
  const config = model('outage', { kind: 'latest', numVersions: 1 });
  await h.source.list(config, new AbortController().signal); // starts the download
  await sleep(500);
  cleanups.push(() => s3.resume().catch(() => undefined));
  await s3.pause();
  proxy.dropAll();
  await h.source.idle();
  await expect(h.source.list(config, new AbortController().signal)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  // Within the backoff the failure is reported again without calling S3.
  await expect(h.source.list(config, new AbortController().signal)).rejects.toThrow(/retrying in/);
  await s3.resume();
  proxy.bytesPerSecond = undefined;
  await sleep(1600);
  expect(await settle(h, config)).toEqual([2]);
  expect(sha(join(h.store, 'm', '2', 'variables', 'variables.data-00000-of-00001'))).toBe(createHash('sha256').update(big).digest('hex'));
  // Parts fetched before the outage were kept: well under two full downloads.
  expect(h.bytes()).toBeLessThan(2 * big.length);
  expect(readdirSync(join(h.store, 'm', '.staging'))).toEqual([]);
});

/** A 24 MiB version behind a slow link (about 24 s to fetch), its download started. */
async function startSlowDownload(prefix: string): Promise<{ h: Harness; big: Buffer }> {
  const big = Buffer.alloc(24 * 1024 * 1024, 5);
  for (let i = 0; i < big.length; i += 1000) big[i] = (i / 1000) % 256;
  await upload(prefix, 1, (rel) => rel.startsWith('variables/variables.data'));
  await putObject(admin, BUCKET, `${prefix}/1/variables/variables.data-00000-of-00001`, big);
  const proxy = await FaultProxy.start(s3.port);
  cleanups.push(() => proxy.close());
  proxy.bytesPerSecond = 128 * 1024; // 24 one-MiB parts over 8 connections
  const h = harness({ endpoint: proxy.endpoint });
  await h.source.list(model(prefix, { kind: 'latest', numVersions: 1 }), new AbortController().signal);
  await eventually(() => expect(h.bytes()).toBeGreaterThan(0), 10_000);
  return { h, big };
}

test('a base path moved mid-download abandons that download: the new location syncs at once', async () => {
  const { h, big } = await startSlowDownload('abandoned');
  await upload('moved-to', 1);
  const moved = model('moved-to', { kind: 'latest', numVersions: 1 });
  const started = Date.now();
  expect(await settle(h, moved)).toEqual([1]);
  expect(Date.now() - started, 'the old download was waited for').toBeLessThan(12_000);
  expect(h.bytes()).toBeLessThan(big.length);
  expect(h.logger.lines.some((l) => l.msg === 'model version download abandoned')).toBe(true);
  expect(h.logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  expect(JSON.parse(readFileSync(join(h.store, 'm', '1', '.tensorfleet-manifest.json'), 'utf8'))).toMatchObject({ source: `s3://${BUCKET}/moved-to/` });
  expect(readdirSync(join(h.store, 'm', '.staging'))).toEqual([]);
});

test('a model that leaves the config stops its download', async () => {
  const { h, big } = await startSlowDownload('removed');
  const started = Date.now();
  h.source.forget('m');
  await h.source.idle();
  expect(Date.now() - started, 'the download ran on').toBeLessThan(5_000);
  expect(h.bytes()).toBeLessThan(big.length);
  expect(h.logger.lines.some((l) => l.msg === 'model version download abandoned')).toBe(true);
  expect(h.logger.lines.filter((l) => l.level === 'error')).toEqual([]);
});

test('credentials come from files and a rotated file takes effect without a restart', async () => {
  await upload('creds', 1);
  const dir = mkdtempSync(join(work, 'rotating-'));
  writeFileSync(join(dir, 'accessKeyId'), ACCESS_KEY);
  writeFileSync(join(dir, 'secretAccessKey'), 'wrong-secret-value');
  const h = harness({ credentials: dir, retryInitialMs: 100 });
  const config = model('creds');
  const error = await h.source.list(config, new AbortController().signal).catch((e: unknown) => e);
  expect(error).toMatchObject({ code: 'PERMISSION_DENIED' });
  writeFileSync(join(dir, 'secretAccessKey'), SECRET_KEY);
  await sleep(1200); // the file cache (1 s) and the backoff
  expect(await settle(h, config)).toEqual([1]);
  const logged = JSON.stringify(h.logger.lines);
  expect(logged).not.toContain(SECRET_KEY);
  expect(logged).not.toContain('wrong-secret-value');
});

test('a version with an unsafe key is refused whole; nothing is written outside the store', async () => {
  await upload('malicious', 1);
  await upload('malicious', 2);
  await putObject(admin, BUCKET, 'malicious/2/a\\..\\..\\escape', 'x');
  const h = harness();
  expect(await settle(h, model('malicious', { kind: 'latest', numVersions: 1 }))).toEqual([1]);
  expect(existsSync(join(h.store, 'm', '2'))).toBe(false);
  expect(readdirSync(h.store)).toEqual(['m']);
  const refusal = h.logger.lines.find((l) => l.msg === 'model version refused: unsafe object key');
  expect(refusal?.obj).toMatchObject({ version: 2, problem: expect.stringContaining('backslash') as unknown });
});

test('a full disk fails the download cleanly and leaves the served version intact', async () => {
  const mountPoint = mkdtempSync(join(work, 'small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint], { stdio: 'pipe' });
  } catch (error) {
    throw new Error(`this test needs to mount a 2 MiB tmpfs (run as root): ${String(error)}`, { cause: error });
  }
  cleanups.push(() => void execFileSync('umount', [mountPoint]));
  await upload('fulldisk', 1);
  const h = harness({ store: mountPoint });
  const config = model('fulldisk', { kind: 'latest', numVersions: 1 });
  expect(await settle(h, config)).toEqual([1]);
  const before = treeOf(join(mountPoint, 'm', '1')).map((f) => `${f}:${sha(join(mountPoint, 'm', '1', f))}`);
  await upload('fulldisk', 2, (rel) => rel.startsWith('variables/variables.data'));
  await putObject(admin, BUCKET, 'fulldisk/2/variables/variables.data-00000-of-00001', Buffer.alloc(3 * 1024 * 1024, 1));
  expect(await settle(h, config)).toEqual([1]);
  const failure = h.logger.lines.find((l) => l.level === 'error');
  expect(JSON.stringify(failure?.obj)).toMatch(/RESOURCE_EXHAUSTED|ENOSPC|full/);
  expect(treeOf(join(mountPoint, 'm', '1')).map((f) => `${f}:${sha(join(mountPoint, 'm', '1', f))}`)).toEqual(before);
  expect(readdirSync(join(mountPoint, 'm', '.staging'))).toEqual([]);
});
