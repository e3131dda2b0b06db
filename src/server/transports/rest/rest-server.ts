import http from 'node:http';
import type { Logger } from 'pino';
import { ServingError, httpStatusOf, toServingError } from '../../../shared/errors.js';
import { elementCount, type HostTensor } from '../../core/host-tensor.js';
import { CallHangup } from '../../core/hangup.js';
import type { ModelVersionStatus } from '../../core/version-state.js';
import { TF_SERVING_METRICS_PATH } from '../../metrics/monitoring-config.js';
import type { ServerMetrics } from '../../metrics/server-metrics.js';
import type { CallContext, ModelSpecInput, PredictService } from '../../predict/predict-service.js';
import {
  decodePredictJson,
  encodeClassifyJson,
  encodePredictJsonBytes,
  writePredictJson,
  encodeRegressJson,
  parseJsonBody,
  requestSignatureName,
  type JsonPredictFormat,
} from '../../servables/tensorflow/codecs/json-tensor.js';
import type { TensorLimits } from '../../servables/tensorflow/codecs/tensor-proto.js';
import { JsonBytes } from '../../servables/tensorflow/codecs/json-bytes.js';
import { parseClassifyRegressJson, serializeInputExamples } from '../../servables/tensorflow/codecs/tf-example.js';
import { signatureDefMapOf } from '../../servables/tensorflow/saved-model-metadata.js';
import { SERVED_VERSION_METADATA } from '../grpc/prediction-handlers.js';
import { JsonDecodePool } from './json-decode-pool.js';
import { CORS_HEADERS, isPreflight, preflightHeaders } from './cors.js';
import { openInferenceReply } from './open-inference-routes.js';
import { rejectedAs } from '../rejected-as.js';
import { contentEncodingOf, inflated } from './content-encoding.js';
import { joinChunks, json, lengthOf, readBody, readBodyChunks, withoutByteOrderMark, type Reply } from './rest-reply.js';
import { parseModelRoute, requestPath, type ModelRoute } from './rest-routes.js';

export interface RestBackend {
  readonly predict: PredictService;
  readonly metrics: ServerMetrics;
  status(model: string, version?: number): ModelVersionStatus[];
  /** Label → version in effect, for status by label. */
  labels(model: string): Readonly<Record<string, number>>;
  isReady(): boolean;
  /** Every configured model (the Open Inference Protocol's repository index). */
  modelNames(): string[];
  /** Models without an available version, for /readyz's answer. */
  unreadyModels(): string[];
  /** Why the process cannot recover by itself (then /healthz fails), or undefined when healthy. */
  livenessProblem(): string | undefined;
}

export interface RestServerOptions {
  readonly maxRequestBytes: number;
  readonly limits: TensorLimits;
  readonly timeoutMs: number;
  /** Decodes large predict bodies off the event loop; without it, every body is decoded here. */
  readonly jsonDecoder?: JsonDecodePool;
  /** A further path serving the metrics (--monitoring_config_file). */
  readonly metricsPath?: string;
  /** --rest_api_enable_cors_support: web pages of any origin may call the API. */
  readonly cors?: boolean;
}

/** TF Serving's REST API plus /healthz, /readyz and Prometheus metrics, on node:http. */
export function createRestServer(backend: RestBackend, options: RestServerOptions, logger: Logger): http.Server {
  const server = http.createServer((req, res) => {
    if (options.cors && isPreflight(req)) {
      res.writeHead(204, preflightHeaders(req)).end();
      return;
    }
    const hangup = new CallHangup();
    // 'close' before the response is finished: the client went (a reset, a closed connection).
    res.once('close', () => {
      if (!res.writableFinished) hangup.aborted = true;
    });
    handle(req, backend, options, hangup)
      .catch((error: unknown) => errorReply(error, logger))
      .then((reply) => {
        const headers: http.OutgoingHttpHeaders = { 'content-type': reply.contentType ?? 'application/json', ...(options.cors ? CORS_HEADERS : {}), ...reply.headers };
        if (reply.served) headers[SERVED_VERSION_METADATA] = String(reply.served.version);
        res.writeHead(reply.status, headers).end(reply.body);
      })
      .catch((error: unknown) => logger.error({ err: error }, 'REST reply failed'));
  });
  server.requestTimeout = options.timeoutMs;
  server.keepAliveTimeout = 65_000;
  return server;
}

