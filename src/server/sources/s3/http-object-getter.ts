import type { S3Client } from '@aws-sdk/client-s3';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { ServingError } from '../../../shared/errors.js';
import { parseListBucketResult, type ListPage } from './list-bucket-result.js';
import type { ObjectBody, ObjectGetter, ObjectRequest } from './object-getter.js';
import type { ListRequest, ObjectLister } from './object-lister.js';
import { RawHttpClient, UnframedResponseError } from './raw-http-client.js';
import { SigV4Signer, encodeKeyPath, uriEncode, type SigningCredentials } from './sigv4.js';

/** Where a bucket's objects live and how requests to it are signed. */
export type BucketEndpoint =
  | { readonly kind: 'sigv4'; readonly url: URL; readonly signingRegion: string }
  /** Something only the SDK can do (SigV4a multi-region access points, S3 Express sessions). */
  | { readonly kind: 'unsupported'; readonly reason: string };

export interface HttpObjectGetterOptions {
  /** Resolves a bucket's base URL (`http://host:port/bucket` path-style, `https://bucket.host/` virtual-host). */
  readonly resolveBucket: (bucket: string) => Promise<BucketEndpoint>;
  /** Current credentials; asked on every GET (providers cache, and rotated files are seen). */
  readonly credentials: () => Promise<SigningCredentials>;
  readonly httpsAgent: http.Agent;
  /** For plain-HTTP stores whose answers RawHttpClient cannot read (no Content-Length). */
  readonly httpAgent: http.Agent;
  /** False when the store is reached through a proxy: plain HTTP then goes through httpAgent, not RawHttpClient. */
  readonly direct?: boolean;
  /** Name resolution for plain-HTTP endpoints (default: the system's). */
  readonly lookup?: LookupFunction | undefined;
  /** Used for buckets the getter cannot sign for. */
  readonly fallback: ObjectGetter;
  /** Lists buckets the getter cannot sign for (without it, listing such a bucket fails). */
  readonly fallbackLister?: ObjectLister | undefined;
  readonly now: () => number;
  /** Resolves after `ms`; rejects when `signal` aborts. */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly connectTimeoutMs?: number | undefined;
  /** Longest a socket may stay idle while a GET is under way. */
  readonly requestTimeoutMs?: number | undefined;
  /** Tries per GET for retryable failures (network errors before a response, 5xx, throttling). Default 3. */
  readonly maxAttempts?: number;
}

/** An S3 error response, shaped the way `s3Error` reads SDK errors. */
export class S3ResponseError extends Error {
  readonly $metadata: { httpStatusCode: number };
  constructor(code: string, status: number, message: string) {
    super(message);
    this.name = code;
    this.$metadata = { httpStatusCode: status };
  }
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRYABLE_NETWORK = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'EAI_AGAIN', 'ENOTFOUND', 'TimeoutError']);

/**
 * GETs object bodies with SigV4-signed requests: what the S3 SDK sends, without its per-request
 * middleware stack (about 2 ms of CPU per GET here, which capped small-object downloads). Plain
 * `http:` endpoints go through RawHttpClient (keep-alive sockets reading into reused buffers, a
 * third of node:http's CPU per byte); `https:` through node:https's keep-alive agent.
 *
 * Every GET carries `If-Match` (S3 answers 412 when the object changed since it was listed) and,
 * for parts, `Range` (a 200 to a ranged GET is refused rather than written at the wrong offset).
 * Failures before the body starts (connection reset on a reused keep-alive socket, 5xx, throttling)
 * are retried; a failure in the middle of a body is the caller's to resume.
 */
export class HttpObjectGetter implements ObjectGetter, ObjectLister {
  readonly kind = 'http';
  private readonly signer = new SigV4Signer();
  private readonly buckets = new Map<string, Promise<BucketEndpoint>>();
  private readonly raw: RawHttpClient;
  /** Plain-HTTP origins that answered without Content-Length: served by node:http from then on. */
  private readonly unframedOrigins = new Set<string>();

  constructor(private readonly o: HttpObjectGetterOptions) {
    this.raw = new RawHttpClient(o.lookup);
  }

  /** Closes the idle keep-alive connections of plain-HTTP GETs (node:http(s)'s belong to the agents). */
  close(): void {
    this.raw.close();
  }

  async get(request: ObjectRequest, signal: AbortSignal): Promise<ObjectBody> {
    const endpoint = await this.endpointOf(request.bucket);
    if (endpoint.kind === 'unsupported') return this.o.fallback.get(request, signal);
    return this.retried(() => this.once(endpoint, request, signal), signal);
  }

