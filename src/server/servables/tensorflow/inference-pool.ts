import { deadlineExceeded, isPast, type Deadline } from '../../core/deadline.js';
import { ServingError } from '../../../shared/errors.js';
import type { HostTensor } from '../../core/host-tensor.js';
import type { RunTiming } from '../../core/servable.js';
import { postableTensors, type RunInput } from './inference-protocol.js';
import { InferenceWorkerHandle } from './inference-worker-handle.js';

export interface InferencePoolOptions {
  /** Nice value for the worker threads and TensorFlow's pools (Linux); 0 leaves them alone. */
  readonly niceness?: number;
  /** Told when a worker died and when its replacement serves again (or could not be started). */
  readonly onWorkerEvent?: (event: WorkerEvent) => void;
}

export type WorkerEvent =
  | { readonly type: 'worker-died'; readonly index: number; readonly error: Error }
  | { readonly type: 'worker-restarted'; readonly index: number; readonly models: number }
  | { readonly type: 'worker-restart-failed'; readonly index: number; readonly error: Error };

/** A SavedModel loaded into every worker of the pool (an opaque handle for runs and unload). */
export interface PooledSession {
  readonly path: string;
}

/** One run on one session: graph tensor names in, tensors out. */
export type SessionRun = (inputNames: readonly string[], inputs: readonly RunInput[], outputNames: readonly string[]) => Promise<HostTensor[]>;

/** What the pool remembers of a loaded model, to load it again into a replacement worker. */
interface PooledModel extends PooledSession {
  readonly tags: readonly string[];
  /**
   * The model's session in each worker that loaded it. Keyed by worker, not by slot: a session id
   * means nothing to the replacement of the worker that issued it.
   */
  readonly sessions: Map<InferenceWorkerHandle, number>;
  /** Runs on the replacement's new session before it serves (model warmup); must not reject. */
  restore?: (run: SessionRun) => Promise<void>;
}

interface Slot {
  /** The serving worker, or undefined while a replacement starts. */
  worker: InferenceWorkerHandle | undefined;
  /** Resolves with the serving worker (the replacement while one starts). */
  ready: Promise<InferenceWorkerHandle>;
}

const RESTART_ATTEMPTS = 3;

/**
 * Worker threads that own TensorFlow sessions. Every version is loaded into every worker, and
 * each call goes to the least busy live worker. One worker is the default: TensorFlow already
 * spreads a single run over the cores; more workers help many small concurrent requests.
 *
 * A worker that dies fails its pending calls with UNAVAILABLE and is replaced: a new thread starts
 * and every model the pool holds is loaded into it again, while calls go to the other workers (or
 * wait for the replacement when there are none). A worker that cannot be replaced after
 * RESTART_ATTEMPTS tries is reported by lostWorkers(), so the server can fail its liveness check
 * and be restarted rather than keep failing calls.
 */
export class InferencePool {
  private readonly models = new Set<PooledModel>();
  private readonly slots: Slot[] = [];
  /** Workers whose replacement failed every attempt: their calls fail until the process restarts. */
  private readonly lost = new Set<number>();
  private closed = false;
  /** Busy time of threads that died (busyMs keeps counting it). */
  private retiredBusyMs = 0;

  private constructor(private readonly options: InferencePoolOptions) {}

  static async start(size: number, options: InferencePoolOptions = {}): Promise<InferencePool> {
    if (!Number.isInteger(size) || size < 1) throw new Error(`inference pool size must be a positive integer, got ${size}`);
    const pool = new InferencePool(options);
    // The first thread primes tfjs-node's shared op attribute names alone (prime-tensorflow.ts).
    const first = await pool.startWorker(0);
    const others = await Promise.all(Array.from({ length: size - 1 }, (_, i) => pool.startWorker(i + 1)));
    for (const worker of [first, ...others]) pool.slots.push({ worker, ready: Promise.resolve(worker) });
    return pool;
  }

  private async startWorker(index: number): Promise<InferenceWorkerHandle> {
    // Only the serving worker's death starts a replacement, not that of one still starting.
    // (The callback runs only after start() resolved, so `handle` is set by then.)
    const handle: InferenceWorkerHandle = await InferenceWorkerHandle.start(this.options.niceness ?? 0, (error) => {
      if (this.slots[index]?.worker === handle) this.replace(index, error);
    });
    return handle;
  }

