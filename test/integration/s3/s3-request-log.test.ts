/**
 * Request logs with an s3:// filename_prefix, on the built server and a real S3-compatible
 * server: sampled calls reach the bucket as TFRecord files of PredictionLogs, an S3 outage delays
 * them without losing any, a stopping server uploads what it holds, and files an earlier run left
 * in the spool directory are uploaded at the next start.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { readPredictionLog } from '../../../src/server/servables/tensorflow/warmup/prediction-log.js';
import { readTfRecords } from '../../../src/server/servables/tensorflow/warmup/tfrecord-reader.js';
import { eventually } from '../../helpers/k8s/eventually.js';
import { FIXTURES_DIR } from '../../helpers/server/fixture-tensors.js';
import { tfsClients } from '../../helpers/server/grpc-client.js';
import { scrapeMetric } from '../../helpers/server/rest-client.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';
import { ACCESS_KEY, SECRET_KEY, S3TestServer, createBucket } from '../../helpers/s3/s3-server.js';

const PREFIX = 'requests/tiny';
let s3: S3TestServer;
let admin: S3Client;
let work: string;
let spool: string;

const config = `model_config_list:
  - name: tiny
    base_path: ${JSON.stringify(join(FIXTURES_DIR, 'models', 'tiny'))}
    logging_config: {log_collector_config: {type: tfrecord, filename_prefix: "s3://logs/${PREFIX}"}, sampling_config: {sampling_rate: 1}}
`;

const start = (uploadIntervalSeconds: number): Promise<ServerProcess> =>
  startServer({
    config,
    args: [
      `--s3_endpoint=${s3.endpoint}`,
      `--s3_credentials_dir=${join(work, 'creds')}`,
      `--request_log_spool_dir=${spool}`,
      `--request_log_upload_interval_seconds=${uploadIntervalSeconds}`,
    ],
  });

async function predict(server: ServerProcess, values: number[][]): Promise<void> {
  const clients = tfsClients(server.grpcTarget, { ownConnection: true });
  try {
    for (const x of values) {
      await clients.prediction.call('Predict', { model_spec: { name: 'tiny' }, inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 1 }, { size: 4 }] }, float_val: x } } });
    }
  } finally {
    clients.close();
  }
}

/** Every uploaded log object: its key and the first input of each record, in key order. */
async function uploaded(): Promise<{ key: string; inputs: number[][] }[]> {
  const listed = await admin.send(new ListObjectsV2Command({ Bucket: 'logs', Prefix: `${PREFIX}.` }));
  const out: { key: string; inputs: number[][] }[] = [];
  for (const { Key } of (listed.Contents ?? []).sort((a, b) => (a.Key! < b.Key! ? -1 : 1))) {
    const body = Buffer.from(await (await admin.send(new GetObjectCommand({ Bucket: 'logs', Key }))).Body!.transformToByteArray());
    const file = join(work, 'download.tfrecord');
    writeFileSync(file, body);
    const inputs: number[][] = [];
    for await (const record of readTfRecords(file, 1 << 20)) {
      const log = readPredictionLog(record);
      if (log.kind === 'predict') inputs.push(Array.from(log.request.inputs.x?.float_val ?? []));
    }
    out.push({ key: Key!, inputs });
  }
  return out;
}
const allInputs = async (): Promise<number[][]> => (await uploaded()).flatMap((o) => o.inputs).sort((a, b) => a[0]! - b[0]!);
const spooled = (): string[] => readdirSync(spool).filter((f) => f.endsWith('.tfrecord'));

beforeAll(async () => {
  s3 = await S3TestServer.start();
  admin = s3.client();
  await createBucket(admin, 'logs');
  work = mkdtempSync(join(tmpdir(), 'tensorfleet-s3-request-log-'));
  spool = join(work, 'spool');
  mkdirSync(join(work, 'creds'));
  writeFileSync(join(work, 'creds', 'accessKeyId'), ACCESS_KEY);
  writeFileSync(join(work, 'creds', 'secretAccessKey'), SECRET_KEY);
}, 120_000);

afterAll(async () => {
  admin?.destroy();
  await s3?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('sampled calls reach the bucket every upload interval, and an S3 outage delays them without losing any', async () => {
  const server = await start(1);
  try {
    await predict(server, [[1, 0, 0, 0], [2, 0, 0, 0], [3, 0, 0, 0]]);
    await eventually(async () => expect(await allInputs()).toEqual([[1, 0, 0, 0], [2, 0, 0, 0], [3, 0, 0, 0]]), 20_000);
    const [first] = await uploaded();
    expect(first?.key).toMatch(new RegExp(`^${PREFIX}\\.\\d{8}T\\d{6}Z\\.[^.]+\\.\\d+\\.1\\.tfrecord$`));
    await eventually(() => expect(spooled()).toEqual([]));

    await s3.pause();
    await predict(server, [[4, 0, 0, 0], [5, 0, 0, 0]]);
    await eventually(async () => expect(await scrapeMetric(server.restUrl, 'tensorfleet_request_log_uploads_total', { outcome: 'failed' })).toBeGreaterThan(0), 20_000);
    expect(spooled().length).toBeGreaterThan(0);
    await s3.resume();
    await eventually(async () => expect(await allInputs()).toEqual([1, 2, 3, 4, 5].map((v) => [v, 0, 0, 0])), 60_000);
    await eventually(() => expect(spooled()).toEqual([]));
  } finally {
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  }
}, 180_000);

test('a stopping server uploads what it holds, and the next start uploads what an earlier run left behind', async () => {
  // A file a killed server left: named as this prefix's files are in the spool directory.
  const copied = (await uploaded())[0]!;
  const body = Buffer.from(await (await admin.send(new GetObjectCommand({ Bucket: 'logs', Key: copied.key }))).Body!.transformToByteArray());
  const leftover = `${encodeURIComponent(`logs/${PREFIX}`)}.20260101T000000Z.gone-host.7.1.tfrecord`;
  writeFileSync(join(spool, leftover), body);

  const server = await start(3600);
  await eventually(async () => expect((await uploaded()).map((o) => o.key)).toContain(`${PREFIX}.20260101T000000Z.gone-host.7.1.tfrecord`), 20_000);
  const before = (await uploaded()).length;
  await predict(server, [[6, 0, 0, 0]]);
  expect(await server.stop()).toEqual({ code: 0, signal: null });
  const after = await uploaded();
  expect(after.length).toBe(before + 1);
  expect(after.flatMap((o) => o.inputs)).toContainEqual([6, 0, 0, 0]);
  expect(spooled()).toEqual([]);
}, 120_000);
