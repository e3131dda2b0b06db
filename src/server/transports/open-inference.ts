import { TENSORFLEET_VERSION } from '../../shared/version.js';
import { ServingError } from '../../shared/errors.js';
import type { ModelVersionStatus, VersionState } from '../core/version-state.js';
import type { InferenceStatistics, VersionStatistics } from '../predict/inference-statistics.js';
import type { CallContext, PredictResult, PredictService } from '../predict/predict-service.js';
import { decodeInferInputs, defaultSignature, modelMetadata, type InferRequest } from '../servables/tensorflow/codecs/open-inference-json.js';
import type { TensorLimits } from '../servables/tensorflow/codecs/tensor-proto.js';
import { modelConfig, type ModelConfigMessage } from './open-inference-config.js';
import { ownEntry } from '../../shared/own-entry.js';

/*
 * The Open Inference Protocol (KServe's "V2" protocol, as Triton and MLServer serve it) as REST
 * and gRPC both answer it: the server's description, readiness, metadata and inference on the
 * shared predict path. The transports only translate their wire forms.
 */

export const SERVER_METADATA = { name: 'tensorfleet', version: TENSORFLEET_VERSION, extensions: ['binary_tensor_data', 'model_configuration', 'statistics'] } as const;

/** The platform models report: Triton's name for TensorFlow SavedModels. */
export const PLATFORM = 'tensorflow_savedmodel';

/** Where versions' states come from (the model manager); NOT_FOUND for an unknown model or version. */
export interface VersionStatusSource {
  status(model: string, version?: number): ModelVersionStatus[];
}

/** Every configured model, for Triton's repository index. */
export interface RepositorySource extends VersionStatusSource {
  modelNames(): string[];
}

/** One entry of Triton's repository index. */
export interface ModelIndexEntry {
  readonly name: string;
  readonly version?: string;
  readonly state: string;
  readonly reason: string;
}

/** Triton's state names for a version's lifecycle state. */
const INDEX_STATES: Readonly<Record<VersionState, string>> = { START: 'LOADING', LOADING: 'LOADING', AVAILABLE: 'READY', UNLOADING: 'UNLOADING', END: 'UNAVAILABLE' };

/**
 * Triton's model repository index: each configured model's versions with their states (READY,
 * LOADING, UNLOADING, UNAVAILABLE) and the reason for a failure; a model without any version yet
 * is one UNAVAILABLE entry saying why. `readyOnly` keeps the READY versions.
 */
export function repositoryIndex(source: RepositorySource, readyOnly: boolean): ModelIndexEntry[] {
  const entries = source.modelNames().flatMap((name): ModelIndexEntry[] => {
    try {
      return source.status(name).map((s) => ({ name, version: String(s.version), state: INDEX_STATES[s.state], reason: s.errorMessage }));
    } catch (error) {
      if (error instanceof ServingError && error.code === 'NOT_FOUND') return [{ name, state: 'UNAVAILABLE', reason: error.message }];
      throw error;
    }
  });
  return readyOnly ? entries.filter((e) => e.state === 'READY') : entries;
}

/**
 * Triton's statistics of the model versions asked for: one version; a model's available versions;
 * or, without a model, every model's available versions. NOT_FOUND for an unknown model or version.
 */
export function modelStatisticsOf(source: RepositorySource, statistics: InferenceStatistics, model?: string, version?: number): { model_stats: unknown[] } {
  const available = (name: string): number[] => source.status(name).filter((s) => s.state === 'AVAILABLE').map((s) => s.version);
  let versions: [string, number][];
  if (model === undefined) {
    versions = source.modelNames().flatMap((name) => {
      try {
        return available(name).map((v): [string, number] => [name, v]);
      } catch (error) {
        if (error instanceof ServingError && error.code === 'NOT_FOUND') return [];
        throw error;
      }
    });
  } else if (version !== undefined) {
    versions = source.status(model, version).map((s): [string, number] => [model, s.version]);
  } else {
    versions = available(model).map((v): [string, number] => [model, v]);
  }
  return { model_stats: versions.map(([name, v]) => statisticsMessage(name, v, statistics.get(name, v))) };
}

function statisticsMessage(name: string, version: number, stats: VersionStatistics): unknown {
  const none = { count: 0, ns: 0 };
  return {
    name,
    version: String(version),
    last_inference: stats.lastInference,
    inference_count: stats.inferenceCount,
    execution_count: stats.executionCount,
    inference_stats: {
      success: stats.success,
      fail: stats.fail,
      queue: stats.queue,
      compute_input: stats.computeInput,
      compute_infer: stats.computeInfer,
      compute_output: stats.computeOutput,
      cache_hit: none,
      cache_miss: none,
    },
    batch_stats: [...stats.batches.values()]
      .sort((a, b) => a.batchSize - b.batchSize)
      .map((b) => ({ batch_size: b.batchSize, compute_input: b.computeInput, compute_infer: b.computeInfer, compute_output: b.computeOutput })),
  };
}

/** Whether the model (or that version of it) has an available version. */
export function isModelReady(source: VersionStatusSource, model: string, version?: number): boolean {
  return source.status(model, version).some((s) => s.state === 'AVAILABLE');
}

/** Model metadata: the available versions (or just `version`) and the default signature's tensors. */
export async function modelMetadataOf(
  predict: PredictService,
  source: VersionStatusSource,
  model: string,
  version: number | undefined,
  call: CallContext,
): Promise<ReturnType<typeof modelMetadata>> {
  const { signatures } = await predict.metadata({ name: model, version }, call);
  const versions = version !== undefined ? [version] : source.status(model).filter((s) => s.state === 'AVAILABLE').map((s) => s.version);
  const signature = signatures[defaultSignature(signatures)] ?? { methodName: '', inputs: {}, outputs: {} };
  return modelMetadata(model, versions, signature);
}

/** Triton's model configuration of the version the call would use (open-inference-config.ts). */
export async function modelConfigOf(predict: PredictService, model: string, version: number | undefined, call: CallContext): Promise<ModelConfigMessage> {
  const { signatures, batching } = await predict.metadata({ name: model, version }, call);
  const signature = signatures[defaultSignature(signatures)] ?? { methodName: '', inputs: {}, outputs: {} };
  return modelConfig(model, PLATFORM, signature, batching);
}

/** Runs an inference request on the version the model's routing (or `version`) picks. */
export function infer(predict: PredictService, model: string, version: number | undefined, request: InferRequest, limits: TensorLimits, call: CallContext): Promise<PredictResult> {
  return predict.predictDecoded(
    { name: model, version },
    (signatures) => {
      const signatureName = request.signatureName ?? defaultSignature(signatures);
      const signature = ownEntry(signatures, signatureName);
      const inputs = signature === undefined ? undefined : decodeInferInputs(request, signature.inputs, limits);
      return Promise.resolve({ signatureName, inputs, outputFilter: request.outputs });
    },
    call,
  );
}
