/**
 * The event loop under REST load: MobileNetV2 Predict through REST (JSON, row format) against the
 * same calls through gRPC, side by side on batching servers, each with a GetModelStatus probe
 * every ~10 ms. REST bodies are decoded in a JSON thread as shipped, and on the event loop with
 * `--rest_json_threads=0` (the comparison). Also the Open Inference Protocol's forms of the same
 * call: /v2 with JSON tensors, /v2 with binary tensors, and gRPC ModelInfer with raw contents.
 * And REST calls whose response is large (150k floats from the `versioned` fixture, y = 0.5x + v),
 * written in the JSON thread as shipped and on the event loop with `--rest_json_threads=0`.
 * Rewrites the `rest-load` section of docs/benchmarks.md.
 *
 *   npm run bench -- rest-load
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchInput } from '../lib/inputs.js';
import { runLoad, type GroupResult, type LoadGroup } from '../lib/load-runner.js';
import { freePort, loadAverages, machineLine, today } from '../lib/machine.js';
import { writeSection } from '../lib/markdown-section.js';
import { ensureMobilenet } from '../lib/mobilenet.js';
import { GET_MODEL_STATUS_METHOD, PREDICT_METHOD, predictRequestBytes, statusRequestBytes } from '../lib/requests.js';
import { startServer, threadCpuMs, threadGroupsCpu, type RunningServer, type ThreadGroupsCpu } from '../lib/server-process.js';
import { protoType } from '../../src/server/servables/tensorflow/proto-root.js';
import { fmt, table } from '../lib/stats.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const DOC = join(REPO, 'docs/benchmarks.md');
const SHAPE = [1, 224, 224, 3];
const CONCURRENCY = 8;
const ROUNDS = 2;
const log = (line: string): void => console.log(`[rest-load] ${line}`);
type Label =
  | 'gRPC'
  | 'REST, JSON thread'
  | 'REST, on the event loop'
  | '/v2 REST, JSON tensors'
  | '/v2 REST, binary tensors'
  | '/v2 gRPC ModelInfer'
  | 'REST, 150k outputs, JSON thread'
  | 'REST, 150k outputs, on the event loop';
const MODEL_INFER_METHOD = '/inference.GRPCInferenceService/ModelInfer';
const VERSIONED = join(REPO, 'test/fixtures/models/versioned');

/** The row-format body TF Serving's REST clients send: one nested [224][224][3] instance. */
function restBody(values: ArrayLike<number>): Buffer {
  const image: number[][][] = [];
  let k = 0;
  for (let y = 0; y < SHAPE[1]!; y++) {
    const row: number[][] = [];
    for (let x = 0; x < SHAPE[2]!; x++) row.push([values[k++]!, values[k++]!, values[k++]!]);
    image.push(row);
  }
  return Buffer.from(JSON.stringify({ instances: [image] }));
}

/** The image as Open Inference Protocol forms: a JSON body, a binary body (JSON header, then the floats), a gRPC request. */
function openInferenceRequests(values: Float32Array): { json: Buffer; binary: Buffer; binaryJsonLength: number; grpc: Buffer } {
  const input = { name: 'images', shape: SHAPE, datatype: 'FP32' };
  const json = Buffer.from(JSON.stringify({ inputs: [{ ...input, data: Array.from(values) }] }));
  const raw = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  // As tritonclient sends it by default: the outputs come back as binary data too.
  const head = Buffer.from(JSON.stringify({ parameters: { binary_data_output: true }, inputs: [{ ...input, parameters: { binary_data_size: raw.length } }] }));
  const type = protoType('inference.ModelInferRequest');
  const grpc = Buffer.from(type.encode(type.fromObject({ model_name: 'm', inputs: [input], raw_input_contents: [raw] })).finish());
  return { json, binary: Buffer.concat([head, raw]), binaryJsonLength: head.length, grpc };
}

