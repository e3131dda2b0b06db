/**
 * Listing through signed GETs and our own ListBucketResult parser against a real S3-compatible
 * server (versitygw on loopback), side by side with the SDK's ListObjectsV2: the same keys, sizes,
 * ETags, common prefixes and continuation, for awkward keys too; errors as the SDK path names them.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createS3Client } from '../../../src/server/sources/s3/create-s3-client.js';
import { s3Error } from '../../../src/server/sources/s3/download-files.js';
import type { ListPage } from '../../../src/server/sources/s3/list-bucket-result.js';
import { objectListerFor, sdkObjectLister, type ListRequest, type ObjectLister } from '../../../src/server/sources/s3/object-lister.js';
import { resolveS3Settings } from '../../../src/server/sources/s3/s3-settings.js';
import { ACCESS_KEY, SECRET_KEY, S3TestServer, createBucket, putObject } from '../../helpers/s3/s3-server.js';

const BUCKET = 'listing';
const KEYS = [
  'm/1/saved_model.pb',
  'm/1/variables/variables.index',
  'm/1/assets/a b+c%2e(1)!*é~.txt',
  'm/1/assets/x&y<z>"q\'.txt',
  'm/1/assets/emoji-😀.txt',
  'm/1/.complete',
  'm/2/saved_model.pb',
  'm/10/saved_model.pb',
  'other/1/saved_model.pb',
];

let s3: S3TestServer;
let admin: S3Client;
let work: string;
const clients: S3Client[] = [];
const signal = new AbortController().signal;

beforeAll(async () => {
  s3 = await S3TestServer.start();
  admin = s3.client();
  await createBucket(admin, BUCKET);
  for (const [i, key] of KEYS.entries()) await putObject(admin, BUCKET, key, 'x'.repeat(i * 7));
  work = mkdtempSync(join(tmpdir(), 'tensorfleet-s3-lister-'));
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  admin?.destroy();
  await s3?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

function listerFor(secret = SECRET_KEY): ObjectLister {
  const dir = mkdtempSync(join(work, 'creds-'));
  writeFileSync(join(dir, 'accessKeyId'), ACCESS_KEY);
  writeFileSync(join(dir, 'secretAccessKey'), secret);
  const client = createS3Client(resolveS3Settings({ s3_endpoint: s3.endpoint, s3_credentials_dir: dir }, {}), Date.now);
  clients.push(client);
  return objectListerFor(client);
}

/** Every page of a listing, following continuation tokens. */
async function allPages(lister: ObjectLister, request: ListRequest): Promise<ListPage[]> {
  const pages: ListPage[] = [];
  let token: string | undefined;
  do {
    const page = await lister.list({ ...request, continuationToken: token }, signal);
    pages.push(page);
    token = page.nextToken;
  } while (token !== undefined);
  return pages;
}

describe('the lean lister against versitygw', () => {
  test('createS3Client attaches it', () => {
    expect(listerFor().kind).toBe('http');
  });

  test('lists every key under a prefix with its size and unquoted ETag, as the SDK does', async () => {
    const [page, ...more] = await allPages(listerFor(), { bucket: BUCKET, prefix: 'm/1/' });
    expect(more).toEqual([]);
    const mine = KEYS.flatMap((key, i) => (key.startsWith('m/1/') ? [{ key, size: i * 7 }] : []));
    expect(page!.objects.map(({ key, size }) => ({ key, size })).sort((a, b) => (a.key < b.key ? -1 : 1))).toEqual(mine.sort((a, b) => (a.key < b.key ? -1 : 1)));
    expect(page!.objects.every((o) => /^[0-9a-f]{32}$/.test(o.etag))).toBe(true);
    const sdk = await sdkObjectLister(admin).list({ bucket: BUCKET, prefix: 'm/1/' }, signal);
    expect(page).toEqual(sdk);
  });

  test('lists version prefixes with a delimiter', async () => {
    const [page] = await allPages(listerFor(), { bucket: BUCKET, prefix: 'm/', delimiter: '/' });
    expect(page!.objects).toEqual([]);
    expect([...page!.prefixes].sort()).toEqual(['m/1/', 'm/10/', 'm/2/']);
  });

  test('follows continuation tokens page by page, as the SDK does', async () => {
    const pages = await allPages(listerFor(), { bucket: BUCKET, prefix: 'm/', maxKeys: 2 });
    const sdkPages = await allPages(sdkObjectLister(admin), { bucket: BUCKET, prefix: 'm/', maxKeys: 2 });
    expect(pages.length).toBe(Math.ceil(KEYS.filter((k) => k.startsWith('m/')).length / 2));
    expect(pages.flatMap((p) => p.objects)).toEqual(sdkPages.flatMap((p) => p.objects));
    expect(pages.at(-1)!.nextToken).toBeUndefined();
  });

  test('an empty prefix lists nothing', async () => {
    expect(await listerFor().list({ bucket: BUCKET, prefix: 'nothing/' }, signal)).toEqual({ objects: [], prefixes: [], nextToken: undefined });
  });

  test('a wrong secret is PERMISSION_DENIED naming the signature mismatch', async () => {
    const e = await listerFor('wrong-secret').list({ bucket: BUCKET, prefix: 'm/' }, signal).then(
      () => undefined,
      (error: unknown) => s3Error(error, 'listing'),
    );
    expect(e?.code).toBe('PERMISSION_DENIED');
    expect(e?.message).toMatch(/SignatureDoesNotMatch/);
  });

  test('a missing bucket is NOT_FOUND', async () => {
    const e = await listerFor().list({ bucket: 'no-such-bucket', prefix: 'm/' }, signal).then(
      () => undefined,
      (error: unknown) => s3Error(error, 'listing'),
    );
    expect(e?.code).toBe('NOT_FOUND');
    expect(e?.message).toMatch(/NoSuchBucket/);
  });
});
