/**
 * Model-server benchmark (issue 2): gRPC Predict through `tensorfleet serve` against the same
 * SavedModel called in-process (the ceiling), for `tiny` and MobileNetV2; plus the latency of
 * GetModelStatus and /healthz with the model idle and saturated, for each entry of SERVER_VARIANTS.
 * Load comes from bench/load-go (a lean grpc-go client); one grpc-js client row per model shows the
 * difference the client makes on a 2-core machine.
 *
 *   npm run bench -- model-server          (BENCH_SCALE=0.3 for a quick, rougher run;
 *                                           BENCH_DOC=/tmp/x.md to write the report elsewhere)
 *
 * Rewrites the `model-server` section of docs/benchmarks.md.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSignatures } from '../../src/server/servables/tensorflow/saved-model-metadata.js';
import { benchInput } from '../lib/inputs.js';
import { grpcLoadBinary } from '../lib/load-go-process.js';
import { runLoad, type GroupResult, type LoadClient, type LoadGroup } from '../lib/load-runner.js';
import { grpcProbe } from '../lib/status-probe.js';
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
// BENCH_DOC: write the report elsewhere (trial runs that must not touch the committed results).
const DOC = process.env.BENCH_DOC ?? join(REPO, 'docs/benchmarks.md');
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
  /** TensorFlow ran every op on the calling thread (TF_NUM_INTEROP_THREADS=-1). */
  readonly opsInline: boolean;
  readonly rps: number;
  readonly latency: LatencySummary;
  readonly firstOutput: number[];
  readonly cores: number;
  readonly otherCores: number;
}

/**
 * The server configurations measured, one block of rows each; add one by adding an entry.
 * Every entry is probed (status, health) during its last Go shape. The first is the reference: it
 * also carries the idle probes and the grpc-js client rows, and its answers feed the floor server.
 */
interface ServerVariant {
  /** Row label. */
  readonly name: string;
  /** --inference_threads. */
  readonly threads: number;
  /** Extra `tensorfleet serve` flags. */
  readonly flags: readonly string[];
  /** Extra node flags, after the ones every server gets (bench/lib/server-process.ts). */
  readonly nodeArgs?: readonly string[];
  /** Labels of the models it runs (BenchModel.label). */
  readonly models: readonly string[];
}

/** A variant with this flag is compared with the ceiling that runs ops inline too. */
const OPS_INLINE_FLAG = '--tensorflow_inter_op_parallelism=-1';

const SERVER_VARIANTS: readonly ServerVariant[] = [
  { name: 'server, 1 inference thread', threads: 1, flags: [], models: ['tiny', 'MobileNetV2'] },
  { name: 'server, ops inline', threads: 1, flags: [OPS_INLINE_FLAG], models: ['tiny', 'MobileNetV2'] },
  { name: 'server, batching', threads: 1, flags: ['--enable_batching=true'], models: ['tiny', 'MobileNetV2'] },
  // Two sessions side by side fill the gaps of one run on 2 cores (tiny: the main thread is the limit).
  { name: 'server, 2 inference threads', threads: 2, flags: [], models: ['MobileNetV2'] },
  // Admission control: the clients' 16 calls per connection wait in the clients beyond 8.
  { name: 'server, ops inline, 8 calls per connection', threads: 1, flags: [OPS_INLINE_FLAG, '--grpc_channel_arguments=grpc.max_concurrent_streams=8'], models: ['tiny'] },
  // Decision 0011, side by side: trailers sent Node's way, after the rest of the event-loop turn.
  { name: "server, ops inline, Node's trailers", threads: 1, flags: [OPS_INLINE_FLAG, '--grpc_prompt_trailers=false'], models: ['tiny', 'MobileNetV2'] },
];

/** Whether the server rows under this path ran TensorFlow's ops inline (the floor runs no TensorFlow). */
const opsInlineFor = (path: string): boolean => SERVER_VARIANTS.find((v) => v.name === path)?.flags.includes(OPS_INLINE_FLAG) ?? false;

/** How one phase loads the target: `connections` HTTP/2 connections, `concurrency` calls outstanding. */
interface LoadShape {
  readonly client: LoadClient;
  readonly concurrency: number;
  readonly connections: number;
}

