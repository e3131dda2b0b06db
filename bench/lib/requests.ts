/** Serialized TF Serving requests for the load generators, and a one-off call to check answers. */
import * as grpc from '@grpc/grpc-js';
import { protoType } from '../../src/server/servables/tensorflow/proto-root.js';

export const PREDICT_METHOD = '/tensorflow.serving.PredictionService/Predict';
export const GET_MODEL_STATUS_METHOD = '/tensorflow.serving.ModelService/GetModelStatus';

export interface FloatInput {
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

export interface PredictRequestSpec {
  readonly model: string;
  /** Pins the version; omit to let routing decide. */
  readonly version?: number;
  readonly inputs: Readonly<Record<string, FloatInput>>;
}

function encode(type: string, message: object): Buffer {
  const t = protoType(type);
  const bytes = t.encode(t.fromObject(message)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A PredictRequest with float inputs as tensor_content (the compact form real clients send). */
export function predictRequestBytes(spec: PredictRequestSpec): Buffer {
  const inputs: Record<string, object> = {};
  for (const [name, input] of Object.entries(spec.inputs)) {
    inputs[name] = {
      dtype: 'DT_FLOAT',
      tensor_shape: { dim: input.shape.map((size) => ({ size })) },
      tensor_content: Buffer.from(input.values.buffer, input.values.byteOffset, input.values.byteLength),
    };
  }
  const model_spec = spec.version === undefined ? { name: spec.model } : { name: spec.model, version: { value: spec.version } };
  return encode('tensorflow.serving.PredictRequest', { model_spec, inputs });
}

export function statusRequestBytes(model: string): Buffer {
  return encode('tensorflow.serving.GetModelStatusRequest', { model_spec: { name: model } });
}

export interface DecodedPredictResponse {
  readonly version: string;
  readonly outputs: Record<string, { shape: number[]; floats: Float32Array }>;
}

export function decodePredictResponse(bytes: Buffer): DecodedPredictResponse {
  const t = protoType('tensorflow.serving.PredictResponse');
  const o = t.toObject(t.decode(bytes), { longs: String, defaults: true }) as {
    model_spec?: { version?: { value?: string } };
    outputs: Record<string, { tensor_shape?: { dim?: { size: string }[] }; tensor_content: Uint8Array; float_val: number[] }>;
  };
  const outputs: DecodedPredictResponse['outputs'] = {};
  for (const [name, t] of Object.entries(o.outputs)) {
    const shape = (t.tensor_shape?.dim ?? []).map((d) => Number(d.size));
    const floats =
      t.tensor_content.byteLength > 0
        ? new Float32Array(Uint8Array.from(t.tensor_content).buffer)
        : Float32Array.from(t.float_val);
    outputs[name] = { shape, floats };
  }
  return { version: o.model_spec?.version?.value ?? '', outputs };
}

/** One unary call with raw bytes in and out (to check a response before loading the server). */
export function callOnce(address: string, method: string, request: Buffer, metadata: Record<string, string> = {}): Promise<Buffer> {
  const identity = (b: Buffer): Buffer => b;
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest(method, identity, identity, request, md, (error, value) => {
      client.close();
      if (error || !value) reject(error ?? new Error('empty response'));
      else resolve(value);
    });
  });
}
