/**
 * What model warmup buys: the first Predict calls to a freshly started server, with the version's
 * warmup file replayed at load (the default) and with `--enable_model_warmup=false`, for tiny and
 * MobileNetV2, in alternating rounds. Rewrites the `model-warmup` section of docs/benchmarks.md.
 *
 *   npm run bench -- model-warmup
 */
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { benchInput } from '../lib/inputs.js';
import { freePort, loadAverages, machineLine, today } from '../lib/machine.js';
import { writeSection } from '../lib/markdown-section.js';
import { ensureMobilenet } from '../lib/mobilenet.js';
import { GET_MODEL_STATUS_METHOD, PREDICT_METHOD, predictRequestBytes, statusRequestBytes } from '../lib/requests.js';
import { startServer } from '../lib/server-process.js';
import { fmt, median, table } from '../lib/stats.js';
import { warmupFileOf } from '../lib/warmup-file.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const DOC = join(REPO, 'docs/benchmarks.md');
const ROUNDS = 3;
const LATER_CALLS = 20;
const log = (line: string): void => console.log(`[model-warmup] ${line}`);

interface Model {
  readonly name: string;
  readonly versionDir: string;
  readonly request: Buffer;
}
type Variant = 'warmup file replayed' | '--enable_model_warmup=false';
const VARIANTS: readonly Variant[] = ['--enable_model_warmup=false', 'warmup file replayed'];

interface Measurement {
  readonly model: string;
  readonly variant: Variant;
  readonly round: number;
  readonly readyMs: number;
  readonly firstMs: number;
  readonly secondMs: number;
  readonly laterMs: number;
}

/** A copy of the model's version 1 with a warmup file of one request, the one the bench sends. */
function withWarmupFile(model: Model, dir: string): string {
  const base = join(dir, model.name);
  cpSync(model.versionDir, join(base, '1'), { recursive: true });
  mkdirSync(join(base, '1', 'assets.extra'), { recursive: true });
  writeFileSync(join(base, '1', 'assets.extra', 'tf_serving_warmup_requests'), warmupFileOf([model.request]));
  return base;
}

function unary(client: grpc.Client, method: string, request: Buffer): Promise<number> {
  const identity = (b: Buffer): Buffer => b;
  const started = performance.now();
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(method, identity, identity, request, (error) => (error ? reject(error) : resolve(performance.now() - started))),
  );
}

