import type http from 'node:http';
import { ServingError, invalidArgument, notFound } from '../../../shared/errors.js';
import { noteRequestMessage } from '../../core/message-buffers.js';
import { elementCount, type HostTensor } from '../../core/host-tensor.js';
import type { CallContext, ModelSpecInput, PredictResult } from '../../predict/predict-service.js';
import { parseJsonBody } from '../../servables/tensorflow/codecs/json-tensor.js';
import { encodeInferResponseBytes, parseInferRequest } from '../../servables/tensorflow/codecs/open-inference-json.js';
import { parseVersionNumber } from '../model-spec-version.js';
import { SERVER_METADATA, infer, isModelReady, modelConfigOf, modelMetadataOf, modelStatisticsOf, repositoryIndex } from '../open-inference.js';
import { rejectedAs } from '../rejected-as.js';
import { JsonDecodePool } from './json-decode-pool.js';
import { contentEncodingOf, inflated } from './content-encoding.js';
import { joinChunks, json, lengthOf, readBody, readBodyChunks, type Reply } from './rest-reply.js';
import { decodePathSegment } from './rest-routes.js';
import type { RestBackend, RestServerOptions } from './rest-server.js';

/*
 * The Open Inference Protocol's REST endpoints (KServe's "V2" protocol, as Triton and MLServer
 * serve it), next to TF Serving's /v1: clients and tools written for those servers call TensorFleet
 * unmodified. Health answers follow the protocol: 200 for true, 400 for false.
 */

const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/config|\/stats|\/infer)?$/;
const NOT_TRUE = 400;
const REPOSITORY_CHANGE = /^\/v2\/repository\/models\/[^/]+\/(load|unload)$/;

/** The index request's optional `{"ready": true}`: only ready models. */
function readyOnly(body: Buffer): boolean {
  if (body.length === 0) return false;
  const request = parseJsonBody(body.toString('utf8')) as { ready?: unknown } | null;
  const ready = typeof request === 'object' && request !== null ? request.ready : undefined;
  if (ready !== undefined && typeof ready !== 'boolean') throw invalidArgument("'ready' must be true or false");
  return ready === true;
}

export async function openInferenceReply(
  method: string,
  pathname: string,
  req: http.IncomingMessage,
  call: CallContext,
  backend: RestBackend,
  options: RestServerOptions,
): Promise<Reply> {
  const takes = (wanted: string): void => {
    if (method !== wanted) throw invalidArgument(`${pathname} takes ${wanted}, not ${method}`);
  };
  switch (pathname) {
    case '/v2':
      takes('GET');
      return json(200, SERVER_METADATA);
    case '/v2/health/live': {
      takes('GET');
      const problem = backend.livenessProblem();
      return problem === undefined ? json(200, { live: true }) : json(NOT_TRUE, { live: false, error: problem });
    }
    case '/v2/health/ready': {
      takes('GET');
      const problem = backend.livenessProblem();
      if (problem !== undefined) return json(NOT_TRUE, { ready: false, error: problem });
      return backend.isReady() ? json(200, { ready: true }) : json(NOT_TRUE, { ready: false, waiting_for: backend.unreadyModels() });
    }
    case '/v2/models/stats':
      takes('GET');
      return json(200, modelStatisticsOf(backend, backend.predict.statistics));
    case '/v2/repository/index': {
      takes('POST');
      const body = await readBody(req, options.maxRequestBytes);
      return json(200, repositoryIndex(backend, readyOnly(body)));
    }
  }
  if (REPOSITORY_CHANGE.test(pathname)) {
    throw new ServingError('FAILED_PRECONDITION', 'models are not loaded or unloaded through the API: the server serves what its model config names (edit --model_config_file, or the ServedModel)');
  }
  const match = MODEL_PATH.exec(pathname);
  if (!match) throw notFound(`no such endpoint: ${method} ${pathname}`);
  const model = decodePathSegment(match[1]!, 'the model name in the path');
  const version = match[2] === undefined ? undefined : parseVersionNumber(decodePathSegment(match[2], 'the version in the path'), 'the version in the path');
  const spec = { name: model, version };
  switch (match[3]) {
    case '/ready': {
      takes('GET');
      const ready = isModelReady(backend, model, version);
      return json(ready ? 200 : NOT_TRUE, { name: model, ...(version !== undefined ? { version: String(version) } : {}), ready });
    }
    case undefined: {
      takes('GET');
      return json(200, await modelMetadataOf(backend.predict, backend, model, version, call));
    }
    case '/stats': {
      takes('GET');
      return json(200, modelStatisticsOf(backend, backend.predict.statistics, model, version));
    }
    case '/config': {
      takes('GET');
      return json(200, await modelConfigOf(backend.predict, model, version, call));
    }
    default: {
      takes('POST');
      if (options.jsonDecoder && isPlainJson(req)) {
        // As /v1's: the body stays in Node's chunks, and a large one moves to a JSON thread to be joined.
        const chunks = await readBodyChunks(req, options.maxRequestBytes);
        const length = lengthOf(chunks);
        const { result, asks } =
          length >= JsonDecodePool.MIN_BODY_BYTES
            ? await inferInThread(chunks, length, spec, call, backend, options, options.jsonDecoder)
            : await inferHere(joinChunks(chunks), length, spec, call, backend, options);
        return inferReply(result, asks, options.jsonDecoder);
      }
      const body = await inflated(req, await readBody(req, options.maxRequestBytes), options.maxRequestBytes);
      const jsonLength = rejectedAs(backend.predict, spec, call, 'predict', () => jsonLengthOf(req, body.length));
      const { result, asks } =
        options.jsonDecoder && jsonLength >= JsonDecodePool.MIN_BODY_BYTES
          ? await inferInThread(body, jsonLength, spec, call, backend, options, options.jsonDecoder)
          : await inferHere(body, jsonLength, spec, call, backend, options);
      return inferReply(result, asks, options.jsonDecoder);
    }
  }
}

