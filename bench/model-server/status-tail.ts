/**
 * Where a slow GetModelStatus call spends its time while a model is saturated. A diagnostic, not
 * part of `npm run bench`: it needs root (or perf_event_paranoid -1) and `perf`.
 *
 *   node --import tsx bench/model-server/status-tail.ts [--model=tiny|mobilenet] [--seconds=8]
 *        [--slow-ms=3] [--list-slow] [--node-arg=<flag> ...] [-- <tensorfleet serve flags>]
 *
 * --list-slow prints each slow call's interval on CLOCK_MONOTONIC, the clock of V8's CPU profiles
 * (so `--node-arg=--cpu-prof` samples can be matched to it).
 *
 * Same load as the benchmark's saturated phase (Go client, 32 calls over 2 connections, a status
 * probe every 10 ms). Meanwhile `perf record` takes the scheduler's switches (with kernel call
 * chains) and wake-ups, and tcp_probe (every TCP segment a socket receives), on one clock. From those:
 * - server-side latency of each status call: request bytes reaching the server's socket ->
 *   response bytes reaching the client's socket (the Go client's own scheduling left out);
 * - for the slow ones, what the server's main thread did meanwhile: running, preempted (and by
 *   which task), woken but waiting for a CPU, blocked on a futex (locks, V8's GC helpers), or
 *   idle in epoll.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, createReadStream, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { readSignatures } from '../../src/server/servables/tensorflow/saved-model-metadata.js';
import { benchInput } from '../lib/inputs.js';
import { runLoad } from '../lib/load-runner.js';
import { freePort } from '../lib/machine.js';
import { ensureMobilenet } from '../lib/mobilenet.js';
import { parsePerfScript } from '../lib/perf-trace.js';
import { GET_MODEL_STATUS_METHOD, PREDICT_METHOD, predictRequestBytes, statusRequestBytes } from '../lib/requests.js';
import { startServer } from '../lib/server-process.js';
import { fmt, summarize } from '../lib/stats.js';
import { exchangesByConnection, probeExchanges } from '../lib/tcp-exchanges.js';
import { threadTimeline, timeByState } from '../lib/thread-timeline.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** Base path (exported on first use for MobileNetV2) and the batch-1 input shape. */
const MODELS = {
  tiny: { base: () => join(REPO, 'test/fixtures/models/tiny'), shape: [1, 4] },
  mobilenet: { base: () => ensureMobilenet(process.env, console.log), shape: [1, 224, 224, 3] },
} as const;
const WARMUP_MS = 2000;

interface Options {
  readonly model: keyof typeof MODELS;
  readonly seconds: number;
  readonly slowMs: number;
  readonly listSlow: boolean;
  readonly nodeArgs: string[];
  readonly serveArgs: string[];
}

function options(argv: readonly string[]): Options {
  const split = argv.indexOf('--');
  const own = split === -1 ? argv : argv.slice(0, split);
  const values = (name: string): string[] => own.filter((a) => a.startsWith(`--${name}=`)).map((a) => a.slice(name.length + 3));
  const value = (name: string, fallback: string): string => values(name).at(-1) ?? fallback;
  const model = value('model', 'tiny');
  if (!(model in MODELS)) throw new Error(`--model must be one of ${Object.keys(MODELS).join(', ')}`);
  return {
    model: model as keyof typeof MODELS,
    seconds: Number(value('seconds', '8')),
    slowMs: Number(value('slow-ms', '3')),
    listSlow: own.includes('--list-slow'),
    nodeArgs: values('node-arg'),
    serveArgs: split === -1 ? [] : argv.slice(split + 1),
  };
}

function checkPerf(): void {
  const probe = spawnSync('perf', ['record', '-a', '-e', 'sched:sched_switch', '-e', 'tcp:tcp_probe', '-o', '/dev/null', '--', 'true'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `perf cannot record the sched_switch and tcp_probe tracepoints here (${probe.error?.message ?? probe.stderr.trim().split('\n').at(-1)}). ` +
        'Run as root (or with kernel.perf_event_paranoid=-1) with perf installed (Debian: apt install linux-perf).',
    );
  }
}

