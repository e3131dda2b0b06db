import { createHash, createHmac } from 'node:crypto';

/** Keys as the AWS SDK's credential providers resolve them. */
export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

export interface SignRequest {
  readonly method: string;
  /** Host header as sent (`host` or `host:port`; the default port is left out). */
  readonly host: string;
  /** The request path exactly as sent, already URI-encoded (S3 signs it without re-encoding). */
  readonly path: string;
  /** Canonical query string (sorted, encoded), '' for none. */
  readonly query?: string;
  /** Further headers to sign (names in any case); `host`, `x-amz-date`, `x-amz-content-sha256` are added. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`. */
  readonly payloadHash: string;
  readonly region: string;
  readonly service?: string;
  /** Milliseconds since the epoch. */
  readonly now: number;
}

/** The headers to add to the request (lower-case names). */
export type SignedHeaders = Record<string, string>;

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * AWS Signature Version 4 for one request, as a pure function of its inputs. Written for the hot
 * download path: one SHA-256 over the canonical request and one HMAC per request, with the
 * derived signing key (four HMACs) cached per secret, day, region and service.
 */
export class SigV4Signer {
  private key: { id: string; value: Buffer } | undefined;

  sign(request: SignRequest, credentials: SigningCredentials): SignedHeaders {
    const service = request.service ?? 's3';
    const amzDate = new Date(request.now).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const day = amzDate.slice(0, 8);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value.trim().replace(/\s+/g, ' ');
    headers.host = request.host;
    headers['x-amz-date'] = amzDate;
    headers['x-amz-content-sha256'] = request.payloadHash;
    if (credentials.sessionToken !== undefined) headers['x-amz-security-token'] = credentials.sessionToken;
    const names = Object.keys(headers).sort();
    const signedHeaders = names.join(';');
    const canonical = [
      request.method,
      request.path,
      request.query ?? '',
      names.map((n) => `${n}:${headers[n]}\n`).join(''),
      signedHeaders,
      request.payloadHash,
    ].join('\n');
    const scope = `${day}/${request.region}/${service}/aws4_request`;
    const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
    const signature = createHmac('sha256', this.signingKey(credentials.secretAccessKey, day, request.region, service)).update(toSign).digest('hex');
    const out: SignedHeaders = {
      authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
      'x-amz-date': amzDate,
      'x-amz-content-sha256': request.payloadHash,
    };
    if (credentials.sessionToken !== undefined) out['x-amz-security-token'] = credentials.sessionToken;
    return out;
  }

  private signingKey(secret: string, day: string, region: string, service: string): Buffer {
    // The secret is part of the cache id (never logged): rotated keys derive a new signing key.
    const id = `${day}\n${region}\n${service}\n${secret}`;
    if (this.key?.id === id) return this.key.value;
    const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
    const value = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request');
    this.key = { id, value };
    return value;
  }
}

/**
 * Encodes an object key for the request path the way S3 expects and signs it: every byte but
 * the RFC 3986 unreserved characters percent-encoded, `/` kept as the separator.
 */
export function encodeKeyPath(key: string): string {
  return key.split('/').map(uriEncode).join('/');
}

/** SigV4's URI encoding: every byte but the RFC 3986 unreserved characters percent-encoded (upper-case hex). */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
