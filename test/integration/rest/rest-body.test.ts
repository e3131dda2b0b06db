/**
 * Reading REST bodies (rest-reply.ts) from a real Node HTTP server: whole, or as the chunks Node
 * delivers. The chunks must each own their memory, since a JSON thread takes them without a copy
 * (json-decode-pool.ts), and both readers refuse bodies over the limit alike.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServingError } from '../../../src/shared/errors.js';
import { joinChunks, lengthOf, readBody, readBodyChunks } from '../../../src/server/transports/rest/rest-reply.js';

const LIMIT = 4 << 20;
type Read = { whole: Buffer } | { chunks: Buffer[] } | { error: { code: string; message: string; httpStatus?: number } };
let read: (req: http.IncomingMessage) => Promise<Read>;
const server = http.createServer((req, res) => {
  void read(req).then((result) => {
    received.push(result);
    res.end('ok');
  });
});
let received: Read[] = [];
let url = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const asError = (error: unknown): Read => ({ error: { code: (error as ServingError).code, message: (error as Error).message, httpStatus: (error as ServingError).httpStatus } });
const readers = {
  whole: (req: http.IncomingMessage): Promise<Read> => readBody(req, LIMIT).then((whole) => ({ whole }), asError),
  chunks: (req: http.IncomingMessage): Promise<Read> => readBodyChunks(req, LIMIT).then((chunks) => ({ chunks }), asError),
};

/** POSTs `body` (streamed in pieces, without Content-Length when `chunked`) and returns what the server read. */
async function post(reader: keyof typeof readers, body: Buffer, chunked = false): Promise<Read> {
  read = readers[reader];
  received = [];
  await new Promise<void>((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent: false, headers: chunked ? {} : { 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    request.on('error', reject);
    for (let at = 0; at < body.length; at += 100_000) request.write(body.subarray(at, at + 100_000));
    request.end();
  });
  return received[0]!;
}

const body = Buffer.from(Array.from({ length: 3_000_000 }, (_, i) => (i * 7919) % 251));

describe('REST bodies', () => {
  it.each([false, true])('whole: the bytes sent (chunked transfer: %s)', async (chunked) => {
    const result = await post('whole', body, chunked);
    if (!('whole' in result)) throw new Error(JSON.stringify(result));
    expect(result.whole.equals(body)).toBe(true);
  });

  it.each([false, true])('as chunks: the bytes sent, in pieces that each own their memory (chunked transfer: %s)', async (chunked) => {
    const result = await post('chunks', body, chunked);
    if (!('chunks' in result)) throw new Error(JSON.stringify(result));
    expect(result.chunks.length).toBeGreaterThan(1);
    expect(lengthOf(result.chunks)).toBe(body.length);
    expect(joinChunks(result.chunks).equals(body)).toBe(true);
    for (const chunk of result.chunks) expect([chunk.byteOffset, chunk.buffer.byteLength]).toEqual([0, chunk.length]);
  });

  it.each(['whole', 'chunks'] as const)('%s: a body over the limit is RESOURCE_EXHAUSTED (413), declared or not', async (reader) => {
    const over = Buffer.alloc(LIMIT + 1, 1);
    expect(await post(reader, over)).toEqual({ error: { code: 'RESOURCE_EXHAUSTED', message: `request body of ${LIMIT + 1} bytes exceeds --max_request_bytes=${LIMIT}`, httpStatus: 413 } });
    expect(await post(reader, over, true)).toEqual({ error: { code: 'RESOURCE_EXHAUSTED', message: `request body exceeds --max_request_bytes=${LIMIT}`, httpStatus: 413 } });
  });

  it('one chunk is joined as itself', () => {
    const only = Buffer.from('{}');
    expect(joinChunks([only])).toBe(only);
  });
});