/** The Go client's phases for every server variant and the floor; status probes run during the last. */
const GO_SHAPES: readonly LoadShape[] = [
  { client: 'go', concurrency: 8, connections: 1 },
  { client: 'go', concurrency: 32, connections: 2 },
];
/** One grpc-js row per model (reference variant and floor), at the shape that suited it best before. */
const GRPC_JS_SHAPE = (model: BenchModel): LoadShape =>
  model.label === 'tiny' ? { client: 'grpc-js', concurrency: 32, connections: 2 } : { client: 'grpc-js', concurrency: 8, connections: 1 };

interface ServerRow {
  readonly model: BenchModel;
  /** The variant's name, or the floor's label. */
  readonly path: string;
  readonly floor: boolean;
  readonly shape: LoadShape;
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

const FLOOR = 'floor: bare grpc-js server, fixed response, no inference';

function predictGroup(server: { readonly grpcAddress: string }, model: BenchModel, shape: LoadShape): LoadGroup {
  const request = predictRequestBytes({
    model: model.name,
    inputs: { [model.input]: { shape: model.shape, values: benchInput(model.shape) } },
  });
  return {
    client: shape.client,
    processes: shape.connections,
    job: {
      target: { kind: 'grpc', address: server.grpcAddress, method: PREDICT_METHOD, requestBase64: request.toString('base64') },
      concurrency: shape.concurrency / shape.connections,
      warmupMs: model.warmupMs,
      durationMs: model.durationMs,
    },
  };
}

/** GetModelStatus over gRPC (Go client) and GET /healthz (a Node HTTP client), one call every ~10 ms each. */
function probeGroups(server: RunningServer, model: string, warmupMs: number, durationMs: number): LoadGroup[] {
  return [
    grpcProbe(server.grpcAddress, GET_MODEL_STATUS_METHOD, statusRequestBytes(model), warmupMs, durationMs),
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
  path: string,
  model: BenchModel,
  shape: LoadShape,
  withProbes: boolean,
): Promise<ServerRow> {
  const groups = [predictGroup(server, model, shape)];
  if (withProbes) {
    // The bare floor server answers every call like a Predict: its probe is the same small unary call.
    groups.push(...('restUrl' in server ? probeGroups(server, model.name, model.warmupMs, model.durationMs) : [grpcProbe(server.grpcAddress, PREDICT_METHOD, statusRequestBytes(model.name), model.warmupMs, model.durationMs)]));
  }
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
    path,
    floor: path === FLOOR,
    shape,
    load: load!,
    serverCores,
    otherCores,
    mainUsPerCall: (main * 1000) / calls,
    restUsPerCall: (rest * 1000) / calls,
    status,
    healthz,
  };
  log(
    `${model.label} ${path} [${shape.client} c=${shape.concurrency}/${shape.connections} conn]: ${fmt(load!.rps)} req/s p50 ${fmt(load!.p50)} ms p99 ${fmt(load!.p99)} ms` +
      ` errors ${load!.errors}${load!.firstError ? ` (${load!.firstError})` : ''}; server ${serverCores.toFixed(2)} cores, client ${load!.clientCores.toFixed(2)}` +
      ` (${fmt(clientUsPerCall(load!))} µs/call), rest of machine ${otherCores.toFixed(2)}` +
      (status ? `; status p99 ${fmt(status.p99)} ms` : '') +
      (healthz ? `, healthz p99 ${fmt(healthz.p99)} ms` : ''),
  );
  return row;
}

const clientUsPerCall = (g: GroupResult): number => (g.clientCores * 1e6) / g.rps;

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

async function withServer<T>(logDir: string, configFile: string, variant: ServerVariant, index: number, body: (server: RunningServer) => Promise<T>): Promise<T> {
  const nodeArgs = [...(variant.nodeArgs ?? []), ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(logDir, `cpu-prof-variant-${index}`)}`] : [])];
  const server = await startServer({
    configFile,
    grpcPort: await freePort(),
    restPort: await freePort(),
    inferenceThreads: variant.threads,
    serveArgs: variant.flags,
    nodeArgs,
    logFile: join(logDir, `server-variant-${index}.log`),
  });
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}

const CLIENT_LABEL: Record<LoadClient, string> = { go: 'Go (grpc-go)', 'grpc-js': 'grpc-js' };

function serverRowCells(row: ServerRow, ceiling: number): string[] {
  const { client, concurrency, connections } = row.shape;
  const spread = client === 'go' ? `${connections} connection${connections === 1 ? '' : 's'}` : `${connections} process${connections === 1 ? '' : 'es'}`;
  return [
    row.model.label,
    row.path,
    CLIENT_LABEL[client],
    `${concurrency} (${spread})`,
    fmt(row.load.rps),
    fmt(row.load.p50),
    fmt(row.load.p99),
    fmtRatio(row.load.rps / ceiling),
    `${row.serverCores.toFixed(2)} / ${row.load.clientCores.toFixed(2)} / ${row.otherCores.toFixed(2)}`,
    `${fmt(row.mainUsPerCall)} / ${fmt(row.restUsPerCall)}`,
    fmt(clientUsPerCall(row.load)),
    String(row.load.errors),
  ];
}

async function main(): Promise<void> {
  const logDir = mkdtempSync(join(tmpdir(), 'tensorfleet-bench-model-server-'));
  const loadBefore = loadAverages();
  const started = Date.now();
  log(`logs in ${logDir}; load average ${loadBefore}`);
  log(`Go load generator: ${grpcLoadBinary()}`);
  const mobilenetBase = ensureMobilenet(process.env, log);
  const tiny = await benchModel('tiny', 'tiny', join(REPO, 'test/fixtures/models/tiny'), [1, 4], 8);
  const mobilenet = await benchModel('MobileNetV2', 'mobilenet', mobilenetBase, [1, 224, 224, 3], 10);
  const models = [tiny, mobilenet];

  // 1. Ceilings, with no server alive.
  const ceilings: CeilingRow[] = [];
  const ceilingKinds = [
    { mode: 'session-runner', opsInline: false },
    { mode: 'session-runner', opsInline: true },
    { mode: 'tfjs', opsInline: false },
  ] as const;
  for (const model of models) {
    for (const { mode, opsInline } of ceilingKinds) {
      const r = await measureCeiling(
        {
          mode,
          savedModelDir: join(model.basePath, '1'),
          input: model.input,
          output: model.output,
          shape: model.shape,
          warmupMs: model.warmupMs,
          durationMs: model.durationMs,
        },
        opsInline,
      );
      const latency = summarize(r.latenciesMs);
      const cores = r.cpuMs / r.wallMs;
      const otherCores = Math.max(0, (r.machineMs - r.cpuMs) / r.wallMs);
      ceilings.push({ model, mode, opsInline, rps: latency.count / (model.durationMs / 1000), latency, firstOutput: r.firstOutput, cores, otherCores });
      log(`${model.label} ceiling ${mode}${opsInline ? ' (ops inline)' : ''}: ${fmt(latency.count / (model.durationMs / 1000))} calls/s p50 ${fmt(latency.p50)} ms p99 ${fmt(latency.p99)} ms`);
    }
  }
  const ceilingOf = (model: BenchModel): CeilingRow => sessionCeiling(ceilings, model, false);

  // 2. The server variants: every model of each at every Go shape; the reference variant also
  //    with the grpc-js client and idle probes; every variant is probed during its last Go shape.
  const rows: ServerRow[] = [];
  let idle: { status: GroupResult; healthz: GroupResult } | undefined;
  const responses = new Map<BenchModel, Buffer>();
  for (const [index, variant] of SERVER_VARIANTS.entries()) {
    const reference = index === 0;
    const served = variant.models.map((label) => {
      const model = models.find((m) => m.label === label);
      if (!model) throw new Error(`${variant.name}: unknown model ${label} (known: ${models.map((m) => m.label).join(', ')})`);
      return model;
    });
    const configFile = join(logDir, `models-variant-${index}.yaml`);
    writeFileSync(configFile, configYaml(served));
    await withServer(logDir, configFile, variant, index, async (server) => {
      for (const model of served) {
        const bytes = await checkAnswer(server, model, ceilingOf(model).firstOutput);
        if (reference) responses.set(model, bytes);
      }
      if (reference) {
        const [status, healthz] = await runLoad(probeGroups(server, tiny.name, ms(1000), ms(5000)));
        idle = { status: status!, healthz: healthz! };
        log(`idle: status p50 ${fmt(status!.p50)} p99 ${fmt(status!.p99)} ms; healthz p50 ${fmt(healthz!.p50)} p99 ${fmt(healthz!.p99)} ms`);
      }
      for (const model of served) {
        for (const [i, shape] of GO_SHAPES.entries()) rows.push(await serverPhase(server, variant.name, model, shape, i === GO_SHAPES.length - 1));
        if (reference) rows.push(await serverPhase(server, variant.name, model, GRPC_JS_SHAPE(model), false));
      }
    });
  }

  // 3. The transport floor: the same calls against a bare grpc-js server answering the real response.
  let floorProbe: GroupResult | undefined;
  for (const model of models) {
    const echo = await startEchoServer(responses.get(model)!);
    try {
      const target = { ...echo, cpuMs: () => processCpuMs(echo.pid) };
      // tiny's saturated Go phase carries a probe too: the tail of the transport alone.
      for (const shape of model === tiny ? [...GO_SHAPES, GRPC_JS_SHAPE(model)] : GO_SHAPES.slice(0, 1)) {
        rows.push(await serverPhase(target, FLOOR, model, shape, model === tiny && shape === GO_SHAPES[GO_SHAPES.length - 1]));
      }
      if (model === tiny) {
        // The status probe against the bare server: the floor of one idle unary call.
        [floorProbe] = await runLoad([grpcProbe(echo.grpcAddress, PREDICT_METHOD, statusRequestBytes(tiny.name), ms(1000), ms(5000))]);
        log(`floor probe (bare grpc-js, idle): p50 ${fmt(floorProbe!.p50)} p99 ${fmt(floorProbe!.p99)} ms`);
      }
    } finally {
      await echo.stop();
    }
  }

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

/** The SessionRunner ceiling of `model`, with TensorFlow's default threading or ops inline. */
function sessionCeiling(ceilings: readonly CeilingRow[], model: BenchModel, opsInline: boolean): CeilingRow {
  const found = ceilings.find((c) => c.model === model && c.mode === 'session-runner' && c.opsInline === opsInline);
  if (!found) throw new Error(`no session-runner ceiling for ${model.label} (ops inline: ${opsInline})`);
  return found;
}

function ceilingLabel(c: CeilingRow): string {
  if (c.mode === 'tfjs') return 'in-process `tf.node.loadSavedModel().predict()` loop';
  return c.opsInline ? '**ceiling, ops inline**: the same loop with `TF_NUM_INTEROP_THREADS=-1`' : '**ceiling**: in-process SessionRunner loop';
}

function report(r: Report): string {
  /** The ceiling a row is judged against: the one with the same TensorFlow threading. */
  const ceiling = (m: BenchModel, path = ''): number => sessionCeiling(r.ceilings, m, opsInlineFor(path)).rps;
  const measured: string[][] = [];
  for (const m of [r.tiny, r.mobilenet]) {
    for (const c of r.ceilings.filter((x) => x.model === m)) {
      measured.push([
        m.label,
        ceilingLabel(c),
        '—',
        '1 (sequential)',
        fmt(c.rps),
        fmt(c.latency.p50),
        fmt(c.latency.p99),
        fmtRatio(c.rps / ceiling(m)),
        `${c.cores.toFixed(2)} / — / ${c.otherCores.toFixed(2)}`,
        `${fmt((1e6 / c.rps) * 1)} (wall)`,
        '—',
        '0',
      ]);
    }
    for (const row of r.rows.filter((x) => x.model === m)) measured.push(serverRowCells(row, ceiling(m, row.path)));
  }
  // Targets are judged on the Go client's rows: the grpc-js rows show what a heavier client costs.
  const ratios = (m: BenchModel): { name: string; ratio: number }[] =>
    SERVER_VARIANTS.filter((v) => v.models.includes(m.label)).map((v) => ({
      name: v.name,
      ratio: Math.max(...r.rows.filter((x) => x.model === m && x.path === v.name && x.shape.client === 'go').map((x) => x.load.rps)) / ceiling(m, v.name),
    }));
  const saturated = r.rows.filter((x) => x.status !== undefined && !x.floor);
  const floorSaturated = r.rows.filter((x) => x.status !== undefined && x.floor);
  const latencyCell = (g: LatencySummary | undefined, errors = 0): string => (g ? `${fmt(g.p50)} / ${fmt(g.p99)}${errors ? ` (${errors} errors)` : ''}` : '—');
  const probeCells = (status: GroupResult, healthz: GroupResult): string[] => [
    latencyCell(status, status.errors),
    latencyCell(status.toSocket),
    latencyCell(healthz, healthz.errors),
  ];
  const statusTable = table(
    [
      'while',
      'GetModelStatus (gRPC, Go client) p50 / p99 (ms)',
      "GetModelStatus to the client's socket (kernel receive time) p50 / p99 (ms)",
      'GET /healthz (REST, Node client) p50 / p99 (ms)',
    ],
    [
      ['idle (reference variant)', ...probeCells(r.idle.status, r.idle.healthz)],
      ...saturated.map((x) => [`${x.path}: ${x.model.label} saturated, c=${x.shape.concurrency}`, ...probeCells(x.status!, x.healthz!)]),
      ['floor: unary call to the bare grpc-js server, idle (Go client)', latencyCell(r.floorProbe), latencyCell(r.floorProbe.toSocket), '—'],
      ...floorSaturated.map((x) => [
        `floor: the same call while the bare grpc-js server is saturated (${x.model.label}, c=${x.shape.concurrency})`,
        latencyCell(x.status, x.status!.errors),
        latencyCell(x.status!.toSocket),
        '—',
      ]),
    ],
  );
  const worstStatusP99 = Math.max(...saturated.map((x) => x.status!.p99));
  const worstSocketP99 = Math.max(...saturated.map((x) => x.status!.toSocket?.p99 ?? Number.NaN));
  const worstHealthP99 = Math.max(...saturated.map((x) => x.healthz!.p99));
  // A user runs one configuration, so the three targets are judged together, configuration by
  // configuration (decision 0019); every phase stays in the tables above.
  const judged = SERVER_VARIANTS.map((v) => {
    const tinyRatio = ratios(r.tiny).find((x) => x.name === v.name)?.ratio;
    const mobilenetRatio = ratios(r.mobilenet).find((x) => x.name === v.name)?.ratio;
    const statusP99 = Math.max(...saturated.filter((x) => x.path === v.name).map((x) => x.status!.p99));
    const complete = tinyRatio !== undefined && mobilenetRatio !== undefined;
    const allMet = complete && tinyRatio >= 0.5 && mobilenetRatio >= 0.9 && statusP99 < 5;
    return { v, tinyRatio, mobilenetRatio, statusP99, complete, allMet };
  });
  // Three decimals: 0.898 must not read as a 0.90 that missed 0.9.
  const ratioOf = (ratio: number | undefined, goal: number): string => (ratio === undefined ? '—' : `${ratio.toFixed(3)}x${ratio >= goal ? '' : ' (missed)'}`);
  const targets = table(
    ['configuration', 'tiny: throughput ≥ 0.5x ceiling', 'MobileNetV2: throughput ≥ 0.9x ceiling', 'GetModelStatus p99 < 5 ms, model saturated (worst of its phases)', 'issue 2\'s targets'],
    judged.map((j) => [
      j.v === SERVER_VARIANTS[0] ? `${j.v.name} (the default)` : j.v.name,
      ratioOf(j.tinyRatio, 0.5),
      ratioOf(j.mobilenetRatio, 0.9),
      `${fmt(j.statusP99)} ms${j.statusP99 < 5 ? '' : ' (missed)'}`,
      j.complete ? (j.allMet ? '**all met**' : 'missed') : 'not judged (one model only)',
    ]),
  );
  const meeting = judged.filter((j) => j.allMet).map((j) => j.v.name);
  const verdict = [
    meeting.length > 0
      ? `Issue 2's three targets met together by: ${meeting.join('; ')}.`
      : "Issue 2's three targets: **missed** (no configuration met all three).",
    `Worst saturated phase of all configurations: status p99 ${fmt(worstStatusP99)} ms at the client (to the client's socket: ${fmt(worstSocketP99)} ms);`,
    `/healthz p99 under saturation: ${fmt(worstHealthP99)} ms at worst (no target).`,
  ].join(' ');
  const variants = SERVER_VARIANTS.map(
    (v) => `${v.name} (\`${(v.nodeArgs ?? []).map((a) => `node ${a} `).join('')}--inference_threads=${v.threads}${v.flags.map((f) => ` ${f}`).join('')}\`)`,
  ).join('; ');
  return [
    `Generated by \`npm run bench -- model-server\` on ${today()}; ${r.minutes} min.`,
    `Machine: ${machineLine()}. Load average (1/5/15 min) before: ${r.loadBefore}; after: ${r.loadAfter}.`,
    'Reproduce: `npm run bench -- model-server` (exports MobileNetV2 and builds the Go load generator into the cache on first use);',
    'profile the server under load: `node --import tsx bench/model-server/profile.ts --concurrency=32 [--model=mobilenet] [--threads=2] [--client=grpc-js] [--probe] [--node-args=--trace-gc] [-- serve flags]` (`--probe` adds the status probe, for quick side-by-side checks of the tail).',
    '',
    'Batch 1 everywhere (`tiny`: `x` [1,4] float; MobileNetV2: `images` [1,224,224,3] float, 602 KB as',
    '`tensor_content`). Server: `node bin/tensorfleet.js serve --model_config_file=...` (the built `dist/`);',
    `variants: ${variants}.`,
    'Load: closed loop, the given number of calls always outstanding over the given number of HTTP/2',
    'connections, the same pre-serialized request bytes on every call, responses not decoded. **Go**:',
    'one `bench/load-go` process (grpc-go with a pass-through codec); targets are judged on these rows.',
    '**grpc-js**: one Node client process per connection; one row per model shows what such a client',
    'takes from the server on the same 2 cores (compare the client CPU columns).',
    `Windows: ${r.tiny.durationMs / 1000} s (tiny), ${r.mobilenet.durationMs / 1000} s (MobileNetV2) after ${r.tiny.warmupMs / 1000} s of warm-up; a call counts when it completes inside the window.`,
    '**Ceiling** = our `SessionRunner` (the code inside the inference worker: tfjs-node\'s native binding,',
    'TensorFlow C session API) called in a plain loop on one thread in a process of its own: the same',
    'TensorFlow work the server does, minus gRPC, codecs, routing and the thread hop, so the ratio is',
    'exactly what serving costs. It runs with TensorFlow\'s default threading, as tfjs-node does; the',
    '"ops inline" variant (`--tensorflow_inter_op_parallelism=-1`) is compared with the same loop run',
    'with ops inline too (**ceiling, ops inline**), so its ratio is also only what serving costs.',
    'The public tfjs-node API (`tf.node.loadSavedModel` + `predict` +',
    '`dataSync`) is shown for reference. Before the load, each server\'s answer is checked against the',
    'ceiling\'s (same input). The **floor** rows are the same clients against a bare grpc-js server that',
    'answers every Predict with the real response bytes without decoding anything: what the transport',
    'alone costs here. Server CPU per call is read per thread from /proc: "other threads" are the',
    'inference worker(s), TensorFlow\'s own thread pools and V8\'s helpers. Client CPU per call is the',
    'client processes\' CPU inside the window over the calls completed in it. CPU cores columns: busy in',
    'the server process / in the client processes / in everything else on the machine meanwhile',
    '(other people\'s work: a value well above 0.1 means the row was disturbed).',
    '',
    table(
      [
        'model',
        'path',
        'client',
        'concurrency',
        'throughput (req/s)',
        'p50 (ms)',
        'p99 (ms)',
        'vs ceiling',
        'CPU cores: server / clients / rest of machine',
        'server CPU µs per call: main thread / other threads',
        'client CPU µs per call',
        'errors',
      ],
      measured,
    ),
    '',
    `Status and health latency, one call every ~10 ms each from processes of their own (GetModelStatus`,
    `of the loaded model; the bare floor server answers it like any call); the saturated rows run during each variant's Go c=${GO_SHAPES[GO_SHAPES.length - 1]!.concurrency}`,
    `phases above, and the floor's for tiny. "To the client's`,
    `socket" ends each status call when the kernel received its answer (SO_TIMESTAMPNS), before the probe's own`,
    `threads got a CPU again; the target is judged on the client's number:`,
    '',
    statusTable,
    '',
    targets,
    '',
    verdict,
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
