import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { ServingError } from '../../../shared/errors.js';

/** One GET of an object (or a byte range of it) that must still have the listed ETag. */
export interface ObjectRequest {
  readonly bucket: string;
  readonly key: string;
  /** The ETag as listed, unquoted; sent as `If-Match`. */
  readonly etag: string;
  /** Byte range to fetch; undefined = the whole object. */
  readonly range?: { readonly start: number; readonly length: number };
}

/** A response body being received. */
export interface ObjectBody {
  /** The ETag the response carries (unquoted), when it carries one. */
  readonly etag: string | undefined;
  readonly stream: Readable;
  /** Takes back a chunk of `stream` the consumer no longer refers to, for reuse (optional). */
  readonly recycle?: ((chunk: Buffer) => void) | undefined;
}

/**
 * Fetches object bodies. Errors are thrown the way `s3Error` understands them (an `Error` whose
 * `name` is the S3 error code and `$metadata.httpStatusCode` the HTTP status), or as ServingErrors.
 */
export interface ObjectGetter {
  /** What the getter is, for logs: `http` (SigV4 over node:http(s)) or `sdk`. */
  readonly kind: string;
  get(request: ObjectRequest, signal: AbortSignal): Promise<ObjectBody>;
  /** Closes connections kept open for reuse (optional: the SDK's live in its client). */
  close?(): void;
}

/** The S3 SDK's GetObject: works with any client, costs about 2 ms of CPU per GET. */
export function sdkObjectGetter(client: S3Client): ObjectGetter {
  return {
    kind: 'sdk',
    async get(request, signal) {
      const response = await client.send(
        new GetObjectCommand({
          Bucket: request.bucket,
          Key: request.key,
          IfMatch: `"${request.etag}"`,
          ...(request.range !== undefined ? { Range: `bytes=${request.range.start}-${request.range.start + request.range.length - 1}` } : {}),
        }),
        { abortSignal: signal },
      );
      const body = response.Body as Readable | undefined;
      if (body === undefined) throw new ServingError('UNAVAILABLE', `object ${request.key} came without a body`);
      return { etag: response.ETag?.replace(/^W\//, '').replace(/"/g, ''), stream: body };
    },
  };
}

// createS3Client builds the fast getter next to the client it mirrors (same endpoint, agents,
// credentials); the source finds it here, so callers keep passing just the client.
const getters = new WeakMap<S3Client, ObjectGetter>();

export function attachObjectGetter(client: S3Client, getter: ObjectGetter): void {
  getters.set(client, getter);
}

/** The getter built for `client` by createS3Client, else the SDK's own GetObject. */
export function objectGetterFor(client: S3Client): ObjectGetter {
  return getters.get(client) ?? sdkObjectGetter(client);
}
