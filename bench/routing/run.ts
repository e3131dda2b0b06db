/**
 * Routing benchmark (issue 5): gRPC Predict throughput when routing picks the version (canary 10%,
 * A/B with a sticky x-user-id key) against the same traffic pinned to a version, on one server
 * with the same model (`versioned`, all versions) under three names.
 *
 *   npm run bench -- routing          (BENCH_SCALE=0.3 for a quick, rougher run)
 *
 * Rewrites the `routing` section of docs/benchmarks.md.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RoutingConfig } from '../../src/server/config/model-config.js';
import { route, seededRandom } from '../../src/server/routing/index.js';
import { benchInput } from '../lib/inputs.js';
import { runLoad, type GroupResult } from '../lib/load-runner.js';
import type { LoadTarget } from '../lib/load-protocol.js';
import { freePort, loadAverages, machineLine, today } from '../lib/machine.js';
import { writeSection } from '../lib/markdown-section.js';
import { callOnce, decodePredictResponse, PREDICT_METHOD, predictRequestBytes } from '../lib/requests.js';
import { startServer, type RunningServer } from '../lib/server-process.js';
import { fmt, fmtPercent, median, table } from '../lib/stats.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const DOC = join(REPO, 'docs/benchmarks.md');
const SCALE = Number(process.env.BENCH_SCALE ?? '1');
const ms = (base: number): number => Math.max(500, Math.round(base * SCALE));
const log = (line: string): void => console.log(`[routing] ${line}`);

const VERSIONED = join(REPO, 'test/fixtures/models/versioned');
const ROUNDS = 4;
const CONCURRENCY = 16;
const PROCESSES = 2;
const USERS = 1000;

interface Variant {
  readonly label: string;
  /** The model name the traffic goes to (one per routing config). */
  readonly model: string;
  readonly version?: number;
  readonly sticky: boolean;
  /** Versions the traffic may reach, for the answer check. */
  readonly expectVersions: readonly number[];
}

const VARIANTS: readonly Variant[] = [
  { label: 'pinned: model_spec.version = 2 (baseline)', model: 'pinned', version: 2, sticky: false, expectVersions: [2] },
  // As TF Serving, a model without routing serves its newest version to requests naming none.
  { label: 'no routing config, no version (newest: 3)', model: 'pinned', sticky: false, expectVersions: [3] },
  { label: 'canary: version 3 at 10%, rest stable 2', model: 'canary', sticky: false, expectVersions: [2, 3] },
  { label: 'A/B: 2 and 3 at 50/50, sticky on x-user-id (1000 users)', model: 'ab', sticky: true, expectVersions: [2, 3] },
];

const CONFIG = `model_config_list:
  - name: pinned
    base_path: ${JSON.stringify(VERSIONED)}
    model_version_policy: {all: {}}
    version_labels: {stable: 2}
  - name: canary
    base_path: ${JSON.stringify(VERSIONED)}
    model_version_policy: {all: {}}
    version_labels: {stable: 2}
    routing:
      canary: {version: 3, percent: 10}
  - name: ab
    base_path: ${JSON.stringify(VERSIONED)}
    model_version_policy: {all: {}}
    version_labels: {stable: 2}
    routing:
      ab_test:
        key: {header: x-user-id}
        variants: [{version: 2, percent: 50}, {version: 3, percent: 50}]
`;

function requestOf(variant: Variant): Buffer {
  return predictRequestBytes({ model: variant.model, version: variant.version, inputs: { x: { shape: [1], values: benchInput([1]) } } });
}

function targetOf(server: RunningServer, variant: Variant): LoadTarget {
  return {
    kind: 'grpc',
    address: server.grpcAddress,
    method: PREDICT_METHOD,
    requestBase64: requestOf(variant).toString('base64'),
    // Every variant sends the same x-user-id metadata (only the A/B config reads it), so the
    // traffic differs only in what the server does with it.
    stickyKey: { header: 'x-user-id', prefix: 'user-', keys: USERS },
  };
}

