import { notFound } from '../../../shared/errors.js';
import type { HostTensor } from '../../core/host-tensor.js';
import type { RunOptions, Servable, ServableLoader } from '../../core/servable.js';
import type { SignatureMap } from '../../core/signature.js';
import type { InferencePool, PooledSession } from './inference-pool.js';
import type { RunInput } from './inference-protocol.js';
import { readSignatures } from './saved-model-metadata.js';

const SERVE_TAGS = ['serve'];

/** One SavedModel version, loaded into the inference pool. */
export class TensorflowServable implements Servable {
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

  private async runInputs(
    signatureName: string,
    inputs: Readonly<Record<string, RunInput>>,
    outputNames: readonly string[] | undefined,
    consumeInputs: boolean,
  ): Promise<Record<string, HostTensor>> {
    const signature = this.signatures[signatureName];
    if (!signature) throw notFound(`signature "${signatureName}" not found`);
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

/** Loads SavedModel versions (the `serve` meta graph) into an inference pool. */
export class TensorflowLoader implements ServableLoader {
  constructor(private readonly pool: InferencePool) {}

  async load(_model: string, _version: number, path: string, signal: AbortSignal): Promise<Servable> {
    const { signatures } = await readSignatures(path);
    signal.throwIfAborted();
    const session = await this.pool.load(path, SERVE_TAGS);
    if (signal.aborted) {
      await this.pool.unload(session);
      signal.throwIfAborted();
    }
    return new TensorflowServable(this.pool, session, signatures);
  }
}
