/**
 * Model warmup reaches every inference thread, seen from inside the pool: the `counter` fixture
 * counts its session's runs, and its warmup file holds 3 records. Calls of one burst go to
 * different workers (the pool counts a worker's load the moment it hands it a call), so two
 * calls issued together reach both sessions. Real TensorFlow, real worker threads.
 */
import pino from 'pino';
import { afterEach, expect, test } from 'vitest';
import type { Servable } from '../../../src/server/core/servable.js';
import { InferencePool } from '../../../src/server/servables/tensorflow/inference-pool.js';
import { TensorflowLoader } from '../../../src/server/servables/tensorflow/tensorflow-servable.js';
import { fixtureModelDir, jsonValuesOf } from '../../helpers/fixture-tensors.js';

const signal = new AbortController().signal;
let pool: InferencePool | undefined;

afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

const x = { dtype: 'DT_FLOAT' as const, shape: [1], bytes: new Uint8Array(new Float32Array([1]).buffer) };
const calls = async (counter: Servable): Promise<number> => Number(jsonValuesOf((await counter.run('serving_default', { x }, undefined)).calls!)[0]);

async function loadCounter(workers: number, warmup: boolean, iterations = 1): Promise<Servable> {
  pool = await InferencePool.start(workers);
  const options = { iterations, limits: { maxElements: 1000 }, maxRecordBytes: 1 << 20, checkMethodNames: false };
  const loader = new TensorflowLoader(pool, { tags: ['serve'], warmup: warmup ? { options, logger: pino({ level: 'silent' }) } : undefined });
  return loader.load('counter', 1, fixtureModelDir('counter'), signal);
}

test('calls issued together go to different workers', async () => {
  const counter = await loadCounter(2, false);
  expect(await Promise.all([calls(counter), calls(counter)])).toEqual([1, 1]);
  expect(await Promise.all([calls(counter), calls(counter)])).toEqual([2, 2]);
});

test.each([1, 3])('with %i iteration(s), each worker has replayed every record before the first call', async (iterations) => {
  const counter = await loadCounter(2, true, iterations);
  const first = 3 * iterations + 1;
  expect(await Promise.all([calls(counter), calls(counter)])).toEqual([first, first]);
});
