/**
 * S3 sync benchmark, one run on one local S3 server (versitygw on loopback): download of one
 * ~1 GiB version and of a version of 500 small files by TensorFleet's S3 source, `aws s3 sync`
 * (awscli) and `s5cmd cp`, plus TensorFleet's no-change re-sync (same process, and a restart on
 * a full store). Writes the `s3-sync` section of docs/benchmarks.md.
 *   npm run bench -- s3-sync            (BENCH_S3_BIG_MB=1024 by default)
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, createReadStream, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger } from '../../src/server/core/logger.js';
import type { ModelConfig } from '../../src/server/config/model-config.js';
import { createS3Client } from '../../src/server/sources/s3/create-s3-client.js';
import { S3VersionSource } from '../../src/server/sources/s3/s3-version-source.js';
import { resolveS3Settings } from '../../src/server/sources/s3/s3-settings.js';
import { writeSection } from '../lib/markdown-section.js';
import { ACCESS_KEY, SECRET_KEY, S3TestServer, createBucket, putObject } from '../../test/helpers/s3/s3-server.js';

const REPO = join(import.meta.dirname, '..', '..');
const BIG_MB = Number(process.env.BENCH_S3_BIG_MB ?? 1024);
const SMALL_FILES = 500;
const SMALL_BYTES = 16 * 1024;
const MARKER = '.complete';

function tools(): { aws?: string; s5cmd?: string } {
  const out = execFileSync('bash', [join(REPO, 'scripts/s3/ensure-bench-tools.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const get = (k: string): string | undefined => out.split('\n').find((l) => l.startsWith(`${k}=`))?.slice(k.length + 1) || undefined;
  const found: { aws?: string; s5cmd?: string } = {};
  const a = get('aws');
  const s = get('s5cmd');
  if (a !== undefined) found.aws = a;
  if (s !== undefined) found.s5cmd = s;
  return found;
}

async function main(): Promise<void> {
  const { aws, s5cmd } = tools();
  const s3 = await S3TestServer.start();
  const admin = s3.client();
  const work = mkdtempSync(join(tmpdir(), 'tensorfleet-s3-bench-'));
  try {
    await createBucket(admin, 'bench');
    // Version "big": a SavedModel shape with one ~1 GiB variables file.
    const fixture = join(REPO, 'test/fixtures/models/versioned/1');
    const bigFile = join(work, 'big.bin');
    const fd = openSync(bigFile, 'w');
    execFileSync('head', ['-c', String(BIG_MB * 1024 * 1024), '/dev/urandom'], { stdio: ['ignore', fd, 'inherit'] });
    closeSync(fd);
    for (const [model, version] of [['big', 1], ['small', 1]] as const) {
      await putObject(admin, 'bench', `${model}/${version}/saved_model.pb`, readFileSync(join(fixture, 'saved_model.pb')));
      await putObject(admin, 'bench', `${model}/${version}/variables/variables.index`, readFileSync(join(fixture, 'variables/variables.index')));
    }
    await admin.send(new PutObjectCommand({ Bucket: 'bench', Key: 'big/1/variables/variables.data-00000-of-00001', Body: createReadStream(bigFile), ContentLength: statSync(bigFile).size }));
    rmSync(bigFile);
    const smallBody = Buffer.alloc(SMALL_BYTES, 5);
    for (let i = 0; i < SMALL_FILES - 2; i += 16) {
      await Promise.all(Array.from({ length: Math.min(16, SMALL_FILES - 2 - i) }, (_, j) => putObject(admin, 'bench', `small/1/assets/file-${String(i + j).padStart(4, '0')}.bin`, smallBody)));
    }
    for (const m of ['big', 'small']) await putObject(admin, 'bench', `${m}/1/${MARKER}`, '');

    const env = { ...process.env, AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY, AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-east-1' };
    const rows: string[] = [];
    const results: Record<string, Record<string, number | undefined>> = { big: {}, small: {} };
    for (const m of ['big', 'small'] as const) {
      const totalMB = m === 'big' ? BIG_MB : (SMALL_FILES * SMALL_BYTES) / 1024 / 1024;
      // TensorFleet
      const store = join(work, `tf-${m}`);
      const ours = await timeOurs(s3.endpoint, store, m);
      results[m]!.tensorfleet = ours.fresh;
      results[m]!.resync = ours.resync;
      results[m]!.restart = ours.restart;
      rmSync(store, { recursive: true, force: true });
      if (aws !== undefined) {
        const dest = join(work, `aws-${m}`);
        results[m]!.aws = timeCmd(aws, ['s3', 'sync', `s3://bench/${m}/1/`, dest, '--endpoint-url', s3.endpoint, '--only-show-errors'], env);
        results[m]!.awsResync = timeCmd(aws, ['s3', 'sync', `s3://bench/${m}/1/`, dest, '--endpoint-url', s3.endpoint, '--only-show-errors'], env);
        rmSync(dest, { recursive: true, force: true });
      }
      if (s5cmd !== undefined) {
        const dest = join(work, `s5-${m}`);
        mkdirSync(dest);
        results[m]!.s5cmd = timeCmd(s5cmd, ['--endpoint-url', s3.endpoint, 'cp', `s3://bench/${m}/1/*`, `${dest}/`], env);
        rmSync(dest, { recursive: true, force: true });
      }
      const r = results[m]!;
      const fmt = (s: number | undefined): string => (s === undefined ? 'n/a' : `${s.toFixed(2)} s (${(totalMB / s).toFixed(0)} MB/s)`);
      const ratio = (peer: number | undefined): string => (peer === undefined || r.tensorfleet === undefined ? 'n/a' : `${(peer / r.tensorfleet).toFixed(2)}x`);
      rows.push(
        `| ${m === 'big' ? `1 file of ${BIG_MB} MiB (+2 small)` : `${SMALL_FILES} files of ${SMALL_BYTES / 1024} KiB`} | ${fmt(r.tensorfleet)} | ${fmt(r.aws)} | ${fmt(r.s5cmd)} | ${ratio(r.aws)} | ${ratio(r.s5cmd)} | ${r.resync!.toFixed(3)} s / ${r.restart!.toFixed(3)} s | ${r.awsResync === undefined ? 'n/a' : `${r.awsResync.toFixed(2)} s`} |`,
      );
      console.log(m, JSON.stringify(r));
    }
    const body = [
      `One run, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}; versitygw (posix backend) on loopback, same disk.`,
      'TensorFleet: `S3VersionSource` with 16 GETs in flight, 8 MiB ranged parts, completion marker (so the time is the download, not the settle wait), including listing, verification, manifest and rename.',
      'Peers: `aws s3 sync` (awscli v1, default settings) and `s5cmd cp` (default: 256 workers). "Speed-up" = peer time / TensorFleet time (higher is better for TensorFleet).',
      '',
      '| version | TensorFleet | aws s3 sync | s5cmd | speed-up vs aws | speed-up vs s5cmd | no-change re-sync (same process / restart) | aws no-change re-sync |',
      '|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `Targets (issue 3): >= 2x aws, >= 0.8x s5cmd, no-change re-sync of ${SMALL_FILES} files under 1 s.`,
      aws === undefined ? '\nawscli could not be installed here: its column is n/a.' : '',
      s5cmd === undefined ? '\ns5cmd could not be built here: its column is n/a.' : '',
    ].join('\n');
    writeSection(join(REPO, 'docs/benchmarks.md'), 's3-sync', '## S3 sync', body);
    console.log(body);
  } finally {
    admin.destroy();
    await s3.close();
    rmSync(work, { recursive: true, force: true });
  }
}

function timeCmd(cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function timeOurs(endpoint: string, store: string, prefix: string): Promise<{ fresh: number; resync: number; restart: number }> {
  const settings = resolveS3Settings({ s3_endpoint: endpoint, s3_completion_marker: MARKER }, {});
  // The SDK's default chain reads these, as it would in a pod.
  process.env.AWS_ACCESS_KEY_ID = ACCESS_KEY;
  process.env.AWS_SECRET_ACCESS_KEY = SECRET_KEY;
  const config: ModelConfig = { name: prefix, basePath: `s3://bench/${prefix}`, versionPolicy: { kind: 'latest', numVersions: 1 }, versionLabels: {}, routing: {} };
  const make = (): S3VersionSource =>
    new S3VersionSource({
      client: createS3Client(settings, Date.now),
      storeDir: store,
      logger: silentLogger,
      now: Date.now,
      sleep: (ms, signal) => sleep(ms, undefined, { signal }),
      isInUse: () => false,
      concurrency: settings.concurrency,
      transfer: { partSizeBytes: settings.partSizeBytes, multipartThresholdBytes: settings.multipartThresholdBytes },
      completionMarker: MARKER,
    });
  const signal = new AbortController().signal;
  const source = make();
  let t = process.hrtime.bigint();
  await source.list(config, signal);
  await source.idle();
  const listing = await source.list(config, signal);
  const fresh = Number(process.hrtime.bigint() - t) / 1e9;
  if (listing.size !== 1) throw new Error(`sync of ${prefix} did not complete`);
  t = process.hrtime.bigint();
  await source.list(config, signal);
  await source.idle();
  const resync = Number(process.hrtime.bigint() - t) / 1e9;
  await source.close();
  const restarted = make();
  t = process.hrtime.bigint();
  const again = await restarted.list(config, signal);
  await restarted.idle();
  const restart = Number(process.hrtime.bigint() - t) / 1e9;
  if (again.size !== 1) throw new Error('restart did not find the synced version');
  await restarted.close();
  return { fresh, resync, restart };
}

await main();
