import type * as grpc from '@grpc/grpc-js';
import { ServingError, invalidArgument } from '../../../shared/errors.js';
import type { ModelVersionStatus } from '../../core/version-state.js';
import type { PredictService } from '../../predict/predict-service.js';
import { binaryOf } from '../../servables/tensorflow/codecs/open-inference-binary.js';
import { datatypeOf, parseInferRequest } from '../../servables/tensorflow/codecs/open-inference-json.js';
import type { TensorLimits } from '../../servables/tensorflow/codecs/tensor-proto.js';
import { parseVersionNumber } from '../model-spec-version.js';
import { SERVER_METADATA, infer, isModelReady, modelConfigOf, modelMetadataOf, modelStatisticsOf, repositoryIndex } from '../open-inference.js';
import { rejectedAs } from '../rejected-as.js';
import { unary } from './grpc-errors.js';
import { announceVersion, callContext } from './prediction-handlers.js';

/** What the Open Inference Protocol's gRPC service needs from the server. */
export interface InferenceServiceBackend {
  readonly predict: PredictService;
  readonly limits: TensorLimits;
  status(model: string, version?: number): ModelVersionStatus[];
  modelNames(): string[];
  isReady(): boolean;
  livenessProblem(): string | undefined;
}

interface InferParameterMessage {
  bool_param?: boolean;
  int64_param?: string;
  string_param?: string;
  parameter_choice?: string;
}