  /**
   * Loads the model into every worker. A worker that dies after loading it, before the model is
   * registered, is replaced without it (replacements load registered models only), so the load
   * goes on until every slot's serving worker holds a session; a replacement started after the
   * registration loads the model itself.
   */
  async load(path: string, tags: readonly string[]): Promise<PooledSession> {
    const model: PooledModel = { path, tags, sessions: new Map() };
    for (;;) {
      // Closing stops replacements, so a dead worker would never be replaced: give up.
      if (this.closed) throw new ServingError('UNAVAILABLE', `inference pool closed while loading ${path}`);
      const results = await Promise.allSettled(this.slots.map((slot) => this.loadInto(model, slot)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) {
        await this.unloadSessions(model);
        throw failed.reason;
      }
      const serving = new Set(this.slots.map((slot) => slot.worker));
      if (this.slots.every((slot) => slot.worker?.alive && model.sessions.has(slot.worker))) {
        for (const worker of model.sessions.keys()) if (!serving.has(worker)) model.sessions.delete(worker);
        this.models.add(model);
        return model;
      }
    }
  }

  /** Loads the model into the slot's serving worker (its replacement while one starts), once. */
  private async loadInto(model: PooledModel, slot: Slot): Promise<void> {
    const worker = await slot.ready;
    if (model.sessions.has(worker)) return;
    model.sessions.set(worker, (await worker.call({ kind: 'load', path: model.path, tags: model.tags })) as number);
  }

  run(
    pooled: PooledSession,
    inputNames: readonly string[],
    inputs: readonly RunInput[],
    outputNames: readonly string[],
    consumeInputs = false,
    timing?: RunTiming,
    deadline?: Deadline,
  ): Promise<HostTensor[]> {
    if (isPast(deadline)) return Promise.reject(deadlineExceeded('to be handed to an inference thread'));
    let index = -1;
    for (let i = 0; i < this.slots.length; i++) {
      const worker = this.slots[i]!.worker;
      if (worker?.alive && (index < 0 || worker.load < this.slots[index]!.worker!.load)) index = i;
    }
    // No live worker: wait for the first replacement.
    return this.runOn(index < 0 ? 0 : index, pooled, inputNames, inputs, outputNames, consumeInputs, timing, deadline);
  }

  /** Runs the inputs once on every worker (model warmup: each thread has a session of its own). */
  async runOnEveryWorker(pooled: PooledSession, inputNames: readonly string[], inputs: readonly RunInput[], outputNames: readonly string[]): Promise<void> {
    await Promise.all(this.slots.map((_, index) => this.runOn(index, pooled, inputNames, inputs, outputNames, false)));
  }

  /**
   * Hands the run to worker `index` in this tick when it is alive, so that its load counts at once
   * and the next call of the same burst goes to another worker; otherwise after its replacement.
   */
  private runOn(
    index: number,
    pooled: PooledSession,
    inputNames: readonly string[],
    inputs: readonly RunInput[],
    outputNames: readonly string[],
    consumeInputs: boolean,
    timing?: RunTiming,
    deadline?: Deadline,
  ): Promise<HostTensor[]> {
    const slot = this.slots[index]!;
    const call = (worker: InferenceWorkerHandle): Promise<HostTensor[]> => {
      const session = (pooled as PooledModel).sessions.get(worker);
      if (session === undefined) return Promise.reject(new ServingError('UNAVAILABLE', `${pooled.path} is not loaded on inference worker ${index}`));
      return runSession(worker, session, inputNames, inputs, outputNames, consumeInputs, timing, deadline);
    };
    return slot.worker?.alive ? call(slot.worker) : slot.ready.then(call);
  }

  /**
   * `restore` runs whenever a replacement worker has loaded this model again, before it serves,
   * with a run on that worker's new session. It must not reject.
   */
  onRestore(pooled: PooledSession, restore: (run: SessionRun) => Promise<void>): void {
    (pooled as PooledModel).restore = restore;
  }

  async unload(pooled: PooledSession): Promise<void> {
    const model = pooled as PooledModel;
    this.models.delete(model);
    await this.unloadSessions(model);
  }

  /**
   * Milliseconds the threads had work, summed over them since the pool started (threads that died
   * included, so it never goes down): for utilization over an interval and the busy-time metric.
   */
  busyMs(): number {
    let busy = this.retiredBusyMs;
    for (const slot of this.slots) if (slot.worker) busy += slot.worker.busyMs();
    return busy;
  }

  get size(): number {
    return this.slots.length;
  }

  /** Indexes of workers that died and could not be replaced (the server is then not healthy). */
  lostWorkers(): number[] {
    return [...this.lost].sort((a, b) => a - b);
  }

  /** Kills worker `index` as a crash would; the pool replaces it. For fault drills and tests. */
  async killWorker(index: number): Promise<void> {
    await this.slots[index]?.worker?.kill();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map(async (slot) => (await slot.ready.catch(() => undefined))?.close()));
  }