async function main(): Promise<void> {
  const { model, seconds, slowMs, listSlow, nodeArgs, serveArgs } = options(process.argv.slice(2));
  checkPerf();
  const spec = MODELS[model];
  const base = spec.base();
  const input = Object.keys((await readSignatures(join(base, '1'))).signatures['serving_default']?.inputs ?? {})[0];
  if (!input) throw new Error(`${base}/1 has no serving_default input`);
  const dir = mkdtempSync(join(tmpdir(), 'tensorfleet-status-tail-'));
  const config = join(dir, 'models.yaml');
  writeFileSync(config, `model_config_list:\n  - {name: m, base_path: ${JSON.stringify(base)}}\n`);
  const grpcPort = await freePort();
  const server = await startServer({ configFile: config, grpcPort, restPort: await freePort(), serveArgs, nodeArgs, logFile: join(dir, 'server.log') });
  console.log(`server log and trace in ${dir}`);
  const traceFile = join(dir, 'perf.data');
  try {
    const request = predictRequestBytes({ model: 'm', inputs: { [input]: { shape: spec.shape, values: benchInput(spec.shape) } } });
    const target = (method: string, body: Buffer) => ({ kind: 'grpc' as const, address: server.grpcAddress, method, requestBase64: body.toString('base64') });
    const durationMs = seconds * 1000;
    const loads = runLoad([
      { client: 'go', processes: 2, job: { target: target(PREDICT_METHOD, request), concurrency: 16, warmupMs: WARMUP_MS, durationMs } },
      { client: 'go', processes: 1, job: { target: target(GET_MODEL_STATUS_METHOD, statusRequestBytes('m')), concurrency: 1, pauseMs: 10, warmupMs: WARMUP_MS, durationMs } },
    ]);
    await sleep(WARMUP_MS + 500);
    const recordArgs = ['record', '-a', '-k', 'mono', '-g', '--kernel-callchains', '-e', 'sched:sched_switch', '-e', 'sched:sched_wakeup', '-e', 'tcp:tcp_probe', '-o', traceFile, '--', 'sleep', String(seconds - 1)];
    const recording = new Promise<void>((resolve, reject) => spawn('perf', recordArgs, { stdio: 'ignore' }).once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`perf record exited with ${code}`)))));
    const [[load, status]] = await Promise.all([loads, recording]);
    console.log(`model ${model}, serve ${serveArgs.join(' ') || '(defaults)'}: Predict ${fmt(load!.rps)} req/s; status seen by the Go client p50 ${fmt(status!.p50)} p99 ${fmt(status!.p99)} ms (n ${status!.count})`);
  } finally {
    await server.stop();
  }
  await report(traceFile, grpcPort, server.pid, slowMs, listSlow);
}

async function report(traceFile: string, grpcPort: number, mainTid: number, slowMs: number, listSlow: boolean): Promise<void> {
  const textFile = `${traceFile}.txt`;
  const out = openSync(textFile, 'w');
  const script = spawnSync('perf', ['script', '-i', traceFile, '-F', 'tid,time,event,trace,ip,sym'], { stdio: ['ignore', out, 'pipe'], encoding: 'utf8' });
  closeSync(out);
  if (script.status !== 0) throw new Error(`perf script failed: ${script.stderr}`);
  const events = await parsePerfScript(createInterface({ input: createReadStream(textFile), crlfDelay: Infinity }));
  const exchanges = probeExchanges(exchangesByConnection(events, grpcPort), 20);
  if (!exchanges) throw new Error(`no probe connection to port ${grpcPort} found in the trace (${traceFile})`);
  const serverSide = summarize(exchanges.map((e) => (e.responseAt - e.requestAt) * 1000));
  console.log(`status, server side (request at the server's socket -> answer at the client's): p50 ${fmt(serverSide.p50)} p99 ${fmt(serverSide.p99)} max ${fmt(serverSide.max)} ms (n ${serverSide.count})`);
  const timeline = threadTimeline(events, mainTid);
  const slow = exchanges.filter((e) => (e.responseAt - e.requestAt) * 1000 >= slowMs);
  const during = new Map<string, number>();
  for (const e of slow) timeByState(timeline, e.requestAt, e.responseAt, during);
  const total = [...during.values()].reduce((a, b) => a + b, 0);
  console.log(`${slow.length} calls took ${slowMs} ms or more; the main thread during them (${fmt(total)} ms in all):`);
  for (const [state, ms] of [...during].sort((a, b) => b[1] - a[1])) console.log(`  ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${state}`);
  if (listSlow) for (const e of slow) console.log(`  slow call: ${e.requestAt.toFixed(6)} - ${e.responseAt.toFixed(6)} s (${((e.responseAt - e.requestAt) * 1000).toFixed(2)} ms)`);
  const whole = timeByState(timeline, -Infinity, Infinity);
  const preempted = [...whole].filter(([k]) => k.startsWith('preempted')).sort((a, b) => b[1] - a[1]);
  console.log(`main thread over the whole trace: running ${fmt(whole.get('running') ?? 0)} ms; preempted ${preempted.map(([k, v]) => `${fmt(v)} ms ${k.replace('preempted ', '')}`).join(', ') || 'never'}`);
}

await main();
