import { ServingError } from '../../../shared/errors.js';
import { LazyWorkerThread } from '../../../shared/lazy-worker-thread.js';
import type { SignatureMap } from '../../core/signature.js';
import type { TensorLimits } from '../../servables/tensorflow/codecs/tensor-proto.js';
import type { HostTensor } from '../../core/host-tensor.js';
import type { JsonPredictFormat } from '../../servables/tensorflow/codecs/json-tensor.js';
import type { DecodedPredictBody, InferEncodeRequest, JsonDecodeRequest, JsonDecodeResponse, JsonEncodeRequest, OpenInferenceAsks } from './json-decode-protocol.js';

type JsonThreadRequest = JsonDecodeRequest | JsonEncodeRequest | InferEncodeRequest;

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** The memory of the parts that own theirs, to move with them; the others are copied on the way. */
function movable(parts: readonly Uint8Array[]): ArrayBuffer[] {
  const owned = new Set<ArrayBuffer>();
  for (const { buffer, byteOffset, byteLength } of parts) if (buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength) owned.add(buffer);
  return [...owned];
}

/**
 * Threads that parse and decode large REST predict bodies, and write large predict responses. On
 * the event loop, a 3 MB MobileNetV2 instance took 25-35 ms to parse and 6-9 ms to decode, and
 * every status and health call waited behind it (docs/benchmarks.md, "REST under load"). Small bodies parse in well under a
 * millisecond and stay on the event loop: a thread's round trip would cost more.
 *
 * Threads start on the first large body. One that dies fails its calls with INTERNAL and is
 * started again on the next body (lazy-worker-thread.ts).
 */
export class JsonDecodePool {
  /** Bodies from this size on are decoded in a thread. */
  static readonly MIN_BODY_BYTES = 64 * 1024;

  /**
   * Predict responses from this many output elements on are written in a thread: 150k float32
   * outputs took ~70 ms to write as JSON, ~0.45 µs each, and a thread's round trip costs ~0.2 ms.
   */
  static readonly MIN_ENCODE_ELEMENTS = 4096;

  private readonly threads: LazyWorkerThread<JsonThreadRequest, JsonDecodeResponse>[];
  private closed = false;

  /** @param niceness the threads' Linux nice value (0: the server's priority), as the inference threads'. */
  constructor(threads: number, niceness = 0) {
    this.threads = Array.from({ length: threads }, () => new LazyWorkerThread(import.meta.url, 'json-decode-worker', 'the JSON decode thread', { niceness }));
  }

  /** A /v1 body: one buffer, or the chunks it arrived in (joined in the thread). */
  async decode(body: Buffer | readonly Buffer[], signatures: SignatureMap, limits: TensorLimits): Promise<DecodedPredictBody> {
    return this.decodeIn(body, signatures, limits, undefined);
  }

  /** An Open Inference Protocol (/v2) body whose JSON is its first `jsonLength` bytes. */
  async decodeOpenInference(body: Buffer | readonly Buffer[], jsonLength: number, signatures: SignatureMap, limits: TensorLimits): Promise<DecodedPredictBody & { readonly asks: OpenInferenceAsks }> {
    const decoded = await this.decodeIn(body, signatures, limits, { jsonLength });
    return { ...decoded, asks: decoded.openInference! };
  }

  private async decodeIn(
    body: Buffer | readonly Buffer[],
    signatures: SignatureMap,
    limits: TensorLimits,
    openInference: { jsonLength: number } | undefined,
  ): Promise<DecodedPredictBody & { readonly openInference?: OpenInferenceAsks }> {
    if (this.closed) throw new ServingError('UNAVAILABLE', 'the server is shutting down');
    const signatureInputs = Object.fromEntries(Object.entries(signatures).map(([name, signature]) => [name, signature.inputs]));
    const response = await this.leastLoaded()
      .call((id) => ({ id, body, signatureInputs, limits, ...(openInference ? { openInference } : {}) }), movable(Array.isArray(body) ? body : [body]))
      .catch((error: Error) => {
        throw new ServingError('INTERNAL', `decoding the request body failed: ${error.message}`);
      });
    if ('error' in response) throw new ServingError(response.error.code, response.error.message, { httpStatus: response.error.httpStatus });
    if ('encoded' in response) throw new ServingError('INTERNAL', 'the JSON thread answered a decode request with a response body');
    return { signatureName: response.signatureName, decoded: response.decoded, openInference: response.openInference };
  }

  /** TF Serving's JSON response for these outputs, written in a thread, as UTF-8. */
  async encodePredict(outputs: Readonly<Record<string, HostTensor>>, format: JsonPredictFormat): Promise<Buffer> {
    const { encoded } = await this.encodeIn((id) => ({ id, encode: { outputs, format } }));
    return asBuffer(encoded);
  }

  /** An Open Inference Protocol infer response (its JSON as UTF-8, and any binary outputs), written in a thread. */
  async encodeInfer(request: InferEncodeRequest['encodeInfer']): Promise<{ readonly json: Buffer; readonly binary: readonly Buffer[] }> {
    const { encoded, binary } = await this.encodeIn((id) => ({ id, encodeInfer: request }));
    return { json: asBuffer(encoded), binary: (binary ?? []).map(asBuffer) };
  }

  private async encodeIn(request: (id: number) => JsonEncodeRequest | InferEncodeRequest): Promise<{ encoded: Uint8Array; binary?: readonly Uint8Array[] }> {
    if (this.closed) throw new ServingError('UNAVAILABLE', 'the server is shutting down');
    const response = await this.leastLoaded()
      .call(request)
      .catch((error: Error) => {
        throw new ServingError('INTERNAL', `writing the response failed: ${error.message}`);
      });
    if ('error' in response) throw new ServingError(response.error.code, response.error.message, { httpStatus: response.error.httpStatus });
    if (!('encoded' in response)) throw new ServingError('INTERNAL', 'the JSON thread answered an encode request with no body');
    return response;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((thread) => thread.close()));
  }

  private leastLoaded(): LazyWorkerThread<JsonThreadRequest, JsonDecodeResponse> {
    let best = this.threads[0]!;
    for (const thread of this.threads) if (thread.load < best.load) best = thread;
    return best;
  }
}
