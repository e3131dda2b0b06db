/**
 * An inference worker that dies is replaced with every model loaded again, so the server keeps
 * serving: with two workers, calls move to the survivor at once; with one, calls wait for the
 * replacement. Real TensorFlow, real worker threads.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, expect, test } from 'vitest';
import type { HostTensor } from '../../../src/server/core/host-tensor.js';
import type { Servable } from '../../../src/server/core/servable.js';
import { InferencePool, type WorkerEvent } from '../../../src/server/servables/tensorflow/inference-pool.js';
import type { InferenceWorkerHandle, RequestBody } from '../../../src/server/servables/tensorflow/inference-worker-handle.js';
import { TensorflowLoader } from '../../../src/server/servables/tensorflow/tensorflow-servable.js';
import { COUNTER_WARMUP_RECORDS, counterCalls, loaderWarmup } from '../../helpers/counter-model.js';
import { fixtureModelDir, hostTensorOf, jsonValuesOf, readExpectations } from '../../helpers/fixture-tensors.js';

const signal = new AbortController().signal;
let pool: InferencePool | undefined;

afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

const tinyCase = readExpectations('tiny').signatures.serving_default!.cases[0]!;
const inputs = (): Record<string, HostTensor> => Object.fromEntries(Object.entries(tinyCase.inputs).map(([n, t]) => [n, hostTensorOf(t)]));
const expected = tinyCase.outputs.y!.values as number[];
const answer = async (servable: Servable): Promise<number[]> => jsonValuesOf((await servable.run('serving_default', inputs(), undefined)).y!) as number[];
const closeTo = (values: number[]): boolean => values.length === expected.length && values.every((v, i) => Math.abs(v - expected[i]!) < 1e-5);

/** Resolves when the pool reports a replacement serving. */
let restarted: Promise<void>;

/** Starts `pool`, recording its worker events; `restarted` resolves with the first replacement. */
async function startPool(workers: number, events: WorkerEvent[]): Promise<InferencePool> {
  let markRestarted = (): void => undefined;
  restarted = new Promise((resolve) => (markRestarted = resolve));
  pool = await InferencePool.start(workers, {
    onWorkerEvent: (event) => {
      events.push(event);
      if (event.type === 'worker-restarted') markRestarted();
    },
  });
  return pool;
}

async function startWith(workers: number, events: WorkerEvent[]): Promise<{ tiny: Servable; mnist: Servable }> {
  const loader = new TensorflowLoader(await startPool(workers, events));
  return { tiny: await loader.load('tiny', 1, fixtureModelDir('tiny'), signal), mnist: await loader.load('mnist', 1, fixtureModelDir('mnist'), signal) };
}

test('the only worker dies: calls wait for its replacement, which has every model loaded again', async () => {
  const events: WorkerEvent[] = [];
  const { tiny, mnist } = await startWith(1, events);
  expect(closeTo(await answer(tiny))).toBe(true);
  const busyBeforeDeath = pool!.busyMs();
  expect(busyBeforeDeath).toBeGreaterThan(0);
  await pool!.killWorker(0);
  // The dead worker's busy time still counts: the busy-time metric is a counter.
  expect(pool!.busyMs()).toBeGreaterThanOrEqual(busyBeforeDeath);
  // Issued while the replacement starts and reloads both models.
  const results = await Promise.all(Array.from({ length: 5 }, () => answer(tiny)));
  expect(results.every(closeTo), JSON.stringify(results)).toBe(true);
  const mnistCase = readExpectations('mnist').signatures.predict_images!.cases[0]!;
  const scores = await mnist.run('predict_images', Object.fromEntries(Object.entries(mnistCase.inputs).map(([n, t]) => [n, hostTensorOf(t)])), undefined);
  expect(scores.scores?.shape).toEqual(mnistCase.outputs.scores!.shape);
  expect(events.map((e) => e.type)).toEqual(['worker-died', 'worker-restarted']);
  expect(events[1]).toMatchObject({ index: 0, models: 2 });
});

