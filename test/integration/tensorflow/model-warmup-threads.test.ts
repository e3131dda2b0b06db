/**
 * Model warmup reaches every inference thread, seen from inside the pool: the `counter` fixture
 * counts its session's runs, and its warmup file holds 3 records. Calls of one burst go to
 * different workers (the pool counts a worker's load the moment it hands it a call), so two
 * calls issued together reach both sessions. Real TensorFlow, real worker threads.
 */
import { afterEach, expect, test } from 'vitest';
import type { Servable } from '../../../src/server/core/servable.js';
import { InferencePool } from '../../../src/server/servables/tensorflow/inference-pool.js';
import { TensorflowLoader } from '../../../src/server/servables/tensorflow/tensorflow-servable.js';
import { COUNTER_WARMUP_RECORDS, counterCalls as calls, loaderWarmup } from '../../helpers/counter-model.js';
import { fixtureModelDir } from '../../helpers/fixture-tensors.js';

const signal = new AbortController().signal;
let pool: InferencePool | undefined;

afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

async function loadCounter(workers: number, warmup: boolean, iterations = 1): Promise<Servable> {
  pool = await InferencePool.start(workers);
  const loader = new TensorflowLoader(pool, { tags: ['serve'], warmup: warmup ? loaderWarmup(iterations) : undefined });
  return loader.load('counter', 1, fixtureModelDir('counter'), signal);
}

test('calls issued together go to different workers', async () => {
  const counter = await loadCounter(2, false);
  expect(await Promise.all([calls(counter), calls(counter)])).toEqual([1, 1]);
  expect(await Promise.all([calls(counter), calls(counter)])).toEqual([2, 2]);
});

test.each([1, 3])('with %i iteration(s), each worker has replayed every record before the first call', async (iterations) => {
  const counter = await loadCounter(2, true, iterations);
  const first = COUNTER_WARMUP_RECORDS * iterations + 1;
  expect(await Promise.all([calls(counter), calls(counter)])).toEqual([first, first]);
});
