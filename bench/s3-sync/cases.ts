/**
 * What the S3 sync benchmark and probe measure: the two benchmark versions in a local versitygw,
 * and timed cases (TensorFleet's S3 source, the same GETs without a disk, aws s3 sync, s5cmd),
 * each with the CPU the client and the server used.
 */
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { execFileSync, spawnSync } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { closeSync, createReadStream, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ModelConfig } from '../../src/server/config/model-config.js';
import { silentLogger, type Logger } from '../../src/server/core/logger.js';
import { createS3Client } from '../../src/server/sources/s3/create-s3-client.js';
import { partSizeFor, type TransferSettings } from '../../src/server/sources/s3/download-files.js';
import { Limiter } from '../../src/server/sources/s3/limiter.js';
import { objectGetterFor, type ObjectGetter } from '../../src/server/sources/s3/object-getter.js';
import { S3VersionSource } from '../../src/server/sources/s3/s3-version-source.js';
import { resolveS3Settings } from '../../src/server/sources/s3/s3-settings.js';
import { ACCESS_KEY, SECRET_KEY, createBucket, putObject } from '../../test/helpers/s3/s3-server.js';
import { cpuOfStat, type BenchGateway } from './gateway.js';

const REPO = join(import.meta.dirname, '..', '..');
export const BUCKET = 'bench';
export const MARKER = '.complete';
export const SMALL_FILES = 500;
export const SMALL_BYTES = 16 * 1024;

export type Model = 'big' | 'small';

/** The peers' binaries (undefined when they could not be installed). */
export function benchTools(): { aws?: string; s5cmd?: string } {
  const out = execFileSync('bash', [join(REPO, 'scripts/s3/ensure-bench-tools.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const get = (k: string): string | undefined => out.split('\n').find((l) => l.startsWith(`${k}=`))?.slice(k.length + 1) || undefined;
  const found: { aws?: string; s5cmd?: string } = {};
  const a = get('aws');
  const s = get('s5cmd');
  if (a !== undefined) found.aws = a;
  if (s !== undefined) found.s5cmd = s;
  return found;
}

/**
 * Uploads version 1 of `big` (a SavedModel shape with one `bigMb` MiB variables file) and of
 * `small` (500 files of 16 KiB in all), each with a completion marker.
 */
export async function uploadBenchData(admin: S3Client, work: string, bigMb: number, models: readonly Model[] = ['big', 'small']): Promise<void> {
  await createBucket(admin, BUCKET);
  const fixture = join(REPO, 'test/fixtures/models/versioned/1');
  for (const m of models) {
    await putObject(admin, BUCKET, `${m}/1/saved_model.pb`, readFileSync(join(fixture, 'saved_model.pb')));
    await putObject(admin, BUCKET, `${m}/1/variables/variables.index`, readFileSync(join(fixture, 'variables/variables.index')));
  }
  if (models.includes('big')) {
    const bigFile = join(work, 'big.bin');
    const fd = openSync(bigFile, 'w');
    execFileSync('head', ['-c', String(bigMb * 1024 * 1024), '/dev/urandom'], { stdio: ['ignore', fd, 'inherit'] });
    closeSync(fd);
    await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'big/1/variables/variables.data-00000-of-00001', Body: createReadStream(bigFile), ContentLength: statSync(bigFile).size }));
    rmSync(bigFile);
  }
  if (models.includes('small')) {
    const body = Buffer.alloc(SMALL_BYTES, 5);
    const n = SMALL_FILES - 2;
    for (let i = 0; i < n; i += 16) {
      await Promise.all(Array.from({ length: Math.min(16, n - i) }, (_, j) => putObject(admin, BUCKET, `small/1/assets/file-${String(i + j).padStart(4, '0')}.bin`, body)));
    }
  }
  for (const m of models) await putObject(admin, BUCKET, `${m}/1/${MARKER}`, '');
}