  private async unloadSessions(model: PooledModel): Promise<void> {
    const loaded = [...model.sessions];
    model.sessions.clear();
    // A dead worker took its sessions with it.
    await Promise.allSettled(loaded.filter(([worker]) => worker.alive).map(([worker, session]) => worker.call({ kind: 'unload', session })));
  }

  private replace(index: number, error: Error): void {
    const slot = this.slots[index];
    if (this.closed || !slot) return;
    this.options.onWorkerEvent?.({ type: 'worker-died', index, error });
    const dead = slot.worker;
    this.retiredBusyMs += dead?.busyMs() ?? 0;
    if (dead) for (const model of this.models) model.sessions.delete(dead);
    slot.worker = undefined;
    slot.ready = this.restart(index);
    // Callers waiting on `ready` see the failure; nobody else must see it as unhandled.
    slot.ready.catch(() => undefined);
  }

  private async restart(index: number): Promise<InferenceWorkerHandle> {
    let lastError: Error = new Error('not started');
    for (let attempt = 1; attempt <= RESTART_ATTEMPTS && !this.closed; attempt++) {
      let worker: InferenceWorkerHandle | undefined;
      try {
        worker = await this.startWorker(index);
        for (const model of [...this.models]) {
          const session = (await worker.call({ kind: 'load', path: model.path, tags: model.tags })) as number;
          // Unloaded meanwhile: free it again.
          if (!this.models.has(model)) {
            await worker.call({ kind: 'unload', session });
            continue;
          }
          model.sessions.set(worker, session);
          const replacement = worker;
          await model.restore?.((inputNames, inputs, outputNames) => runSession(replacement, session, inputNames, inputs, outputNames, false));
        }
        this.slots[index]!.worker = worker;
        this.options.onWorkerEvent?.({ type: 'worker-restarted', index, models: this.models.size });
        return worker;
      } catch (error) {
        lastError = error instanceof Error ? error : new Error(String(error));
        await worker?.close();
      }
    }
    if (!this.closed) this.lost.add(index);
    this.options.onWorkerEvent?.({ type: 'worker-restart-failed', index, error: lastError });
    throw new ServingError('UNAVAILABLE', `inference worker ${index} could not be restarted: ${lastError.message}`, { cause: lastError });
  }
}

/** One run on one worker's session; the inputs' buffers move when `consumeInputs` allows it. */
function runSession(
  worker: InferenceWorkerHandle,
  session: number,
  inputNames: readonly string[],
  inputs: readonly RunInput[],
  outputNames: readonly string[],
  consumeInputs: boolean,
  timing?: RunTiming,
  deadline?: Deadline,
): Promise<HostTensor[]> {
  const postable = postableTensors(inputs, consumeInputs);
  // When posted tells the worker how long the call waited in its queue (run-admission.ts).
  const limits = deadline === undefined ? {} : { deadline, postedAt: Date.now() };
  const request = { kind: 'run' as const, session, inputNames, inputs: postable.tensors, outputNames, ...limits };
  return worker.call(request, postable.transfer, timing) as Promise<HostTensor[]>;
}
