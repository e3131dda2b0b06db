/**
 * S3 sync benchmark on one local S3 server (versitygw on loopback): download of one ~1 GiB
 * version and of a version of 500 small files by TensorFleet's S3 source, by the same GETs with
 * the bodies dropped (what the network path alone allows), by `aws s3 sync` (awscli) and by
 * `s5cmd cp`; each the median of BENCH_S3_RUNS runs (default 5; fewer are too noisy on a shared
 * VM), with the server's HTTP keep-alive off (versitygw's default) and on (what AWS S3 does);
 * plus TensorFleet's no-change
 * re-sync (same process, and a restart on a full store). Writes the `s3-sync` section of
 * docs/benchmarks.md.
 *   flock /tmp/tensorfleet-bench.lock npm run bench -- s3-sync     (BENCH_S3_BIG_MB=1024 by default)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSection } from '../lib/markdown-section.js';
import { SMALL_BYTES, SMALL_FILES, benchSource, benchTools, median, runCase, uploadBenchData, type CaseResult, type Model } from './cases.js';
import { BenchGateway } from './gateway.js';

const REPO = join(import.meta.dirname, '..', '..');
const BIG_MB = Number(process.env.BENCH_S3_BIG_MB ?? 1024);
const RUNS = Number(process.env.BENCH_S3_RUNS ?? 5);
const MODELS: readonly Model[] = ['big', 'small'];

interface Summary {
  readonly seconds: number;
  readonly clientCpu: number;
  readonly serverCpu: number;
}

const uptime = (): string => execFileSync('uptime', { encoding: 'utf8' }).trim().replace(/^.*load average/, 'load average');

async function main(): Promise<void> {
  const tools = benchTools();
  const gateway = await BenchGateway.start(false);
  const admin = gateway.client();
  const work = mkdtempSync(join(tmpdir(), 'tensorfleet-s3-bench-'));
  try {
    await uploadBenchData(admin, work, BIG_MB);
    const loadBefore = uptime();
    const cases = ['tensorfleet', 'raw', ...(tools.aws !== undefined ? ['aws'] : []), ...(tools.s5cmd !== undefined ? ['s5cmd'] : [])];
    const results = new Map<string, Summary>();
    for (const keepAlive of [false, true]) {
      await gateway.restart(keepAlive);
      for (const m of MODELS) {
        // Rounds of one run per case, so every case sees the same history: on this disk creating
        // files right after many were deleted is slower, so back-to-back runs of one case skew it.
        const runsOf = new Map<string, CaseResult[]>(cases.map((c) => [c, []]));
        for (let i = 0; i < RUNS; i++) for (const c of cases) runsOf.get(c)!.push(await runCase({ gateway, admin, work, tools }, c, m));
        for (const c of cases) {
          const runs = runsOf.get(c)!;
          const s = { seconds: median(runs.map((r) => r.seconds)), clientCpu: median(runs.map((r) => r.clientCpu)), serverCpu: median(runs.map((r) => r.serverCpu)) };
          results.set(`${keepAlive}:${m}:${c}`, s);
          console.log(`keep-alive ${keepAlive ? 'on' : 'off'} ${m} ${c}: ${JSON.stringify(s)} [${runs.map((r) => r.seconds.toFixed(3)).join(', ')}]`);
        }
      }
    }
    await gateway.restart(false);
    const resync = new Map<Model, { same: number; restart: number }>();
    for (const m of MODELS) resync.set(m, await timeResync(gateway.endpoint, join(work, `resync-${m}`), m));
    const loadAfter = uptime();

    const mb = (m: Model): number => (m === 'big' ? BIG_MB : (SMALL_FILES * SMALL_BYTES) / 1024 / 1024);
    const cell = (s: Summary | undefined, m: Model): string => (s === undefined ? 'n/a' : `${s.seconds.toFixed(2)} s (${(mb(m) / s.seconds).toFixed(0)} MB/s; CPU ${s.clientCpu.toFixed(2)} + ${s.serverCpu.toFixed(2)} s)`);
    const ratio = (peer: Summary | undefined, ours: Summary | undefined): string => (peer === undefined || ours === undefined ? 'n/a' : `${(peer.seconds / ours.seconds).toFixed(2)}x`);
    const verdicts: string[] = [];
    const table = (keepAlive: boolean): string[] => {
      const rows = MODELS.map((m) => {
        const get = (c: string): Summary | undefined => results.get(`${keepAlive}:${m}:${c}`);
        const ours = get('tensorfleet');
        const aws = get('aws');
        const s5 = get('s5cmd');
        if (ours !== undefined && aws !== undefined && s5 !== undefined) {
          const vsAws = aws.seconds / ours.seconds;
          const vsS5 = s5.seconds / ours.seconds;
          verdicts.push(`keep-alive ${keepAlive ? 'on' : 'off'}, ${m}: ${vsAws.toFixed(2)}x aws (${vsAws >= 2 ? 'met' : 'NOT met'}), ${vsS5.toFixed(2)}x s5cmd (${vsS5 >= 0.8 ? 'met' : 'NOT met'})`);
        }
        const label = m === 'big' ? `1 file of ${BIG_MB} MiB (+2 small)` : `${SMALL_FILES} files of ${SMALL_BYTES / 1024} KiB`;
        return `| ${label} | ${cell(ours, m)} | ${cell(get('raw'), m)} | ${cell(aws, m)} | ${cell(s5, m)} | ${ratio(aws, ours)} | ${ratio(s5, ours)} |`;
      });
      return [
        `Server keep-alive **${keepAlive ? 'on' : 'off'}**${keepAlive ? ' (`versitygw --keep-alive`; AWS S3 and most stores keep connections open)' : " (versitygw's default: every response closes its connection, so every GET pays a connect)"}:`,
        '',
        '| version | TensorFleet | same GETs, no disk | aws s3 sync | s5cmd | speed-up vs aws | speed-up vs s5cmd |',
        '|---|---|---|---|---|---|---|',
        ...rows,
        '',
      ];
    };
    const body = [
      `Median of ${RUNS} runs (in rounds: one run of every case per round), ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}; versitygw (posix backend) on loopback, same disk. Machine load (1/5/15 min) before: ${loadBefore.replace('load average: ', '')}; after: ${loadAfter.replace('load average: ', '')} (other engineers share the machine: above ~1 the numbers are noisy).`,
      'TensorFleet: `S3VersionSource` with the server defaults (16 GETs in flight; ranged parts of 16 MiB, growing up to 64 MiB so a big object takes about one GET per slot: 64 MiB for 1 GiB), signed GETs over keep-alive agents, completion marker (so the time is the download, not the settle wait), including listing, verification, manifest, rename and the listing that returns the version. "Same GETs, no disk": the same requests through the same getter and limiter, bodies counted and dropped: the ceiling of the network path here.',
      'Peers: `aws s3 sync` (awscli v1, default settings) and `s5cmd cp` (default: 256 workers). "Speed-up" = peer time / TensorFleet time (higher is better for TensorFleet). CPU = client + server CPU seconds (user + system) for the run; the box has 2 cores, so client + server CPU above ~2 s per second of run time means the cores, not the network, set the pace. Each run starts after `sync` (no dirty pages left from the previous run).',
      '',
      ...table(false),
      ...table(true),
      `No-change re-sync (server keep-alive off): ${MODELS.map((m) => `${m} ${resync.get(m)!.same.toFixed(3)} s in the same process, ${resync.get(m)!.restart.toFixed(3)} s after a restart on a full store`).join('; ')}.`,
      '',
      `Targets (issue 3): >= 2x aws, >= 0.8x s5cmd, no-change re-sync of ${SMALL_FILES} files under 1 s (${Math.max(resync.get('small')!.same, resync.get('small')!.restart) < 1 ? 'met' : 'NOT met'}).`,
      ...verdicts.map((v) => `- ${v}`),
      tools.aws === undefined ? '\nawscli could not be installed here: its column is n/a.' : '',
      tools.s5cmd === undefined ? '\ns5cmd could not be built here: its column is n/a.' : '',
    ].join('\n');
    writeSection(join(REPO, 'docs/benchmarks.md'), 's3-sync', '## S3 sync', body);
    console.log(body);
  } finally {
    admin.destroy();
    await gateway.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** A synced store listed again: in the same process, and by a new source (a restart). */
async function timeResync(endpoint: string, store: string, m: Model): Promise<{ same: number; restart: number }> {
  const signal = new AbortController().signal;
  const first = benchSource(endpoint, store);
  await first.source.list(first.config(m), signal);
  await first.source.idle();
  if ((await first.source.list(first.config(m), signal)).size !== 1) throw new Error(`sync of ${m} did not complete`);
  let t = process.hrtime.bigint();
  await first.source.list(first.config(m), signal);
  await first.source.idle();
  const same = Number(process.hrtime.bigint() - t) / 1e9;
  await first.source.close();
  first.client.destroy();
  const second = benchSource(endpoint, store);
  t = process.hrtime.bigint();
  const again = await second.source.list(second.config(m), signal);
  await second.source.idle();
  const restart = Number(process.hrtime.bigint() - t) / 1e9;
  if (again.size !== 1) throw new Error('restart did not find the synced version');
  await second.source.close();
  second.client.destroy();
  rmSync(store, { recursive: true, force: true });
  return { same, restart };
}

await main();
