import protobuf from 'protobufjs';
import type { HostTensor } from '../core/host-tensor.js';
import { encodeTensorProto } from '../servables/tensorflow/codecs/tensor-proto.js';
import { protoType } from '../servables/tensorflow/proto-root.js';
import { PREDICTION_LOG_FIELD } from '../servables/tensorflow/warmup/prediction-log.js';

/** What a logged call was, in the shapes the PredictService has at hand. */
export type LoggedCall =
  | { readonly kind: 'predict'; readonly inputs: Readonly<Record<string, HostTensor>>; readonly outputFilter: readonly string[]; readonly outputs: Readonly<Record<string, HostTensor>> }
  | { readonly kind: 'classify'; readonly examples: readonly Uint8Array[]; readonly classifications: readonly { readonly classes: readonly { label: string; score: number }[] }[] }
  | { readonly kind: 'regress'; readonly examples: readonly Uint8Array[]; readonly values: readonly number[] }
  | { readonly kind: 'multi_inference'; readonly examples: readonly Uint8Array[]; readonly tasks: readonly LoggedTask[] };

type Classifications = readonly { readonly classes: readonly { label: string; score: number }[] }[];

/** One task of a logged MultiInference call, with its result. */
export type LoggedTask =
  | { readonly method: 'tensorflow/serving/classify'; readonly signatureName: string; readonly results: Classifications }
  | { readonly method: 'tensorflow/serving/regress'; readonly signatureName: string; readonly values: readonly number[] };

export interface LoggedSpec {
  readonly model: string;
  readonly version: number;
  readonly signatureName: string;
}

const LOG_FIELD = {
  predict: PREDICTION_LOG_FIELD.predict_log,
  classify: PREDICTION_LOG_FIELD.classify_log,
  regress: PREDICTION_LOG_FIELD.regress_log,
  multi_inference: PREDICTION_LOG_FIELD.multi_inference_log,
} as const;
/** tensorflow.serving.LogMetadata's fields (apis/logging.proto). */
const METADATA = { modelSpec: 1, samplingConfig: 2, savedModelTags: 3, timestampSecs: 4 } as const;
const REQUEST = 1;
const RESPONSE = 2;
const LENGTH_DELIMITED = 2;

const encodeMessage = (type: string, value: object): Uint8Array => {
  const message = protoType(type);
  return message.encode(message.fromObject(value)).finish();
};

/**
 * A serialized PredictionLog of one call: its metadata (model spec, sampling rate, tags, time)
 * and the request and response as TF Serving's messages, so TF Serving's tools read it and a
 * file of them replays as a warmup file.
 */
export function predictionLogOf(spec: LoggedSpec, call: LoggedCall, meta: { samplingRate: number; tags: readonly string[]; nowMs: number }): Uint8Array {
  const modelSpec = { name: spec.model, version: { value: String(spec.version) }, signature_name: spec.signatureName };
  const [request, response] = messagesOf(modelSpec, call);
  const w = protobuf.Writer.create();
  w.uint32((PREDICTION_LOG_FIELD.log_metadata << 3) | LENGTH_DELIMITED).fork();
  w.uint32((METADATA.modelSpec << 3) | LENGTH_DELIMITED).bytes(encodeMessage('tensorflow.serving.ModelSpec', modelSpec));
  w.uint32((METADATA.samplingConfig << 3) | LENGTH_DELIMITED).fork().uint32((1 << 3) | 1).double(meta.samplingRate).ldelim();
  for (const tag of meta.tags) w.uint32((METADATA.savedModelTags << 3) | LENGTH_DELIMITED).string(tag);
  w.uint32(METADATA.timestampSecs << 3).int64(Math.floor(meta.nowMs / 1000));
  w.ldelim();
  w.uint32((LOG_FIELD[call.kind] << 3) | LENGTH_DELIMITED).fork();
  w.uint32((REQUEST << 3) | LENGTH_DELIMITED).bytes(request);
  w.uint32((RESPONSE << 3) | LENGTH_DELIMITED).bytes(response);
  w.ldelim();
  return w.finish();
}

function messagesOf(modelSpec: { name: string; version: { value: string }; signature_name: string }, call: LoggedCall): [Uint8Array, Uint8Array] {
  switch (call.kind) {
    case 'predict': {
      const tensors = (map: Readonly<Record<string, HostTensor>>): Record<string, object> => Object.fromEntries(Object.entries(map).map(([name, t]) => [name, plainTensorProto(t)]));
      return [
        encodeMessage('tensorflow.serving.PredictRequest', { model_spec: modelSpec, inputs: tensors(call.inputs), output_filter: [...call.outputFilter] }),
        encodeMessage('tensorflow.serving.PredictResponse', { model_spec: modelSpec, outputs: tensors(call.outputs) }),
      ];
    }
    case 'classify':
      return [
        encodeMessage('tensorflow.serving.ClassificationRequest', { model_spec: modelSpec, input: exampleListOf(call.examples) }),
        encodeMessage('tensorflow.serving.ClassificationResponse', { model_spec: modelSpec, result: { classifications: call.classifications } }),
      ];
    case 'regress':
      return [
        encodeMessage('tensorflow.serving.RegressionRequest', { model_spec: modelSpec, input: exampleListOf(call.examples) }),
        encodeMessage('tensorflow.serving.RegressionResponse', { model_spec: modelSpec, result: { regressions: call.values.map((value) => ({ value })) } }),
      ];
    case 'multi_inference': {
      const taskSpec = (signatureName: string): object => ({ ...modelSpec, signature_name: signatureName });
      return [
        encodeMessage('tensorflow.serving.MultiInferenceRequest', {
          tasks: call.tasks.map((task) => ({ model_spec: taskSpec(task.signatureName), method_name: task.method })),
          input: exampleListOf(call.examples),
        }),
        encodeMessage('tensorflow.serving.MultiInferenceResponse', {
          results: call.tasks.map((task) => ({
            model_spec: taskSpec(task.signatureName),
            ...('results' in task ? { classification_result: { classifications: task.results } } : { regression_result: { regressions: task.values.map((value) => ({ value })) } }),
          })),
        }),
      ];
    }
  }
}

/**
 * A TensorProto object protobufjs encodes: the response encoder fills typed fields with typed
 * arrays (for grpc-js), which protobufjs wants as plain arrays (64-bit integers as strings).
 */
function plainTensorProto(tensor: HostTensor): object {
  const proto: Record<string, unknown> = { ...encodeTensorProto(tensor) };
  for (const [field, value] of Object.entries(proto)) {
    if (!field.endsWith('_val') || !ArrayBuffer.isView(value)) continue;
    proto[field] = value instanceof BigInt64Array || value instanceof BigUint64Array ? Array.from(value, String) : Array.from(value as unknown as ArrayLike<number>);
  }
  return proto;
}

/** The serialized tf.Examples as Input { example_list { examples } }. */
function exampleListOf(examples: readonly Uint8Array[]): object {
  const example = protoType('tensorflow.Example');
  return { example_list: { examples: examples.map((bytes) => example.toObject(example.decode(bytes))) } };
}