interface TensorContentsMessage {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: string[];
  uint_contents?: number[];
  uint64_contents?: string[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Buffer[];
}

interface ModelInferRequestMessage {
  model_name?: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, InferParameterMessage>;
  inputs?: { name?: string; datatype?: string; shape?: string[]; parameters?: Record<string, InferParameterMessage>; contents?: TensorContentsMessage | null }[];
  outputs?: { name?: string }[];
  raw_input_contents?: Buffer[];
}

/** Which `contents` field carries each datatype's elements, and how to read them. */
const CONTENTS_FIELD: Readonly<Record<string, { field: keyof TensorContentsMessage; read?: (v: never) => unknown }>> = {
  BOOL: { field: 'bool_contents' },
  INT8: { field: 'int_contents' },
  INT16: { field: 'int_contents' },
  INT32: { field: 'int_contents' },
  INT64: { field: 'int64_contents', read: (v: string) => BigInt(v) },
  UINT8: { field: 'uint_contents' },
  UINT16: { field: 'uint_contents' },
  UINT32: { field: 'uint_contents' },
  UINT64: { field: 'uint64_contents', read: (v: string) => BigInt(v) },
  FP32: { field: 'fp32_contents' },
  FP64: { field: 'fp64_contents' },
  BYTES: { field: 'bytes_contents' },
};

/** An input's typed elements, from the one `contents` field its datatype uses. */
function elementsOf(name: string, datatype: string, contents: TensorContentsMessage | null | undefined): unknown[] {
  const wanted = CONTENTS_FIELD[datatype];
  const used = Object.entries(contents ?? {}).filter(([, values]) => Array.isArray(values) && values.length > 0).map(([field]) => field);
  if (wanted === undefined) {
    if (used.length > 0 || datatype === 'FP16' || datatype === 'BF16') throw invalidArgument(`input ${name}: ${datatype} elements travel only as raw_input_contents`);
    return [];
  }
  const stray = used.find((field) => field !== wanted.field);
  if (stray !== undefined) throw invalidArgument(`input ${name} is ${datatype}: its elements go in ${wanted.field}, not ${stray}`);
  const values = (contents?.[wanted.field] ?? []) as never[];
  return wanted.read === undefined ? values : values.map(wanted.read);
}

/** A ModelInferRequest in the JSON form the REST codec reads, raw contents as its binary parts. */
function asJsonRequest(request: ModelInferRequestMessage): { body: Record<string, unknown>; binary: readonly Buffer[] } {
  const inputs = request.inputs ?? [];
  const raw = request.raw_input_contents ?? [];
  if (raw.length > 0 && raw.length !== inputs.length) {
    throw invalidArgument(`raw_input_contents has ${raw.length} entries for ${inputs.length} inputs (one per input, or none)`);
  }
  const signatureName = request.parameters?.['signature_name'];
  if (signatureName !== undefined && signatureName.parameter_choice !== 'string_param') throw invalidArgument("parameter 'signature_name' must be a string");
  const body = {
    ...(request.id ? { id: request.id } : {}),
    ...(signatureName !== undefined ? { parameters: { signature_name: signatureName.string_param } } : {}),
    inputs: inputs.map((input, i) => ({
      name: input.name,
      datatype: input.datatype,
      shape: (input.shape ?? []).map(Number),
      ...(raw.length > 0
        ? { parameters: { binary_data_size: raw[i]!.length } }
        : { data: elementsOf(input.name ?? '', input.datatype ?? '', input.contents) }),
    })),
    ...(request.outputs && request.outputs.length > 0 ? { outputs: request.outputs.map((o) => ({ name: o.name })) } : {}),
  };
  return { body, binary: raw };
}

const versionOf = (text: string | undefined): number | undefined => (text ? parseVersionNumber(text, 'the model version') : undefined);

/**
 * inference.GRPCInferenceService, the Open Inference Protocol over gRPC: the same answers as its
 * REST form (open-inference-routes.ts), outputs always as raw_output_contents, as Triton sends them.
 */
export function inferenceServiceHandlers(backend: InferenceServiceBackend): grpc.UntypedServiceImplementation {
  return {
    ServerLive: unary(() => Promise.resolve({ live: backend.livenessProblem() === undefined })),
    ServerReady: unary(() => Promise.resolve({ ready: backend.isReady() })),
    ServerMetadata: unary(() => Promise.resolve(SERVER_METADATA)),
    // As Triton answers it: an unknown model or version is not ready, not an error (clients' is_model_ready returns False).
    ModelReady: unary((call: grpc.ServerUnaryCall<{ name?: string; version?: string }, unknown>) => {
      try {
        return Promise.resolve({ ready: isModelReady(backend, call.request.name ?? '', versionOf(call.request.version)) });
      } catch (error) {
        if (error instanceof ServingError && error.code === 'NOT_FOUND') return Promise.resolve({ ready: false });
        throw error;
      }
    }),
    ModelMetadata: unary((call: grpc.ServerUnaryCall<{ name?: string; version?: string }, unknown>) =>
      modelMetadataOf(backend.predict, backend, call.request.name ?? '', versionOf(call.request.version), callContext(call)),
    ),
    ModelConfig: unary(async (call: grpc.ServerUnaryCall<{ name?: string; version?: string }, unknown>) => ({
      config: await modelConfigOf(backend.predict, call.request.name ?? '', versionOf(call.request.version), callContext(call)),
    })),
    ModelStatistics: unary((call: grpc.ServerUnaryCall<{ name?: string; version?: string }, unknown>) =>
      Promise.resolve(modelStatisticsOf(backend, backend.predict.statistics, call.request.name || undefined, versionOf(call.request.version))),
    ),
    RepositoryIndex: unary((call: grpc.ServerUnaryCall<{ ready?: boolean }, unknown>) =>
      Promise.resolve({ models: repositoryIndex(backend, call.request.ready === true) }),
    ),
    ModelInfer: unary(async (call: grpc.ServerUnaryCall<ModelInferRequestMessage, unknown>) => {
      const model = call.request.model_name ?? '';
      if (model === '') throw invalidArgument('model_name is required');
      const version = versionOf(call.request.model_version);
      const context = callContext(call);
      const request = rejectedAs(backend.predict, { name: model, version }, context, 'predict', () => {
        const { body, binary } = asJsonRequest(call.request);
        return parseInferRequest(body, binary);
      });
      const result = await infer(backend.predict, model, version, request, backend.limits, context);
      announceVersion(call, result);
      const names = Object.keys(result.outputs);
      return {
        model_name: result.model,
        model_version: String(result.version),
        id: request.id ?? '',
        outputs: names.map((name) => {
          const tensor = result.outputs[name]!;
          return { name, datatype: datatypeOf(tensor.dtype), shape: tensor.shape };
        }),
        raw_output_contents: names.map((name) => binaryOf(result.outputs[name]!)),
      };
    }),
  };
}
