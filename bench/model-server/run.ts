/**
 * Model-server benchmark (issue 2): gRPC Predict through `tensorfleet serve` against the same
 * SavedModel called in-process (the ceiling), for `tiny` and MobileNetV2; plus the latency of
 * GetModelStatus and /healthz with the model idle and saturated; plus --inference_threads 1 vs 2.
 *
 *   npm run bench -- model-server          (BENCH_SCALE=0.3 for a quick, rougher run)
 *
 * Rewrites the `model-server` section of docs/benchmarks.md.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSignatures } from '../../src/server/servables/tensorflow/saved-model-metadata.js';
import { benchInput } from '../lib/inputs.js';
import { runLoad, type GroupResult, type LoadGroup } from '../lib/load-runner.js';
import { freePort, loadAverages, machineBusyMs, machineLine, today } from '../lib/machine.js';
import { writeSection } from '../lib/markdown-section.js';
import { ensureMobilenet } from '../lib/mobilenet.js';
import {
  callOnce,
  decodePredictResponse,
  GET_MODEL_STATUS_METHOD,
  PREDICT_METHOD,
  predictRequestBytes,
  statusRequestBytes,
} from '../lib/requests.js';
import { processCpuMs, startServer, threadCpuMs, type RunningServer } from '../lib/server-process.js';
import { fmt, fmtRatio, summarize, table, type LatencySummary } from '../lib/stats.js';
import { measureCeiling } from './ceiling.js';
import { startEchoServer, type EchoServer } from './echo.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const DOC = join(REPO, 'docs/benchmarks.md');
const SCALE = Number(process.env.BENCH_SCALE ?? '1');
const PROFILE = process.argv.includes('--cpu-prof');
const ms = (base: number): number => Math.max(500, Math.round(base * SCALE));
const log = (line: string): void => console.log(`[model-server] ${line}`);

interface BenchModel {
  readonly label: string;
  readonly name: string;
  readonly basePath: string;
  readonly input: string;
  readonly output: string;
  readonly shape: readonly number[];
  readonly warmupMs: number;
  readonly durationMs: number;
}

async function benchModel(label: string, name: string, basePath: string, shape: number[], seconds: number): Promise<BenchModel> {
  const sig = (await readSignatures(join(basePath, '1'))).signatures['serving_default'];
  const input = Object.keys(sig?.inputs ?? {})[0];
  const output = Object.keys(sig?.outputs ?? {})[0];
  if (!input || !output) throw new Error(`${basePath}/1 has no serving_default with one input and one output`);
  return { label, name, basePath, input, output, shape, warmupMs: ms(1500), durationMs: ms(seconds * 1000) };
}

interface CeilingRow {
  readonly model: BenchModel;
  readonly mode: 'session-runner' | 'tfjs';
  readonly rps: number;
  readonly latency: LatencySummary;
  readonly firstOutput: number[];
  readonly cores: number;
  readonly otherCores: number;
}

interface ServerRow {
  readonly model: BenchModel;
  /** 0 for the bare grpc-js floor (no inference). */
  readonly threads: number;
  readonly concurrency: number;
  readonly processes: number;
  readonly load: GroupResult;
  readonly serverCores: number;
  /** Cores busy with anything but the server and the load generators (other people's work). */
  readonly otherCores: number;
  /** Server CPU per recorded call (warm-up included in the CPU, so slightly high), µs. */
  readonly mainUsPerCall: number;
  readonly restUsPerCall: number;
  readonly status?: GroupResult;
  readonly healthz?: GroupResult;
}

function predictGroup(server: { readonly grpcAddress: string }, model: BenchModel, concurrency: number, processes: number): LoadGroup {
  const request = predictRequestBytes({
    model: model.name,
    inputs: { [model.input]: { shape: model.shape, values: benchInput(model.shape) } },
  });
  return {
    processes,
    job: {
      target: { kind: 'grpc', address: server.grpcAddress, method: PREDICT_METHOD, requestBase64: request.toString('base64') },
      concurrency: concurrency / processes,
      warmupMs: model.warmupMs,
      durationMs: model.durationMs,
    },
  };
}

