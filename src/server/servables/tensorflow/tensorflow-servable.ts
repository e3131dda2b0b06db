import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { notFound } from '../../../shared/errors.js';
import type { HostTensor } from '../../core/host-tensor.js';
import type { RunOptions, Servable, ServableLoader } from '../../core/servable.js';
import type { SignatureDef, SignatureMap } from '../../core/signature.js';
import type { InferencePool, PooledSession } from './inference-pool.js';
import type { RunInput } from './inference-protocol.js';
import { SERVE_TAG, readSignatures } from './saved-model-metadata.js';
import { warmUpVersion, type WarmupOptions, type WarmupTarget } from './warmup/model-warmup.js';

/** One SavedModel version, loaded into the inference pool. */
export class TensorflowServable implements Servable, WarmupTarget {
  constructor(
    private readonly pool: InferencePool,
    private readonly session: PooledSession,
    readonly signatures: SignatureMap,
  ) {}

  run(
    signatureName: string,
    inputs: Readonly<Record<string, HostTensor>>,
    outputNames: readonly string[] | undefined,
    options: RunOptions = {},
  ): Promise<Record<string, HostTensor>> {
    return this.runInputs(signatureName, inputs, outputNames, options.consumeInputs ?? false);
  }

  runRowBlocks(signatureName: string, inputs: Readonly<Record<string, RunInput>>, outputNames: readonly string[] | undefined): Promise<Record<string, HostTensor>> {
    return this.runInputs(signatureName, inputs, outputNames, true);
  }

  async runOnEveryThread(signatureName: string, inputs: Readonly<Record<string, HostTensor>>, outputNames: readonly string[] | undefined): Promise<void> {
    const signature = this.signatureNamed(signatureName);
    const inputKeys = Object.keys(inputs);
    await this.pool.runOnEveryWorker(
      this.session,
      inputKeys.map((key) => signature.inputs[key]!.name),
      inputKeys.map((key) => inputs[key]!),
      (outputNames ?? Object.keys(signature.outputs)).map((key) => signature.outputs[key]!.name),
    );
  }

  private signatureNamed(signatureName: string): SignatureDef {
    const signature = this.signatures[signatureName];
    if (!signature) throw notFound(`signature "${signatureName}" not found`);
    return signature;
  }

  private async runInputs(
    signatureName: string,
    inputs: Readonly<Record<string, RunInput>>,
    outputNames: readonly string[] | undefined,
    consumeInputs: boolean,
  ): Promise<Record<string, HostTensor>> {
    const signature = this.signatureNamed(signatureName);
    const inputKeys = Object.keys(inputs);
    const outputKeys = outputNames ?? Object.keys(signature.outputs);
    const results = await this.pool.run(
      this.session,
      inputKeys.map((key) => signature.inputs[key]!.name),
      inputKeys.map((key) => inputs[key]!),
      outputKeys.map((key) => signature.outputs[key]!.name),
      consumeInputs,
    );
    const outputs: Record<string, HostTensor> = {};
    outputKeys.forEach((key, i) => (outputs[key] = results[i]!));
    return outputs;
  }

  unload(): Promise<void> {
    return this.pool.unload(this.session);
  }
}

/** Model warmup at load (TF Serving's --enable_model_warmup); `logger` reports each warmed version. */
export interface LoaderWarmup {
  readonly options: WarmupOptions;
  readonly logger: Logger;
}

export interface TensorflowLoaderOptions {
  /** The tag set of the meta graph to load (--saved_model_tags; TF Serving's default is {serve}). */
  readonly tags: readonly string[];
  readonly warmup?: LoaderWarmup;
}

/** Loads SavedModel versions (the meta graph tagged `tags`) into an inference pool, then warms them up. */
export class TensorflowLoader implements ServableLoader {
  private readonly warmup: LoaderWarmup | undefined;

  constructor(
    private readonly pool: InferencePool,
    private readonly options: TensorflowLoaderOptions = { tags: [SERVE_TAG] },
  ) {
    this.warmup = options.warmup;
  }

  async load(model: string, version: number, path: string, signal: AbortSignal): Promise<Servable> {
    const { signatures } = await readSignatures(path, this.options.tags);
    signal.throwIfAborted();
    const session = await this.pool.load(path, this.options.tags);
    const servable = new TensorflowServable(this.pool, session, signatures);
    try {
      signal.throwIfAborted();
      if (this.warmup) await this.warmUp(servable, model, version, path, this.warmup, signal);
    } catch (error) {
      await servable.unload();
      throw error;
    }
    return servable;
  }

  private async warmUp(servable: TensorflowServable, model: string, version: number, path: string, warmup: LoaderWarmup, signal: AbortSignal): Promise<void> {
    const started = performance.now();
    const records = await warmUpVersion(servable, path, warmup.options, signal);
    if (records === undefined) return;
    const ms = Math.round(performance.now() - started);
    warmup.logger.info({ model, version, records, iterations: warmup.options.iterations, threads: this.pool.size, ms }, 'warmed up version');
  }
}
