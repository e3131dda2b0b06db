/**
 * What the gRPC handlers make of a serialized PredictRequest, for comparing the hand-written
 * reader with protobufjs (what proto-loader uses): the model spec they parse and each input's
 * tensor or error.
 */
import { createHash } from 'node:crypto';
import { decodeTensorProto, type TensorProtoObject } from '../../../src/server/servables/tensorflow/codecs/tensor-proto.js';
import { protoType } from '../../../src/server/servables/tensorflow/proto-root.js';
import { PROTO_LOADER_OPTIONS } from '../../../src/server/transports/grpc/proto-loader.js';
import { modelSpecOf } from '../../../src/server/transports/grpc/prediction-handlers.js';
import { eachFixtureCase, toTensorProto } from './fixture-tensors.js';

interface DecodedRequest {
  model_spec: unknown;
  inputs: Record<string, TensorProtoObject>;
  output_filter: string[];
}

const PredictRequest = protoType('tensorflow.serving.PredictRequest');
// Small enough that fuzzed shapes (a dimension of 10^6 filled from one value) stay cheap to compare.
const limits = { maxElements: 100_000 };

const digest = (bytes: Uint8Array): string => `${bytes.length} bytes, sha1 ${createHash('sha1').update(bytes).digest('hex')}`;

export function viaProtobufjs(bytes: Uint8Array): DecodedRequest {
  return PredictRequest.toObject(PredictRequest.decode(bytes), PROTO_LOADER_OPTIONS) as never;
}

export const encodePredictRequest = (message: object): Uint8Array => PredictRequest.encode(PredictRequest.fromObject(message)).finish();

export function predictRequestMeaning(request: DecodedRequest): unknown {
  const attempt = <T>(f: () => T): T | string => {
    try {
      return f();
    } catch (error) {
      return `error: ${(error as Error).message}`;
    }
  };
  const tensors = Object.fromEntries(
    Object.entries(request.inputs).map(([name, proto]) => [name, attempt(() => {
      const t = decodeTensorProto(proto, limits);
      return t.dtype === 'DT_STRING' ? { ...t, strings: t.strings.map((s) => Buffer.from(s).toString('hex')) } : { ...t, bytes: digest(t.bytes) };
    })]),
  );
  return { spec: attempt(() => modelSpecOf(request.model_spec as never)), tensors, outputFilter: request.output_filter };
}

/** Every fixture case as a PredictRequest message, its inputs in typed fields and in tensor_content. */
export function fixturePredictMessages(): [string, object][] {
  const messages: [string, object][] = [];
  const index = new Map<string, number>();
  for (const { model, version, signature, testCase } of eachFixtureCase()) {
    const key = `${model} ${signature}`;
    const i = index.get(key) ?? 0;
    index.set(key, i + 1);
    for (const content of [false, true]) {
      messages.push([
        `${key} #${i} ${content ? 'tensor_content' : 'typed fields'}`,
        { model_spec: { name: model, version: { value: version }, signature_name: signature }, inputs: Object.fromEntries(Object.entries(testCase.inputs).map(([n, t]) => [n, toTensorProto(t, content)])) },
      ]);
    }
  }
  return messages;
}

export const fixturePredictRequests = (): Uint8Array[] => fixturePredictMessages().map(([, message]) => encodePredictRequest(message));
