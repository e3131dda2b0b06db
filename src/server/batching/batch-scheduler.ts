import { ServingError, toServingError } from '../../shared/errors.js';
import { deadlineExceeded, type Deadline } from '../core/deadline.js';
import { callerGone, type Hangup } from '../core/hangup.js';
import type { ManagerClock } from '../core/model-manager.js';
import { TypicalTimes } from '../core/typical-times.js';
import { paddedBatchSize, type BatchingParameters } from './batching-parameters.js';

/** One caller's share of a batch: `rows` rows of input (`payload`), settled by the queue's `run`. */
export interface BatchTask<Payload, Result> {
  readonly rows: number;
  readonly payload: Payload;
  readonly enqueuedAt: number;
  /** Dropped with DEADLINE_EXCEEDED if still queued when this passes (core/deadline.ts). */
  readonly deadline: Deadline;
  /** Dropped with CANCELLED if still queued when its caller has gone. */
  readonly hangup: Hangup | undefined;
  resolve(result: Result): void;
  reject(error: Error): void;
}

/** Runs one batch and settles every task in it (never rejects). `paddedRows` ≥ the tasks' rows. */
export type RunBatch<Payload, Result> = (tasks: readonly BatchTask<Payload, Result>[], paddedRows: number) => Promise<void>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- queues of different keys hold different task types
type AnyTask = BatchTask<any, any>;

/** What the caller of a queued task may have set: cancellation and a deadline. */
export interface TaskLimits {
  /** Set when the caller goes (core/hangup.ts): the task leaves the queue when its batch forms. */
  readonly hangup?: Hangup;
  readonly deadline?: Deadline;
}

/** The parameters of one queue: a model's own (--enable_per_model_batching_parameters) or the server's. */
export type QueueParameters = Omit<BatchingParameters, 'numBatchThreads'>;

interface Queue {
  readonly tasks: AnyTask[];
  /** Rows waiting; a task larger than a batch runs alone, so it counts as one batch's rows. */
  rows: number;
  readonly run: RunBatch<unknown, unknown>;
  readonly params: QueueParameters;
}

export interface BatchObserver {
  /** A batch started: its real and padded rows, and how long its oldest task waited (ms). */
  batchStarted(rows: number, paddedRows: number, oldestWaitMs: number): void;
}

/**
 * Dynamic batching, TF Serving style. Requests wait in one queue per batching key (a model
 * version's signature and tensor layout). A queue is ready when it holds a full batch or its oldest
 * task has waited `batchTimeoutMicros`; a ready queue runs as soon as fewer than
 * `numBatchThreads` batches are in flight, oldest first over all queues. With a timeout of 0
 * nothing waits while a slot is free, and under load the queues fill while the running batches
 * finish, so batch size follows the load.
 */
export class BatchScheduler {
  private readonly queues = new Map<string, Queue>();
  private inFlight = 0;
  /** How long each queue's batches have lately taken, main thread to main thread. */
  private readonly batchTimes = new TypicalTimes<string>();
  private timer: unknown;
  private timerDue = Infinity;

  constructor(
    readonly params: BatchingParameters,
    private readonly clock: ManagerClock,
    private readonly observer?: BatchObserver,
  ) {}

  /** The scheduler's clock (ms): tasks' `enqueuedAt` is on it. */
  now(): number {
    return this.clock.now();
  }

