import type { Logger } from 'pino';
import { ServingError } from '../../shared/errors.js';
import type { HostTensor } from '../core/host-tensor.js';
import { CLASSIFY_METHOD, DEFAULT_SIGNATURE, REGRESS_METHOD, type SignatureDef, type SignatureMap } from '../core/signature.js';
import { newRunTiming, type RunTiming, type ServableBatching } from '../core/servable.js';
import type { Hangup } from '../core/hangup.js';
import { InferenceStatistics } from './inference-statistics.js';
import { classificationsOf, classifyFetches, regressFetches, regressionValuesOf, type Classification } from './example-outputs.js';
import type { RequestLoggingConfig } from '../config/model-config.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import type { RequestLogger } from '../request-log/request-logger.js';
import { compareOutputs, route, shadowDecision } from '../routing/index.js';
import { checkInferenceTasks, checkInputs, checkPredictMethod, exampleInputOf, examplesTensor, selectOutputs, signatureOf } from './check-inputs.js';
import type { ModelCatalog, VersionHandle, VersionSelector } from './model-catalog.js';

export type Entrypoint = 'GRPC' | 'REST';

export interface ModelSpecInput {
  readonly name: string;
  readonly version?: number;
  readonly label?: string;
  /** Empty or undefined means serving_default. */
  readonly signatureName?: string;
}

export interface PredictOptions {
  /** TF Serving's --enable_signature_method_name_check. */
  readonly checkMethodNames: boolean;
  /** Writes the sampled calls of models with a logging_config. */
  readonly requestLog?: RequestLogger;
}

export interface CallContext {
  readonly entrypoint: Entrypoint;
  /** Value of the model's A/B key header/metadata, when the caller sent one. */
  readonly headers: (name: string) => string | undefined;
  /** Set when the client goes (core/hangup.ts): work not started by then is not started. */
  readonly hangup?: Hangup;
  /** When the caller gives up (core/deadline.ts): work not started by then is not started. */
  readonly deadline?: number;
}

export interface Served {
  readonly model: string;
  readonly version: number;
  readonly signatureName: string;
  /** How the version was chosen: "pinned", "label:<l>", or the routing variant. */
  readonly variant: string;
}

export interface PredictResult extends Served {
  readonly outputs: Record<string, HostTensor>;
}

/** One task of a MultiInference call: a classify or regress signature. */
export interface InferenceTask {
  readonly spec: ModelSpecInput;
  /** tensorflow/serving/classify or tensorflow/serving/regress. */
  readonly method: string;
}

export type InferenceTaskResult =
  | { readonly method: typeof CLASSIFY_METHOD; readonly signatureName: string; readonly results: Classification[] }
  | { readonly method: typeof REGRESS_METHOD; readonly signatureName: string; readonly values: number[] };

export type { Classification } from './example-outputs.js';

/** One Classify or Regress run of serialized tf.Examples. */
interface ExampleRun {
  readonly handle: VersionHandle;
  readonly signatureName: string;
  readonly examples: readonly Uint8Array[];
  readonly call: CallContext;
  readonly consumeInputs: boolean;
  /** Set for calls the statistics count. */
  readonly accounting?: Accounting;
}

/** The calls Triton-style statistics count: one model run each (MultiInference runs several). */
const ACCOUNTED_APIS: ReadonlySet<string> = new Set(['predict', 'classify', 'regress']);

/** What a call leaves for the statistics: rows it ran, and where its run's time went. */
interface Accounting {
  rows: number;
  timing: RunTiming | undefined;
}

/**
 * The one request path behind both transports: pick the version (explicit version or label,
 * else the model's routing), check the request against the signature, run it, and account for it.
 */
export class PredictService {
  /** Triton-style per-version statistics of Predict, Classify and Regress calls (inference-statistics.ts). */
  readonly statistics = new InferenceStatistics();

  constructor(
    private readonly catalog: ModelCatalog,
    private readonly metrics: ServerMetrics,
    private readonly logger: Logger,
    private readonly rng: () => number,
    /** Milliseconds on any clock: only differences are used (call durations). */
    private readonly now: () => number,
    private readonly options: PredictOptions = { checkMethodNames: false },
  ) {}

  /**
   * `decodeInputs` receives the signature of the version that will serve: REST needs its dtypes
   * to read JSON; gRPC's TensorProtos carry their own.
   */
  async predict(
    spec: ModelSpecInput,
    decodeInputs: (signature: SignatureDef) => Record<string, HostTensor>,
    outputFilter: readonly string[],
    call: CallContext,
  ): Promise<PredictResult> {
    return this.withVersion(spec, call, 'predict', async (handle, served, accounting) => {
      const signature = signatureOf(handle.servable, served.signatureName);
      return this.runPredict(spec, handle, served, signature, decodeInputs(signature), outputFilter, call, accounting);
    });
  }

