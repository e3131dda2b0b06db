import pino, { type Logger } from 'pino';
import type { Servable } from '../../src/server/core/servable.js';
import type { LoaderWarmup } from '../../src/server/servables/tensorflow/tensorflow-servable.js';
import { jsonValuesOf } from './fixture-tensors.js';

/** Records in the `counter` fixture's own warmup file. */
export const COUNTER_WARMUP_RECORDS = 3;

const ONE = { dtype: 'DT_FLOAT' as const, shape: [1], bytes: new Uint8Array(new Float32Array([1]).buffer) };

/** The `counter` fixture's `calls` output for one run: how many times that session has run it. */
export async function counterCalls(counter: Servable): Promise<number> {
  return Number(jsonValuesOf((await counter.run('serving_default', { x: ONE }, undefined)).calls!)[0]);
}

/** Warmup settings for a TensorflowLoader under test. */
export function loaderWarmup(iterations = 1, logger: Logger = pino({ level: 'silent' })): LoaderWarmup {
  return { options: { iterations, limits: { maxElements: 1000 }, maxRecordBytes: 1 << 20, checkMethodNames: false }, logger };
}