async function measure(model: Model, base: string, variant: Variant, round: number, logDir: string): Promise<Measurement> {
  const configFile = join(logDir, `${model.name}.yaml`);
  writeFileSync(configFile, `model_config_list:\n  - {name: m, base_path: ${JSON.stringify(base)}}\n`);
  const started = performance.now();
  const server = await startServer({
    configFile,
    grpcPort: await freePort(),
    restPort: await freePort(),
    serveArgs: variant === 'warmup file replayed' ? [] : ['--enable_model_warmup=false'],
    logFile: join(logDir, `${model.name}-${round}-${variant === 'warmup file replayed' ? 'warm' : 'cold'}.log`),
  });
  const readyMs = performance.now() - started;
  const client = new grpc.Client(server.grpcAddress, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': -1 });
  try {
    // Connect with a status call first, so the first Predict pays only for itself.
    await unary(client, GET_MODEL_STATUS_METHOD, statusRequestBytes('m'));
    const firstMs = await unary(client, PREDICT_METHOD, model.request);
    const secondMs = await unary(client, PREDICT_METHOD, model.request);
    const later: number[] = [];
    for (let i = 0; i < LATER_CALLS; i++) later.push(await unary(client, PREDICT_METHOD, model.request));
    return { model: model.name, variant, round, readyMs, firstMs, secondMs, laterMs: median(later) };
  } finally {
    client.close();
    await server.stop();
  }
}

async function main(): Promise<void> {
  const logDir = mkdtempSync(join(tmpdir(), 'tensorfleet-bench-warmup-'));
  const loadBefore = loadAverages();
  const started = Date.now();
  log(`logs in ${logDir}; load average ${loadBefore}`);
  const models: Model[] = [
    { name: 'tiny', versionDir: join(REPO, 'test/fixtures/models/tiny/1'), request: predictRequestBytes({ model: 'm', inputs: { x: { shape: [1, 4], values: benchInput([1, 4]) } } }) },
    {
      name: 'MobileNetV2',
      versionDir: join(ensureMobilenet(process.env, log), '1'),
      request: predictRequestBytes({ model: 'm', inputs: { images: { shape: [1, 224, 224, 3], values: benchInput([1, 224, 224, 3]) } } }),
    },
  ];
  const results: Measurement[] = [];
  for (const model of models) {
    const base = withWarmupFile(model, logDir);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const variant of VARIANTS) {
        const m = await measure(model, base, variant, round, logDir);
        results.push(m);
        log(`${model.name}, ${variant}, round ${round}: ready after ${fmt(m.readyMs)} ms; first ${fmt(m.firstMs)}, second ${fmt(m.secondMs)}, later median ${fmt(m.laterMs)} ms`);
      }
    }
  }
  const loadAfter = loadAverages();
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  log(`done in ${minutes} min; load average ${loadAfter}`);

  const rows = results.map((r) => [r.model, r.variant, String(r.round), fmt(r.readyMs / 1000), fmt(r.firstMs), fmt(r.secondMs), fmt(r.laterMs)]);
  const of = (model: string, variant: Variant, pick: (m: Measurement) => number): number =>
    median(results.filter((r) => r.model === model && r.variant === variant).map(pick));
  const summary = models.map((model) => {
    const coldFirst = of(model.name, '--enable_model_warmup=false', (m) => m.firstMs);
    const warmFirst = of(model.name, 'warmup file replayed', (m) => m.firstMs);
    const later = of(model.name, 'warmup file replayed', (m) => m.laterMs);
    const readyCost = of(model.name, 'warmup file replayed', (m) => m.readyMs) - of(model.name, '--enable_model_warmup=false', (m) => m.readyMs);
    const ready = `${readyCost < 0 ? '-' : '+'}${fmt(Math.abs(readyCost))} ms`;
    return `- ${model.name}: first call **${fmt(coldFirst / warmFirst)}x** faster with warmup (median ${fmt(warmFirst)} against ${fmt(coldFirst)} ms; later calls ${fmt(later)} ms); time to ready ${ready} (medians over ${ROUNDS} rounds; readiness is polled every 200 ms).`;
  });
  const text = [
    `Generated by \`npm run bench -- model-warmup\` on ${today()}; ${minutes} min.`,
    `Machine: ${machineLine()}. Load average (1/5/15 min) before: ${loadBefore}; after: ${loadAfter}.`,
    'Reproduce: `npm run bench -- model-warmup`.',
    '',
    'Each row starts a server on a copy of the model whose version 1 holds a warmup file of one',
    'record (the same batch-1 request the bench then sends; tiny `x` [1,4], MobileNetV2 `images`',
    '[1,224,224,3]), waits for `/readyz`, connects with a GetModelStatus call, then times Predict',
    `calls one after another: the first, the second, and the median of the next ${LATER_CALLS}. The two`,
    `variants alternate, ${ROUNDS} rounds each; "ready after" is from spawning the process to \`/readyz\``,
    'answering 200 (polled every 200 ms), so it includes loading the model and, when on, the warmup.',
    '',
    table(['model', 'server', 'round', 'ready after (s)', 'first Predict (ms)', 'second (ms)', `median of next ${LATER_CALLS} (ms)`], rows),
    '',
    ...summary,
  ].join('\n');
  writeSection(DOC, 'model-warmup', '## Model warmup', text);
  log(`wrote ${DOC}`);
}

await main();
