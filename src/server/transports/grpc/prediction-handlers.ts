import * as grpc from '@grpc/grpc-js';
import { invalidArgument } from '../../../shared/errors.js';
import { CallHangup } from '../../core/hangup.js';
import { CLASSIFY_METHOD } from '../../core/signature.js';
import type { CallContext, Classification, ModelSpecInput, PredictService, Served } from '../../predict/predict-service.js';
import { decodeTensorProtoMap, encodeTensorProto, type EncodeOptions, type TensorLimits, type TensorProtoObject } from '../../servables/tensorflow/codecs/tensor-proto.js';
import { examplesOfInput, type InputObject } from '../../servables/tensorflow/codecs/tf-example.js';
import { signatureDefMapOf } from '../../servables/tensorflow/saved-model-metadata.js';
import { parseVersionNumber } from '../model-spec-version.js';
import { unary } from './grpc-errors.js';
import { packAny } from './proto-loader.js';

/** tensorflow.serving.ModelSpec as the loaded protos decode it. */
export interface ModelSpecMessage {
  name?: string;
  version?: { value?: string } | null;
  version_label?: string;
  version_choice?: 'version' | 'version_label';
  signature_name?: string;
}

/** The response header/trailer naming the version that served, next to model_spec. */
export const SERVED_VERSION_METADATA = 'x-tensorfleet-model-version';

export function modelSpecOf(spec: ModelSpecMessage | null | undefined): ModelSpecInput {
  if (!spec?.name) throw invalidArgument('model_spec.name is required');
  const version = spec.version_choice === 'version' && spec.version ? parseVersionNumber(spec.version.value ?? '0', 'model_spec.version') : undefined;
  const label = spec.version_choice === 'version_label' ? spec.version_label : undefined;
  return { name: spec.name, version, label: label || undefined, signatureName: spec.signature_name || undefined };
}

export function servedSpec(served: Served): ModelSpecMessage {
  return { name: served.model, version: { value: String(served.version) }, signature_name: served.signatureName };
}

export function callContext(call: grpc.ServerUnaryCall<unknown, unknown>): CallContext {
  const deadline = call.getDeadline();
  // grpc-js emits 'cancelled' when the stream closes: RST_STREAM, a lost connection, its own
  // deadline timer, and also after a normal answer (so work after the answer must not read this).
  const hangup = new CallHangup();
  call.once('cancelled', () => {
    hangup.aborted = true;
  });
  return {
    entrypoint: 'GRPC',
    hangup,
    // Infinity when the client set none.
    deadline: typeof deadline === 'number' ? (Number.isFinite(deadline) ? deadline : undefined) : deadline.getTime(),
    headers: (name) => {
      const [value] = call.metadata.get(name);
      return value === undefined ? undefined : String(value);
    },
  };
}

/** Sends the served version as response metadata (SERVED_VERSION_METADATA). */
export function announceVersion(call: grpc.ServerUnaryCall<unknown, unknown>, served: Served): void {
  const metadata = new grpc.Metadata();
  metadata.set(SERVED_VERSION_METADATA, String(served.version));
  call.sendMetadata(metadata);
}

interface PredictRequestMessage {
  model_spec?: ModelSpecMessage | null;
  inputs?: Record<string, TensorProtoObject>;
  output_filter?: string[];
}

interface MultiInferenceRequestMessage {
  tasks?: { model_spec?: ModelSpecMessage | null; method_name?: string }[];
  input?: InputObject | null;
}

const classificationResult = (results: readonly Classification[]): object => ({
  classifications: results.map((r) => ({ classes: r.classes.map((c) => ({ label: c.label, score: c.score })) })),
});
const regressionResult = (values: readonly number[]): object => ({ regressions: values.map((value) => ({ value })) });

interface ExamplesRequestMessage {
  model_spec?: ModelSpecMessage | null;
  input?: InputObject | null;
}

/**
 * tensorflow.serving.PredictionService on the shared predict path. `encoding` is how Predict
 * outputs are written (--enable_serialization_as_tensor_content: tensor_content, not typed fields).
 */
export function predictionHandlers(service: PredictService, limits: TensorLimits, encoding: EncodeOptions = {}): grpc.UntypedServiceImplementation {
  return {
    Predict: unary(async (call: grpc.ServerUnaryCall<PredictRequestMessage, unknown>) => {
      const spec = modelSpecOf(call.request.model_spec);
      const inputs = decodeTensorProtoMap(call.request.inputs ?? {}, limits);
      const result = await service.predict(spec, () => inputs, call.request.output_filter ?? [], callContext(call));
      announceVersion(call, result);
      const outputs: Record<string, TensorProtoObject> = {};
      // Strings stay in string_val: tensor_content's length-prefixed strings are more than tf.make_ndarray reads.
      for (const [name, tensor] of Object.entries(result.outputs)) outputs[name] = encodeTensorProto(tensor, tensor.dtype === 'DT_STRING' ? {} : encoding);
      return { outputs, model_spec: servedSpec(result) };
    }),
    GetModelMetadata: unary(async (call: grpc.ServerUnaryCall<{ model_spec?: ModelSpecMessage | null; metadata_field?: string[] }, unknown>) => {
      const spec = modelSpecOf(call.request.model_spec);
      // TF Serving's checks and words: at least one field, each of them signature_def (repeats are fine).
      const fields = call.request.metadata_field ?? [];
      if (fields.length === 0) throw invalidArgument('GetModelMetadataRequest must specify at least one metadata_field (signature_def is the one served)');
      const unknown = fields.find((field) => field !== 'signature_def');
      if (unknown !== undefined) throw invalidArgument(`Metadata field ${unknown} is not supported (signature_def is the one served)`);
      const result = await service.metadata({ ...spec, signatureName: undefined }, callContext(call));
      return {
        model_spec: { name: result.model, version: { value: String(result.version) } },
        metadata: { signature_def: packAny('tensorflow.serving.SignatureDefMap', signatureDefMapOf(result.signatures)) },
      };
    }),
    Classify: unary(async (call: grpc.ServerUnaryCall<ExamplesRequestMessage, unknown>) => {
      const spec = modelSpecOf(call.request.model_spec);
      const result = await service.classify(spec, examplesOfInput(call.request.input), callContext(call));
      announceVersion(call, result);
      return { model_spec: servedSpec(result), result: classificationResult(result.results) };
    }),
    Regress: unary(async (call: grpc.ServerUnaryCall<ExamplesRequestMessage, unknown>) => {
      const spec = modelSpecOf(call.request.model_spec);
      const result = await service.regress(spec, examplesOfInput(call.request.input), callContext(call));
      announceVersion(call, result);
      return { model_spec: servedSpec(result), result: regressionResult(result.values) };
    }),
    MultiInference: unary(async (call: grpc.ServerUnaryCall<MultiInferenceRequestMessage, unknown>) => {
      const tasks = (call.request.tasks ?? []).map((task) => ({ spec: modelSpecOf(task.model_spec), method: task.method_name ?? '' }));
      const result = await service.multiInference(tasks, examplesOfInput(call.request.input), callContext(call));
      announceVersion(call, result);
      return {
        results: result.results.map((r) => ({
          model_spec: { ...servedSpec(result), signature_name: r.signatureName },
          ...(r.method === CLASSIFY_METHOD ? { classification_result: classificationResult(r.results) } : { regression_result: regressionResult(r.values) }),
        })),
      };
    }),
  };
}