function errorReply(error: unknown, logger: Logger): Reply {
  const coded = toServingError(error);
  if (coded.code === 'INTERNAL') logger.error({ err: error }, 'REST request failed unexpectedly');
  return json(coded.httpStatus ?? httpStatusOf(coded.code), { error: coded.message });
}

async function metricsReply(backend: RestBackend): Promise<Reply> {
  return { status: 200, body: await backend.metrics.registry.metrics(), contentType: backend.metrics.registry.contentType };
}

async function handle(req: http.IncomingMessage, backend: RestBackend, options: RestServerOptions, hangup: CallHangup): Promise<Reply> {
  const arrivedAt = Date.now();
  // HEAD is GET without the body (RFC 9110), which Node leaves out of HEAD responses itself.
  const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
  const pathname = requestPath(req.url);
  switch (pathname) {
    case '/healthz': {
      const problem = backend.livenessProblem();
      return problem === undefined ? { status: 200, body: 'ok\n', contentType: 'text/plain' } : { status: 503, body: `unhealthy: ${problem}\n`, contentType: 'text/plain' };
    }
    case '/readyz': {
      const problem = backend.livenessProblem();
      if (problem !== undefined) return json(503, { ready: false, error: problem });
      return backend.isReady() ? json(200, { ready: true }) : json(503, { ready: false, waiting_for: backend.unreadyModels() });
    }
    case '/metrics':
    case TF_SERVING_METRICS_PATH:
      return metricsReply(backend);
  }
  if (pathname === options.metricsPath) return metricsReply(backend);
  // TF Serving bounds a REST call by --rest_api_timeout_in_ms from its arrival (core/deadline.ts).
  const call: CallContext = { entrypoint: 'REST', headers: (name) => headerValue(req, name), hangup, deadline: options.timeoutMs > 0 ? arrivedAt + options.timeoutMs : undefined };
  if (pathname === '/v2' || pathname.startsWith('/v2/')) return openInferenceReply(method, pathname, req, call, backend, options);
  const route = parseModelRoute(method, pathname);
  switch (route.kind) {
    case 'status':
      return json(200, statusBody(backend, route));
    case 'metadata': {
      const result = await backend.predict.metadata(specOf(route), call);
      return json(200, {
        model_spec: { name: result.model, signature_name: '', version: String(result.version) },
        metadata: { signature_def: signatureDefMapOf(result.signatures) },
      });
    }
    case 'predict': {
      // With a JSON thread, the body stays in Node's chunks: a large one moves there to be joined.
      const received = withoutByteOrderMark(
        contentEncodingOf(req) !== undefined
          ? [await inflated(req, await readBody(req, options.maxRequestBytes), options.maxRequestBytes)]
          : options.jsonDecoder
            ? await readBodyChunks(req, options.maxRequestBytes)
            : [await readBody(req, options.maxRequestBytes)],
      );
      const length = lengthOf(received);
      if (options.jsonDecoder && length >= JsonDecodePool.MIN_BODY_BYTES) return predictInThread(received, specOf(route), call, backend, options, options.jsonDecoder);
      const bytes = joinChunks(received);
      const { body, signatureName } = rejectedAs(backend.predict, specOf(route), call, 'predict', () => {
        const parsed = parseJsonBody(bytes.toString('utf8'));
        return { body: parsed, signatureName: requestSignatureName(parsed) };
      });
      const spec = { ...specOf(route), signatureName };
      let format: 'row' | 'columnar' = 'row';
      const result = await backend.predict.predict(
        spec,
        (signature) => {
          const decoded = decodePredictJson(body, signature.inputs, options.limits);
          format = decoded.format;
          return decoded.inputs;
        },
        [],
        call,
      );
      return { status: 200, body: await predictResponseBody(result.outputs, format, options), served: result };
    }
    case 'classify':
    case 'regress': {
      const body = await inflated(req, await readBody(req, options.maxRequestBytes), options.maxRequestBytes);
      const text = joinChunks(withoutByteOrderMark([body])).toString('utf8');
      const { signatureName, examples } = rejectedAs(backend.predict, specOf(route), call, route.kind, () => {
        const parsed = parseClassifyRegressJson(text);
        return { signatureName: parsed.signatureName, examples: serializeInputExamples(parsed.input) };
      });
      const spec = { ...specOf(route), signatureName };
      if (route.kind === 'classify') {
        const result = await backend.predict.classify(spec, examples, call);
        return { status: 200, body: encodeClassifyJson(result.results.map((r) => r.classes)), served: result };
      }
      const result = await backend.predict.regress(spec, examples, call);
      return { status: 200, body: encodeRegressJson(result.values), served: result };
    }
  }
}

