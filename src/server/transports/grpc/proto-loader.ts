/**
 * Loads TensorFlow Serving's gRPC services from our protos for @grpc/grpc-js.
 *
 * Option choices (they define the object shapes every gRPC handler sees):
 * - keepCase: field names as in the .proto (snake_case: `model_spec`, `float_val`), the spelling
 *   TF Serving's docs and clients use.
 * - longs: String - int64/uint64 arrive as decimal strings ("9007199254740993"): exact, unlike
 *   numbers, and simpler to hand on than Long objects (BigInt(s) when arithmetic is needed).
 *   When encoding, protobufjs accepts numbers, decimal strings or Long for those fields.
 * - enums: String - enum values arrive as names ("DT_FLOAT", "AVAILABLE"); a number the proto
 *   does not name arrives as that number. Encoding accepts names or numbers.
 * - bytes: Buffer (protobufjs' default in Node) - zero-copy views into the received message.
 * - defaults: true - absent scalars/repeated fields read as their defaults ("", "0", [] ...),
 *   absent messages as null, so handlers need no undefined checks for proto3 fields.
 * - oneofs: true - the name of the set member is also given (`version_choice: 'version'`).
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { noteRequestMessage } from '../../core/message-buffers.js';
import { readPredictRequest } from '../../servables/tensorflow/codecs/predict-request-wire.js';
import { serializePredictResponse } from '../../servables/tensorflow/codecs/tensor-proto-wire.js';
import { protoDir, protoFilePaths, protoType } from '../../servables/tensorflow/proto-root.js';
import { withUnreadableRequestsNamed } from './unreadable-request.js';

export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

export interface TensorflowServingGrpc {
  /** Everything loaded; hand it to @grpc/reflection's ReflectionService. */
  readonly packageDefinition: protoLoader.PackageDefinition;
  /**
   * tensorflow.serving.PredictionService (Classify, Regress, Predict, MultiInference,
   * GetModelMetadata). Predict's (de)serializers are our own, for the hot path: the request
   * reader skips protobufjs' decode-then-convert, and the response writer accepts
   * encodeTensorProto's typed arrays and writes them as blocks (proto-loader's would reject them).
   */
  readonly predictionService: ServiceDefinition;
  /** tensorflow.serving.ModelService (GetModelStatus, HandleReloadConfigRequest). */
  readonly modelService: ServiceDefinition;
  /** inference.GRPCInferenceService: the Open Inference Protocol (KServe V2). */
  readonly inferenceService: ServiceDefinition;
}

let cached: TensorflowServingGrpc | undefined;

/** Loads the protos once (synchronously; call at startup). */
export function loadTensorflowServingGrpc(): TensorflowServingGrpc {
  if (cached !== undefined) return cached;
  const packageDefinition = protoLoader.loadSync(grpcProtoFilePaths(), {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: [protoDir()],
  });
  const prediction = serviceOf(packageDefinition, 'tensorflow.serving.PredictionService');
  const predict = prediction['Predict'];
  if (predict === undefined) throw new Error('PredictionService has no Predict method');
  cached = {
    packageDefinition,
    predictionService: withUnreadableRequestsNamed({
      ...prediction,
      Predict: {
        ...predict,
        requestDeserialize: (bytes: Buffer) => {
          noteRequestMessage(bytes);
          return readPredictRequest(bytes);
        },
        responseSerialize: (value: object) => serializePredictResponse(value),
      },
    }),
    modelService: withUnreadableRequestsNamed(serviceOf(packageDefinition, 'tensorflow.serving.ModelService')),
    inferenceService: withUnreadableRequestsNamed(withWholeMessages(serviceOf(packageDefinition, 'inference.GRPCInferenceService'), 'ModelInfer')),
  };
  return cached;
}

/** Absolute paths of the proto files the services are built from (imports resolve from protoDir()). */
export function grpcProtoFilePaths(): string[] {
  return protoFilePaths();
}

/** `method`'s requests are noted as whole messages, so raw tensor contents can move without a copy. */
function withWholeMessages(service: ServiceDefinition, method: string): ServiceDefinition {
  const definition = service[method];
  if (definition === undefined) throw new Error(`the service has no ${method} method`);
  const deserialize = definition.requestDeserialize;
  return {
    ...service,
    [method]: {
      ...definition,
      requestDeserialize: (bytes: Buffer): unknown => {
        noteRequestMessage(bytes);
        return deserialize(bytes) as unknown;
      },
    },
  };
}

function serviceOf(definition: protoLoader.PackageDefinition, name: string): ServiceDefinition {
  const service = definition[name];
  if (service === undefined || 'format' in service) throw new Error(`${name} is not a service in the loaded protos`);
  // proto-loader's and grpc-js's ServiceDefinition types are structurally the same.
  return service;
}

/** A google.protobuf.Any in the shape the loaded services accept. */
export interface AnyMessage {
  readonly type_url: string;
  readonly value: Buffer;
}

/**
 * Packs a message (a plain object in the loaded shape) of one of our types into an Any, e.g.
 * packAny('tensorflow.serving.SignatureDefMap', map) for GetModelMetadataResponse.metadata.
 */
export function packAny(fullName: string, message: object): AnyMessage {
  const type = protoType(fullName);
  const value = type.encode(type.fromObject(message)).finish();
  return {
    type_url: `type.googleapis.com/${fullName}`,
    value: Buffer.from(value.buffer, value.byteOffset, value.byteLength),
  };
}

/** Decodes a message of one of our types from bytes into the loaded object shape. */
export function decodeMessage(fullName: string, bytes: Uint8Array): Record<string, unknown> {
  const type = protoType(fullName);
  return type.toObject(type.decode(bytes), { longs: String, enums: String, defaults: true, oneofs: true });
}
