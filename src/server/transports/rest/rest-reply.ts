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

export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      reject(new ServingError('RESOURCE_EXHAUSTED', `request body of ${declared} bytes exceeds --max_request_bytes=${limit}`, PAYLOAD_TOO_LARGE));
      return;
    }
    // Assembled as it arrives, so Node's read buffers die young (byte-assembler.ts); Node holds a
    // body to its declared length, so such a body ends up in a buffer of its own.
    const declaredLength = Number.isInteger(declared) && declared > 0;
    const body = new ByteAssembler(declaredLength ? declared : limit);
    req.on('data', (chunk: Buffer) => {
      if (body.length + chunk.length > (declaredLength ? declared : limit)) {
        req.removeAllListeners('data');
        req.resume();
        reject(
          declaredLength
            ? invalidArgument(`request body is longer than its Content-Length (${declared} bytes)`)
            : new ServingError('RESOURCE_EXHAUSTED', `request body exceeds --max_request_bytes=${limit}`, PAYLOAD_TOO_LARGE),
        );
        return;
      }
      body.append(chunk);
    });
    req.on('end', () => resolve(body.bytes()));
    req.on('error', reject);
  });
}