  /**
   * Predict for a body that names its own signature and is decoded elsewhere (large REST bodies,
   * parsed in a thread): `decode` gets every signature of the version that will serve, and answers
   * with the signature the body asks for and, when the version has it, the inputs (and the outputs
   * it asks for, when it names some).
   */
  async predictDecoded(
    spec: ModelSpecInput,
    decode: (signatures: SignatureMap) => Promise<{ signatureName: string | undefined; inputs?: Record<string, HostTensor>; outputFilter?: readonly string[] }>,
    call: CallContext,
    /** Runs when the model or version is unknown, before NOT_FOUND: a malformed body fails first, as in TF Serving. */
    checkWithoutVersion?: () => Promise<void>,
  ): Promise<PredictResult> {
    return this.withVersion(spec, call, 'predict', async (handle, acquired, accounting) => {
      const decoded = await decode(handle.servable.signatures);
      const served = { ...acquired, signatureName: decoded.signatureName || DEFAULT_SIGNATURE };
      const signature = signatureOf(handle.servable, served.signatureName);
      return this.runPredict(spec, handle, served, signature, decoded.inputs ?? {}, decoded.outputFilter ?? [], call, accounting);
    }, checkWithoutVersion);
  }

  /** Counts a call that failed before it reached a model (e.g. a body that is not JSON) as the model's. */
  recordRejected(spec: ModelSpecInput, call: CallContext, api: string, error: unknown): void {
    this.record(spec, call, api, error instanceof ServingError ? error.code : 'INTERNAL', undefined, 0);
  }

  private async runPredict(
    spec: ModelSpecInput,
    handle: VersionHandle,
    served: Served,
    signature: SignatureDef,
    inputs: Record<string, HostTensor>,
    outputFilter: readonly string[],
    call: CallContext,
    accounting: Accounting,
  ): Promise<PredictResult> {
    checkPredictMethod(served.signatureName, signature, this.options.checkMethodNames);
    checkInputs(served.signatureName, signature, inputs);
    const outputNames = selectOutputs(served.signatureName, signature, outputFilter);
    const shadowVersion = this.shadowTarget(spec, served);
    const logging = this.loggingOf(served);
    const started = this.now();
    accounting.rows = rowsOf(inputs);
    const timing = newRunTiming();
    // Inputs that are read again afterwards (shadow copy, request log) must stay on this thread.
    const outputs = await handle.servable.run(served.signatureName, inputs, outputNames, {
      hangup: call.hangup,
      deadline: call.deadline,
      consumeInputs: shadowVersion === undefined && logging === undefined,
      timing,
    });
    accounting.timing = timing;
    if (shadowVersion !== undefined) this.shadow(spec.name, shadowVersion, served, inputs, outputNames, outputs, this.now() - started, call);
    if (logging) this.options.requestLog!.log(logging, served, { kind: 'predict', inputs, outputFilter, outputs });
    return { ...served, outputs };
  }

  async metadata(spec: ModelSpecInput, call: CallContext): Promise<Served & { signatures: SignatureMap; batching?: ServableBatching }> {
    return this.withVersion(spec, call, 'metadata', (handle, served) =>
      Promise.resolve({ ...served, signatures: handle.servable.signatures, batching: handle.servable.batching }),
    );
  }

  /** Classify: serialized tf.Examples in, per-example (label, score) lists out. */
  async classify(spec: ModelSpecInput, examples: readonly Uint8Array[], call: CallContext): Promise<Served & { results: Classification[] }> {
    return this.withVersion(spec, call, 'classify', async (handle, served, accounting) => {
      const logging = this.loggingOf(served);
      const results = await this.runClassify({ handle, signatureName: served.signatureName, examples, call, consumeInputs: logging === undefined, accounting });
      if (logging) this.options.requestLog!.log(logging, served, { kind: 'classify', examples, classifications: results });
      return { ...served, results };
    });
  }

  /** Regress: serialized tf.Examples in, one value per example out. */
  async regress(spec: ModelSpecInput, examples: readonly Uint8Array[], call: CallContext): Promise<Served & { values: number[] }> {
    return this.withVersion(spec, call, 'regress', async (handle, served, accounting) => {
      const logging = this.loggingOf(served);
      const values = await this.runRegress({ handle, signatureName: served.signatureName, examples, call, consumeInputs: logging === undefined, accounting });
      if (logging) this.options.requestLog!.log(logging, served, { kind: 'regress', examples, values });
      return { ...served, values };
    });
  }

