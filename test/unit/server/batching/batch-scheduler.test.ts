import { beforeEach, describe, expect, test } from 'vitest';
import { BatchScheduler, type BatchTask } from '../../../../src/server/batching/batch-scheduler.js';
import { defaultBatchingParameters, type BatchingParameters } from '../../../../src/server/batching/batching-parameters.js';
import { CallHangup } from '../../../../src/server/core/hangup.js';
import { FakeClock } from '../core/manager-test-kit.js';

/** Records every batch and lets the test finish them one by one. */
class Batches {
  readonly started: { key: string; payloads: string[]; padded: number; finish: () => void }[] = [];
  run(key: string) {
    return (tasks: readonly BatchTask<string, string>[], padded: number): Promise<void> =>
      new Promise((done) => {
        this.started.push({
          key,
          payloads: tasks.map((t) => t.payload),
          padded,
          finish: () => {
            for (const task of tasks) task.resolve(`${task.payload} done`);
            done();
          },
        });
      });
  }
  get sizes(): string[][] {
    return this.started.map((b) => b.payloads);
  }
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

let clock: FakeClock;
let batches: Batches;
const scheduler = (overrides: Partial<BatchingParameters>): BatchScheduler =>
  new BatchScheduler({ ...defaultBatchingParameters(1), ...overrides }, clock);

beforeEach(() => {
  clock = new FakeClock();
  batches = new Batches();
});

describe('BatchScheduler', () => {
  test('with no timeout a lone request starts at once; requests arriving meanwhile form the next batch', async () => {
    const s = scheduler({ batchTimeoutMicros: 0, maxBatchSize: 8, numBatchThreads: 1 });
    const first = s.submit('k', 1, 'a', batches.run('k'));
    for (const p of ['b', 'c', 'd']) void s.submit('k', 1, p, batches.run('k'));
    expect(batches.sizes).toEqual([['a']]);
    batches.started[0]!.finish();
    expect(await first).toBe('a done');
    await flush();
    expect(batches.sizes).toEqual([['a'], ['b', 'c', 'd']]);
  });

  test('a batch never exceeds max_batch_size rows; a larger request runs alone', async () => {
    const s = scheduler({ batchTimeoutMicros: 0, maxBatchSize: 4, numBatchThreads: 1 });
    void s.submit('k', 1, 'busy', batches.run('k'));
    void s.submit('k', 3, 'x3', batches.run('k'));
    void s.submit('k', 2, 'y2', batches.run('k'));
    void s.submit('k', 6, 'z6', batches.run('k'));
    for (let i = 1; i <= 3; i++) {
      batches.started[i - 1]!.finish();
      await flush();
    }
    expect(batches.sizes).toEqual([['busy'], ['x3'], ['y2'], ['z6']]);
  });

  test('with a timeout, a partial batch waits for company until the oldest request times out', () => {
    const s = scheduler({ batchTimeoutMicros: 5000, maxBatchSize: 4, numBatchThreads: 1 });
    void s.submit('k', 1, 'a', batches.run('k'));
    clock.advance(3);
    void s.submit('k', 1, 'b', batches.run('k'));
    expect(batches.sizes).toEqual([]);
    clock.advance(2);
    expect(batches.sizes).toEqual([['a', 'b']]);
  });

  test("a queue with its own parameters (a model's batching_params.pbtxt) batches, pads, times out and bounds by them, sharing the threads", async () => {
    const s = scheduler({ batchTimeoutMicros: 0, maxBatchSize: 8, numBatchThreads: 1 });
    const own = { maxBatchSize: 2, batchTimeoutMicros: 4000, maxEnqueuedBatches: 2, allowedBatchSizes: [2] };
    // The shared thread is busy with the other queue, so the own queue fills.
    void s.submit('other', 1, 'busy', batches.run('other'));
    for (const p of ['a', 'b', 'c']) void s.submit('own', 1, p, batches.run('own'), {}, own);
    await expect(s.submit('own', 2, 'over', batches.run('own'), {}, own)).rejects.toThrow(/limit max_enqueued_batches × max_batch_size = 4/);
    batches.started[0]!.finish();
    await flush();
    expect(batches.started.map((b) => [b.payloads, b.padded])).toEqual([[['busy'], 1], [['a', 'b'], 2]]);
    batches.started[1]!.finish();
    await flush();
    // 'c' alone waits for its queue's 4 ms, then is padded to the allowed size 2.
    expect(batches.sizes).toEqual([['busy'], ['a', 'b']]);
    clock.advance(4);
    expect(batches.started.map((b) => [b.payloads, b.padded]).at(-1)).toEqual([['c'], 2]);
  });

  test('a full batch does not wait for the timeout', () => {
    const s = scheduler({ batchTimeoutMicros: 1_000_000, maxBatchSize: 3, numBatchThreads: 1 });
    for (const p of ['a', 'b', 'c']) void s.submit('k', 1, p, batches.run('k'));
    expect(batches.sizes).toEqual([['a', 'b', 'c']]);
  });

  test('num_batch_threads bounds the batches in flight, and queues are served oldest first', async () => {
    const s = scheduler({ batchTimeoutMicros: 0, maxBatchSize: 8, numBatchThreads: 2 });
    void s.submit('m1', 1, 'a', batches.run('m1'));
    void s.submit('m2', 1, 'b', batches.run('m2'));
    void s.submit('m2', 1, 'c', batches.run('m2'));
    clock.advance(1);
    void s.submit('m1', 1, 'd', batches.run('m1'));
    expect(batches.sizes).toEqual([['a'], ['b']]);
    batches.started[0]!.finish();
    await flush();
    // m2's "c" has waited longer than m1's "d".
    expect(batches.sizes).toEqual([['a'], ['b'], ['c']]);
  });

  test('pads to the next allowed batch size', () => {
    const s = scheduler({ batchTimeoutMicros: 1000, maxBatchSize: 8, allowedBatchSizes: [4, 8] });
    void s.submit('k', 1, 'a', batches.run('k'));
    void s.submit('k', 2, 'b', batches.run('k'));
    clock.advance(1);
    expect(batches.started.map((b) => b.padded)).toEqual([4]);
  });

  test('a full queue refuses with UNAVAILABLE and keeps what it holds', async () => {
    const s = scheduler({ batchTimeoutMicros: 0, maxBatchSize: 2, maxEnqueuedBatches: 2, numBatchThreads: 1 });
    void s.submit('k', 1, 'running', batches.run('k'));
    const queued = ['a', 'b', 'c', 'd'].map((p) => s.submit('k', 1, p, batches.run('k')));
    const refused = s.submit('k', 1, 'e', batches.run('k'));
    await expect(refused).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/batching queue is full/) as unknown });
    for (let i = 0; i < 3; i++) {
      batches.started[i]!.finish();
      await flush();
    }
    expect(await Promise.all(queued)).toEqual(['a done', 'b done', 'c done', 'd done']);
  });

  test('a request larger than the whole queue is taken as one batch, when one batch fits', async () => {
    const s = scheduler({ batchTimeoutMicros: 0, maxBatchSize: 2, maxEnqueuedBatches: 2, numBatchThreads: 1 });
    void s.submit('k', 1, 'running', batches.run('k'));
    const huge = s.submit('k', 100, 'huge', batches.run('k'));
    const small = s.submit('k', 1, 'small', batches.run('k'));
    // The queue now holds the huge request (one batch) and a small one: no room for another batch.
    await expect(s.submit('k', 2, 'full', batches.run('k'))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    for (let i = 0; i < 2; i++) {
      batches.started[i]!.finish();
      await flush();
    }
    expect(batches.sizes).toEqual([['running'], ['huge'], ['small']]);
    batches.started[2]!.finish();
    expect(await Promise.all([huge, small])).toEqual(['huge done', 'small done']);
  });

  test('a call whose deadline passed while queued fails with DEADLINE_EXCEEDED and is not run; the others are', async () => {
    const s = scheduler({ batchTimeoutMicros: 0, maxBatchSize: 8, maxEnqueuedBatches: 1, numBatchThreads: 1 });
    void s.submit('k', 1, 'running', batches.run('k'));
    const late = s.submit('k', 4, 'late', batches.run('k'), { deadline: Date.now() - 1 });
    const kept = s.submit('k', 1, 'kept', batches.run('k'), { deadline: Date.now() + 60_000 });
    const open = s.submit('k', 1, 'open', batches.run('k'));
    batches.started[0]!.finish();
    await expect(late).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED', message: expect.stringMatching(/ms in the batching queue; it was not run/) as unknown });
    await flush();
    expect(batches.sizes).toEqual([['running'], ['kept', 'open']]);
    batches.started[1]!.finish();
    expect(await Promise.all([kept, open])).toEqual(['kept done', 'open done']);
    // Its rows left the queue's count with it (else 4 + 8 would exceed the limit of 8): a full batch fits.
    void s.submit('k', 1, 'busy', batches.run('k'));
    const full = s.submit('k', 8, 'full', batches.run('k'));
    batches.started[2]!.finish();
    await flush();
    batches.started[3]!.finish();
    expect(await full).toBe('full done');
  });

  test('a call that waited a typical batch, which would end after its deadline, is dropped when the next batch forms', async () => {
    const s = scheduler({ batchTimeoutMicros: 0, maxBatchSize: 8, numBatchThreads: 1 });
    // One batch of 50 ms teaches the queue its typical batch time.
    void s.submit('k', 1, 'first', batches.run('k'));
    clock.advance(50);
    batches.started[0]!.finish();
    await flush();
    void s.submit('k', 1, 'running', batches.run('k'));
    const tight = s.submit('k', 1, 'tight', batches.run('k'), { deadline: Date.now() + 30 });
    const roomy = s.submit('k', 1, 'roomy', batches.run('k'), { deadline: Date.now() + 60_000 });
    const fresh = () => s.submit('k', 1, 'fresh', batches.run('k'), { deadline: Date.now() + 30 });
    clock.advance(60);
    // Queued just now: it has not waited a typical batch, so it is the caller's to judge.
    const justQueued = fresh();
    batches.started[1]!.finish();
    // Typical: 50 ms, then 52 after the 60 ms batch that just ended.
    await expect(tight).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED', message: expect.stringMatching(/waited 60 ms in the batching queue, and a batch \(52\.0 ms lately\) would end after the deadline/) as unknown });
    await flush();
    expect(batches.sizes).toEqual([['first'], ['running'], ['roomy', 'fresh']]);
    batches.started[2]!.finish();
    expect(await Promise.all([roomy, justQueued])).toEqual(['roomy done', 'fresh done']);
  });

  test('a call whose client went while it was queued leaves the queue with CANCELLED when its batch forms; the others still run', async () => {
    const s = scheduler({ batchTimeoutMicros: 0, maxBatchSize: 8, numBatchThreads: 1 });
    void s.submit('k', 1, 'running', batches.run('k'));
    const hangup = new CallHangup();
    const cancelled = s.submit('k', 1, 'gone', batches.run('k'), { hangup });
    const kept = s.submit('k', 1, 'kept', batches.run('k'));
    hangup.aborted = true;
    batches.started[0]!.finish();
    await expect(cancelled).rejects.toMatchObject({ code: 'CANCELLED', message: expect.stringMatching(/^the client cancelled the call after \d+ ms in the batching queue; it was not run$/) as unknown });
    await flush();
    expect(batches.sizes).toEqual([['running'], ['kept']]);
    batches.started[1]!.finish();
    expect(await kept).toBe('kept done');
    await expect(s.submit('k', 1, 'late', batches.run('k'), { hangup })).rejects.toMatchObject({ code: 'CANCELLED', message: 'the client cancelled the call before it was queued for a batch; it was not run' });
  });

  test('a call whose deadline passed is DEADLINE_EXCEEDED even when its stream was closed for it', async () => {
    const s = scheduler({ batchTimeoutMicros: 0, maxBatchSize: 8, numBatchThreads: 1 });
    void s.submit('k', 1, 'running', batches.run('k'));
    const hangup = new CallHangup();
    const expired = s.submit('k', 1, 'expired', batches.run('k'), { hangup, deadline: Date.now() + 5 });
    await new Promise((resolve) => setTimeout(resolve, 10));
    hangup.aborted = true; // grpc-js ends the stream at the deadline
    batches.started[0]!.finish();
    await expect(expired).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
  });
});