/** Sequential probes, one call every ~10 ms: GetModelStatus over gRPC and GET /healthz. */
function probeGroups(server: RunningServer, model: string, warmupMs: number, durationMs: number): LoadGroup[] {
  const status = statusRequestBytes(model).toString('base64');
  return [
    {
      processes: 1,
      job: {
        target: { kind: 'grpc', address: server.grpcAddress, method: GET_MODEL_STATUS_METHOD, requestBase64: status },
        concurrency: 1,
        pauseMs: 10,
        warmupMs,
        durationMs,
      },
    },
    { processes: 1, job: { target: { kind: 'http', url: `${server.restUrl}/healthz` }, concurrency: 1, pauseMs: 10, warmupMs, durationMs } },
  ];
}

/** Checks the server's answer against the ceiling's; returns the response bytes (for the floor). */
async function checkAnswer(server: RunningServer, model: BenchModel, expected: readonly number[]): Promise<Buffer> {
  const request = predictRequestBytes({ model: model.name, inputs: { [model.input]: { shape: model.shape, values: benchInput(model.shape) } } });
  const bytes = await callOnce(server.grpcAddress, PREDICT_METHOD, request);
  const response = decodePredictResponse(bytes);
  const got = Array.from(response.outputs[model.output]?.floats.slice(0, expected.length) ?? []);
  const close = got.length === expected.length && got.every((v, i) => Math.abs(v - expected[i]!) <= 1e-5 * Math.max(1, Math.abs(expected[i]!)));
  if (!close) throw new Error(`${model.label}: server answered ${JSON.stringify(got)}, in-process ${JSON.stringify(expected)}`);
  return bytes;
}

async function serverPhase(
  server: RunningServer | (EchoServer & { readonly cpuMs: () => number }),
  threads: number,
  model: BenchModel,
  concurrency: number,
  processes: number,
  withProbes: boolean,
): Promise<ServerRow> {
  const groups = [predictGroup(server, model, concurrency, processes)];
  if (withProbes && 'restUrl' in server) groups.push(...probeGroups(server, model.name, model.warmupMs, model.durationMs));
  const cpuBefore = server.cpuMs();
  const threadsBefore = threadCpuMs(server.pid);
  const machineBefore = machineBusyMs();
  const started = performance.now();
  const [load, status, healthz] = await runLoad(groups);
  // Server CPU over the whole phase (warm-up included) divided by its wall time: cores in use.
  const wallMs = performance.now() - started;
  const serverCores = (server.cpuMs() - cpuBefore) / wallMs;
  // Everything else that ran meanwhile: the machine's busy time minus the server and our clients
  // (clients counted over their recorded window only, so this slightly overstates it).
  const clientCores = [load, status, healthz].reduce((n, g) => n + (g?.clientCores ?? 0), 0);
  const otherCores = Math.max(0, (machineBusyMs() - machineBefore) / wallMs - serverCores - clientCores);
  const { main, rest } = cpuSplit(server.pid, threadsBefore, threadCpuMs(server.pid));
  const calls = load!.count * ((model.warmupMs + model.durationMs) / model.durationMs);
  const row: ServerRow = {
    model,
    threads,
    concurrency,
    processes,
    load: load!,
    serverCores,
    otherCores,
    mainUsPerCall: (main * 1000) / calls,
    restUsPerCall: (rest * 1000) / calls,
    status,
    healthz,
  };
  log(
    `${model.label} threads=${threads} c=${concurrency} (${processes} proc): ${fmt(load!.rps)} req/s p50 ${fmt(load!.p50)} ms p99 ${fmt(load!.p99)} ms` +
      ` errors ${load!.errors}${load!.firstError ? ` (${load!.firstError})` : ''}; server ${serverCores.toFixed(2)} cores, client ${load!.clientCores.toFixed(2)}, rest of machine ${otherCores.toFixed(2)}` +
      (status ? `; status p99 ${fmt(status.p99)} ms, healthz p99 ${fmt(healthz!.p99)} ms` : ''),
  );
  return row;
}

/** CPU ms used between two snapshots by the main thread (tid = pid) and by all other threads. */
function cpuSplit(pid: number, before: Map<string, number>, after: Map<string, number>): { main: number; rest: number } {
  let main = 0;
  let rest = 0;
  for (const [key, ms] of after) {
    const used = ms - (before.get(key) ?? 0);
    if (key.startsWith(`${pid} `)) main += used;
    else rest += used;
  }
  return { main, rest };
}

function configYaml(models: readonly BenchModel[]): string {
  return `model_config_list:\n${models.map((m) => `  - {name: ${m.name}, base_path: ${JSON.stringify(m.basePath)}}`).join('\n')}\n`;
}

