import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadTensorflowServingGrpc } from '../../../src/server/transports/grpc/proto-loader.js';

/** A finished unary call: the response plus the server's initial metadata (headers). */
export interface CallResult<T> {
  readonly response: T;
  readonly headers: grpc.Metadata;
}

export interface CallOptions {
  readonly metadata?: Record<string, string>;
  readonly deadlineMs?: number;
  /** Cancels the call (RST_STREAM) when it aborts. */
  readonly signal?: AbortSignal;
}

type UnaryMethod = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: unknown) => void,
) => grpc.ClientUnaryCall;

/** A generic client of one service; `call` is a promise per unary method. */
export class UnaryClient {
  constructor(private readonly client: grpc.Client) {}

  call<T = Record<string, unknown>>(method: string, request: object, options: CallOptions = {}): Promise<CallResult<T>> {
    const metadata = new grpc.Metadata();
    for (const [key, value] of Object.entries(options.metadata ?? {})) metadata.set(key, value);
    const fn = (this.client as unknown as Record<string, UnaryMethod | undefined>)[method];
    if (!fn) throw new Error(`no method ${method}`);
    return new Promise((resolve, reject) => {
      let headers = new grpc.Metadata();
      const call = fn.call(this.client, request, metadata, { deadline: Date.now() + (options.deadlineMs ?? 30_000) }, (error, response) =>
        error ? reject(error) : resolve({ response: response as T, headers }),
      );
      call.on('metadata', (received: grpc.Metadata) => (headers = received));
      options.signal?.addEventListener('abort', () => call.cancel(), { once: true });
    });
  }

  close(): void {
    this.client.close();
  }
}

/** A unary call of `path` with `bytes` as the request message, as sent: its status. */
export function rawUnaryCall(client: grpc.Client, path: string, bytes: Uint8Array): Promise<{ code: grpc.status; details: string }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
      (b: Buffer) => b,
      bytes,
      { deadline: Date.now() + 30_000 },
      (error) => resolve(error ? { code: error.code, details: error.details } : { code: grpc.status.OK, details: '' }),
    );
  });
}

/** gRPC status of a call that is expected to fail (OK = 0 when it succeeded). */
export async function statusOf(call: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await call;
    return { code: grpc.status.OK, details: '' };
  } catch (error) {
    const e = error as grpc.ServiceError;
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, details: e.details };
  }
}

export interface TfsClients {
  readonly prediction: UnaryClient;
  readonly model: UnaryClient;
  readonly health: UnaryClient;
  /** inference.GRPCInferenceService (the Open Inference Protocol). */
  readonly inference: UnaryClient;
  readonly reflection: grpc.Client;
  close(): void;
}

const SHARED_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 256 * 1024 * 1024,
  'grpc.max_send_message_length': 256 * 1024 * 1024,
};

/** Clients of TF Serving's services built from our protos (the server's own definitions) and grpc.health.v1. */
export function tfsClients(target: string, options: { ownConnection?: boolean; credentials?: grpc.ChannelCredentials } = {}): TfsClients {
  const api = loadTensorflowServingGrpc();
  const credentials = options.credentials ?? grpc.credentials.createInsecure();
  // grpc-js shares one connection among clients with equal options; ownConnection opens new ones.
  const channelOptions = {
    ...SHARED_CHANNEL_OPTIONS,
    ...(options.ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {}),
    // grpc-js sends an IP target (127.0.0.1) as the TLS server name, which Node 26 refuses (RFC 6066
    // allows only DNS names there). The test certificates name localhost too.
    ...(credentials._isSecure() ? { 'grpc.ssl_target_name_override': 'localhost' } : {}),
  };
  const Prediction = grpc.makeGenericClientConstructor(api.predictionService, 'PredictionService');
  const Model = grpc.makeGenericClientConstructor(api.modelService, 'ModelService');
  const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
  const prediction = new UnaryClient(new Prediction(target, credentials, channelOptions));
  const model = new UnaryClient(new Model(target, credentials, channelOptions));
  const health = new UnaryClient(new Health(target, credentials, channelOptions));
  const Inference = grpc.makeGenericClientConstructor(api.inferenceService, 'GRPCInferenceService');
  const inference = new UnaryClient(new Inference(target, credentials, channelOptions));
  const reflection = new (reflectionConstructor())(target, credentials, channelOptions);
  return {
    prediction,
    model,
    health,
    inference,
    reflection,
    close() {
      prediction.close();
      model.close();
      health.close();
      inference.close();
      reflection.close();
    },
  };
}

let reflectionCtor: grpc.ServiceClientConstructor | undefined;

/** grpc.reflection.v1alpha.ServerReflection from the proto @grpc/reflection ships. */
function reflectionConstructor(): grpc.ServiceClientConstructor {
  if (reflectionCtor) return reflectionCtor;
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve('@grpc/reflection/package.json'));
  const definition = protoLoader.loadSync(join(packageDir, 'build', 'proto', 'grpc', 'reflection', 'v1alpha', 'reflection.proto'), {
    keepCase: true,
    defaults: true,
  });
  const service = definition['grpc.reflection.v1alpha.ServerReflection'];
  if (!service || 'format' in service) throw new Error('reflection proto has no ServerReflection service');
  reflectionCtor = grpc.makeGenericClientConstructor(service, 'ServerReflection');
  return reflectionCtor;
}

/** Lists the services the server's reflection reports. */
export async function listServicesByReflection(client: grpc.Client): Promise<string[]> {
  const answer = await askReflection(client, { list_services: '' });
  const services = (answer['list_services_response'] as { service?: { name: string }[] } | undefined)?.service ?? [];
  return services.map((s) => s.name);
}

/** One request on a ServerReflectionInfo stream (as grpcurl sends them); resolves with its answer. */
export function askReflection(client: grpc.Client, request: object): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const open = (client as unknown as { ServerReflectionInfo: () => grpc.ClientDuplexStream<object, Record<string, unknown>> }).ServerReflectionInfo;
    const stream = open.call(client);
    stream.on('data', (message: Record<string, unknown>) => {
      resolve(message);
      stream.end();
    });
    stream.on('error', reject);
    stream.write(request);
  });
}