test('one of two workers dies under load: no call fails after the death, and the replacement serves', async () => {
  const events: WorkerEvent[] = [];
  const { tiny } = await startWith(2, events);
  let stop = false;
  const failures: string[] = [];
  let ok = 0;
  let killed = false;
  const callers = Array.from({ length: 4 }, async () => {
    while (!stop) {
      const diedBefore = killed;
      try {
        if (closeTo(await answer(tiny))) ok++;
      } catch (error) {
        // Calls already in flight on the dying worker may fail; later ones must not.
        if (diedBefore) failures.push(String(error));
      }
    }
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  await pool!.killWorker(1);
  killed = true;
  // Calls keep running on the survivor until the replacement serves, and a while after.
  await restarted;
  const beforeReplacement = ok;
  await new Promise((resolve) => setTimeout(resolve, 300));
  stop = true;
  await Promise.all(callers);
  expect(failures).toEqual([]);
  expect(beforeReplacement).toBeGreaterThan(20);
  expect(ok).toBeGreaterThan(beforeReplacement);
  expect(events.map((e) => e.type)).toEqual(['worker-died', 'worker-restarted']);
  expect(events[0]).toMatchObject({ index: 1 });
});

test('a model unloaded while its worker restarts is not loaded again', async () => {
  const events: WorkerEvent[] = [];
  const { tiny, mnist } = await startWith(1, events);
  await pool!.killWorker(0);
  await mnist.unload();
  expect(closeTo(await answer(tiny))).toBe(true);
  expect(events.at(-1)).toMatchObject({ type: 'worker-restarted', models: 1 });
});

test('a worker that cannot be replaced (its model vanished from disk) is reported lost and its calls fail UNAVAILABLE', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tensorfleet-lost-worker-'));
  try {
    cpSync(fixtureModelDir('tiny'), dir, { recursive: true });
    const events: WorkerEvent[] = [];
    let markFailed = (): void => undefined;
    const failed = new Promise<void>((resolve) => (markFailed = resolve));
    pool = await InferencePool.start(1, {
      onWorkerEvent: (event) => {
        events.push(event);
        if (event.type === 'worker-restart-failed') markFailed();
      },
    });
    const tiny = await new TensorflowLoader(pool).load('tiny', 1, dir, signal);
    expect(closeTo(await answer(tiny))).toBe(true);
    expect(pool.lostWorkers()).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
    await pool.killWorker(0);
    await failed;
    expect(pool.lostWorkers()).toEqual([0]);
    expect(events.map((e) => e.type)).toEqual(['worker-died', 'worker-restart-failed']);
    await expect(answer(tiny)).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/inference worker 0 could not be restarted/) as unknown });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a replacement worker replays the warmup file of every version it loads again before it serves', async () => {
  const events: WorkerEvent[] = [];
  const logged: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
  const loader = new TensorflowLoader(await startPool(1, events), { tags: ['serve'], warmup: loaderWarmup(1, logger) });
  const counter = await loader.load('counter', 1, fixtureModelDir('counter'), signal);
  // `calls` counts the session's runs, warmup records included.
  expect(await counterCalls(counter)).toBe(COUNTER_WARMUP_RECORDS + 1);
  await pool!.killWorker(0);
  await restarted;
  expect(await counterCalls(counter)).toBe(COUNTER_WARMUP_RECORDS + 1);
  expect(logged.map((l) => l.msg)).toEqual(['warmed up version', 'warmed up version on a replacement inference thread']);
  expect(events.map((e) => e.type)).toEqual(['worker-died', 'worker-restarted']);
});

/**
 * Fault injection at the one point the pool cannot see coming: worker 0 dies right after it
 * loaded a new version and before the other worker finished loading it. The version is not yet
 * registered, so the replacement starts without it; the load must still end with the version on
 * every serving worker (before the fix, worker 0's slot kept the dead worker's session id).
 */
test('a worker that dies right after loading a version, while the load goes on elsewhere, is replaced with that version loaded', async () => {
  const events: WorkerEvent[] = [];
  const loader = new TensorflowLoader(await startPool(2, events));
  const tiny = await loader.load('tiny', 1, fixtureModelDir('tiny'), signal);
  // The pool's worker handles are private; reach them to kill worker 0 as its load answers, and
  // to hold worker 1's load until worker 0's replacement serves (a large model loads that long).
  const [worker0, worker1] = (pool as unknown as { slots: { worker: InferenceWorkerHandle }[] }).slots.map((slot) => slot.worker);
  let injected = false;
  intercept(worker0!, async (body) => {
    if (body.kind !== 'load' || injected) return;
    injected = true;
    await worker0!.kill();
  });
  intercept(worker1!, async (body) => {
    if (body.kind === 'load') await restarted;
  });
  const mnist = await loader.load('mnist', 1, fixtureModelDir('mnist'), signal);
  expect(injected).toBe(true);
  // Issued in one tick, the calls alternate between the two workers (least busy first).
  const mnistCase = readExpectations('mnist').signatures.predict_images!.cases[0]!;
  const mnistInputs = Object.fromEntries(Object.entries(mnistCase.inputs).map(([n, t]) => [n, hostTensorOf(t)]));
  const results = await Promise.allSettled(Array.from({ length: 6 }, () => mnist.run('predict_images', mnistInputs, undefined)));
  const expectedScores = mnistCase.outputs.scores!.values as number[];
  const answers = results.map((r) => (r.status === 'fulfilled' ? (jsonValuesOf(r.value.scores!) as number[]).every((v, i) => Math.abs(v - expectedScores[i]!) < 1e-5) : String(r.reason)));
  expect(answers).toEqual(Array.from({ length: 6 }, () => true));
  expect(closeTo(await answer(tiny))).toBe(true);
  expect(events.map((e) => e.type)).toEqual(['worker-died', 'worker-restarted']);
  expect(events[0]).toMatchObject({ index: 0 });
});

/** Runs `after` once each call to the worker has answered, before its caller sees the answer. */
function intercept(worker: InferenceWorkerHandle, after: (body: RequestBody) => Promise<void>): void {
  const call = worker.call.bind(worker);
  worker.call = async (body, transfer) => {
    const result = await call(body, transfer);
    await after(body);
    return result;
  };
}
