/**
 * Where the S3 sync time goes: uploads the benchmark's versions to a local versitygw once, then
 * times chosen cases several times each (median, with client and server CPU), in one process:
 *   flock /tmp/tensorfleet-bench.lock node --import tsx bench/s3-sync/probe.ts [case...]
 * Cases as in cases.ts: tensorfleet, tensorfleet-sdk, raw, raw-sdk, aws, s5cmd, with `@CxP`
 * (C GETs in flight, P MiB parts) for TensorFleet's. Settings: BENCH_S3_BIG_MB (default 1024),
 * PROBE_RUNS (3), PROBE_MODELS (big,small), PROBE_KEEPALIVE (0,1: the server's keep-alive modes),
 * PROBE_TRACE=1 (when each step of a sync happened), PROBE_CPU_PROF=<file> (a CPU profile of the
 * cases, not of the upload).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchTools, median, runCase, uploadBenchData, type Model } from './cases.js';
import { BenchGateway } from './gateway.js';

const BIG_MB = Number(process.env.BENCH_S3_BIG_MB ?? 1024);
const RUNS = Number(process.env.PROBE_RUNS ?? 3);
const MODELS = (process.env.PROBE_MODELS ?? 'big,small').split(',') as Model[];
const cases = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['tensorfleet', 'raw', 's5cmd'];

const tools = benchTools();
const gateway = await BenchGateway.start(false);
const admin = gateway.client();
const work = mkdtempSync(join(tmpdir(), 'tensorfleet-s3-probe-'));
try {
  await uploadBenchData(admin, work, BIG_MB, MODELS);
  const session = process.env.PROBE_CPU_PROF !== undefined ? new Session() : undefined;
  if (session !== undefined) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  console.log(`load before: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
  const trace = process.env.PROBE_TRACE === '1' ? (msg: string) => console.log(`  ${msg}`) : undefined;
  for (const keepAlive of (process.env.PROBE_KEEPALIVE ?? '0,1').split(',').map((k) => k === '1')) {
    await gateway.restart(keepAlive);
    for (const m of MODELS) {
      for (const c of cases) {
        const runs = [];
        for (let i = 0; i < RUNS; i++) runs.push(await runCase({ gateway, admin, work, tools, ...(trace ? { trace } : {}) }, c, m));
        const times = runs.map((r) => r.seconds).sort((a, b) => a - b);
        console.log(
          `keep-alive ${keepAlive ? 'on ' : 'off'} ${m.padEnd(5)} ${c.padEnd(18)} median ${median(times).toFixed(3)} s [${times.map((t) => t.toFixed(3)).join(', ')}]  CPU s: client ${median(runs.map((r) => r.clientCpu)).toFixed(2)}${runs[0]!.clientUserCpu !== undefined ? ` (user ${median(runs.map((r) => r.clientUserCpu!)).toFixed(2)})` : ''}, server ${median(runs.map((r) => r.serverCpu)).toFixed(2)}`,
        );
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
  await gateway.close();
  rmSync(work, { recursive: true, force: true });
}
