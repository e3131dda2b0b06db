/**
 * The ceiling: the same SavedModel called in-process, in a plain loop on one thread, batch 1,
 * no gRPC, no worker hop. Forked by ceiling.ts so it runs alone (no server alive meanwhile).
 *
 * Two ways, both through tfjs-node's native binding and the same TensorFlow library:
 * - `session-runner`: our own SessionRunner (what the server's inference worker runs), so the
 *   server/ceiling ratio isolates exactly what serving adds (gRPC, codecs, routing, the thread hop).
 * - `tfjs`: `tf.node.loadSavedModel(...).predict(tensor)` + `dataSync()`, the public tfjs-node API.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { benchInput } from '../lib/inputs.js';
import { machineBusyMs } from '../lib/machine.js';
import { readSignatures } from '../../src/server/servables/tensorflow/saved-model-metadata.js';
import { SessionRunner } from '../../src/server/servables/tensorflow/session-runner.js';
import { loadTfBinding } from '../../src/server/servables/tensorflow/tf-binding.js';

export interface CeilingJob {
  readonly mode: 'session-runner' | 'tfjs';
  readonly savedModelDir: string;
  readonly input: string;
  readonly output: string;
  readonly shape: readonly number[];
  readonly warmupMs: number;
  readonly durationMs: number;
}

export interface CeilingResult {
  readonly latenciesMs: number[];
  /** CPU (all threads of the process) over the loop, warm-up included, ms; and the loop's wall time. */
  readonly cpuMs: number;
  readonly wallMs: number;
  /** The whole machine's busy CPU over the loop, ms. */
  readonly machineMs: number;
  readonly firstOutput: number[];
}

function loop(warmupMs: number, durationMs: number, step: () => void): number[] {
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  const machine = machineBusyMs();
  const start = performance.now();
  const recordFrom = start + warmupMs;
  const stopAt = recordFrom + durationMs;
  for (;;) {
    const t0 = performance.now();
    if (t0 >= stopAt) break;
    step();
    const t1 = performance.now();
    if (t0 >= recordFrom && t1 <= stopAt) latencies.push(t1 - t0);
  }
  const used = process.cpuUsage(cpu);
  loopCpu = (used.user + used.system) / 1000;
  loopWall = performance.now() - start;
  loopMachine = machineBusyMs() - machine;
  return latencies;
}

async function sessionRunner(job: CeilingJob): Promise<CeilingResult> {
  const { signatures } = await readSignatures(job.savedModelDir);
  const sig = signatures['serving_default'];
  const inName = sig?.inputs[job.input]?.name;
  const outName = sig?.outputs[job.output]?.name;
  if (!inName || !outName) throw new Error(`serving_default lacks ${job.input} -> ${job.output}`);
  const runner = new SessionRunner(loadTfBinding());
  const session = runner.load(job.savedModelDir, ['serve']);
  const values = benchInput(job.shape);
  const bytes = new Uint8Array(values.buffer);
  const input = { dtype: 'DT_FLOAT' as const, shape: job.shape, bytes };
  let first: number[] = [];
  const step = (): void => {
    const [out] = runner.run(session, [inName], [input], [outName]);
    if (first.length === 0 && out && out.dtype !== 'DT_STRING') {
      first = Array.from(new Float32Array(out.bytes.slice().buffer).slice(0, 3));
    }
  };
  const latenciesMs = loop(job.warmupMs, job.durationMs, step);
  runner.unload(session);
  return { latenciesMs, firstOutput: first, cpuMs: 0, wallMs: 0, machineMs: 0 };
}

interface TfjsTensor {
  dataSync(): Float32Array;
  dispose(): void;
}
interface TfjsModule {
  tensor(values: Float32Array, shape: number[]): TfjsTensor;
  node: {
    loadSavedModel(dir: string, tags: string[], signature: string): Promise<{ predict(x: TfjsTensor): TfjsTensor | Record<string, TfjsTensor> }>;
  };
}

async function tfjs(job: CeilingJob): Promise<CeilingResult> {
  const tf = createRequire(import.meta.url)('@tensorflow/tfjs-node') as TfjsModule;
  const model = await tf.node.loadSavedModel(job.savedModelDir, ['serve'], 'serving_default');
  const values = benchInput(job.shape);
  let first: number[] = [];
  const step = (): void => {
    const x = tf.tensor(values, [...job.shape]);
    const y = model.predict(x);
    const out = 'dataSync' in y ? (y as TfjsTensor) : (y)[job.output]!;
    const data = out.dataSync();
    if (first.length === 0) first = Array.from(data.slice(0, 3));
    x.dispose();
    out.dispose();
  };
  return { latenciesMs: loop(job.warmupMs, job.durationMs, step), firstOutput: first, cpuMs: 0, wallMs: 0, machineMs: 0 };
}

let loopCpu = 0;
let loopWall = 0;
let loopMachine = 0;

process.once('message', (job: CeilingJob) => {
  void (job.mode === 'tfjs' ? tfjs(job) : sessionRunner(job)).then(
    (result) => process.send?.({ ok: true, result: { ...result, cpuMs: loopCpu, wallMs: loopWall, machineMs: loopMachine } }, () => process.exit(0)),
    (error: unknown) => process.send?.({ ok: false, message: error instanceof Error ? error.stack : String(error) }, () => process.exit(1)),
  );
});
