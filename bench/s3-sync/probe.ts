/**
 * Where the S3 sync time goes: uploads the benchmark's two versions to a local versitygw once,
 * then times chosen cases several times each (median), in one process:
 *   node --import tsx bench/s3-sync/probe.ts [case...]     (run it under the benchmark lock)
 * Cases: `sync-http`, `sync-sdk` (TensorFleet's source with either getter), `raw-http`,
 * `raw-sdk` (the same GETs, bodies discarded: no disk), `s5cmd`, `aws`, `s5cmd-null` (s5cmd cat
 * to /dev/null, no disk). Settings: BENCH_S3_BIG_MB (default 1024), PROBE_RUNS (3),
 * PROBE_CONCURRENCY (16), PROBE_PART_MB (8), PROBE_MODELS (big,small), PROBE_KEEPALIVE (0,1: the
 * server's keep-alive modes to run the cases under).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { execFileSync, spawnSync } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { closeSync, createReadStream, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ModelConfig } from '../../src/server/config/model-config.js';
import { silentLogger } from '../../src/server/core/logger.js';
import { createS3Client } from '../../src/server/sources/s3/create-s3-client.js';
import { objectGetterFor, type ObjectGetter } from '../../src/server/sources/s3/object-getter.js';
import { Limiter } from '../../src/server/sources/s3/limiter.js';
import { S3VersionSource } from '../../src/server/sources/s3/s3-version-source.js';
import { resolveS3Settings } from '../../src/server/sources/s3/s3-settings.js';
import { ACCESS_KEY, SECRET_KEY, createBucket, putObject } from '../../test/helpers/s3/s3-server.js';
import { BenchGateway } from './gateway.js';

const REPO = join(import.meta.dirname, '..', '..');
const BIG_MB = Number(process.env.BENCH_S3_BIG_MB ?? 1024);
const RUNS = Number(process.env.PROBE_RUNS ?? 3);
const CONCURRENCY = Number(process.env.PROBE_CONCURRENCY ?? 16);
const PART_MB = Number(process.env.PROBE_PART_MB ?? 8);
const MODELS = (process.env.PROBE_MODELS ?? 'big,small').split(',');
const MARKER = '.complete';
const cases = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['sync-http', 'raw-http', 's5cmd'];

const tools = execFileSync('bash', [join(REPO, 'scripts/s3/ensure-bench-tools.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const tool = (k: string): string | undefined => tools.split('\n').find((l) => l.startsWith(`${k}=`))?.slice(k.length + 1) || undefined;

process.env.AWS_ACCESS_KEY_ID = ACCESS_KEY;
process.env.AWS_SECRET_ACCESS_KEY = SECRET_KEY;
const env = { ...process.env, AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-east-1' };

const s3 = await BenchGateway.start(false);
const admin = s3.client();
const work = mkdtempSync(join(tmpdir(), 'tensorfleet-s3-probe-'));
try {
  await createBucket(admin, 'bench');
  const fixture = join(REPO, 'test/fixtures/models/versioned/1');
  for (const m of MODELS) {
    await putObject(admin, 'bench', `${m}/1/saved_model.pb`, readFileSync(join(fixture, 'saved_model.pb')));
    await putObject(admin, 'bench', `${m}/1/variables/variables.index`, readFileSync(join(fixture, 'variables/variables.index')));
    await putObject(admin, 'bench', `${m}/1/${MARKER}`, '');
  }
  if (MODELS.includes('big')) {
    const bigFile = join(work, 'big.bin');
    const fd = openSync(bigFile, 'w');
    execFileSync('head', ['-c', String(BIG_MB * 1024 * 1024), '/dev/urandom'], { stdio: ['ignore', fd, 'inherit'] });
    closeSync(fd);
    await admin.send(new PutObjectCommand({ Bucket: 'bench', Key: 'big/1/variables/variables.data-00000-of-00001', Body: createReadStream(bigFile), ContentLength: statSync(bigFile).size }));
    rmSync(bigFile);
  }
  if (MODELS.includes('small')) {
    const body = Buffer.alloc(16 * 1024, 5);
    for (let i = 0; i < 498; i += 16) {
      await Promise.all(Array.from({ length: Math.min(16, 498 - i) }, (_, j) => putObject(admin, 'bench', `small/1/assets/file-${String(i + j).padStart(4, '0')}.bin`, body)));
    }
  }
  // PROBE_CPU_PROF=<file>: a CPU profile of the cases only (not of the upload).
  const session = process.env.PROBE_CPU_PROF !== undefined ? new Session() : undefined;
  if (session !== undefined) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const load = execFileSync('uptime', { encoding: 'utf8' }).trim();
  console.log(`load before: ${load}`);
  for (const keepAlive of (process.env.PROBE_KEEPALIVE ?? '0,1').split(',').map((k) => k === '1')) {
    await s3.restart(keepAlive);
    console.log(`server keep-alive: ${keepAlive ? 'on' : 'off'}`);
    for (const m of MODELS) {
      for (const c of cases) {
        const times: number[] = [];
        for (let i = 0; i < RUNS; i++) times.push(await runCase(c, m));
        times.sort((a, b) => a - b);
        console.log(`${keepAlive ? 'ka ' : '   '}${m.padEnd(6)} ${c.padEnd(10)} median ${times[Math.floor(times.length / 2)]!.toFixed(3)} s  [${times.map((t) => t.toFixed(3)).join(', ')}]`);
      }
    }
  }
  console.log(`load after: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
  if (session !== undefined) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(process.env.PROBE_CPU_PROF!, JSON.stringify(profile));
    session.disconnect();
  }
} finally {
  admin.destroy();
  await s3.close();
  rmSync(work, { recursive: true, force: true });
}

async function runCase(c: string, m: string): Promise<number> {
  const dest = join(work, `${c}-${m}`);
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest);
  try {
    if (c === 's5cmd' || c === 'aws' || c === 's5cmd-null') {
      const bin = tool(c === 'aws' ? 'aws' : 's5cmd');
      if (bin === undefined) throw new Error(`${c} is not installed`);
      const args =
        c === 'aws'
          ? ['s3', 'sync', `s3://bench/${m}/1/`, dest, '--endpoint-url', s3.endpoint, '--only-show-errors']
          : c === 's5cmd'
            ? ['--endpoint-url', s3.endpoint, 'cp', `s3://bench/${m}/1/*`, `${dest}/`]
            : ['--endpoint-url', s3.endpoint, 'cat', `s3://bench/${m}/1/variables/variables.data-00000-of-00001`];
      const t = process.hrtime.bigint();
      const r = spawnSync(bin, args, { env, stdio: ['ignore', c === 's5cmd-null' ? 'ignore' : 'ignore', 'inherit'] });
      if (r.status !== 0) throw new Error(`${c} failed`);
      return Number(process.hrtime.bigint() - t) / 1e9;
    }
    const sdkGet = c.endsWith('-sdk');
    const settings = resolveS3Settings({ s3_endpoint: s3.endpoint, s3_completion_marker: MARKER, s3_download_concurrency: CONCURRENCY, s3_part_size_mb: PART_MB }, sdkGet ? { TENSORFLEET_S3_SDK_GET: '1' } : {});
    const client = createS3Client(settings, Date.now);
    try {
      if (c.startsWith('raw-')) return await rawGets(objectGetterFor(client), m, settings.partSizeBytes);
      const config: ModelConfig = { name: m, basePath: `s3://bench/${m}`, versionPolicy: { kind: 'latest', numVersions: 1 }, versionLabels: {}, routing: {} };
      const t0 = process.hrtime.bigint();
      // PROBE_TRACE=1: when each step of the sync happened (ms from the start).
      const trace = (msg: string): void => {
        if (process.env.PROBE_TRACE === '1') console.log(`  ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)} ms ${msg}`);
      };
      const logger = process.env.PROBE_TRACE === '1' ? { ...silentLogger, info: (_o: object | string, msg?: string) => trace(msg ?? '') } : silentLogger;
      const source = new S3VersionSource({
        client,
        storeDir: dest,
        logger: { ...logger, child: () => logger },
        now: Date.now,
        sleep: (ms, signal) => sleep(ms, undefined, { signal }),
        isInUse: () => false,
        concurrency: settings.concurrency,
        transfer: { partSizeBytes: settings.partSizeBytes, multipartThresholdBytes: settings.multipartThresholdBytes },
        completionMarker: MARKER,
      });
      const signal = new AbortController().signal;
      const t = process.hrtime.bigint();
      await source.list(config, signal);
      await source.idle();
      const listing = await source.list(config, signal);
      const seconds = Number(process.hrtime.bigint() - t) / 1e9;
      trace('listed again');
      if (listing.size !== 1) throw new Error(`sync of ${m} did not complete`);
      await source.close();
      return seconds;
    } finally {
      client.destroy();
    }
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
}

/** The GETs a sync of `m` makes (same limiter, same parts), bodies counted and dropped. */
async function rawGets(getter: ObjectGetter, m: string, partSize: number): Promise<number> {
  const objects =
    m === 'big'
      ? [{ key: 'big/1/variables/variables.data-00000-of-00001', size: BIG_MB * 1024 * 1024 }]
      : Array.from({ length: 498 }, (_, i) => ({ key: `small/1/assets/file-${String(i).padStart(4, '0')}.bin`, size: 16 * 1024 }));
  const etags = new Map<string, string>();
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const page = await admin.send(new ListObjectsV2Command({ Bucket: 'bench', Prefix: `${m}/1/` }));
  for (const o of page.Contents ?? []) etags.set(o.Key!, o.ETag!.replace(/"/g, ''));
  const limiter = new Limiter(CONCURRENCY);
  const signal = new AbortController().signal;
  setMaxListeners(0, signal);
  const t = process.hrtime.bigint();
  const jobs: Promise<void>[] = [];
  for (const o of objects) {
    const parts = o.size > 2 * partSize ? Math.ceil(o.size / partSize) : 1;
    for (let i = 0; i < parts; i++) {
      const range = parts === 1 ? undefined : { start: i * partSize, length: Math.min(partSize, o.size - i * partSize) };
      jobs.push(
        limiter.run(async () => {
          const { stream } = await getter.get({ bucket: 'bench', key: o.key, etag: etags.get(o.key)!, ...(range ? { range } : {}) }, signal);
          let n = 0;
          for await (const chunk of stream as AsyncIterable<Buffer>) n += chunk.length;
          if (n !== (range?.length ?? o.size)) throw new Error(`short body for ${o.key}`);
        }),
      );
    }
  }
  await Promise.all(jobs);
  return Number(process.hrtime.bigint() - t) / 1e9;
}