interface Inferred {
  readonly result: PredictResult;
  readonly asks: { readonly id?: string; readonly binaryOutputs?: ReadonlySet<string> | 'all' };
}

async function inferHere(body: Buffer, jsonLength: number, spec: ModelSpecInput, call: CallContext, backend: RestBackend, options: RestServerOptions): Promise<Inferred> {
  // Binary tensors stay views into the body, which can then move to the inference thread whole.
  noteRequestMessage(body);
  const request = rejectedAs(backend.predict, spec, call, 'predict', () =>
    parseInferRequest(parseJsonBody(body.subarray(0, jsonLength).toString('utf8')), body.subarray(jsonLength)),
  );
  const result = await infer(backend.predict, spec.name, spec.version, request, options.limits, call);
  // Only what the response needs: the request's tensors moved to the inference thread with their
  // buffers, and a JSON thread writing the response could not be posted them (detached).
  return { result, asks: { id: request.id, binaryOutputs: request.binaryOutputs } };
}

/** As /v1's large bodies: a JSON of 64 KiB or more is parsed and decoded in a JSON thread (json-decode-pool.ts). */
async function inferInThread(
  body: Buffer | readonly Buffer[],
  jsonLength: number,
  spec: ModelSpecInput,
  call: CallContext,
  backend: RestBackend,
  options: RestServerOptions,
  decoder: JsonDecodePool,
): Promise<Inferred> {
  let asks: Inferred['asks'] = {};
  const result = await backend.predict.predictDecoded(
    spec,
    async (signatures) => {
      const decoded = await decoder.decodeOpenInference(body, jsonLength, signatures, options.limits);
      asks = { id: decoded.asks.requestId, binaryOutputs: decoded.asks.binaryOutputs };
      return { signatureName: decoded.signatureName, inputs: decoded.decoded?.inputs, outputFilter: decoded.asks.outputs };
    },
    call,
    // A malformed body is INVALID_ARGUMENT even for an unknown model, as on the event loop.
    async () => void (await decoder.decodeOpenInference(body, jsonLength, {}, options.limits)),
  );
  return { result, asks };
}

async function inferReply(result: PredictResult, asks: Inferred['asks'], threads: JsonDecodePool | undefined): Promise<Reply> {
  const response = threads !== undefined && jsonElements(result.outputs, asks) >= JsonDecodePool.MIN_ENCODE_ELEMENTS
    ? await threads.encodeInfer({ model: result.model, version: result.version, outputs: result.outputs, asks })
    : writtenHere(encodeInferResponseBytes(result.model, result.version, result.outputs, asks));
  if (response.binary.length === 0) return { status: 200, body: response.json, served: result };
  const head = response.json;
  return {
    status: 200,
    body: Buffer.concat([head, ...response.binary]),
    contentType: 'application/octet-stream',
    headers: { [JSON_LENGTH_HEADER]: String(head.length) },
    served: result,
  };
}

const writtenHere = ({ json, binary }: { json: Uint8Array; binary: readonly Buffer[] }): { json: Buffer; binary: readonly Buffer[] } => ({
  json: Buffer.from(json.buffer, json.byteOffset, json.byteLength),
  binary,
});

/** Binary extension: the JSON is the body's first N bytes, N in this header; else the whole body. */
const JSON_LENGTH_HEADER = 'inference-header-content-length';

/** A body that is all JSON, as sent: no binary tensors after it, no Content-Encoding. */
function isPlainJson(req: http.IncomingMessage): boolean {
  return req.headers[JSON_LENGTH_HEADER] === undefined && contentEncodingOf(req) === undefined;
}

function jsonLengthOf(req: http.IncomingMessage, bodyLength: number): number {
  const header = req.headers[JSON_LENGTH_HEADER];
  if (header === undefined) return bodyLength;
  const length = Number(header);
  if (!Number.isSafeInteger(length) || length < 0 || length > bodyLength) {
    throw invalidArgument(`${JSON_LENGTH_HEADER} must be a byte count within the ${bodyLength}-byte body, not ${JSON.stringify(header)}`);
  }
  return length;
}

/** Elements of the outputs written as JSON (binary ones cost no formatting). */
function jsonElements(outputs: Readonly<Record<string, HostTensor>>, asks: Inferred['asks']): number {
  let elements = 0;
  for (const [name, tensor] of Object.entries(outputs)) if (asks.binaryOutputs !== 'all' && asks.binaryOutputs?.has(name) !== true) elements += elementCount(tensor.shape);
  return elements;
}