export interface CaseResult {
  readonly seconds: number;
  /** CPU seconds of the client (our process for TensorFleet cases, the tool otherwise). */
  readonly clientCpu: number;
  /** The user-space part of clientCpu, for TensorFleet's cases (undefined for the tools). */
  readonly clientUserCpu: number | undefined;
  readonly serverCpu: number;
}

export interface CaseContext {
  readonly gateway: BenchGateway;
  readonly admin: S3Client;
  readonly work: string;
  readonly tools: { aws?: string; s5cmd?: string };
  /** Logs the sync's steps with times, when set. */
  readonly trace?: (msg: string) => void;
}

/**
 * Cases: `tensorfleet` (S3VersionSource: list, download, verify, manifest, rename, list again),
 * `tensorfleet-sdk` (the same through the SDK's GetObject), `raw` (the same GETs, bodies
 * dropped: no disk), `aws` (aws s3 sync), `s5cmd` (s5cmd cp). `@CxP` sets C GETs in flight and
 * P MiB parts for TensorFleet cases (default: the server's, 16 GETs and parts sized by
 * partSizeFor). Every run starts with the page cache's dirty data written out (`sync`), so one
 * run's writeback does not slow the next.
 */
export async function runCase(ctx: CaseContext, name: string, m: Model): Promise<CaseResult> {
  const [c, tuning] = name.split('@') as [string, string | undefined];
  // Without @CxP: the server's defaults (16 GETs in flight, parts sized by partSizeFor).
  const [concurrency, partMb] = tuning === undefined ? [16, undefined] : (tuning.split('x').map(Number) as [number, number]);
  const dest = join(ctx.work, `${c}-${m}`);
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest);
  execFileSync('sync');
  const before = { ours: process.cpuUsage(), server: ctx.gateway.cpuSeconds(), children: childrenCpu() };
  let seconds: number;
  try {
    if (c === 'aws' || c === 's5cmd') seconds = runTool(ctx, c, m, dest);
    else seconds = await runOurs(ctx, c, m, dest, concurrency, partMb);
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
  const ours = process.cpuUsage(before.ours);
  const tool = c === 'aws' || c === 's5cmd';
  return {
    seconds,
    clientCpu: tool ? childrenCpu() - before.children : (ours.user + ours.system) / 1e6,
    clientUserCpu: tool ? undefined : ours.user / 1e6,
    serverCpu: ctx.gateway.cpuSeconds() - before.server,
  };
}

const childrenCpu = (): number => cpuOfStat(readFileSync('/proc/self/stat', 'utf8'), 'children');

