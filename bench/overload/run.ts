/**
 * Overload with deadlines: more callers than the model can serve in time, each call with a gRPC
 * deadline. Side by side in one run, per server configuration: the calls answered per second
 * without deadlines (the capacity) and, with deadlines, those answered in time (the goodput),
 * plus how many were refused unrun (core/deadline.ts, run-admission.ts). Rewrites the `overload`
 * section of docs/benchmarks.md.
 *
 *   npm run bench -- overload
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { benchInput } from '../lib/inputs.js';
import { freePort, loadAverages, machineLine, today } from '../lib/machine.js';
import { writeSection } from '../lib/markdown-section.js';
import { ensureMobilenet } from '../lib/mobilenet.js';
import { PREDICT_METHOD, predictRequestBytes } from '../lib/requests.js';
import { startServer } from '../lib/server-process.js';
import { fmt, fmtRatio, summarize, table } from '../lib/stats.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const DOC = join(REPO, 'docs/benchmarks.md');
const CALLERS = 16;
const DEADLINE_MS = 200;
const WARMUP_MS = 3000;
const WINDOW_MS = 10_000;
/** Server configurations; `batchingFile` is written as the --batching_parameters_file. */
const CONFIGURATIONS: readonly { name: string; args: readonly string[]; batchingFile?: string }[] = [
  { name: 'server (the default)', args: [] },
  { name: 'server, batching', args: ['--enable_batching=true'] },
  // A batch of all 16 waiting calls takes about the deadline; 4 rows leave time to wait for one.
  { name: 'server, batching, max_batch_size 4', args: ['--enable_batching=true'], batchingFile: 'max_batch_size { value: 4 }\n' },
];
const log = (line: string): void => console.log(`[overload] ${line}`);

interface Phase {
  readonly configuration: string;
  readonly deadlineMs: number | undefined;
  readonly answeredPerS: number;
  readonly lateOrRefusedPerS: number;
  readonly otherErrors: number;
  readonly p50: number;
  readonly p99: number;
}

/** CALLERS closed-loop callers for WARMUP_MS + WINDOW_MS; calls ending inside the window count. */
async function phase(address: string, request: Buffer, configuration: string, deadlineMs: number | undefined): Promise<Phase> {
  const identity = (b: Buffer): Buffer => b;
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': -1 });
  const start = performance.now();
  const from = start + WARMUP_MS;
  const until = from + WINDOW_MS;
  const latencies: number[] = [];
  let deadlineExceeded = 0;
  let otherErrors = 0;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (performance.now() < until) {
        const sent = performance.now();
        const options = { deadline: Date.now() + (deadlineMs ?? 600_000) };
        const code = await new Promise<grpc.status>((resolve) =>
          client.makeUnaryRequest(PREDICT_METHOD, identity, identity, request, options, (error) => resolve(error ? (error.code ?? grpc.status.UNKNOWN) : grpc.status.OK)),
        );
        const ended = performance.now();
        if (ended < from || ended > until) continue;
        if (code === grpc.status.OK) latencies.push(ended - sent);
        else if (code === grpc.status.DEADLINE_EXCEEDED) deadlineExceeded += 1;
        else otherErrors += 1;
      }
    }),
  );
  client.close();
  const summary = summarize(latencies);
  return {
    configuration,
    deadlineMs,
    answeredPerS: latencies.length / (WINDOW_MS / 1000),
    lateOrRefusedPerS: deadlineExceeded / (WINDOW_MS / 1000),
    otherErrors,
    p50: summary.p50,
    p99: summary.p99,
  };
}

async function main(): Promise<void> {
  const logDir = mkdtempSync(join(tmpdir(), 'tensorfleet-bench-overload-'));
  const loadBefore = loadAverages();
  const started = Date.now();
  log(`logs in ${logDir}; load average ${loadBefore}`);
  const configFile = join(logDir, 'models.yaml');
  writeFileSync(configFile, `model_config_list:\n  - {name: m, base_path: ${JSON.stringify(ensureMobilenet(process.env, log))}}\n`);
  const request = predictRequestBytes({ model: 'm', inputs: { images: { shape: [1, 224, 224, 3], values: benchInput([1, 224, 224, 3]) } } });
  const phases: Phase[] = [];
  for (const configuration of CONFIGURATIONS) {
    const args = [...configuration.args];
    if (configuration.batchingFile !== undefined) {
      const file = join(logDir, `batching-${CONFIGURATIONS.indexOf(configuration)}.pbtxt`);
      writeFileSync(file, configuration.batchingFile);
      args.push(`--batching_parameters_file=${file}`);
    }
    const server = await startServer({ configFile, grpcPort: await freePort(), restPort: await freePort(), serveArgs: args, logFile: join(logDir, `${configuration.name}.log`) });
    try {
      for (const deadlineMs of [undefined, DEADLINE_MS]) {
        const p = await phase(server.grpcAddress, request, configuration.name, deadlineMs);
        phases.push(p);
        log(`${p.configuration}, deadline ${deadlineMs ?? 'none'}: ${fmt(p.answeredPerS)} answered/s (p50 ${fmt(p.p50)}, p99 ${fmt(p.p99)} ms), ${fmt(p.lateOrRefusedPerS)} DEADLINE_EXCEEDED/s, ${p.otherErrors} other errors`);
      }
    } finally {
      await server.stop();
    }
  }
  const loadAfter = loadAverages();
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  const rows = phases.map((p) => {
    const capacity = phases.find((c) => c.configuration === p.configuration && c.deadlineMs === undefined)!.answeredPerS;
    return [
      p.configuration,
      p.deadlineMs === undefined ? 'none' : `${p.deadlineMs} ms`,
      fmt(p.answeredPerS),
      p.deadlineMs === undefined ? '1.00x (the capacity)' : fmtRatio(p.answeredPerS / capacity),
      `${fmt(p.p50)} / ${fmt(p.p99)}`,
      fmt(p.lateOrRefusedPerS),
      String(p.otherErrors),
    ];
  });
  const text = [
    `Generated by \`npm run bench -- overload\` on ${today()}; ${minutes} min.`,
    `Machine: ${machineLine()}. Load average (1/5/15 min) before: ${loadBefore}; after: ${loadAfter}.`,
    'Reproduce: `npm run bench -- overload`.',
    '',
    `MobileNetV2 (batch 1, 602 KB requests) and ${CALLERS} grpc-js callers in the bench process, each`,
    'sending its next call as soon as the last one ended, answered or not: more than the model serves',
    `in ${DEADLINE_MS} ms. Each configuration runs once without deadlines (its capacity), then with a`,
    `${DEADLINE_MS} ms deadline on every call; ${WARMUP_MS / 1000} s of warm-up, then calls ending in a ${WINDOW_MS / 1000} s`,
    'window count. "Answered" calls are the ones the caller got an answer for, in time; the others',
    'ended with DEADLINE_EXCEEDED, from the client when an answer was late or from the server for a',
    'call it did not run.',
    '',
    table(['configuration', 'deadline', 'answered (calls/s)', 'vs capacity', 'answered latency p50 / p99 (ms)', 'DEADLINE_EXCEEDED (calls/s)', 'other errors'], rows),
  ].join('\n');
  writeSection(DOC, 'overload', '## Overload with deadlines', text);
  log(`done in ${minutes} min; wrote ${DOC}`);
}

await main();
