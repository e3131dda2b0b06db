/**
 * What TLS on the gRPC port costs: the same server and load in plain text, with TLS
 * (--grpc_tls_cert_file) and with mutual TLS (--grpc_tls_client_ca_file), for tiny and
 * MobileNetV2, in alternating rounds with the Go client. Rewrites the `grpc-tls` section of
 * docs/benchmarks.md.
 *
 *   npm run bench -- grpc-tls
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchInput } from '../lib/inputs.js';
import { runLoad } from '../lib/load-runner.js';
import { freePort, loadAverages, machineLine, today } from '../lib/machine.js';
import { writeSection } from '../lib/markdown-section.js';
import { ensureMobilenet } from '../lib/mobilenet.js';
import { PREDICT_METHOD, predictRequestBytes } from '../lib/requests.js';
import { startServer, threadCpuMs } from '../lib/server-process.js';
import { fmt, median, table } from '../lib/stats.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const DOC = join(REPO, 'docs/benchmarks.md');
const TLS = (name: string): string => join(REPO, 'test/fixtures/tls', `${name}.pem`);
const ROUNDS = 2;
const WARMUP_MS = 2000;
const WINDOW_MS = 8000;
const log = (line: string): void => console.log(`[grpc-tls] ${line}`);

type Variant = 'plain text' | 'TLS' | 'mutual TLS';
const VARIANTS: readonly Variant[] = ['plain text', 'TLS', 'mutual TLS'];

interface Model {
  readonly name: string;
  readonly basePath: string;
  readonly request: Buffer;
  readonly connections: number;
  readonly concurrency: number;
}

interface Measurement {
  readonly model: string;
  readonly variant: Variant;
  readonly round: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly mainUsPerCall: number;
  readonly errors: number;
}

const serverFlags = (variant: Variant): string[] =>
  variant === 'plain text' ? [] : [`--grpc_tls_cert_file=${TLS('server')}`, `--grpc_tls_key_file=${TLS('server-key')}`, ...(variant === 'mutual TLS' ? [`--grpc_tls_client_ca_file=${TLS('ca')}`] : [])];

const clientTls = (variant: Variant): { ca: string; cert?: string; key?: string } | undefined =>
  variant === 'plain text' ? undefined : { ca: TLS('ca'), ...(variant === 'mutual TLS' ? { cert: TLS('client'), key: TLS('client-key') } : {}) };

async function measure(model: Model, variant: Variant, round: number, logDir: string): Promise<Measurement> {
  const configFile = join(logDir, `${model.name}.yaml`);
  writeFileSync(configFile, `model_config_list:\n  - {name: m, base_path: ${JSON.stringify(model.basePath)}}\n`);
  const server = await startServer({ configFile, grpcPort: await freePort(), restPort: await freePort(), serveArgs: serverFlags(variant), logFile: join(logDir, `${model.name}-${round}-${variant.replace(/ /g, '-')}.log`) });
  try {
    const mainCpuMs = (): number => [...threadCpuMs(server.pid)].find(([k]) => k.startsWith(`${server.pid} `))?.[1] ?? NaN;
    const cpuBefore = mainCpuMs();
    const tls = clientTls(variant);
    const [load] = await runLoad([
      {
        client: 'go',
        processes: model.connections,
        job: {
          target: { kind: 'grpc', address: server.grpcAddress, method: PREDICT_METHOD, requestBase64: model.request.toString('base64'), ...(tls ? { tls } : {}) },
          concurrency: model.concurrency / model.connections,
          warmupMs: WARMUP_MS,
          durationMs: WINDOW_MS,
        },
      },
    ]);
    // Main-thread CPU over warm-up and window, per call recorded in the window (both phases load alike).
    const calls = load!.rps * ((WARMUP_MS + WINDOW_MS) / 1000);
    return { model: model.name, variant, round, rps: load!.rps, p50: load!.p50, p99: load!.p99, mainUsPerCall: ((mainCpuMs() - cpuBefore) * 1000) / calls, errors: load!.errors };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const logDir = mkdtempSync(join(tmpdir(), 'tensorfleet-bench-tls-'));
  const loadBefore = loadAverages();
  const started = Date.now();
  log(`logs in ${logDir}; load average ${loadBefore}`);
  const models: Model[] = [
    { name: 'tiny', basePath: join(REPO, 'test/fixtures/models/tiny'), request: predictRequestBytes({ model: 'm', inputs: { x: { shape: [1, 4], values: benchInput([1, 4]) } } }), connections: 2, concurrency: 32 },
    {
      name: 'MobileNetV2',
      basePath: ensureMobilenet(process.env, log),
      request: predictRequestBytes({ model: 'm', inputs: { images: { shape: [1, 224, 224, 3], values: benchInput([1, 224, 224, 3]) } } }),
      connections: 1,
      concurrency: 8,
    },
  ];
  const results: Measurement[] = [];
  for (const model of models) {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const variant of VARIANTS) {
        const m = await measure(model, variant, round, logDir);
        results.push(m);
        log(`${model.name}, ${variant}, round ${round}: ${fmt(m.rps)} req/s, p50 ${fmt(m.p50)} ms, p99 ${fmt(m.p99)} ms, main thread ${fmt(m.mainUsPerCall)} µs/call, errors ${m.errors}`);
      }
    }
  }
  const loadAfter = loadAverages();
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  log(`done in ${minutes} min; load average ${loadAfter}`);

  const of = (model: string, variant: Variant, pick: (m: Measurement) => number): number => median(results.filter((r) => r.model === model && r.variant === variant).map(pick));
  const concurrencyOf = (name: string): string => {
    const model = models.find((m) => m.name === name)!;
    return `${model.concurrency} (${model.connections} connection${model.connections === 1 ? '' : 's'})`;
  };
  const rows = results.map((r) => [
    r.model,
    r.variant,
    String(r.round),
    concurrencyOf(r.model),
    fmt(r.rps),
    fmt(r.p50),
    fmt(r.p99),
    fmt(r.mainUsPerCall),
    `${fmt(r.rps / of(r.model, 'plain text', (m) => m.rps))}x`,
    String(r.errors),
  ]);
  const summary = models.map((model) => {
    const plain = of(model.name, 'plain text', (m) => m.rps);
    const parts = (['TLS', 'mutual TLS'] as const).map((v) => `${v} **${fmt(of(model.name, v, (m) => m.rps) / plain)}x** (main thread ${fmt(of(model.name, v, (m) => m.mainUsPerCall))} µs/call)`);
    return `- ${model.name}: throughput against plain text (${fmt(plain)} req/s, main thread ${fmt(of(model.name, 'plain text', (m) => m.mainUsPerCall))} µs/call): ${parts.join(', ')}; medians of ${ROUNDS} rounds.`;
  });
  const text = [
    `Generated by \`npm run bench -- grpc-tls\` on ${today()}; ${minutes} min.`,
    `Machine: ${machineLine()}. Load average (1/5/15 min) before: ${loadBefore}; after: ${loadAfter}.`,
    'Reproduce: `npm run bench -- grpc-tls`.',
    '',
    'The server in its default configuration (one inference thread, no batching) with the test',
    'certificates of `test/fixtures/tls` (P-256) from files (`--grpc_tls_cert_file`, and',
    '`--grpc_tls_client_ca_file` for mutual TLS), against the Go client (grpc-go, TLS 1.3) on the',
    `same 2 cores. tiny: c=32 over 2 connections; MobileNetV2 (602 KB requests): c=8 over 1. ${fmt(WARMUP_MS / 1000)} s`,
    `of warm-up, then ${fmt(WINDOW_MS / 1000)} s measured; the three variants alternate, ${ROUNDS} rounds. "main thread" is`,
    "the server's event-loop CPU per call, where Node's TLS records are encrypted and decrypted.",
    '',
    table(['model', 'gRPC port', 'round', 'concurrency', 'req/s', 'p50 (ms)', 'p99 (ms)', 'main thread (µs/call)', 'vs plain text (median)', 'errors'], rows),
    '',
    ...summary,
  ].join('\n');
  writeSection(DOC, 'grpc-tls', '## gRPC over TLS', text);
  log(`wrote ${DOC}`);
}

await main();
