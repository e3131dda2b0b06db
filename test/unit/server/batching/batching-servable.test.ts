import { beforeEach, expect, test } from 'vitest';
import { BatchScheduler } from '../../../../src/server/batching/batch-scheduler.js';
import { defaultBatchingParameters } from '../../../../src/server/batching/batching-parameters.js';
import { BatchingServable } from '../../../../src/server/batching/batching-servable.js';
import type { HostTensor } from '../../../../src/server/core/host-tensor.js';
import { isRowBlocks, joinRowBlocks, type RowBlocks } from '../../../../src/server/core/row-blocks.js';
import { newRunTiming, type RunOptions, type Servable } from '../../../../src/server/core/servable.js';
import type { SignatureMap } from '../../../../src/server/core/signature.js';
import { FakeClock } from '../core/manager-test-kit.js';

const floats = (rows: number[][]): HostTensor => ({ dtype: 'DT_FLOAT', shape: [rows.length, rows[0]!.length], bytes: new Uint8Array(new Float32Array(rows.flat()).buffer) });
const rowsOf = (t: HostTensor | undefined): number[][] => {
  if (!t || t.dtype === 'DT_STRING') return [];
  const values = [...new Float32Array(t.bytes.slice().buffer)];
  const width = t.shape[1]!;
  return Array.from({ length: t.shape[0]! }, (_, r) => values.slice(r * width, (r + 1) * width));
};

const SIGNATURES: SignatureMap = {
  double: { methodName: 'tensorflow/serving/predict', inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 2] } }, outputs: { y: { name: 'y:0', dtype: 'DT_FLOAT', shape: [-1, 2] } } },
  fixed: { methodName: 'tensorflow/serving/predict', inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', shape: [1, 2] } }, outputs: { y: { name: 'y:0', dtype: 'DT_FLOAT', shape: [1, 2] } } },
  total: { methodName: 'tensorflow/serving/predict', inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 2] } }, outputs: { y: { name: 'y:0', dtype: 'DT_FLOAT', shape: [-1, 2] } } },
};

/** Doubles every value ("double", "fixed"), or sums the rows into one ("total": not row-wise). */
class ArithmeticServable implements Servable {
  readonly signatures = SIGNATURES;
  readonly runs: { rows: number; inputs: HostTensor }[] = [];
  failWith: Error | undefined;
  run(signature: string, inputs: Readonly<Record<string, HostTensor>>): Promise<Record<string, HostTensor>> {
    const x = inputs.x!;
    this.runs.push({ rows: x.shape[0]!, inputs: x });
    if (this.failWith) return Promise.reject(this.failWith);
    const rows = rowsOf(x);
    const y = signature === 'total' ? [rows.reduce((a, r) => a.map((v, i) => v + r[i]!), [0, 0])] : rows.map((r) => r.map((v) => v * 2));
    return new Promise((resolve) => setImmediate(() => resolve({ y: floats(y) })));
  }
  unload(): Promise<void> {
    return Promise.resolve();
  }
}

let inner: ArithmeticServable;
let servable: BatchingServable;

beforeEach(() => {
  inner = new ArithmeticServable();
  const scheduler = new BatchScheduler({ ...defaultBatchingParameters(1), batchTimeoutMicros: 0, maxBatchSize: 16 }, new FakeClock());
  servable = new BatchingServable(inner, scheduler);
});

test('concurrent calls are merged into one run and each caller gets its own rows back', async () => {
  const calls = [[[1, 2]], [[3, 4], [5, 6]], [[7, 8]]].map((rows) => servable.run('double', { x: floats(rows) }, undefined));
  const outputs = await Promise.all(calls);
  expect(outputs.map((o) => rowsOf(o.y))).toEqual([[[2, 4]], [[6, 8], [10, 12]], [[14, 16]]]);
  // The first ran alone (nothing was queued yet); the other two ran together.
  expect(inner.runs.map((r) => r.rows)).toEqual([1, 3]);
});

test('a lone request reaches the model as it came, without a copy', async () => {
  const x = floats([[1, 1]]);
  await servable.run('double', { x }, undefined);
  expect(inner.runs[0]!.inputs).toBe(x);
});

test('signatures without a variable batch dimension run unbatched', async () => {
  const outputs = await Promise.all([servable.run('fixed', { x: floats([[1, 2]]) }, undefined), servable.run('fixed', { x: floats([[3, 4]]) }, undefined)]);
  expect(outputs.map((o) => rowsOf(o.y))).toEqual([[[2, 4]], [[6, 8]]]);
  expect(inner.runs.map((r) => r.rows)).toEqual([1, 1]);
});

