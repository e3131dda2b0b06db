/**
 * Large requests over a network with latency: gRPC Predict with MobileNetV2-sized (602 KB) and
 * 3.2 MB requests, sent straight over loopback and through a proxy that delays every chunk (this
 * kernel has no netem), against the server as it ships (HTTP/2 receive windows grown by BDP
 * probing, decision 0012) and with `grpc.http2.bdp_probe=0` (Node's fixed 64 KiB windows).
 *
 *   npm run bench -- large-requests        (BENCH_SCALE=0.5 for a quicker, rougher run)
 *
 * Rewrites the `large-requests` section of docs/benchmarks.md.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DelayProxy } from '../../test/helpers/server/delay-proxy.js';
import { runLoad, type GroupResult } from '../lib/load-runner.js';
import { freePort, loadAverages, machineLine, today } from '../lib/machine.js';
import { writeSection } from '../lib/markdown-section.js';
import { callOnce, decodePredictResponse, PREDICT_METHOD, predictRequestBytes } from '../lib/requests.js';
import { startServer, type RunningServer } from '../lib/server-process.js';
import { fmt, table } from '../lib/stats.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const DOC = join(REPO, 'docs/benchmarks.md');
const SCALE = Number(process.env.BENCH_SCALE ?? '1');
const ms = (base: number): number => Math.max(1000, Math.round(base * SCALE));
const log = (line: string): void => console.log(`[large-requests] ${line}`);

/** tiny's x is [-1, 4] float: 16 bytes a row. */
const SIZES = [
  { label: '602 KB (a MobileNetV2 image)', rows: 37_632 },
  { label: '3.2 MB', rows: 200_000 },
] as const;
/** One-way delay added by the proxy; undefined: straight to the server. */
const NETWORKS = [
  { label: 'loopback', delayMs: undefined },
  { label: 'proxy, +1 ms each way', delayMs: 1 },
  { label: 'proxy, +5 ms each way', delayMs: 5 },
] as const;
const CONCURRENCY = [1, 4] as const;
const VARIANTS = [
  { label: 'as shipped (BDP probing)', serveArgs: [] as string[] },
  { label: 'fixed 64 KiB windows (`grpc.http2.bdp_probe=0`)', serveArgs: ['--grpc_channel_arguments=grpc.http2.bdp_probe=0'] },
] as const;

type Network = (typeof NETWORKS)[number];
type Variant = (typeof VARIANTS)[number];

interface Endpoint {
  readonly server: RunningServer;
  readonly addressOf: Map<Network, string>;
  readonly proxies: DelayProxy[];
}

async function startEndpoint(variant: Variant, configFile: string, logDir: string, index: number): Promise<Endpoint> {
  const server = await startServer({ configFile, grpcPort: await freePort(), restPort: await freePort(), serveArgs: variant.serveArgs, logFile: join(logDir, `server-${index}.log`) });
  const port = Number(server.grpcAddress.split(':').pop());
  const addressOf = new Map<Network, string>();
  const proxies: DelayProxy[] = [];
  for (const network of NETWORKS) {
    if (network.delayMs === undefined) {
      addressOf.set(network, server.grpcAddress);
      continue;
    }
    const proxy = await DelayProxy.start(port, network.delayMs);
    proxies.push(proxy);
    addressOf.set(network, proxy.target);
  }
  return { server, addressOf, proxies };
}

function requestOf(rows: number): Buffer {
  return predictRequestBytes({ model: 'tiny', inputs: { x: { shape: [rows, 4], values: new Float32Array(rows * 4).fill(0.25) } } });
}

async function checkAnswer(address: string, rows: number): Promise<void> {
  const response = decodePredictResponse(await callOnce(address, PREDICT_METHOD, requestOf(rows)));
  const y = response.outputs['y'];
  if (y?.shape[0] !== rows || y.shape[1] !== 3) throw new Error(`${address}: answer has shape ${JSON.stringify(y?.shape)}, expected [${rows}, 3]`);
}