/** Checks answers and stickiness: y = 0.5·x + version, and one user always gets one version. */
async function checkVariant(server: RunningServer, variant: Variant): Promise<string> {
  const seen = new Map<number, number>();
  for (let i = 0; i < 200; i++) {
    const metadata = { 'x-user-id': `user-${i % 20}` };
    const response = decodePredictResponse(await callOnce(server.grpcAddress, PREDICT_METHOD, requestOf(variant), metadata));
    const version = Number(response.version);
    const y = response.outputs['y']?.floats[0];
    const expected = 0.5 * benchInput([1])[0]! + version;
    if (!variant.expectVersions.includes(version) || y === undefined || Math.abs(y - expected) > 1e-5) {
      throw new Error(`${variant.label}: served version ${version} answered ${y}, expected ${expected} from one of ${variant.expectVersions.join(',')}`);
    }
    if (variant.sticky) {
      const before = seen.get(i % 20);
      if (before !== undefined && before !== version) throw new Error(`${variant.label}: user-${i % 20} moved from version ${before} to ${version}`);
      seen.set(i % 20, version);
    } else {
      seen.set(version, (seen.get(version) ?? 0) + 1);
    }
  }
  return variant.sticky
    ? `20 users stayed on their version (${[...seen.values()].filter((v) => v === 3).length} on version 3)`
    : [...seen.entries()].map(([v, n]) => `${n}/200 on version ${v}`).join(', ');
}