test('an output that is not row-wise fails the merged batch with FAILED_PRECONDITION naming it', async () => {
  const calls = [[[1, 2]], [[3, 4]], [[5, 6]]].map((rows) => servable.run('total', { x: floats(rows) }, undefined).then(() => 'ok', (e: Error & { code?: string }) => `${e.code}: ${e.message}`));
  const results = await Promise.all(calls);
  expect(results[0]).toBe('ok');
  expect(results.slice(1)).toEqual(new Array(2).fill(expect.stringMatching(/^FAILED_PRECONDITION: batching: output "y" has 1 rows for a batch of 2/)));
});

test('a failed run fails every caller in its batch with the model error, and the next batch runs', async () => {
  inner.failWith = Object.assign(new Error('bad things'), { code: 'INVALID_ARGUMENT' });
  const failed = await Promise.all([1, 2].map(() => servable.run('double', { x: floats([[1, 2]]) }, undefined).catch((e: Error) => e.message)));
  expect(failed).toEqual(['bad things', 'bad things']);
  inner.failWith = undefined;
  expect(rowsOf((await servable.run('double', { x: floats([[1, 2]]) }, undefined)).y)).toEqual([[2, 4]]);
});

/** The same model, but it also takes row blocks and joins them itself, as TensorflowServable does in its worker. */
class BlockJoiningServable extends ArithmeticServable {
  readonly blockRuns: RowBlocks[] = [];
  runRowBlocks(signature: string, inputs: Readonly<Record<string, HostTensor | RowBlocks>>): Promise<Record<string, HostTensor>> {
    const x = inputs.x!;
    if (!isRowBlocks(x)) throw new Error('expected row blocks');
    this.blockRuns.push(x);
    return this.run(signature, { x: joinRowBlocks(x) });
  }
}

test('a servable that joins rows itself gets the callers\' own buffers as row blocks, and copies only of inputs their caller keeps', async () => {
  const joining = new BlockJoiningServable();
  const scheduler = new BatchScheduler({ ...defaultBatchingParameters(1), batchTimeoutMicros: 0, maxBatchSize: 16, allowedBatchSizes: [4, 16] }, new FakeClock());
  const batching = new BatchingServable(joining, scheduler);
  const inputs = [floats([[1, 2]]), floats([[3, 4]]), floats([[5, 6]]), floats([[7, 8]])];
  const calls = inputs.map((x, i) => batching.run('double', { x }, undefined, { consumeInputs: i !== 2 }));
  const outputs = await Promise.all(calls);
  expect(outputs.map((o) => rowsOf(o.y))).toEqual([[[2, 4]], [[6, 8]], [[10, 12]], [[14, 16]]]);
  // The first ran as soon as it came, padded to 4 rows; the other three then went as one batch, also padded to 4.
  expect(joining.blockRuns.map((b) => b.shape)).toEqual([
    [4, 2],
    [4, 2],
  ]);
  expect(joining.blockRuns[0]!.blocks[0]).toBe((inputs[0] as { bytes: Uint8Array }).bytes);
  const blocks = joining.blockRuns[1]!;
  expect(blocks.blocks[0]).toBe((inputs[1] as { bytes: Uint8Array }).bytes);
  expect(blocks.blocks[1]).not.toBe((inputs[2] as { bytes: Uint8Array }).bytes); // its caller keeps it: a copy
  expect([...blocks.blocks[1]!]).toEqual([...(inputs[2] as { bytes: Uint8Array }).bytes]);
  expect(blocks.blocks[2]).toBe((inputs[3] as { bytes: Uint8Array }).bytes);
  expect(joining.runs.map((r) => r.rows)).toEqual([4, 4]);
});

test("each caller's timing gets its batch's run, and only the first caller counts the execution", async () => {
  const timed = new (class extends ArithmeticServable {
    override run(signature: string, inputs: Readonly<Record<string, HostTensor>>, outputs?: readonly string[], options: RunOptions = {}): Promise<Record<string, HostTensor>> {
      if (options.timing) Object.assign(options.timing, { inputNs: 10, inferNs: 1000 + this.runs.length, outputNs: 20, executions: 1 });
      return super.run(signature, inputs);
    }
  })();
  const scheduler = new BatchScheduler({ ...defaultBatchingParameters(1), batchTimeoutMicros: 0, maxBatchSize: 16 }, new FakeClock());
  const batching = new BatchingServable(timed, scheduler);
  const timings = [0, 1, 2].map(() => newRunTiming());
  await Promise.all(timings.map((timing, i) => batching.run('double', { x: floats([[i, i]]) }, undefined, { timing })));
  // The first ran alone; the other two were merged into the second run.
  expect(timings.map((t) => [t.inferNs, t.executions])).toEqual([
    [1000, 1],
    [1001, 1],
    [1001, 0],
  ]);
  expect(timings.every((t) => t.inputNs === 10 && t.outputNs === 20 && t.queueNs >= 0)).toBe(true);
  expect(timings.map((t) => t.batchSize)).toEqual([1, 2, 2]);
});
