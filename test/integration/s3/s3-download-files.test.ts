/**
 * downloadFiles over the lean getter against versitygw: every size class of the write path (empty,
 * buffered small objects, streamed whole objects, ranged parts with a short last part) lands byte
 * for byte, and the bytes reported match what was written.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createS3Client } from '../../../src/server/sources/s3/create-s3-client.js';
import { downloadFiles } from '../../../src/server/sources/s3/download-files.js';
import { Limiter } from '../../../src/server/sources/s3/limiter.js';
import { objectGetterFor } from '../../../src/server/sources/s3/object-getter.js';
import type { RemoteFile } from '../../../src/server/sources/s3/remote-version.js';
import { resolveS3Settings } from '../../../src/server/sources/s3/s3-settings.js';
import { ACCESS_KEY, SECRET_KEY, S3TestServer, createBucket, putObject } from '../../helpers/s3/s3-server.js';

const MiB = 1024 * 1024;
const SIZES: Record<string, number> = {
  'empty.bin': 0,
  'one.bin': 1,
  'small.bin': 16 * 1024,
  'exactly-1mib.bin': MiB,
  'just-over-1mib.bin': MiB + 1,
  'whole-streamed.bin': 1.5 * MiB,
  'deep/parts.bin': 5 * MiB + 3,
  'deep/exact-parts.bin': 4 * MiB,
};

let s3: S3TestServer;
let admin: S3Client;
let client: S3Client;
let work: string;
const bodies = new Map<string, Buffer>();

beforeAll(async () => {
  s3 = await S3TestServer.start();
  admin = s3.client();
  await createBucket(admin, 'downloads');
  for (const [name, size] of Object.entries(SIZES)) {
    const body = randomBytes(size);
    bodies.set(name, body);
    await putObject(admin, 'downloads', `v/1/${name}`, body);
  }
  work = mkdtempSync(join(tmpdir(), 'tensorfleet-s3-dl-'));
  writeFileSync(join(work, 'accessKeyId'), ACCESS_KEY);
  writeFileSync(join(work, 'secretAccessKey'), SECRET_KEY);
  client = createS3Client(resolveS3Settings({ s3_endpoint: s3.endpoint, s3_credentials_dir: work }, {}), Date.now);
});

afterAll(async () => {
  client?.destroy();
  admin?.destroy();
  await s3?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test.each([
  { concurrency: 1, maxPartMiB: 1, bigParts: 6, label: 'one GET at a time, 1 MiB parts' },
  { concurrency: 8, maxPartMiB: 1, bigParts: 6, label: 'eight GETs in flight, 1 MiB parts' },
  // 5 MiB + 3 over 2 slots: parts grow to 3 MiB, so two GETs.
  { concurrency: 2, maxPartMiB: 4, bigParts: 2, label: 'two GETs in flight, parts growing up to 4 MiB' },
])('every size class arrives byte for byte ($label)', async ({ concurrency, maxPartMiB, bigParts }) => {
  const page = await admin.send(new ListObjectsV2Command({ Bucket: 'downloads', Prefix: 'v/1/' }));
  const files: RemoteFile[] = (page.Contents ?? []).map((o) => ({ key: o.Key!, size: o.Size!, etag: o.ETag!.replace(/"/g, ''), path: o.Key!.slice('v/1/'.length) }));
  expect(files).toHaveLength(Object.keys(SIZES).length);
  const dir = mkdtempSync(join(work, 'staging-'));
  let reported = 0;
  const done = new Set<string>();
  await downloadFiles({
    getter: objectGetterFor(client),
    bucket: 'downloads',
    files,
    dir,
    limiter: new Limiter(concurrency),
    transfer: { partSizeBytes: MiB, maxPartSizeBytes: maxPartMiB * MiB, multipartThresholdBytes: 2 * MiB },
    signal: new AbortController().signal,
    onBytes: (n) => void (reported += n),
    done,
  });
  for (const [name, body] of bodies) expect({ name, sha: sha(readFileSync(join(dir, name))) }).toEqual({ name, sha: sha(body) });
  expect(reported).toBe(Object.values(SIZES).reduce((a, b) => a + b, 0));
  expect([...done].filter((id) => !id.includes('#')).sort()).toEqual(Object.keys(SIZES).sort());
  expect([...done].filter((id) => id.startsWith('deep/parts.bin#'))).toHaveLength(bigParts);
});