async function main(): Promise<void> {
  const logDir = mkdtempSync(join(tmpdir(), 'tensorfleet-bench-rest-'));
  const loadBefore = loadAverages();
  const started = Date.now();
  log(`logs in ${logDir}; load average ${loadBefore}`);
  const configFile = join(logDir, 'models.yaml');
  writeFileSync(
    configFile,
    `model_config_list:\n  - {name: m, base_path: ${JSON.stringify(ensureMobilenet(process.env, log))}}\n  - {name: versioned, base_path: ${JSON.stringify(VERSIONED)}}\n`,
  );
  const values = benchInput(SHAPE);
  const grpcRequest = predictRequestBytes({ model: 'm', inputs: { images: { shape: SHAPE, values } } });
  const body = restBody(values);
  const v2 = openInferenceRequests(Float32Array.from(values));
  // As many outputs as the image has inputs: the response is as large as the request.
  const largeOutputBody = Buffer.from(JSON.stringify({ instances: Array.from(values) }));
  const start = async (extra: string[], name: string): Promise<RunningServer> =>
    startServer({ configFile, grpcPort: await freePort(), restPort: await freePort(), serveArgs: ['--enable_batching=true', ...extra], logFile: join(logDir, `${name}.log`) });
  const shipped = await start([], 'shipped');
  const onLoop = await start(['--rest_json_threads=0'], 'on-loop');
  const timing = { warmupMs: 3000, durationMs: 10_000 };
  const restLoad = (server: RunningServer): LoadGroup => ({
    processes: 1,
    job: { target: { kind: 'http', url: `${server.restUrl}/v1/models/m:predict`, post: { bodyBase64: body.toString('base64'), contentType: 'application/json' } }, concurrency: CONCURRENCY, ...timing },
  });
  const largeOutputLoad = (server: RunningServer): LoadGroup => ({
    processes: 1,
    job: { target: { kind: 'http', url: `${server.restUrl}/v1/models/versioned:predict`, post: { bodyBase64: largeOutputBody.toString('base64'), contentType: 'application/json' } }, concurrency: CONCURRENCY, ...timing },
  });
  const variants: { label: Label; server: RunningServer; load: LoadGroup }[] = [
    { label: 'gRPC', server: shipped, load: { client: 'go', processes: 1, job: { target: { kind: 'grpc', address: shipped.grpcAddress, method: PREDICT_METHOD, requestBase64: grpcRequest.toString('base64') }, concurrency: CONCURRENCY, ...timing } } },
    { label: 'REST, JSON thread', server: shipped, load: restLoad(shipped) },
    { label: 'REST, on the event loop', server: onLoop, load: restLoad(onLoop) },
    {
      label: '/v2 REST, JSON tensors',
      server: shipped,
      load: { processes: 1, job: { target: { kind: 'http', url: `${shipped.restUrl}/v2/models/m/infer`, post: { bodyBase64: v2.json.toString('base64'), contentType: 'application/json' } }, concurrency: CONCURRENCY, ...timing } },
    },
    {
      label: '/v2 REST, binary tensors',
      server: shipped,
      load: {
        processes: 1,
        job: {
          target: {
            kind: 'http',
            url: `${shipped.restUrl}/v2/models/m/infer`,
            post: { bodyBase64: v2.binary.toString('base64'), contentType: 'application/octet-stream', headers: { 'inference-header-content-length': String(v2.binaryJsonLength) } },
          },
          concurrency: CONCURRENCY,
          ...timing,
        },
      },
    },
    { label: '/v2 gRPC ModelInfer', server: shipped, load: { client: 'go', processes: 1, job: { target: { kind: 'grpc', address: shipped.grpcAddress, method: MODEL_INFER_METHOD, requestBase64: v2.grpc.toString('base64') }, concurrency: CONCURRENCY, ...timing } } },
    { label: 'REST, 150k outputs, JSON thread', server: shipped, load: largeOutputLoad(shipped) },
    { label: 'REST, 150k outputs, on the event loop', server: onLoop, load: largeOutputLoad(onLoop) },
  ];
  const probe = (server: RunningServer): LoadGroup => ({
    client: 'go',
    processes: 1,
    job: { target: { kind: 'grpc', address: server.grpcAddress, method: GET_MODEL_STATUS_METHOD, requestBase64: statusRequestBytes('m').toString('base64') }, concurrency: 1, pauseMs: 10, ...timing },
  });
  const results: { label: Label; round: number; load: GroupResult; status: GroupResult; cpu: ThreadGroupsCpu; calls: number }[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const variant of variants) {
        const threadsBefore = threadCpuMs(variant.server.pid);
        const [load, status] = await runLoad([variant.load, probe(variant.server)]);
        const cpu = threadGroupsCpu(variant.server.pid, threadsBefore, threadCpuMs(variant.server.pid));
        // CPU is read over warm-up and window both: count the calls of both at the window's rate.
        const calls = load!.count * ((timing.warmupMs + timing.durationMs) / timing.durationMs);
        results.push({ label: variant.label, round, load: load!, status: status!, cpu, calls });
        log(`${variant.label}: ${fmt(load!.rps)} req/s p99 ${fmt(load!.p99)} ms errors ${load!.errors}; status p50 ${fmt(status!.p50)} p99 ${fmt(status!.p99)} ms`);
      }
    }
  } finally {
    await shipped.stop();
    await onLoop.stop();
  }
  const loadAfter = loadAverages();
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  log(`done in ${minutes} min; load average ${loadAfter}`);

  const meanRps = (label: Label): number => {
    const rounds = results.filter((r) => r.label === label);
    return rounds.reduce((sum, r) => sum + r.load.rps, 0) / rounds.length;
  };
  const worstStatus = (label: Label): number => Math.max(...results.filter((r) => r.label === label).map((r) => r.status.p99));
  const rows = results.map((r) => [
    `${r.label} (round ${r.round})`,
    fmt(r.load.rps),
    `${fmt(r.load.p50)} / ${fmt(r.load.p99)}`,
    `${fmt(r.status.p50)} / ${fmt(r.status.p99)}`,
    [r.cpu.eventLoop, r.cpu.tensorflow, r.cpu.otherThreads].map((ms) => fmt(ms / r.calls)).join(' / '),
    fmt(r.load.clientCores),
    String(r.load.errors + r.status.errors),
  ]);
  const text = [
    `Generated by \`npm run bench -- rest-load\` on ${today()}; ${minutes} min.`,
    `Machine: ${machineLine()}. Load average (1/5/15 min) before: ${loadBefore}; after: ${loadAfter}.`,
    'Reproduce: `npm run bench -- rest-load`.',
    '',
    `MobileNetV2 (weights=None), servers with \`--enable_batching=true\`, ${CONCURRENCY} Predict calls outstanding,`,
    `${timing.durationMs / 1000} s after ${timing.warmupMs / 1000} s of warm-up, in turn: gRPC (Go load generator, one connection, the`,
    `602 KB request as \`tensor_content\`); REST (\`POST /v1/models/m:predict\`, a ${(body.length / 1e6).toFixed(1)} MB row-format JSON`,
    'body, from a Node process over keep-alive connections) to the same server, which decodes it in its JSON',
    'thread; and REST to a second server started with `--rest_json_threads=0`, which decodes it on the',
    'event loop as before. Then the Open Inference Protocol (KServe V2) forms of the same call to the first server:',
    `\`POST /v2/models/m/infer\` with the image as a flat JSON \`data\` list (${(v2.json.length / 1e6).toFixed(1)} MB, JSON thread), the same with`,
    `the image as binary data after a ${v2.binaryJsonLength}-byte JSON header (${(v2.binary.length / 1e6).toFixed(2)} MB) and the scores back as binary (Triton's binary tensor extension, \`tritonclient\`'s default),`,
    'both from a Node process, and gRPC `ModelInfer` with `raw_input_contents` from the Go load generator.',
    `Last, REST calls with a large response: the \`versioned\` fixture (y = 0.5x + version) given the image's ${values.length} values as one`,
    `list (${(largeOutputBody.length / 1e6).toFixed(1)} MB), so each answer holds as many floats; written in the JSON thread as shipped, and on the event loop with \`--rest_json_threads=0\`.`,
    'Meanwhile a Go process calls GetModelStatus on the loaded server every ~10 ms.',
    '',
    'Server CPU per call is read per thread from /proc: the event loop, TensorFlow\'s pools (`tf_*` threads), and the other',
    'threads (the JSON thread, the inference thread\'s own JavaScript, V8\'s helpers: Node 20 cannot name them apart).',
    '',
    table(['Predict through', 'Predict req/s', 'Predict p50 / p99 (ms)', 'GetModelStatus p50 / p99 (ms)', 'server CPU ms per call: event loop / TensorFlow / other threads', 'client cores', 'errors'], rows),
    '',
    `Worst status p99 under REST load: **${fmt(worstStatus('REST, JSON thread') / worstStatus('gRPC'))}x** that under gRPC load with the JSON thread`,
    `(${fmt(worstStatus('REST, JSON thread'))} against ${fmt(worstStatus('gRPC'))} ms), **${fmt(worstStatus('REST, on the event loop') / worstStatus('gRPC'))}x** when the event loop decodes (${fmt(worstStatus('REST, on the event loop'))} ms).`,
    `Large responses: status p99 **${fmt(worstStatus('REST, 150k outputs, JSON thread'))} ms** when the JSON thread writes them, **${fmt(worstStatus('REST, 150k outputs, on the event loop'))} ms** when the event loop does.`,
    `Predict throughput against TF Serving's gRPC Predict (mean of the rounds): ${(['REST, JSON thread', '/v2 REST, JSON tensors', '/v2 REST, binary tensors', '/v2 gRPC ModelInfer'] as const)
      .map((label) => `${label} **${fmt(meanRps(label) / meanRps('gRPC'))}x**`)
      .join(', ')}.`,
  ].join('\n');
  writeSection(DOC, 'rest-load', '## REST under load', text);
  log(`wrote ${DOC}`);
}

await main();
