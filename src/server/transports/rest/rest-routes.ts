import { invalidArgument, notFound } from '../../../shared/errors.js';
import { parseVersionNumber } from '../model-spec-version.js';

/** A parsed `/v1/models/...` path, as TensorFlow Serving's REST API lays them out. */
export type ModelRoute =
  | { readonly kind: 'status'; readonly model: string; readonly version?: number; readonly label?: string }
  | { readonly kind: 'metadata'; readonly model: string; readonly version?: number; readonly label?: string }
  | {
      readonly kind: 'predict' | 'classify' | 'regress';
      readonly model: string;
      readonly version?: number;
      readonly label?: string;
    };

const MODEL_PATH = /^\/v1\/models\/([^/:]+)(?:\/versions\/([^/:]+)|\/labels\/([^/:]+))?(\/metadata|:predict|:classify|:regress)?$/;

/** A percent-encoded path segment, decoded; INVALID_ARGUMENT (not a URIError) when its escapes are malformed. */
export function decodePathSegment(segment: string, what: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalidArgument(`${what} "${segment}" is not valid percent-encoded UTF-8`);
  }
}

/** The path of a request target; INVALID_ARGUMENT for a target that is no URL path (e.g. "//["). */
export function requestPath(target: string | undefined): string {
  try {
    return new URL(target ?? '/', 'http://localhost').pathname;
  } catch {
    throw invalidArgument(`the request target ${JSON.stringify(target)} is not a valid path`);
  }
}

/** Parses a model path; NOT_FOUND for paths outside the API, INVALID_ARGUMENT for a bad version. */
export function parseModelRoute(method: string, pathname: string): ModelRoute {
  const match = MODEL_PATH.exec(pathname);
  if (!match) throw notFound(`no such endpoint: ${method} ${pathname}`);
  const model = decodePathSegment(match[1]!, 'the model name in the path');
  const version = match[2] === undefined ? undefined : parseVersionNumber(decodePathSegment(match[2], 'the version in the path'), 'the version in the path');
  const label = match[3] === undefined ? undefined : decodePathSegment(match[3], 'the version label in the path');
  const suffix = match[4];
  const base = { model, ...(version !== undefined ? { version } : {}), ...(label !== undefined ? { label } : {}) };
  if (suffix === undefined || suffix === '/metadata') {
    if (method !== 'GET') throw invalidArgument(`${pathname} takes GET, not ${method}`);
    return { kind: suffix === undefined ? 'status' : 'metadata', ...base };
  }
  if (method !== 'POST') throw invalidArgument(`${pathname} takes POST, not ${method}`);
  return { kind: suffix.slice(1) as 'predict' | 'classify' | 'regress', ...base };
}
