import type http from 'node:http';
import { SERVED_VERSION_METADATA } from '../grpc/prediction-handlers.js';

/** Headers of every answer when --rest_api_enable_cors_support is on: any origin may read it. */
export const CORS_HEADERS: Readonly<http.OutgoingHttpHeaders> = {
  'access-control-allow-origin': '*',
  // Browsers hide response headers unless listed: the version that served, and where the JSON
  // of an Open Inference Protocol answer with binary outputs ends.
  'access-control-expose-headers': `${SERVED_VERSION_METADATA}, inference-header-content-length`,
};

/** A browser's preflight: OPTIONS naming the method it wants to send. */
export function isPreflight(req: http.IncomingMessage): boolean {
  return req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
}

/** The answer to a preflight: the API's methods, and the request headers the page asked for. */
export function preflightHeaders(req: http.IncomingMessage): http.OutgoingHttpHeaders {
  return {
    ...CORS_HEADERS,
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'content-type',
    'access-control-max-age': '600',
    vary: 'access-control-request-headers',
  };
}