async function withServer<T>(
  logDir: string,
  configFile: string,
  threads: number,
  body: (server: RunningServer) => Promise<T>,
): Promise<T> {
  const nodeArgs = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(logDir, `cpu-prof-threads-${threads}`)}`] : [];
  const server = await startServer({
    configFile,
    grpcPort: await freePort(),
    restPort: await freePort(),
    inferenceThreads: threads,
    nodeArgs,
    logFile: join(logDir, `server-threads-${threads}.log`),
  });
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}

function serverRowCells(row: ServerRow, ceiling: number): string[] {
  return [
    row.model.label,
    row.threads === 0
      ? 'floor: bare grpc-js server, fixed response, no inference'
      : `server, ${row.threads} inference thread${row.threads === 1 ? '' : 's'}`,
    `${row.concurrency} (${row.processes} client process${row.processes === 1 ? '' : 'es'})`,
    fmt(row.load.rps),
    fmt(row.load.p50),
    fmt(row.load.p99),
    fmtRatio(row.load.rps / ceiling),
    `${row.serverCores.toFixed(2)} / ${row.load.clientCores.toFixed(2)} / ${row.otherCores.toFixed(2)}`,
    `${fmt(row.mainUsPerCall)} / ${fmt(row.restUsPerCall)}`,
    String(row.load.errors),
  ];
}

async function main(): Promise<void> {
  const logDir = mkdtempSync(join(tmpdir(), 'tensorfleet-bench-model-server-'));
  const loadBefore = loadAverages();
  const started = Date.now();
  log(`logs in ${logDir}; load average ${loadBefore}`);
  const mobilenetBase = ensureMobilenet(process.env, log);
  const tiny = await benchModel('tiny', 'tiny', join(REPO, 'test/fixtures/models/tiny'), [1, 4], 8);
  const mobilenet = await benchModel('MobileNetV2', 'mobilenet', mobilenetBase, [1, 224, 224, 3], 10);
  const models = [tiny, mobilenet];

  // 1. Ceilings, with no server alive.
  const ceilings: CeilingRow[] = [];
  for (const model of models) {
    for (const mode of ['session-runner', 'tfjs'] as const) {
      const r = await measureCeiling({
        mode,
        savedModelDir: join(model.basePath, '1'),
        input: model.input,
        output: model.output,
        shape: model.shape,
        warmupMs: model.warmupMs,
        durationMs: model.durationMs,
      });
      const latency = summarize(r.latenciesMs);
      const cores = r.cpuMs / r.wallMs;
      const otherCores = Math.max(0, (r.machineMs - r.cpuMs) / r.wallMs);
      ceilings.push({ model, mode, rps: latency.count / (model.durationMs / 1000), latency, firstOutput: r.firstOutput, cores, otherCores });
      log(`${model.label} ceiling ${mode}: ${fmt(latency.count / (model.durationMs / 1000))} calls/s p50 ${fmt(latency.p50)} ms p99 ${fmt(latency.p99)} ms`);
    }
  }
  const ceilingOf = (model: BenchModel): CeilingRow => ceilings.find((c) => c.model === model && c.mode === 'session-runner')!;

  // 2. The server, one inference thread: both models, probes idle and under saturation.
  const configAll = join(logDir, 'models.yaml');
  writeFileSync(configAll, configYaml(models));
  const rows: ServerRow[] = [];
  let idle: { status: GroupResult; healthz: GroupResult } | undefined;
  const responses = new Map<BenchModel, Buffer>();
  let floorProbe: GroupResult | undefined;
  await withServer(logDir, configAll, 1, async (server) => {
    for (const model of models) responses.set(model, await checkAnswer(server, model, ceilingOf(model).firstOutput));
    const [status, healthz] = await runLoad(probeGroups(server, tiny.name, ms(1000), ms(5000)));
    idle = { status: status!, healthz: healthz! };
    log(`idle: status p50 ${fmt(status!.p50)} p99 ${fmt(status!.p99)} ms; healthz p50 ${fmt(healthz!.p50)} p99 ${fmt(healthz!.p99)} ms`);
    rows.push(await serverPhase(server, 1, tiny, 8, 1, false));
    rows.push(await serverPhase(server, 1, tiny, 32, 2, true));
    rows.push(await serverPhase(server, 1, mobilenet, 8, 1, false));
    rows.push(await serverPhase(server, 1, mobilenet, 32, 2, true));
  });

  // 3. The transport floor: the same calls against a bare grpc-js server answering the real response.
  for (const [model, concurrencies] of [[tiny, [8, 32]], [mobilenet, [8]]] as const) {
    const echo = await startEchoServer(responses.get(model)!);
    try {
      for (const c of concurrencies) rows.push(await serverPhase({ ...echo, cpuMs: () => processCpuMs(echo.pid) }, 0, model, c, c >= 16 ? 2 : 1, false));
      if (model === tiny) {
        // The same sequential probe as for the status calls, against the bare server: the floor of one idle unary call.
        const [probe] = await runLoad([
          {
            processes: 1,
            job: {
              target: { kind: 'grpc', address: echo.grpcAddress, method: PREDICT_METHOD, requestBase64: statusRequestBytes(tiny.name).toString('base64') },
              concurrency: 1,
              pauseMs: 10,
              warmupMs: ms(1000),
              durationMs: ms(5000),
            },
          },
        ]);
        floorProbe = probe;
        log(`floor probe (bare grpc-js, idle): p50 ${fmt(probe!.p50)} p99 ${fmt(probe!.p99)} ms`);
      }
    } finally {
      await echo.stop();
    }
  }

  // 4. Two inference threads, tiny only.
  const configTiny = join(logDir, 'tiny.yaml');
  writeFileSync(configTiny, configYaml([tiny]));
  await withServer(logDir, configTiny, 2, async (server) => {
    rows.push(await serverPhase(server, 2, tiny, 8, 1, false));
    rows.push(await serverPhase(server, 2, tiny, 32, 2, false));
  });

  const loadAfter = loadAverages();
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  log(`done in ${minutes} min; load average ${loadAfter}`);
  writeSection(DOC, 'model-server', '## Model server', report({ ceilings, rows, idle: idle!, floorProbe: floorProbe!, loadBefore, loadAfter, minutes, tiny, mobilenet }));
  log(`wrote the model-server section of ${DOC}`);
}

interface Report {
  readonly ceilings: readonly CeilingRow[];
  readonly rows: readonly ServerRow[];
  readonly idle: { readonly status: GroupResult; readonly healthz: GroupResult };
  readonly floorProbe: GroupResult;
  readonly loadBefore: string;
  readonly loadAfter: string;
  readonly minutes: string;
  readonly tiny: BenchModel;
  readonly mobilenet: BenchModel;
}

function report(r: Report): string {
  const ceiling = (m: BenchModel): number => r.ceilings.find((c) => c.model === m && c.mode === 'session-runner')!.rps;
  const measured: string[][] = [];
  for (const m of [r.tiny, r.mobilenet]) {
    for (const c of r.ceilings.filter((x) => x.model === m)) {
      measured.push([
        m.label,
        c.mode === 'session-runner' ? '**ceiling**: in-process SessionRunner loop' : 'in-process `tf.node.loadSavedModel().predict()` loop',
        '1 (sequential)',
        fmt(c.rps),
        fmt(c.latency.p50),
        fmt(c.latency.p99),
        fmtRatio(c.rps / ceiling(m)),
        `${c.cores.toFixed(2)} / — / ${c.otherCores.toFixed(2)}`,
        `${fmt((1e6 / c.rps) * 1)} (wall)`,
        '0',
      ]);
    }
    for (const row of r.rows.filter((x) => x.model === m)) measured.push(serverRowCells(row, ceiling(m)));
  }
  const best = (m: BenchModel, threads: number): number =>
    Math.max(...r.rows.filter((x) => x.model === m && x.threads === threads).map((x) => x.load.rps));
  const saturated = r.rows.filter((x) => x.status !== undefined);
  const statusRows = [
    ['GetModelStatus (gRPC)', r.idle.status, ...saturated.map((x) => x.status!)],
    ['GET /healthz (REST)', r.idle.healthz, ...saturated.map((x) => x.healthz!)],
  ] as const;
  const statusTable = table(
    ['call', 'idle p50 / p99 (ms)', ...saturated.map((x) => `during ${x.model.label} c=${x.concurrency}: p50 / p99 (ms)`)],
    [
      ...statusRows.map(([name, ...results]) => [name, ...results.map((g) => `${fmt(g.p50)} / ${fmt(g.p99)}${g.errors ? ` (${g.errors} errors)` : ''}`)]),
      ['floor: unary call to the bare grpc-js server', `${fmt(r.floorProbe.p50)} / ${fmt(r.floorProbe.p99)}`, ...saturated.map(() => '—')],
    ],
  );
  const worstStatusP99 = Math.max(...saturated.map((x) => x.status!.p99));
  const worstHealthP99 = Math.max(...saturated.map((x) => x.healthz!.p99));
  const tinyRatio = best(r.tiny, 1) / ceiling(r.tiny);
  const tinyRatio2 = best(r.tiny, 2) / ceiling(r.tiny);
  const mobileRatio = best(r.mobilenet, 1) / ceiling(r.mobilenet);
  const met = (ok: boolean): string => (ok ? 'met' : '**missed**');
  const targets = table(
    ['target (issue 2)', 'measured', 'result'],
    [
      ['tiny: server throughput ≥ 0.5x ceiling', `${fmtRatio(tinyRatio)} (1 thread), ${fmtRatio(tinyRatio2)} (2 threads)`, met(Math.max(tinyRatio, tinyRatio2) >= 0.5)],
      ['MobileNetV2: server throughput ≥ 0.9x ceiling', fmtRatio(mobileRatio), met(mobileRatio >= 0.9)],
      ['GetModelStatus p99 < 5 ms with the model saturated', `${fmt(worstStatusP99)} ms (worst saturated phase)`, met(worstStatusP99 < 5)],
      ['(also) /healthz p99 under saturation', `${fmt(worstHealthP99)} ms`, 'no target'],
    ],
  );
  return [
    `Generated by \`npm run bench -- model-server\` on ${today()}; ${r.minutes} min.`,
    `Machine: ${machineLine()}. Load average (1/5/15 min) before: ${r.loadBefore}; after: ${r.loadAfter}.`,
    'Reproduce: `npm run bench -- model-server` (exports MobileNetV2 into the cache on first use);',
    'profile the server under load: `node --import tsx bench/model-server/profile.ts --concurrency=32 [--model=mobilenet] [--threads=2]`.',
    '',
    'Batch 1 everywhere (`tiny`: `x` [1,4] float; MobileNetV2: `images` [1,224,224,3] float, 602 KB as',
    '`tensor_content`). Server: `node bin/tensorfleet.js serve --model_config_file=... --inference_threads=N`',
    '(the built `dist/`). Load: closed loop, the given number of calls always outstanding, spread over',
    'separate grpc-js client processes sending pre-serialized requests (one HTTP/2 connection each).',
    `Windows: ${r.tiny.durationMs / 1000} s (tiny), ${r.mobilenet.durationMs / 1000} s (MobileNetV2) after ${r.tiny.warmupMs / 1000} s of warm-up; a call counts when it completes inside the window.`,
    '**Ceiling** = our `SessionRunner` (the code inside the inference worker: tfjs-node\'s native binding,',
    'TensorFlow C session API) called in a plain loop on one thread in a process of its own: the same',
    'TensorFlow work the server does, minus gRPC, codecs, routing and the thread hop, so the ratio is',
    'exactly what serving costs. The public tfjs-node API (`tf.node.loadSavedModel` + `predict` +',
    '`dataSync`) is shown for reference. Before the load, the server\'s answer is checked against the',
    'ceiling\'s (same input). The **floor** row is the same client against a bare grpc-js server that',
    'answers every Predict with the real response bytes without decoding anything: what the transport',
    'alone costs here (grpc-js on both ends, same 2 cores). Per-call CPU is read per thread from',
    '/proc: "other threads" are the inference worker(s), TensorFlow\'s own thread pools and V8\'s helpers.',
    'CPU columns: cores busy in the server process / in the client processes / in everything else on',
    'the machine meanwhile (other people\'s work: a value well above 0.1 means the row was disturbed).',
    '',
    table(['model', 'path', 'concurrency', 'throughput (req/s)', 'p50 (ms)', 'p99 (ms)', 'vs ceiling', 'CPU cores: server / clients / rest of machine', 'server CPU µs per call: main thread / other threads', 'errors'], measured),
    '',
    `Status and health latency, one call every ~10 ms from a separate process (with \`tiny\` loaded; the`,
    'saturated columns run during the c=32 phases above):',
    '',
    statusTable,
    '',
    targets,
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
