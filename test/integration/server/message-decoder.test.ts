/**
 * Our gRPC message decoder (message-decoder.ts) inside a real grpc-js server on this grpc-js: it
 * installs, reads large requests that arrive in many HTTP/2 frames, and refuses oversize ones as
 * grpc-js does. If a grpc-js upgrade stops building call decoders from the module we replace, the
 * install reports it here.
 */
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rawBytesMethod } from '../../../bench/lib/raw-bytes-method.js';
import { isWholeMessageBuffer, noteRequestMessage } from '../../../src/server/core/message-buffers.js';
import { bindGrpcServer, createGrpcServer } from '../../../src/server/transports/grpc/grpc-server.js';
import { installMessageDecoder } from '../../../src/server/transports/grpc/install-message-decoder.js';
import { GrpcMessageDecoder } from '../../../src/server/transports/grpc/message-decoder.js';

const LIMIT = 4 << 20;
/** One method taking raw bytes and answering their SHA-256. */
const DIGEST_SERVICE: grpc.ServiceDefinition = { digest: rawBytesMethod('/test.Bytes/Digest') };
const sha256 = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest();

describe('GrpcMessageDecoder in a grpc-js server', () => {
  let server: grpc.Server;
  let client: grpc.Client & { digest: (request: Buffer, callback: grpc.requestCallback<Buffer>) => void };
  const problems: string[] = [];
  /** Per request, whether the server got it in a buffer of its own (so it could move to a worker). */
  const wholeBuffers: boolean[] = [];

  beforeAll(async () => {
    expect(installMessageDecoder((reason) => problems.push(reason))).toEqual({ installed: true });
    server = createGrpcServer({ host: '127.0.0.1', port: 0, maxMessageBytes: LIMIT, maxConnectionAgeSeconds: 0 });
    server.addService(DIGEST_SERVICE, {
      digest: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        noteRequestMessage(call.request);
        wholeBuffers.push(isWholeMessageBuffer(call.request.buffer));
        callback(null, sha256(call.request));
      },
    });
    const port = await bindGrpcServer(server, '127.0.0.1', 0);
    const Client = grpc.makeGenericClientConstructor(DIGEST_SERVICE, 'Bytes');
    client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as typeof client;
  });

  afterAll(() => {
    client?.close();
    server?.forceShutdown();
    vi.restoreAllMocks();
  });

  const digest = (request: Buffer): Promise<Buffer> =>
    new Promise((resolve, reject) => client.digest(request, (error, response) => (error ? reject(error) : resolve(response!))));

  it('reads eight concurrent 3 MB requests over one connection, each whole and in a buffer of its own', async () => {
    const writes = vi.spyOn(GrpcMessageDecoder.prototype, 'write');
    const requests = Array.from({ length: 8 }, (_, i) => Buffer.alloc(3_000_000 + i, i + 1));
    const answers = await Promise.all(requests.map(digest));
    answers.forEach((answer, i) => expect(answer.equals(sha256(requests[i]!))).toBe(true));
    // 24 MB in frames of at most 16 KiB: the server's decoders saw them all.
    expect(writes.mock.calls.length).toBeGreaterThan(8 * (3_000_000 / 16_384));
    expect(wholeBuffers.splice(0)).toEqual(requests.map(() => true));
    expect(problems).toEqual([]);
  });

  it('refuses a request over the limit with RESOURCE_EXHAUSTED naming both sizes, then serves the next', async () => {
    await expect(digest(Buffer.alloc(LIMIT + 1))).rejects.toMatchObject({
      code: grpc.status.RESOURCE_EXHAUSTED,
      details: `Received message larger than max (${LIMIT + 1} vs ${LIMIT})`,
    });
    const small = Buffer.from('still serving');
    expect((await digest(small)).equals(sha256(small))).toBe(true);
  });

  it('installs once: a second install finds it in place', () => {
    expect(installMessageDecoder((reason) => problems.push(reason))).toEqual({ installed: true });
    expect(problems).toEqual([]);
  });
});