function runTool(ctx: CaseContext, tool: 'aws' | 's5cmd', m: Model, dest: string): number {
  const bin = ctx.tools[tool];
  if (bin === undefined) throw new Error(`${tool} is not installed`);
  const endpoint = ctx.gateway.endpoint;
  const args =
    tool === 'aws' ? ['s3', 'sync', `s3://${BUCKET}/${m}/1/`, dest, '--endpoint-url', endpoint, '--only-show-errors'] : ['--endpoint-url', endpoint, 'cp', `s3://${BUCKET}/${m}/1/*`, `${dest}/`];
  const env = { ...process.env, AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY, AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-east-1' };
  const t = process.hrtime.bigint();
  const r = spawnSync(bin, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${r.status})`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/** S3VersionSource options as the server builds them, for the benchmark's gateway. */
export function benchSource(
  endpoint: string,
  store: string,
  options: { concurrency?: number; partMb?: number | undefined; sdkGet?: boolean; logger?: Logger } = {},
): { source: S3VersionSource; client: S3Client; config: (m: string) => ModelConfig; transfer: TransferSettings } {
  const dir = join(store, '..', `${store.split('/').pop()}-credentials`);
  mkdirSync(dir, { recursive: true });
  // Credentials as the operator mounts them (files), so the SDK chain needs no environment.
  writeCredentials(dir);
  const settings = resolveS3Settings(
    { s3_endpoint: endpoint, s3_completion_marker: MARKER, s3_credentials_dir: dir, s3_download_concurrency: options.concurrency ?? 16, s3_part_size_mb: options.partMb },
    options.sdkGet === true ? { TENSORFLEET_S3_SDK_GET: '1' } : {},
  );
  const client = createS3Client(settings, Date.now);
  const logger = options.logger ?? silentLogger;
  const source = new S3VersionSource({
    client,
    storeDir: store,
    logger,
    now: Date.now,
    sleep: (ms, signal) => sleep(ms, undefined, { signal }),
    isInUse: () => false,
    concurrency: settings.concurrency,
    transfer: settings.transfer,
    completionMarker: MARKER,
  });
  const config = (m: string): ModelConfig => ({ name: m, basePath: `s3://${BUCKET}/${m}`, versionPolicy: { kind: 'latest', numVersions: 1 }, versionLabels: {}, routing: {} });
  return { source, client, config, transfer: settings.transfer };
}

function writeCredentials(dir: string): void {
  writeFileSync(join(dir, 'accessKeyId'), ACCESS_KEY);
  writeFileSync(join(dir, 'secretAccessKey'), SECRET_KEY);
}

async function runOurs(ctx: CaseContext, c: string, m: Model, dest: string, concurrency: number, partMb: number | undefined): Promise<number> {
  const store = join(dest, 'store');
  const t0 = process.hrtime.bigint();
  const trace = ctx.trace;
  const logger: Logger | undefined =
    trace === undefined ? undefined : { ...silentLogger, info: (_o: object | string, msg?: string) => trace(`${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)} ms ${msg ?? ''}`), child: () => logger! };
  const { source, client, config, transfer } = benchSource(ctx.gateway.endpoint, store, { concurrency, partMb, sdkGet: c === 'tensorfleet-sdk' || c === 'raw-sdk', ...(logger ? { logger } : {}) });
  try {
    if (c === 'raw' || c === 'raw-sdk') return await rawGets(objectGetterFor(client), ctx.admin, m, transfer, concurrency);
    const signal = new AbortController().signal;
    const t = process.hrtime.bigint();
    await source.list(config(m), signal);
    await source.idle();
    const listing = await source.list(config(m), signal);
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    if (listing.size !== 1) throw new Error(`sync of ${m} did not complete`);
    return seconds;
  } finally {
    await source.close();
    client.destroy();
  }
}

/** The GETs a sync of `m` makes (same limiter, same parts), bodies counted and dropped. */
async function rawGets(getter: ObjectGetter, admin: S3Client, m: Model, transfer: TransferSettings, concurrency: number): Promise<number> {
  const page = await admin.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${m}/1/` }));
  const objects = (page.Contents ?? []).filter((o) => !o.Key!.endsWith(MARKER)).map((o) => ({ key: o.Key!, size: o.Size!, etag: o.ETag!.replace(/"/g, '') }));
  const limiter = new Limiter(concurrency);
  const signal = new AbortController().signal;
  setMaxListeners(0, signal);
  const t = process.hrtime.bigint();
  const jobs: Promise<void>[] = [];
  for (const o of objects) {
    const partSize = partSizeFor(o.size, transfer, concurrency);
    const parts = o.size > transfer.multipartThresholdBytes ? Math.ceil(o.size / partSize) : 1;
    for (let i = 0; i < parts; i++) {
      const range = parts === 1 ? undefined : { start: i * partSize, length: Math.min(partSize, o.size - i * partSize) };
      jobs.push(
        limiter.run(async () => {
          const { stream, recycle } = await getter.get({ bucket: BUCKET, key: o.key, etag: o.etag, ...(range ? { range } : {}) }, signal);
          let n = 0;
          // Handed back as the sync hands back written blocks, so both reuse the same memory.
          for await (const chunk of stream as AsyncIterable<Buffer>) {
            n += chunk.length;
            recycle?.(chunk);
          }
          if (n !== (range?.length ?? o.size)) throw new Error(`short body for ${o.key}`);
        }),
      );
    }
  }
  await Promise.all(jobs);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
