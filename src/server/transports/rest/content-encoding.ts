import type http from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { ServingError, invalidArgument } from '../../../shared/errors.js';
import { PAYLOAD_TOO_LARGE } from './rest-reply.js';

/*
 * Compressed request bodies. TF Serving's HTTP server inflates a gzip body by default (its
 * net_http `auto_uncompress_input`), and Triton's clients can send gzip or deflate
 * (`request_compression_algorithm`), so both /v1 and /v2 take them. The limit is on the
 * inflated size, so a small body cannot unpack into more than --max_request_bytes.
 */

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);

type Encoding = 'gzip' | 'deflate';

/** The request's Content-Encoding, undefined for none or `identity`. */
export function contentEncodingOf(req: http.IncomingMessage): Encoding | undefined {
  const header = req.headers['content-encoding'];
  if (header === undefined) return undefined;
  const encoding = header.trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return undefined;
  if (encoding === 'gzip' || encoding === 'x-gzip') return 'gzip';
  if (encoding === 'deflate') return 'deflate';
  throw new ServingError('INVALID_ARGUMENT', `Content-Encoding ${JSON.stringify(header)} is not supported (gzip and deflate are)`, { httpStatus: 415 });
}

/** The body without its Content-Encoding, within the same limit. */
export async function inflated(req: http.IncomingMessage, body: Buffer, limit: number): Promise<Buffer> {
  const encoding = contentEncodingOf(req);
  if (encoding === undefined) return body;
  try {
    return await (encoding === 'gzip' ? gunzip : inflate)(body, { maxOutputLength: limit });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ServingError('RESOURCE_EXHAUSTED', `the ${encoding} body decompresses to more than --max_request_bytes=${limit}`, PAYLOAD_TOO_LARGE);
    }
    throw invalidArgument(`the ${encoding} body does not decompress: ${(error as Error).message}`);
  }
}
