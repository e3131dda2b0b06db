/**
 * A thread that parses REST predict bodies and decodes them into tensors, and writes large predict
 * responses, off the event loop (json-decode-pool.ts says when and why). Errors go back as codes and messages, exactly those the
 * event loop would have produced.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ServingError } from '../../../shared/errors.js';
import { DEFAULT_SIGNATURE } from '../../core/signature.js';
import { readDenseInferRequest } from '../../servables/tensorflow/codecs/dense-infer-body.js';
import { decodeDenseJsonBody, readDenseJsonBody } from '../../servables/tensorflow/codecs/dense-json-body.js';
import { decodePredictJson, encodePredictJsonBytes, parseJsonBody, requestSignatureName } from '../../servables/tensorflow/codecs/json-tensor.js';
import { decodeInferInputs, defaultSignature, encodeInferResponseBytes, parseInferRequest } from '../../servables/tensorflow/codecs/open-inference-json.js';
import { transferablesOf } from '../../servables/tensorflow/inference-protocol.js';
import type { InferEncodeRequest, JsonDecodeRequest, JsonDecodeResponse, JsonEncodeRequest } from './json-decode-protocol.js';
import { ownEntry } from '../../../shared/own-entry.js';
import { lowerThreadPriority } from '../../servables/tensorflow/thread-niceness.js';

const port = parentPort!;
// Behind the event loop, as the inference threads are: decoding can wait a slice, status calls should not.
lowerThreadPriority((workerData as { niceness?: number } | undefined)?.niceness ?? 0);
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

function handle(request: JsonDecodeRequest | JsonEncodeRequest | InferEncodeRequest): { response: JsonDecodeResponse; transfer: ArrayBuffer[] } {
  if ('encode' in request) {
    const encoded = encodePredictJsonBytes(request.encode.outputs, request.encode.format);
    return { response: { id: request.id, encoded }, transfer: [encoded.buffer] };
  }
  if ('encodeInfer' in request) {
    const { model, version, outputs, asks } = request.encodeInfer;
    const written = encodeInferResponseBytes(model, version, outputs, asks);
    const encoded = written.json;
    // The binary parts are views of this thread's copy of the outputs: copied once more to move them.
    const binary = written.binary.map((part) => Uint8Array.from(part));
    return { response: { id: request.id, encoded, binary }, transfer: [encoded.buffer, ...binary.map((part) => part.buffer)] };
  }
  return decode(request);
}

/** The request with its body in one buffer: chunks are joined here, off the event loop. */
type JoinedRequest = JsonDecodeRequest & { readonly body: Uint8Array };

function decode(received: JsonDecodeRequest): { response: JsonDecodeResponse; transfer: ArrayBuffer[] } {
  const request: JoinedRequest = isChunks(received.body) ? { ...received, body: Buffer.concat(received.body) } : { ...received, body: received.body };
  if (request.openInference !== undefined) return decodeOpenInference(request, request.openInference.jsonLength);
  const dense = decodeDense(request);
  if (dense !== undefined) return dense;
  const body = parseJsonBody(utf8.decode(request.body));
  const signatureName = requestSignatureName(body);
  const inputs = ownEntry(request.signatureInputs, signatureName || DEFAULT_SIGNATURE);
  // An unknown signature is reported by the caller, as for any other request.
  if (inputs === undefined) return { response: { id: request.id, signatureName }, transfer: [] };
  const decoded = decodePredictJson(body, inputs, request.limits);
  return { response: { id: request.id, signatureName, decoded }, transfer: transferablesOf(Object.values(decoded.inputs)) };
}

/** A body of one dense tensor of numbers (an image, say), through the fast path; undefined if it does not apply. */
function decodeDense(request: JoinedRequest): { response: JsonDecodeResponse; transfer: ArrayBuffer[] } | undefined {
  const body = readDenseJsonBody(request.body);
  if (body === undefined) return undefined;
  const inputs = ownEntry(request.signatureInputs, body.signatureName || DEFAULT_SIGNATURE);
  if (inputs === undefined) return { response: { id: request.id, signatureName: body.signatureName }, transfer: [] };
  const decoded = decodeDenseJsonBody(body, inputs, request.limits);
  if (decoded === undefined) return undefined;
  return { response: { id: request.id, signatureName: body.signatureName, decoded }, transfer: transferablesOf(Object.values(decoded.inputs)) };
}

/** An Open Inference Protocol body: JSON, then any binary tensors. */
function decodeOpenInference(request: JoinedRequest, jsonLength: number): { response: JsonDecodeResponse; transfer: ArrayBuffer[] } {
  const json = request.body.subarray(0, jsonLength);
  const binary = request.body.subarray(jsonLength);
  const parsed = readDenseInferRequest(json, binary) ?? parseInferRequest(parseJsonBody(utf8.decode(json)), binary);
  const signatureName = parsed.signatureName ?? defaultSignature(request.signatureInputs);
  const openInference = { ...(parsed.id !== undefined ? { requestId: parsed.id } : {}), outputs: parsed.outputs, binaryOutputs: parsed.binaryOutputs };
  const inputs = ownEntry(request.signatureInputs, signatureName);
  if (inputs === undefined) return { response: { id: request.id, signatureName, openInference }, transfer: [] };
  const decoded = decodeInferInputs(parsed, inputs, request.limits);
  return { response: { id: request.id, signatureName, decoded: { format: 'row', inputs: decoded }, openInference }, transfer: transferablesOf(Object.values(decoded)) };
}

const isChunks = (body: JsonDecodeRequest['body']): body is readonly Uint8Array[] => Array.isArray(body);

port.on('message', (request: JsonDecodeRequest | JsonEncodeRequest | InferEncodeRequest) => {
  try {
    const { response, transfer } = handle(request);
    port.postMessage(response, transfer);
  } catch (error) {
    const failure =
      error instanceof ServingError
        ? { code: error.code, message: error.message, httpStatus: error.httpStatus }
        : { code: 'INTERNAL' as const, message: `decoding the request body failed: ${(error as Error).message}` };
    port.postMessage({ id: request.id, error: failure } satisfies JsonDecodeResponse);
  }
});