  /**
   * One ListObjectsV2 page, as a signed GET whose XML answer parseListBucketResult reads: the
   * SDK's deserializer cost about 40 ms of CPU per 500 keys, this about 2 ms. Retried as GETs are.
   */
  async list(request: ListRequest, signal: AbortSignal): Promise<ListPage> {
    const endpoint = await this.endpointOf(request.bucket);
    if (endpoint.kind === 'unsupported') {
      if (this.o.fallbackLister === undefined) throw new ServingError('UNIMPLEMENTED', endpoint.reason);
      return this.o.fallbackLister.list(request, signal);
    }
    return this.retried(() => this.listOnce(endpoint, request, signal), signal);
  }

  private async retried<T>(attempt: () => Promise<T>, signal: AbortSignal): Promise<T> {
    const attempts = this.o.maxAttempts ?? 3;
    for (let n = 1; ; n++) {
      signal.throwIfAborted();
      try {
        return await attempt();
      } catch (error) {
        if (n >= attempts || signal.aborted || !retryable(error)) throw error;
        // A reset on a reused keep-alive socket is the server having closed it: try at once.
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ECONNRESET' && code !== 'EPIPE') await this.o.sleep(100 * 2 ** (n - 1), signal);
      }
    }
  }

  private endpointOf(bucket: string): Promise<BucketEndpoint> {
    let endpoint = this.buckets.get(bucket);
    if (endpoint === undefined) {
      endpoint = this.o.resolveBucket(bucket);
      // A failed resolution is not remembered.
      endpoint.catch(() => this.buckets.delete(bucket));
      this.buckets.set(bucket, endpoint);
    }
    return endpoint;
  }

  private async once(endpoint: Extract<BucketEndpoint, { kind: 'sigv4' }>, request: ObjectRequest, signal: AbortSignal): Promise<ObjectBody> {
    const { url } = endpoint;
    const base = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
    const path = `${base}${encodeKeyPath(request.key)}`;
    const headers: Record<string, string> = { 'if-match': `"${request.etag}"` };
    if (request.range !== undefined) headers.range = `bytes=${request.range.start}-${request.range.start + request.range.length - 1}`;
    const credentials = await this.o.credentials();
    Object.assign(
      headers,
      this.signer.sign({ method: 'GET', host: url.host, path, payloadHash: 'UNSIGNED-PAYLOAD', region: endpoint.signingRegion, now: this.o.now() }, credentials),
    );
    headers.host = url.host;
    const response = await this.send(url, path, headers, signal);
    const status = response.statusCode;
    if (status === 200 || status === 206) {
      if (request.range !== undefined && status !== 206) {
        response.body.destroy();
        throw new ServingError('UNAVAILABLE', `S3 ignored the Range of a GET of ${request.key} (HTTP ${status}); set --s3_part_size_mb above the largest object or S3_DISABLE_MULTI_PART_DOWNLOAD=1`);
      }
      const etag = response.headers.etag;
      return { etag: etag === undefined ? undefined : etag.replace(/^W\//, '').replace(/"/g, ''), stream: response.body, recycle: response.recycle };
    }
    throw await errorOf(status, response.body, `GET ${request.key}`);
  }

  private async listOnce(endpoint: Extract<BucketEndpoint, { kind: 'sigv4' }>, request: ListRequest, signal: AbortSignal): Promise<ListPage> {
    const { url } = endpoint;
    // Path-style `/bucket`, virtual-host `/`: the bucket itself, as the SDK addresses it.
    const path = url.pathname === '' ? '/' : url.pathname;
    const params: [string, string][] = [['list-type', '2'], ['prefix', request.prefix]];
    if (request.delimiter !== undefined) params.push(['delimiter', request.delimiter]);
    if (request.continuationToken !== undefined) params.push(['continuation-token', request.continuationToken]);
    if (request.maxKeys !== undefined) params.push(['max-keys', String(request.maxKeys)]);
    const query = canonicalQuery(params);
    const credentials = await this.o.credentials();
    const headers: Record<string, string> = this.signer.sign({ method: 'GET', host: url.host, path, query, payloadHash: 'UNSIGNED-PAYLOAD', region: endpoint.signingRegion, now: this.o.now() }, credentials);
    headers.host = url.host;
    const response = await this.send(url, `${path}?${query}`, headers, signal);
    if (response.statusCode !== 200) throw await errorOf(response.statusCode, response.body, `listing s3://${request.bucket}/${request.prefix}`);
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > MAX_LIST_BYTES) {
        response.body.destroy();
        throw new ServingError('UNAVAILABLE', `S3 answered a listing of s3://${request.bucket}/${request.prefix} with more than ${MAX_LIST_BYTES} bytes`);
      }
      // RawHttpClient's blocks are recycled: copy out of them.
      chunks.push(Buffer.from(chunk));
    }
    return parseListBucketResult(Buffer.concat(chunks, bytes).toString('utf8'));
  }

