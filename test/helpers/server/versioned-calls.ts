import type { TfsClients } from './grpc-client.js';
import { rest } from './rest-client.js';

/** One call to a `versioned`-style model (y = 0.5x + version): the version it reports and the one its output shows. */
export interface VersionedAnswer {
  readonly reported: number;
  readonly computed: number;
}

/** gRPC Predict of x = [seed]; `metadata` e.g. an A/B key. */
export async function predictVersioned(
  clients: TfsClients,
  model: string,
  seed: number,
  spec: { version?: number; label?: string } = {},
  metadata?: Record<string, string>,
): Promise<VersionedAnswer> {
  const model_spec: Record<string, unknown> = { name: model };
  if (spec.version !== undefined) model_spec.version = { value: String(spec.version) };
  if (spec.label !== undefined) model_spec.version_label = spec.label;
  const { response, headers } = await clients.prediction.call<{ outputs: { y: { float_val: number[] } }; model_spec: { version: { value: string } | null } }>(
    'Predict',
    { model_spec, inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }] }, float_val: [seed] } } },
    metadata ? { metadata } : {},
  );
  const reported = Number(response.model_spec.version?.value);
  const header = Number(headers.get('x-tensorfleet-model-version')[0]);
  if (header !== reported) throw new Error(`header names version ${header}, model_spec ${reported}`);
  return { reported, computed: response.outputs.y.float_val[0]! - 0.5 * seed };
}

/** REST predict of x = [seed] on the model's default route. */
export async function restPredictVersioned(baseUrl: string, model: string, seed: number, headers?: Record<string, string>): Promise<VersionedAnswer> {
  const reply = await rest(baseUrl, `/v1/models/${model}:predict`, { body: { instances: [seed] }, ...(headers ? { headers } : {}) });
  if (reply.status !== 200) throw new Error(`REST predict failed: ${reply.status} ${reply.text}`);
  const y = (reply.json as { predictions: number[] }).predictions[0]!;
  return { reported: Number(reply.headers.get('x-tensorfleet-model-version')), computed: y - 0.5 * seed };
}

/** Open Inference Protocol REST infer of x = [seed] on the model's default route. */
export async function openInferenceRestVersioned(baseUrl: string, model: string, seed: number, headers?: Record<string, string>): Promise<VersionedAnswer> {
  const body = { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [seed] }] };
  const reply = await rest(baseUrl, `/v2/models/${model}/infer`, { body, ...(headers ? { headers } : {}) });
  if (reply.status !== 200) throw new Error(`/v2 infer failed: ${reply.status} ${reply.text}`);
  const response = reply.json as { model_version: string; outputs: { data: number[] }[] };
  return { reported: Number(response.model_version), computed: response.outputs[0]!.data[0]! - 0.5 * seed };
}

/** Open Inference Protocol gRPC ModelInfer of x = [seed] (typed contents) on the model's default route. */
export async function openInferenceGrpcVersioned(clients: TfsClients, model: string, seed: number, metadata?: Record<string, string>): Promise<VersionedAnswer> {
  const { response } = await clients.inference.call<{ model_version: string; raw_output_contents: Buffer[] }>(
    'ModelInfer',
    { model_name: model, inputs: [{ name: 'x', datatype: 'FP32', shape: [1], contents: { fp32_contents: [seed] } }] },
    metadata ? { metadata } : {},
  );
  return { reported: Number(response.model_version), computed: response.raw_output_contents[0]!.readFloatLE(0) - 0.5 * seed };
}