  /** The model's logging_config when this call is sampled for the request log. */
  private loggingOf(served: Served): RequestLoggingConfig | undefined {
    const config = this.options.requestLog ? this.catalog.logging(served.model) : undefined;
    return this.options.requestLog?.sample(config) ? config : undefined;
  }

  /**
   * MultiInference: several classify and regress signatures of one version on the same examples.
   * As in TF Serving, every task names the same model, each signature once, and the first task's
   * version or label picks the version for all.
   */
  async multiInference(tasks: readonly InferenceTask[], examples: readonly Uint8Array[], call: CallContext): Promise<Served & { results: InferenceTaskResult[] }> {
    checkInferenceTasks(tasks);
    return this.withVersion({ ...tasks[0]!.spec, signatureName: undefined }, call, 'multi_inference', async (handle, served) => {
      const results = await Promise.all(
        tasks.map(async (task): Promise<InferenceTaskResult> => {
          const signatureName = task.spec.signatureName || DEFAULT_SIGNATURE;
          // Every task reads the same examples: none may hand their buffers to the inference thread.
          return task.method === CLASSIFY_METHOD
            ? { method: CLASSIFY_METHOD, signatureName, results: await this.runClassify({ handle, signatureName, examples, call, consumeInputs: false }) }
            : { method: REGRESS_METHOD, signatureName, values: await this.runRegress({ handle, signatureName, examples, call, consumeInputs: false }) };
        }),
      );
      const logging = this.loggingOf(served);
      if (logging) this.options.requestLog!.log(logging, served, { kind: 'multi_inference', examples, tasks: results });
      return { ...served, results };
    });
  }

  private async runClassify(run: ExampleRun): Promise<Classification[]> {
    const outputs = await this.runExamples(run, CLASSIFY_METHOD, classifyFetches);
    return classificationsOf(run.signatureName, outputs, run.examples.length);
  }

  private async runRegress(run: ExampleRun): Promise<number[]> {
    const outputs = await this.runExamples(run, REGRESS_METHOD, regressFetches);
    return regressionValuesOf(run.signatureName, outputs, run.examples.length);
  }

  /** Runs serialized tf.Examples through the signature's one string input; one row per example. */
  private async runExamples(
    run: ExampleRun,
    method: string,
    fetchesOf: (signatureName: string, signature: SignatureDef) => string[],
  ): Promise<Record<string, HostTensor>> {
    const { handle, signatureName, examples, call, consumeInputs, accounting } = run;
    const signature = signatureOf(handle.servable, signatureName);
    const input = exampleInputOf(signatureName, signature, method, this.options.checkMethodNames);
    const fetches = fetchesOf(signatureName, signature);
    const timing = newRunTiming();
    const outputs = await handle.servable.run(signatureName, { [input]: examplesTensor(examples) }, fetches, { hangup: call.hangup, deadline: call.deadline, consumeInputs, timing });
    if (accounting !== undefined) {
      accounting.rows = examples.length;
      accounting.timing = timing;
    }
    return outputs;
  }

  private async withVersion<T>(
    spec: ModelSpecInput,
    call: CallContext,
    api: string,
    body: (handle: VersionHandle, served: Served, accounting: Accounting) => Promise<T>,
    checkWithoutVersion?: () => Promise<void>,
  ): Promise<T> {
    const started = this.now();
    let served: Served | undefined;
    let code = 'OK';
    const accounting: Accounting = { rows: 0, timing: undefined };
    try {
      let acquired: { handle: VersionHandle; variant: string };
      try {
        acquired = this.acquire(spec, call);
      } catch (error) {
        if (checkWithoutVersion && error instanceof ServingError && error.code === 'NOT_FOUND') await checkWithoutVersion();
        throw error;
      }
      const { handle, variant } = acquired;
      served = { model: handle.model, version: handle.version, signatureName: spec.signatureName || DEFAULT_SIGNATURE, variant };
      try {
        return await body(handle, served, accounting);
      } finally {
        handle.release();
      }
    } catch (error) {
      code = error instanceof ServingError ? error.code : 'INTERNAL';
      throw error;
    } finally {
      const ms = this.now() - started;
      this.record(spec, call, api, code, served, ms / 1000);
      if (served !== undefined && ACCOUNTED_APIS.has(api)) this.account(served, code, ms, accounting);
    }
  }

  private account(served: Served, code: string, ms: number, accounting: Accounting): void {
    const ns = Math.round(ms * 1e6);
    if (code !== 'OK') this.statistics.failed(served.model, served.version, ns);
    else if (accounting.timing !== undefined) this.statistics.succeeded(served.model, served.version, accounting.rows, ns, accounting.timing);
  }

