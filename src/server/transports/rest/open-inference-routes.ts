import type http from 'node:http';
import { createRequire } from 'node:module';
import { invalidArgument, notFound } from '../../../shared/errors.js';
import { DEFAULT_SIGNATURE, type SignatureMap } from '../../core/signature.js';
import type { CallContext } from '../../predict/predict-service.js';
import { parseJsonBody } from '../../servables/tensorflow/codecs/json-tensor.js';
import { decodeInferInputs, encodeInferResponse, modelMetadata, parseInferRequest } from '../../servables/tensorflow/codecs/open-inference-json.js';
import { parseVersionNumber } from '../model-spec-version.js';
import { json, readBody, rejectedAs, type Reply } from './rest-reply.js';
import type { RestBackend, RestServerOptions } from './rest-server.js';

/*
 * The Open Inference Protocol's REST endpoints (KServe's "V2" protocol, as Triton and MLServer
 * serve it), next to TF Serving's /v1: clients and tools written for those servers call TensorFleet
 * unmodified. Health answers follow the protocol: 200 for true, 400 for false.
 */

const { version: SERVER_VERSION } = createRequire(import.meta.url)('../../../../package.json') as { version: string };

const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/;
const NOT_TRUE = 400;

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
      return json(200, { name: 'tensorfleet', version: SERVER_VERSION, extensions: [] });
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
  }
  const match = MODEL_PATH.exec(pathname);
  if (!match) throw notFound(`no such endpoint: ${method} ${pathname}`);
  const model = decodeURIComponent(match[1]!);
  const version = match[2] === undefined ? undefined : parseVersionNumber(decodeURIComponent(match[2]), 'the version in the path');
  const spec = { name: model, version };
  switch (match[3]) {
    case '/ready': {
      takes('GET');
      const ready = backend.status(model, version).some((s) => s.state === 'AVAILABLE');
      return json(ready ? 200 : NOT_TRUE, { name: model, ...(version !== undefined ? { version: String(version) } : {}), ready });
    }
    case undefined: {
      takes('GET');
      const { signatures } = await backend.predict.metadata(spec, call);
      const versions = backend.status(model).filter((s) => s.state === 'AVAILABLE').map((s) => s.version);
      const signature = signatures[defaultSignature(signatures)] ?? { methodName: '', inputs: {}, outputs: {} };
      return json(200, modelMetadata(model, version !== undefined ? [version] : versions, signature));
    }
    default: {
      takes('POST');
      const bytes = await readBody(req, options.maxRequestBytes);
      const request = rejectedAs(backend.predict, spec, call, 'predict', () => parseInferRequest(parseJsonBody(bytes.toString('utf8'))));
      const result = await backend.predict.predictDecoded(
        spec,
        (signatures) => {
          const signatureName = request.signatureName ?? defaultSignature(signatures);
          const signature = signatures[signatureName];
          const inputs = signature === undefined ? undefined : decodeInferInputs(request, signature.inputs, options.limits);
          return Promise.resolve({ signatureName, inputs, outputFilter: request.outputs });
        },
        call,
      );
      return { status: 200, body: encodeInferResponse(result.model, result.version, result.outputs, request.id), served: result };
    }
  }
}

/** serving_default, or a model's only signature: the protocol has no way to name one. */
function defaultSignature(signatures: SignatureMap): string {
  const names = Object.keys(signatures);
  return names.length === 1 && !(DEFAULT_SIGNATURE in signatures) ? names[0]! : DEFAULT_SIGNATURE;
}
