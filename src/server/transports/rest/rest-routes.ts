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

/** Parses a model path; NOT_FOUND for paths outside the API, INVALID_ARGUMENT for a bad version. */
export function parseModelRoute(method: string, pathname: string): ModelRoute {
  const match = MODEL_PATH.exec(pathname);
  if (!match) throw notFound(`no such endpoint: ${method} ${pathname}`);
  const model = decodeURIComponent(match[1]!);
  const version = match[2] === undefined ? undefined : parseVersionNumber(decodeURIComponent(match[2]), 'the version in the path');
  const label = match[3] === undefined ? undefined : decodeURIComponent(match[3]);
  const suffix = match[4];
  const base = { model, ...(version !== undefined ? { version } : {}), ...(label !== undefined ? { label } : {}) };
  if (suffix === undefined || suffix === '/metadata') {
    if (method !== 'GET') throw invalidArgument(`${pathname} takes GET, not ${method}`);
    return { kind: suffix === undefined ? 'status' : 'metadata', ...base };
  }
  if (method !== 'POST') throw invalidArgument(`${pathname} takes POST, not ${method}`);
  return { kind: suffix.slice(1) as 'predict' | 'classify' | 'regress', ...base };
}