function specOf(route: ModelRoute): { name: string; version?: number; label?: string } {
  return { name: route.model, version: route.version, label: route.label };
}

function statusBody(backend: RestBackend, route: ModelRoute): unknown {
  let version = route.version;
  if (route.label !== undefined) {
    version = backend.labels(route.model)[route.label];
    if (version === undefined) throw new ServingError('INVALID_ARGUMENT', `Unrecognized servable version label: ${route.label}`);
  }
  return {
    model_version_status: backend.status(route.model, version).map((s) => ({
      version: String(s.version),
      state: s.state,
      status: { error_code: s.errorCode, error_message: s.errorMessage },
    })),
  };
}

function headerValue(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Predict with the body parsed and decoded by a JSON thread (json-decode-pool.ts). */
async function predictInThread(body: readonly Buffer[], spec: ModelSpecInput, call: CallContext, backend: RestBackend, options: RestServerOptions, decoder: JsonDecodePool): Promise<Reply> {
  let format: JsonPredictFormat = 'row';
  const result = await backend.predict.predictDecoded(
    spec,
    async (signatures) => {
      const { signatureName, decoded } = await decoder.decode(body, signatures, options.limits);
      if (decoded) format = decoded.format;
      return { signatureName, inputs: decoded?.inputs };
    },
    call,
    // As on the event loop (and in TF Serving), a malformed body is INVALID_ARGUMENT even when the
    // model or version is unknown: parse it (against no signature) before NOT_FOUND.
    async () => void (await decoder.decode(body, {}, options.limits)),
  );
  return { status: 200, body: await predictResponseBody(result.outputs, format, options), served: result };
}

/** The event loop's writer of small predict responses; each is copied out (they are written one at a time). */
const KEPT_WRITER_BYTES = 64 * 1024;
let responseWriter = new JsonBytes(KEPT_WRITER_BYTES);

/** TF Serving's JSON for predict outputs: written in a JSON thread when large (json-decode-pool.ts). */
async function predictResponseBody(outputs: Readonly<Record<string, HostTensor>>, format: JsonPredictFormat, options: RestServerOptions): Promise<string | Buffer> {
  let elements = 0;
  for (const tensor of Object.values(outputs)) elements += elementCount(tensor.shape);
  if (elements >= JsonDecodePool.MIN_ENCODE_ELEMENTS) {
    if (options.jsonDecoder) return options.jsonDecoder.encodePredict(outputs, format);
    const written = encodePredictJsonBytes(outputs, format);
    return Buffer.from(written.buffer, written.byteOffset, written.byteLength);
  }
  writePredictJson(responseWriter.reset(), outputs, format);
  const body = Buffer.from(responseWriter.bytes());
  // A few outputs can still be large (long strings): such a buffer is not kept.
  if (responseWriter.capacity > KEPT_WRITER_BYTES) responseWriter = new JsonBytes(KEPT_WRITER_BYTES);
  return body;
}
