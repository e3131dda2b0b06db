import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { notFound } from '../../../shared/errors.js';
import type { HostTensor } from '../../core/host-tensor.js';
import { isPast } from '../../core/deadline.js';
import { callerGone } from '../../core/hangup.js';
import type { RunOptions, Servable, ServableLoader } from '../../core/servable.js';
import type { SignatureMap, UnservableSignatures } from '../../core/signature.js';
import type { InferencePool, PooledSession, SessionRun } from './inference-pool.js';
import type { RunInput } from './inference-protocol.js';
import { SERVE_TAG, readSignatures } from './saved-model-metadata.js';
import { warmUpVersion, type WarmupOptions, type WarmupTarget } from './warmup/model-warmup.js';
import { ownEntry } from '../../../shared/own-entry.js';

interface Feeds {
  readonly inputNames: string[];
  readonly inputs: RunInput[];
  readonly outputKeys: readonly string[];
  readonly outputNames: string[];
}

/** One SavedModel version, loaded into the inference pool. */
export class TensorflowServable implements Servable, WarmupTarget {
  constructor(
    private readonly pool: InferencePool,
    readonly session: PooledSession,
    readonly signatures: SignatureMap,
    readonly unservableSignatures: UnservableSignatures = {},
  ) {}

  run(
    signatureName: string,
    inputs: Readonly<Record<string, HostTensor>>,
    outputNames: readonly string[] | undefined,
    options: RunOptions = {},
  ): Promise<Record<string, HostTensor>> {
    return this.runInputs(signatureName, inputs, outputNames, options.consumeInputs ?? false, options);
  }

  runRowBlocks(signatureName: string, inputs: Readonly<Record<string, RunInput>>, outputNames: readonly string[] | undefined, options: RunOptions = {}): Promise<Record<string, HostTensor>> {
    return this.runInputs(signatureName, inputs, outputNames, true, options);
  }

  async runOnEveryThread(signatureName: string, inputs: Readonly<Record<string, HostTensor>>, outputNames: readonly string[] | undefined): Promise<void> {
    const feeds = this.feeds(signatureName, inputs, outputNames);
    await this.pool.runOnEveryWorker(this.session, feeds.inputNames, feeds.inputs, feeds.outputNames);
  }

  /** This version as warmup sees it on one session only (a replacement worker's, through `run`). */
  onOneSession(run: SessionRun): WarmupTarget {
    return {
      signatures: this.signatures,
      unservableSignatures: this.unservableSignatures,
      runOnEveryThread: async (signatureName, inputs, outputNames) => {
        const feeds = this.feeds(signatureName, inputs, outputNames);
        await run(feeds.inputNames, feeds.inputs, feeds.outputNames);
      },
    };
  }

  private async runInputs(
    signatureName: string,
    inputs: Readonly<Record<string, RunInput>>,
    outputNames: readonly string[] | undefined,
    consumeInputs: boolean,
    { timing, deadline, hangup }: RunOptions,
  ): Promise<Record<string, HostTensor>> {
    // A passed deadline is the pool's to report, even when grpc-js has closed the stream for it.
    if (hangup?.aborted === true && !isPast(deadline)) throw callerGone('before it was handed to an inference thread');
    const feeds = this.feeds(signatureName, inputs, outputNames);
    const results = await this.pool.run(this.session, feeds.inputNames, feeds.inputs, feeds.outputNames, consumeInputs, timing, deadline);
    const outputs: Record<string, HostTensor> = {};
    feeds.outputKeys.forEach((key, i) => (outputs[key] = results[i]!));
    return outputs;
  }

  /** A call's signature keys as the graph's tensor names. */
  private feeds(signatureName: string, inputs: Readonly<Record<string, RunInput>>, outputNames: readonly string[] | undefined): Feeds {
    const signature = ownEntry(this.signatures, signatureName);
    if (!signature) throw notFound(`signature "${signatureName}" not found`);
    const inputKeys = Object.keys(inputs);
    const outputKeys = outputNames ?? Object.keys(signature.outputs);
    return {
      inputNames: inputKeys.map((key) => signature.inputs[key]!.name),
      inputs: inputKeys.map((key) => inputs[key]!),
      outputKeys,
      outputNames: outputKeys.map((key) => signature.outputs[key]!.name),
    };
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
  /** Told which signatures of a loaded version cannot be served, and why. */
  readonly logger?: Logger;
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
    const { signatures, skipped } = await readSignatures(path, this.options.tags);
    for (const { name, reason } of skipped) this.options.logger?.warn({ model, version, signature: name, reason }, 'signature not served');
    signal.throwIfAborted();
    const session = await this.pool.load(path, this.options.tags);
    const servable = new TensorflowServable(this.pool, session, signatures, Object.fromEntries(skipped.map(({ name, reason }) => [name, reason])));
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
    // A worker that dies is replaced and loads the version again: warm that session too.
    this.pool.onRestore(servable.session, async (run) => {
      try {
        await warmUpVersion(servable.onOneSession(run), path, warmup.options, new AbortController().signal);
        warmup.logger.info({ model, version, records }, 'warmed up version on a replacement inference thread');
      } catch (error) {
        warmup.logger.warn({ model, version, err: error }, 'warmup failed on a replacement inference thread; it serves the version cold');
      }
    });
  }
}