  /** Plain HTTP through RawHttpClient (cheapest per byte); HTTPS, and stores it cannot read, through node's agents. */
  private async send(url: URL, path: string, headers: Record<string, string>, signal: AbortSignal): Promise<SentResponse> {
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const secure = url.protocol === 'https:';
    const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
    const origin = `${hostname}:${port}`;
    if (!secure && this.o.direct !== false && !this.unframedOrigins.has(origin)) {
      try {
        return await this.raw.get({ hostname, port, path, headers, signal, connectTimeoutMs: this.o.connectTimeoutMs, idleTimeoutMs: this.o.requestTimeoutMs });
      } catch (error) {
        if (!(error instanceof UnframedResponseError)) throw error;
        this.unframedOrigins.add(origin);
      }
    }
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = (secure ? https : http).request({ protocol: url.protocol, hostname, port, path, method: 'GET', headers, agent: secure ? this.o.httpsAgent : this.o.httpAgent, signal });
      req.once('response', resolve);
      req.once('error', reject);
      if (this.o.requestTimeoutMs !== undefined) {
        const ms = this.o.requestTimeoutMs;
        req.setTimeout(ms, () => req.destroy(timeoutError(`no data from S3 for ${ms} ms`)));
      }
      if (this.o.connectTimeoutMs !== undefined) {
        const ms = this.o.connectTimeoutMs;
        req.once('socket', (socket) => {
          if (!socket.connecting) return;
          const timer = setTimeout(() => req.destroy(timeoutError(`could not connect to S3 within ${ms} ms`)), ms);
          socket.once('connect', () => clearTimeout(timer));
          socket.once('close', () => clearTimeout(timer));
        });
      }
      req.end();
    });
    const etag = response.headers.etag;
    return { statusCode: response.statusCode ?? 0, headers: etag === undefined ? {} : { etag }, body: response };
  }
}

interface SentResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Readable;
  readonly recycle?: ((chunk: Buffer) => void) | undefined;
}

function timeoutError(message: string): Error {
  const e = new Error(message);
  e.name = 'TimeoutError';
  return e;
}

function retryable(error: unknown): boolean {
  if (error instanceof S3ResponseError) return RETRYABLE_STATUS.has(error.$metadata.httpStatusCode) || error.name === 'SlowDown';
  const e = error as NodeJS.ErrnoException;
  return RETRYABLE_NETWORK.has(e.code ?? '') || RETRYABLE_NETWORK.has(e.name);
}

/** Reads S3's XML error document (small; capped) into an S3ResponseError. */
async function errorOf(status: number, body: Readable, what: string): Promise<Error> {
  let text = '';
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (text.length < 16 * 1024) text += chunk.toString('utf8');
    }
  } catch {
    // The status alone still says what happened.
  }
  const tag = (name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(text)?.[1];
  const code = tag('Code') ?? STATUS_NAMES[status] ?? `HTTP${status}`;
  const message = tag('Message') ?? `${what} answered HTTP ${status}`;
  return new S3ResponseError(code, status, message);
}

/** A page holds at most 1000 keys of up to 1 KiB each, plus their metadata. */
const MAX_LIST_BYTES = 16 * 1024 * 1024;

/** SigV4's canonical query string (also sent as is): names sorted, names and values RFC 3986-encoded. */
export function canonicalQuery(params: readonly (readonly [string, string])[]): string {
  return params
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

const STATUS_NAMES: Record<number, string> = { 304: 'NotModified', 400: 'BadRequest', 403: 'AccessDenied', 404: 'NotFound', 412: 'PreconditionFailed', 416: 'InvalidRange', 503: 'SlowDown' };

/**
 * Resolves bucket endpoints with the SDK client's own endpoint rules, so the fast path addresses
 * exactly what the SDK would (custom endpoint, path-style or virtual-host, FIPS and dual-stack
 * settings, partitions).
 */
export function sdkBucketResolver(client: S3Client, settings: { readonly endpoint: string | undefined; readonly region: string; readonly forcePathStyle: boolean }): (bucket: string) => Promise<BucketEndpoint> {
  return async (bucket) => {
    const resolved = client.config.endpointProvider({
      Bucket: bucket,
      Region: settings.region,
      ForcePathStyle: settings.forcePathStyle,
      UseFIPS: await client.config.useFipsEndpoint(),
      UseDualStack: await client.config.useDualstackEndpoint(),
      Accelerate: false,
      ...(settings.endpoint !== undefined ? { Endpoint: settings.endpoint } : {}),
    });
    const scheme = (resolved.properties?.authSchemes as { name?: string; signingRegion?: string }[] | undefined)?.[0];
    if (scheme !== undefined && scheme.name !== 'sigv4') return { kind: 'unsupported', reason: `bucket ${bucket} needs ${scheme.name ?? 'another'} signing` };
    return { kind: 'sigv4', url: new URL(resolved.url.href), signingRegion: scheme?.signingRegion ?? settings.region };
  };
}
