import type http from 'node:http';
import { ServingError, invalidArgument } from '../../../shared/errors.js';
import type { Served } from '../../predict/predict-service.js';
import { ByteAssembler } from '../byte-assembler.js';

/** What a REST handler answers; the server adds CORS and the served-version header. */
export interface Reply {
  readonly status: number;
  readonly body: string | Buffer;
  readonly contentType?: string;
  readonly served?: Served;
  readonly headers?: Readonly<Record<string, string>>;
}

export const json = (status: number, body: unknown): Reply => ({ status, body: JSON.stringify(body) });

/** RESOURCE_EXHAUSTED's usual 429 would tell clients to retry; an oversize body never fits. */
export const PAYLOAD_TOO_LARGE = { httpStatus: 413 };

/** The body, assembled into one buffer as it arrives. */
export async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  // Assembled as it arrives, so Node's read buffers die young (byte-assembler.ts); Node holds a
  // body to its declared length, so such a body ends up in a buffer of its own.
  const declared = declaredLength(req);
  const body = new ByteAssembler(declared ?? limit);
  await receiveBody(req, limit, declared, (chunk) => body.append(chunk));
  return body.bytes();
}

/**
 * The body as Node delivered it: chunks in order, each in memory of its own (Node's HTTP parser
 * copies every piece of a body out of its read buffer). For a body that goes to another thread,
 * which can take the chunks' memory and join them there: joining here cost the event loop a copy
 * of every byte plus the page faults of a fresh buffer (docs/benchmarks.md, "REST under load").
 */
export async function readBodyChunks(req: http.IncomingMessage, limit: number): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  await receiveBody(req, limit, declaredLength(req), (chunk) => chunks.push(chunk));
  return chunks;
}

export const lengthOf = (chunks: readonly Buffer[]): number => chunks.reduce((sum, chunk) => sum + chunk.length, 0);

/** One buffer of the chunks (the chunk itself when there is one). */
export const joinChunks = (chunks: readonly Buffer[]): Buffer => (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));

/**
 * The body without a leading UTF-8 byte order mark. JSON does not allow one, but TF Serving reads
 * `/v1` bodies through rapidjson's UTF-8 input stream, which skips it, so clients whose writers add
 * one (Windows PowerShell's UTF-8 files, for one) are served there and must be here too.
 */
export function withoutByteOrderMark(chunks: readonly Buffer[]): readonly Buffer[] {
  let taken = 0;
  let length = 0;
  while (taken < chunks.length && length < BYTE_ORDER_MARK.length) length += chunks[taken++]!.length;
  // Only a body whose first piece is shorter than the mark (a byte at a time) copies anything.
  const head = joinChunks(chunks.slice(0, taken));
  if (head.length < BYTE_ORDER_MARK.length || !BYTE_ORDER_MARK.every((byte, i) => head[i] === byte)) return chunks;
  return [head.subarray(BYTE_ORDER_MARK.length), ...chunks.slice(taken)];
}

const BYTE_ORDER_MARK = [0xef, 0xbb, 0xbf] as const;

function declaredLength(req: http.IncomingMessage): number | undefined {
  const declared = Number(req.headers['content-length'] ?? 0);
  return Number.isInteger(declared) && declared > 0 ? declared : undefined;
}

/** Hands each chunk of the body to `take`, refusing a body over `limit` or longer than it declared. */
function receiveBody(req: http.IncomingMessage, limit: number, declared: number | undefined, take: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    if (declared !== undefined && declared > limit) {
      req.resume();
      reject(new ServingError('RESOURCE_EXHAUSTED', `request body of ${declared} bytes exceeds --max_request_bytes=${limit}`, PAYLOAD_TOO_LARGE));
      return;
    }
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > (declared ?? limit)) {
        req.removeAllListeners('data');
        req.resume();
        reject(
          declared !== undefined
            ? invalidArgument(`request body is longer than its Content-Length (${declared} bytes)`)
            : new ServingError('RESOURCE_EXHAUSTED', `request body exceeds --max_request_bytes=${limit}`, PAYLOAD_TOO_LARGE),
        );
        return;
      }
      take(chunk);
    });
    req.on('end', () => resolve());
    req.on('error', (error: NodeJS.ErrnoException) => {
      // The caller hung up mid-body: its doing, not a failure of ours to log as one.
      if (error.code === 'ECONNRESET') reject(new ServingError('CANCELLED', `the client closed the connection after ${received} bytes of the request body`));
      else reject(error);
    });
  });
}
