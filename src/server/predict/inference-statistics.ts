import type { RunTiming } from '../core/servable.js';

/*
 * Per model version, what Triton's statistics extension reports (`GET /v2/models/{m}/stats`,
 * gRPC `ModelStatistics`), so tools such as perf_analyzer can split a request's server time:
 * - success / fail: requests and the server's time for each, from the version being
 *   chosen to the outputs being ready (decoding a gRPC message before and encoding the answer
 *   after are not in it);
 * - queue: the wait in the batching queue (0 without batching);
 * - compute_input / compute_infer / compute_output: making TensorFlow's input tensors, the session
 *   run, and reading the outputs, as the inference thread timed them (a batch's times count for
 *   each of its requests, as in Triton);
 * - batch_stats: per batch size, executions and their compute times;
 * - inference_count: rows inferred (dimension 0 of the inputs, 1 for scalars; the examples of a
 *   Classify or Regress); execution_count: TensorFlow runs, a merged batch counting once.
 * Predict calls in any form count (TF Serving's gRPC and REST, the Open Inference Protocol), and
 * Classify and Regress; MultiInference (several runs in one call) does not.
 */

export interface Duration {
  count: number;
  ns: number;
}

/** Executions of one batch size and their compute times (Triton's InferBatchStatistics). */
export interface BatchSizeStatistics {
  readonly batchSize: number;
  readonly computeInput: Duration;
  readonly computeInfer: Duration;
  readonly computeOutput: Duration;
}

export interface VersionStatistics {
  /** Milliseconds since the epoch of the last successful request; 0 before the first. */
  lastInference: number;
  inferenceCount: number;
  executionCount: number;
  readonly success: Duration;
  readonly fail: Duration;
  readonly queue: Duration;
  readonly computeInput: Duration;
  readonly computeInfer: Duration;
  readonly computeOutput: Duration;
  /** By batch size, for executions only (a merged batch once). */
  readonly batches: Map<number, BatchSizeStatistics>;
}

const duration = (): Duration => ({ count: 0, ns: 0 });

function emptyStatistics(): VersionStatistics {
  return {
    lastInference: 0,
    inferenceCount: 0,
    executionCount: 0,
    success: duration(),
    fail: duration(),
    queue: duration(),
    computeInput: duration(),
    computeInfer: duration(),
    computeOutput: duration(),
    batches: new Map(),
  };
}

const add = (d: Duration, ns: number): void => {
  d.count++;
  d.ns += ns;
};

export class InferenceStatistics {
  private readonly models = new Map<string, Map<number, VersionStatistics>>();

  constructor(private readonly wallClockMs: () => number = Date.now) {}

  /** `rows` are the request's; the execution's batch size is `timing.batchSize`, or `rows` when 0. */
  succeeded(model: string, version: number, rows: number, ns: number, timing: RunTiming): void {
    const stats = this.of(model, version);
    stats.lastInference = this.wallClockMs();
    stats.inferenceCount += rows;
    stats.executionCount += timing.executions;
    add(stats.success, ns);
    add(stats.queue, timing.queueNs);
    add(stats.computeInput, timing.inputNs);
    add(stats.computeInfer, timing.inferNs);
    add(stats.computeOutput, timing.outputNs);
    if (timing.executions > 0) {
      const size = timing.batchSize || rows;
      let batch = stats.batches.get(size);
      if (batch === undefined) stats.batches.set(size, (batch = { batchSize: size, computeInput: duration(), computeInfer: duration(), computeOutput: duration() }));
      add(batch.computeInput, timing.inputNs);
      add(batch.computeInfer, timing.inferNs);
      add(batch.computeOutput, timing.outputNs);
    }
  }

  failed(model: string, version: number, ns: number): void {
    add(this.of(model, version).fail, ns);
  }

  /** A version's statistics so far (zeros when it has served nothing). */
  get(model: string, version: number): VersionStatistics {
    return this.models.get(model)?.get(version) ?? emptyStatistics();
  }

  private of(model: string, version: number): VersionStatistics {
    let versions = this.models.get(model);
    if (versions === undefined) this.models.set(model, (versions = new Map<number, VersionStatistics>()));
    let stats = versions.get(version);
    if (stats === undefined) versions.set(version, (stats = emptyStatistics()));
    return stats;
  }
}