  /**
   * Queues `rows` rows for a batch of `key`, run by `run` and sized by `params` (the same for every
   * submit of one key); the promise settles when that batch is done. Only the number of batches
   * in flight is shared by all queues.
   */
  submit<Payload, Result>(key: string, rows: number, payload: Payload, run: RunBatch<Payload, Result>, limits: TaskLimits = {}, params: QueueParameters = this.params): Promise<Result> {
    const { hangup, deadline } = limits;
    if (hangup?.aborted === true) return Promise.reject(callerGone('before it was queued for a batch'));
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { tasks: [], rows: 0, run: run as RunBatch<unknown, unknown>, params };
      this.queues.set(key, queue);
    }
    const limit = queue.params.maxEnqueuedBatches * queue.params.maxBatchSize;
    // Counted by its rows, a request beyond the whole queue's would be refused for good.
    const counted = Math.min(rows, queue.params.maxBatchSize);
    if (queue.rows + counted > limit) {
      return Promise.reject(
        new ServingError('UNAVAILABLE', `batching queue is full (${queue.rows} rows waiting, limit max_enqueued_batches × max_batch_size = ${limit}); retry later`),
      );
    }
    const owner = queue;
    return new Promise<Result>((resolve, reject) => {
      const task: BatchTask<Payload, Result> = { rows, payload, enqueuedAt: this.clock.now(), deadline, hangup, resolve, reject };
      owner.tasks.push(task);
      owner.rows += counted;
      this.dispatch();
    });
  }

  private dispatch(): void {
    const now = this.clock.now();
    while (this.inFlight < this.params.numBatchThreads) {
      const key = this.oldestReady(now);
      if (key === undefined) break;
      this.start(key, now);
    }
    this.armTimer(now);
  }

  private oldestReady(now: number): string | undefined {
    let best: string | undefined;
    let bestAt = Infinity;
    for (const [key, queue] of this.queues) {
      const oldest = queue.tasks[0]!.enqueuedAt;
      const ready = queue.rows >= queue.params.maxBatchSize || now - oldest >= queue.params.batchTimeoutMicros / 1000;
      if (ready && oldest < bestAt) {
        best = key;
        bestAt = oldest;
      }
    }
    return best;
  }

  private start(key: string, now: number): void {
    const queue = this.queues.get(key)!;
    const { params } = queue;
    this.dropAbandoned(key, queue, now);
    if (queue.tasks.length === 0) return;
    const tasks: AnyTask[] = [];
    let rows = 0;
    // Always take the first task, even one larger than a batch, so nothing waits forever.
    while (queue.tasks.length > 0 && (tasks.length === 0 || rows + queue.tasks[0]!.rows <= params.maxBatchSize)) {
      const task = queue.tasks.shift()!;
      tasks.push(task);
      rows += task.rows;
    }
    // Only a lone task can be larger than a batch (see `rows`).
    queue.rows -= Math.min(rows, params.maxBatchSize);
    if (queue.tasks.length === 0) this.queues.delete(key);
    const padded = rows <= params.maxBatchSize ? paddedBatchSize(rows, params) : rows;
    this.observer?.batchStarted(rows, padded, now - tasks[0]!.enqueuedAt);
    this.inFlight += 1;
    void queue
      .run(tasks, padded)
      // `run` settles its tasks itself; this only guards against one that throws.
      .catch((error: unknown) => tasks.forEach((task) => task.reject(toServingError(error))))
      .finally(() => {
        this.inFlight -= 1;
        this.batchTimes.record(key, this.clock.now() - now);
        this.dispatch();
      });
  }

  /**
   * Fails the queue's tasks whose callers have gone, whose deadline has passed, and those that
   * waited at least a typical batch of their queue which would end after their deadline (as
   * run-admission.ts does for unbatched runs): no one would read their results, so they are not
   * run, and the batch is for the others.
   */
  private dropAbandoned(key: string, queue: Queue, now: number): void {
    const wallNow = Date.now();
    const typical = this.batchTimes.typical(key);
    const isExpired = (task: AnyTask): boolean =>
      task.deadline !== undefined && (wallNow >= task.deadline || (typical !== undefined && now - task.enqueuedAt >= typical && wallNow + typical > task.deadline));
    const isAbandoned = (task: AnyTask): boolean => task.hangup?.aborted === true || isExpired(task);
    if (!queue.tasks.some(isAbandoned)) return;
    const kept: AnyTask[] = [];
    for (const task of queue.tasks) {
      if (!isAbandoned(task)) {
        kept.push(task);
        continue;
      }
      queue.rows -= Math.min(task.rows, queue.params.maxBatchSize);
      const waited = `${Math.round(now - task.enqueuedAt)} ms in the batching queue`;
      // A deadline that passed is the reason even when grpc-js has closed the stream for it.
      if (!isExpired(task)) {
        task.reject(callerGone(`after ${waited}`));
        continue;
      }
      const late = wallNow >= task.deadline! ? '' : `, and a batch (${typical!.toFixed(1)} ms lately) would end after the deadline`;
      task.reject(deadlineExceeded(`${waited}${late}`));
    }
    queue.tasks.splice(0, queue.tasks.length, ...kept);
    if (kept.length === 0) this.queues.delete(key);
  }

  /** Wakes the scheduler when the oldest waiting task reaches the timeout. */
  private armTimer(now: number): void {
    if (this.inFlight >= this.params.numBatchThreads || this.queues.size === 0) return;
    let due = Infinity;
    for (const queue of this.queues.values()) due = Math.min(due, queue.tasks[0]!.enqueuedAt + queue.params.batchTimeoutMicros / 1000);
    if (due >= this.timerDue) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      this.dispatch();
    }, Math.max(0, due - now));
  }
}