async function main(): Promise<void> {
  const logDir = mkdtempSync(join(tmpdir(), 'tensorfleet-bench-large-'));
  const loadBefore = loadAverages();
  const started = Date.now();
  log(`logs in ${logDir}; load average ${loadBefore}`);
  const configFile = join(logDir, 'models.yaml');
  writeFileSync(configFile, `model_config_list:\n  - {name: tiny, base_path: ${JSON.stringify(join(REPO, 'test/fixtures/models/tiny'))}}\n`);
  const endpoints = new Map<Variant, Endpoint>();
  const results = new Map<string, GroupResult>();
  const key = (v: Variant, n: Network, rows: number, c: number): string => `${v.label}|${n.label}|${rows}|${c}`;
  const warmupMs = ms(2000);
  const durationMs = ms(5000);
  try {
    for (const [i, variant] of VARIANTS.entries()) endpoints.set(variant, await startEndpoint(variant, configFile, logDir, i));
    for (const endpoint of endpoints.values()) for (const address of endpoint.addressOf.values()) await checkAnswer(address, SIZES[0].rows);
    for (const network of NETWORKS) {
      for (const size of SIZES) {
        const request = requestOf(size.rows).toString('base64');
        for (const concurrency of CONCURRENCY) {
          // Side by side: each cell runs both servers, one after the other.
          for (const variant of VARIANTS) {
            const address = endpoints.get(variant)!.addressOf.get(network)!;
            const [r] = await runLoad([
              { client: 'go', processes: 1, job: { target: { kind: 'grpc', address, method: PREDICT_METHOD, requestBase64: request }, concurrency, warmupMs, durationMs } },
            ]);
            results.set(key(variant, network, size.rows, concurrency), r!);
            log(`${network.label}, ${size.label}, c=${concurrency}, ${variant.label}: ${fmt(r!.rps)} req/s p50 ${fmt(r!.p50)} ms p99 ${fmt(r!.p99)} ms errors ${r!.errors}`);
          }
        }
      }
    }
  } finally {
    for (const endpoint of endpoints.values()) {
      for (const proxy of endpoint.proxies) await proxy.close();
      await endpoint.server.stop();
    }
  }
  const loadAfter = loadAverages();
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  log(`done in ${minutes} min; load average ${loadAfter}`);

  const [shipped, fixed] = VARIANTS;
  const rows: string[][] = [];
  for (const network of NETWORKS) {
    for (const size of SIZES) {
      for (const concurrency of CONCURRENCY) {
        const a = results.get(key(shipped, network, size.rows, concurrency))!;
        const b = results.get(key(fixed, network, size.rows, concurrency))!;
        rows.push([
          network.label,
          size.label,
          String(concurrency),
          `${fmt(a.rps)} / ${fmt(b.rps)}`,
          `**${fmt(a.rps / b.rps)}x**`,
          `${fmt(a.p50)} / ${fmt(b.p50)}`,
          `${fmt(a.p99)} / ${fmt(b.p99)}`,
          String(a.errors + b.errors),
        ]);
      }
    }
  }
  const body = [
    `Generated by \`npm run bench -- large-requests\` on ${today()}; ${minutes} min.`,
    `Machine: ${machineLine()}. Load average (1/5/15 min) before: ${loadBefore}; after: ${loadAfter}.`,
    'Reproduce: `npm run bench -- large-requests`.',
    '',
    'gRPC Predict of the fixture `tiny` (`x` [rows, 4] float as `tensor_content`) from the Go load',
    `generator over one HTTP/2 connection, closed loop, ${durationMs / 1000} s after ${warmupMs / 1000} s of warm-up per cell. "proxy" rows go`,
    'through a loopback TCP proxy that holds every chunk for the given time in each direction (a round',
    'trip of twice that plus the proxy\'s own ~0.1-1 ms). Each cell runs the server as shipped and the',
    'same server with fixed 64 KiB HTTP/2 receive windows (Node\'s default, which grpc-js keeps), one',
    'after the other. Before the load, each server answered a 602 KB call through each path correctly.',
    '',
    table(['network', 'request', 'concurrency', 'req/s: shipped / fixed 64 KiB', 'shipped vs fixed', 'p50 (ms): shipped / fixed', 'p99 (ms): shipped / fixed', 'errors'], rows),
  ].join('\n');
  writeSection(DOC, 'large-requests', '## Large requests over a network', body);
  log(`wrote ${DOC}`);
}

await main();