async function main(): Promise<void> {
  const logDir = mkdtempSync(join(tmpdir(), 'tensorfleet-bench-routing-'));
  const loadBefore = loadAverages();
  const started = Date.now();
  log(`logs in ${logDir}; load average ${loadBefore}`);
  const configFile = join(logDir, 'models.yaml');
  writeFileSync(configFile, CONFIG);
  const server = await startServer({
    configFile,
    grpcPort: await freePort(),
    restPort: await freePort(),
    logFile: join(logDir, 'server.log'),
  });
  const warmupMs = ms(1000);
  const durationMs = ms(5000);
  const results = new Map<Variant, GroupResult[]>();
  const checks = new Map<Variant, string>();
  const cpuPerCall = new Map<Variant, number[]>();
  try {
    for (const variant of VARIANTS) checks.set(variant, await checkVariant(server, variant));
    // A throw-away round first: the first seconds after start run colder code (JIT) for everyone.
    for (const variant of VARIANTS) {
      await runLoad([{ processes: PROCESSES, job: { target: targetOf(server, variant), concurrency: CONCURRENCY / PROCESSES, warmupMs: 0, durationMs: warmupMs } }]);
    }
    // Interleave the variants round by round, so drifting background load hits them alike.
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? VARIANTS : [...VARIANTS].reverse();
      for (const variant of order) {
        const cpuBefore = server.cpuMs();
        const [r] = await runLoad([
          { processes: PROCESSES, job: { target: targetOf(server, variant), concurrency: CONCURRENCY / PROCESSES, warmupMs, durationMs } },
        ]);
        // Server CPU per completed call (the warm-up's calls estimated at the window's rate).
        const cpuUs = ((server.cpuMs() - cpuBefore) * 1000) / (r!.count * ((warmupMs + durationMs) / durationMs));
        results.set(variant, [...(results.get(variant) ?? []), r!]);
        cpuPerCall.set(variant, [...(cpuPerCall.get(variant) ?? []), cpuUs]);
        log(`round ${round} ${variant.label}: ${fmt(r!.rps)} req/s p50 ${fmt(r!.p50)} ms p99 ${fmt(r!.p99)} ms errors ${r!.errors}${r!.firstError ? ` (${r!.firstError})` : ''}`);
      }
    }
  } finally {
    await server.stop();
  }
  const loadAfter = loadAverages();
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  log(`done in ${minutes} min; load average ${loadAfter}`);

  const decision = routeCost();
  log(`route() in-process: canary ${decision.canary.toFixed(2)} µs, A/B ${decision.ab.toFixed(2)} µs per decision`);

  const baseline = VARIANTS[0]!;
  const medianRps = (v: Variant): number => median(results.get(v)!.map((r) => r.rps));
  const medianOf = (v: Variant, pick: (r: GroupResult) => number): number => median(results.get(v)!.map(pick));
  const rows = VARIANTS.map((v) => [
    v.label,
    results
      .get(v)!
      .map((r) => fmt(r.rps))
      .join(', '),
    fmt(medianRps(v)),
    fmt(medianOf(v, (r) => r.p50)),
    fmt(medianOf(v, (r) => r.p99)),
    v === baseline ? '—' : fmtPercent((1 - medianRps(v) / medianRps(baseline)) * 100),
    fmt(median(cpuPerCall.get(v)!)),
    v === baseline ? '—' : fmtPercent((median(cpuPerCall.get(v)!) / median(cpuPerCall.get(baseline)!) - 1) * 100),
    String(results.get(v)!.reduce((n, r) => n + r.errors, 0)),
  ]);
  const overheads = VARIANTS.slice(2).map((v) => ({ v, overhead: (1 - medianRps(v) / medianRps(baseline)) * 100 }));
  const spread = (v: Variant): number => {
    const rps = results.get(v)!.map((r) => r.rps);
    return ((Math.max(...rps) - Math.min(...rps)) / median(rps)) * 100;
  };
  const body = [
    `Generated by \`npm run bench -- routing\` on ${today()}; ${minutes} min.`,
    `Machine: ${machineLine()}. Load average (1/5/15 min) before: ${loadBefore}; after: ${loadAfter}.`,
    'Reproduce: `npm run bench -- routing`.',
    '',
    'One server (1 inference thread) serves the fixture `versioned` (all versions; `y = 0.5·x + version`,',
    '`x` [1] float) under three names: `pinned` (no routing), `canary` and `ab` (configs below; `stable`',
    `label → 2 everywhere). gRPC Predict, closed loop, ${CONCURRENCY} calls outstanding over ${PROCESSES} grpc-js client`,
    `processes, ${ROUNDS} rounds of ${durationMs / 1000} s (after ${warmupMs / 1000} s warm-up) per variant, interleaved (odd`,
    'rounds in table order, even rounds reversed) after one throw-away warm-up round. All traffic carries',
    'the same `x-user-id` metadata rotating through 1000 values (only the A/B config reads it). Before the',
    'load, 200 calls per variant check the answers and the split / stickiness:',
    '',
    ...VARIANTS.map((v) => `- ${v.label}: ${checks.get(v)}`),
    '',
    table(['traffic', 'req/s per round', 'median req/s', 'p50 (ms)', 'p99 (ms)', 'overhead vs pinned', 'server CPU µs per call (median)', 'CPU vs pinned', 'errors'], rows),
    '',
    'Overhead = 1 − median throughput / pinned median throughput (negative: faster than pinned).',
    `Round-to-round spread (max−min over median) of the pinned baseline: ${spread(baseline).toFixed(1)}%; differences`,
    'smaller than that are noise.',
    '',
    table(
      ['target (issue 5)', 'measured', 'result'],
      overheads.map(({ v, overhead }) => {
        const decisionUs = v.model === 'canary' ? decision.canary : decision.ab;
        const share = (decisionUs / median(cpuPerCall.get(baseline)!)) * 100;
        const verdict =
          overhead < 5
            ? 'met'
            : overhead < spread(baseline)
              ? `not resolved end to end (within the ${spread(baseline).toFixed(0)}% noise); met by the decision cost`
              : '**missed**';
        return [
          `${v.model === 'canary' ? 'canary' : 'A/B sticky'} routing overhead < 5%`,
          `throughput ${fmtPercent(overhead)}; decision ${decisionUs.toFixed(2)} µs = ${share.toFixed(2)}% of the server's CPU per call`,
          verdict,
        ];
      }),
    ),
    '',
    `The routing decision itself, \`route()\` called in a loop in-process (1M decisions): canary`,
    `${decision.canary.toFixed(2)} µs, sticky A/B (MurmurHash3 of the key + rendezvous) ${decision.ab.toFixed(2)} µs per decision.`,
    '',
    '```yaml',
    CONFIG.replaceAll(JSON.stringify(VERSIONED), 'test/fixtures/models/versioned').trimEnd(),
    '```',
  ].join('\n');
  writeSection(DOC, 'routing', '## Routing', body);
  log(`wrote the routing section of ${DOC}`);
}

/** Microseconds per route() decision for the benchmark's canary and A/B configs. */
function routeCost(): { canary: number; ab: number } {
  const rng = seededRandom(1);
  const keys = Array.from({ length: USERS }, (_, i) => `user-${i}`);
  const time = (routing: RoutingConfig, withKey: boolean): number => {
    const n = 1_000_000;
    let sink = 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      sink += route(routing, { availableVersions: [1, 2, 3], stableVersion: 2, requestKey: withKey ? keys[i % USERS] : undefined, rng }).version;
    }
    if (sink < 0) throw new Error('unreachable');
    return ((performance.now() - t0) * 1000) / n;
  };
  const canary: RoutingConfig = { canary: { version: 3, percent: 10 } };
  const ab: RoutingConfig = { abTest: { keyHeader: 'x-user-id', variants: [{ version: 2, percent: 50 }, { version: 3, percent: 50 }] } };
  time(ab, true); // warm the JIT
  return { canary: time(canary, false), ab: time(ab, true) };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
