import { isBatchableSignature } from '../batching/batching-servable.js';
import type { ServableBatching } from '../core/servable.js';
import type { SignatureDef, TensorInfo } from '../core/signature.js';
import { datatypeOf } from '../servables/tensorflow/codecs/open-inference-json.js';

/*
 * Triton's model configuration extension (`GET /v2/models/{m}/config`, gRPC `ModelConfig`): the
 * part of Triton's ModelConfig that describes a served SavedModel's default signature. Tools that
 * read it before calling a model (Triton's perf_analyzer, model analyzers) then work unmodified.
 *
 * `max_batch_size` follows Triton's meaning. With server-side batching and a signature whose every
 * tensor has a leading -1 dimension, it is the batcher's max_batch_size and `dims` leave that
 * dimension out (as Triton's own config does for batching models); otherwise it is 0 and `dims`
 * are the signature's full shapes. The server itself accepts any batch size either way.
 */

export interface ModelConfigMessage {
  readonly name: string;
  readonly platform: string;
  readonly backend: string;
  readonly max_batch_size: number;
  readonly input: readonly ModelTensorConfig[];
  readonly output: readonly ModelTensorConfig[];
  readonly dynamic_batching?: { readonly preferred_batch_size: readonly number[]; readonly max_queue_delay_microseconds: number };
}

interface ModelTensorConfig {
  readonly name: string;
  readonly data_type: string;
  readonly dims: readonly number[];
}

/** Triton's DataType name for a tensor: TYPE_ and the protocol's datatype, TYPE_STRING for BYTES. */
function configDataType(info: TensorInfo): string {
  const datatype = datatypeOf(info.dtype);
  return datatype === 'BYTES' ? 'TYPE_STRING' : `TYPE_${datatype}`;
}

export function modelConfig(name: string, platform: string, signature: SignatureDef, batching: ServableBatching | undefined): ModelConfigMessage {
  const batched = batching !== undefined && isBatchableSignature(signature);
  // An unknown rank is described as [-1], as the model metadata does.
  const tensors = (infos: Readonly<Record<string, TensorInfo>>): ModelTensorConfig[] =>
    Object.entries(infos).map(([key, info]) => ({
      name: key,
      data_type: configDataType(info),
      dims: batched ? info.shape!.slice(1) : (info.shape ?? [-1]),
    }));
  return {
    name,
    platform,
    backend: 'tensorflow',
    max_batch_size: batched ? batching.maxBatchSize : 0,
    input: tensors(signature.inputs),
    output: tensors(signature.outputs),
    ...(batched
      ? { dynamic_batching: { preferred_batch_size: batching.allowedBatchSizes, max_queue_delay_microseconds: batching.batchTimeoutMicros } }
      : {}),
  };
}