  /** Label values in each metric's labelNames order (server-metrics.ts). */
  private record(spec: ModelSpecInput, call: CallContext, api: string, code: string, served: Served | undefined, seconds: number): void {
    this.metrics.tfsRequestCount.series(spec.name, code).value++;
    this.metrics.tfsRequestLatency.series(spec.name, api, call.entrypoint).observe(seconds * 1e6);
    const version = served ? String(served.version) : '';
    const variant = served?.variant ?? '';
    this.metrics.requests.series(spec.name, version, variant, api, code).value++;
    if (served) this.metrics.requestDuration.series(spec.name, version, variant, api).observe(seconds);
  }

  private acquire(spec: ModelSpecInput, call: CallContext): { handle: VersionHandle; variant: string } {
    if (spec.version !== undefined || spec.label !== undefined) {
      const selector: VersionSelector = spec.version !== undefined ? { version: spec.version } : { label: spec.label! };
      return { handle: this.catalog.acquire(spec.name, selector), variant: spec.label !== undefined ? `label:${spec.label}` : 'pinned' };
    }
    const routing = this.catalog.routing(spec.name);
    if (!routing || (!routing.canary && !routing.abTest)) {
      // As TF Serving: a request naming no version gets the newest available one.
      return { handle: this.catalog.acquire(spec.name, {}), variant: 'latest' };
    }
    const available = this.catalog.availableVersions(spec.name);
    const stable = this.stableVersion(spec.name, available);
    const key = routing.abTest ? call.headers(routing.abTest.keyHeader) : undefined;
    const decision = route(routing, { availableVersions: available, stableVersion: stable, requestKey: key, rng: this.rng });
    if (decision.fallback) {
      this.metrics.routingFallbacks.inc({ model: spec.name, wanted_version: String(decision.fallback.wanted) });
      this.logger.warn({ model: spec.name, wanted: decision.fallback.wanted, served: decision.version, reason: decision.fallback.reason }, 'routing fell back to the stable version');
    }
    return { handle: this.catalog.acquire(spec.name, { version: decision.version }), variant: decision.variant ?? 'stable' };
  }

  /** The version a canary or A/B split falls back to: the "stable" label if available, else the newest. */
  private stableVersion(model: string, available: readonly number[]): number | undefined {
    const labelled = this.catalog.labels(model).stable;
    if (labelled !== undefined && available.includes(labelled)) return labelled;
    return available.length > 0 ? Math.max(...available) : undefined;
  }

  /** The version to copy this request to, if the model shadows and the request named no version. */
  private shadowTarget(spec: ModelSpecInput, served: Served): number | undefined {
    if (spec.version !== undefined || spec.label !== undefined) return undefined;
    const routing = this.catalog.routing(spec.name);
    if (!routing?.shadow) return undefined;
    const available = this.catalog.availableVersions(spec.name);
    return shadowDecision(routing, { availableVersions: available, primaryVersion: served.version, rng: this.rng });
  }

  /** Runs the copy on the shadow version; its result and failure never reach the caller. */
  private shadow(
    model: string,
    target: number,
    served: Served,
    inputs: Record<string, HostTensor>,
    outputNames: readonly string[],
    primary: Record<string, HostTensor>,
    primaryMs: number,
    call: CallContext,
  ): void {
    const labels = { model, version: String(target) };
    const tolerance = this.catalog.routing(model)?.shadow?.tolerance ?? 0;
    void (async () => {
      let handle: VersionHandle | undefined;
      try {
        handle = this.catalog.acquire(model, { version: target });
        const started = this.now();
        // Not the caller's hangup: the caller has its answer, and its stream closing must not cancel the copy.
        const shadow = await handle.servable.run(served.signatureName, inputs, outputNames, { deadline: call.deadline, consumeInputs: true });
        this.metrics.shadowLatencyDelta.observe(labels, (this.now() - started - primaryMs) / 1000);
        const comparison = compareOutputs(primary, shadow, tolerance);
        this.metrics.shadowRequests.inc({ ...labels, outcome: comparison.agree ? 'agree' : 'disagree' });
        if (!comparison.agree) this.logger.debug({ ...labels, mismatch: comparison.mismatch }, 'shadow disagreed with the primary');
      } catch (error) {
        this.metrics.shadowRequests.inc({ ...labels, outcome: 'error' });
        this.logger.debug({ ...labels, err: error }, 'shadow request failed');
      } finally {
        handle?.release();
      }
    })();
  }
}

/** Rows a request runs: dimension 0 of its first input, 1 for a scalar. */
function rowsOf(inputs: Readonly<Record<string, HostTensor>>): number {
  for (const key in inputs) return inputs[key]!.shape[0] ?? 1;
  return 1;
}
