/** RawHttpClient against real HTTP servers on loopback (node:http, and raw TCP for broken answers). */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, test } from 'vitest';
import { RawHttpClient, decodeChunked, parseHead } from '../../../../../src/server/sources/s3/raw-http-client.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Served {
  readonly port: number;
  /** TCP connections the server accepted. */
  connections(): number;
}

async function listen(server: net.Server): Promise<Served> {
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        (server as http.Server).closeAllConnections?.();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

function client(): RawHttpClient {
  const c = new RawHttpClient();
  cleanups.push(() => c.close());
  return c;
}

const signal = new AbortController().signal;
const get = (c: RawHttpClient, port: number, path = '/', s = signal) => c.get({ hostname: '127.0.0.1', port, path, headers: { host: `127.0.0.1:${port}` }, signal: s });

async function readAll(body: Readable, delayMs = 0): Promise<{ bytes: Buffer }> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    if (delayMs > 0) await sleep(delayMs);
  }
  return { bytes: Buffer.concat(chunks) };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('RawHttpClient', () => {
  test('a body with Content-Length arrives whole, over one kept-alive connection', async () => {
    const payload = randomBytes(3 * 1024 * 1024 + 10);
    const seen: http.IncomingHttpHeaders[] = [];
    const server = await listen(
      http.createServer((req, res) => {
        seen.push(req.headers);
        res.writeHead(req.url === '/part' ? 206 : 200, { 'content-length': payload.length, etag: '"abc"' });
        res.end(payload);
      }),
    );
    const c = client();
    for (const path of ['/whole', '/part', '/whole']) {
      const response = await get(c, server.port, path);
      expect(response.statusCode).toBe(path === '/part' ? 206 : 200);
      expect(response.headers.etag).toBe('"abc"');
      const { bytes } = await readAll(response.body);
      expect(sha(bytes)).toBe(sha(payload));
    }
    expect(server.connections()).toBe(1);
    expect(seen[0]?.host).toBe(`127.0.0.1:${server.port}`);
  });

  test('recycled 1 MiB blocks carry the next bodies (and only whole blocks are kept)', async () => {
    const first = randomBytes(2 * 1024 * 1024 + 100);
    const second = randomBytes(2 * 1024 * 1024);
    let n = 0;
    const server = await listen(http.createServer((_req, res) => {
      const payload = n++ === 0 ? first : second;
      res.writeHead(200, { 'content-length': payload.length }).end(payload);
    }));
    const c = client();
    const one = await get(c, server.port);
    // 'data' events hand on the blocks themselves (async iteration may join them).
    const chunks: Buffer[] = [];
    one.body.on('data', (chunk: Buffer) => chunks.push(chunk));
    await new Promise((resolve) => one.body.once('end', resolve));
    expect(sha(Buffer.concat(chunks))).toBe(sha(first));
    const wholeBlocks = new Set(chunks.filter((b) => b.buffer.byteLength === 1024 * 1024).map((b) => b.buffer));
    expect(wholeBlocks.size).toBe(2);
    for (const chunk of chunks) one.recycle(chunk);
    const two = await get(c, server.port);
    const again: Buffer[] = [];
    two.body.on('data', (chunk: Buffer) => again.push(Buffer.from(chunk)));
    const reused: ArrayBufferLike[] = [];
    two.body.on('data', (chunk: Buffer) => reused.push(chunk.buffer));
    await new Promise((resolve) => two.body.once('end', resolve));
    expect(sha(Buffer.concat(again))).toBe(sha(second));
    expect(reused.filter((b) => wholeBlocks.has(b)).length).toBe(2);
  });

  test('a slow consumer gets every byte in order (reading pauses and resumes)', async () => {
    const payload = randomBytes(8 * 1024 * 1024);
    const server = await listen(http.createServer((_req, res) => res.writeHead(200, { 'content-length': payload.length }).end(payload)));
    const c = client();
    const { bytes } = await readAll((await get(c, server.port)).body, 15);
    expect(sha(bytes)).toBe(sha(payload));
    // The connection is reused after a paused body.
    expect(sha((await readAll((await get(c, server.port)).body)).bytes)).toBe(sha(payload));
    expect(server.connections()).toBe(1);
  });

  test('a body trickling in uneven pieces, headers sharing a packet with its start, arrives byte for byte, twice over one connection', async () => {
    // Bodies are read straight into their blocks while 64 KiB or more are left; the first bytes
    // (after the headers) and the tail are copied. Pieces of odd sizes cross the block edges.
    const payload = randomBytes(2 * 1024 * 1024 + 70_000 + 7);
    const server = await listen(
      net.createServer((socket) => {
        socket.on('data', () => {
          const head = Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${payload.length}\r\n\r\n`, 'latin1');
          socket.write(Buffer.concat([head, payload.subarray(0, 100)]));
          let at = 100;
          const next = (): void => {
            if (at >= payload.length) return;
            const size = Math.min(payload.length - at, 1 + ((at * 7919) % (200 * 1024)));
            socket.write(payload.subarray(at, at + size), () => setImmediate(next));
            at += size;
          };
          next();
        });
      }),
    );
    const c = client();
    for (let i = 0; i < 2; i++) expect(sha((await readAll((await get(c, server.port)).body)).bytes)).toBe(sha(payload));
    expect(server.connections()).toBe(1);
  });

  test('`connection: close` and an empty body', async () => {
    const server = await listen(http.createServer((_req, res) => res.writeHead(200, { 'content-length': 0, connection: 'close' }).end()));
    const c = client();
    for (let i = 0; i < 2; i++) expect((await readAll((await get(c, server.port)).body)).bytes.length).toBe(0);
    expect(server.connections()).toBe(2);
  });

  test('an error answer keeps its status and body, framed by length or chunked', async () => {
    const xml = '<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>';
    const server = await listen(
      http.createServer((req, res) => {
        if (req.url === '/chunked') {
          res.writeHead(503);
          res.write(xml.slice(0, 20));
          setTimeout(() => res.end(xml.slice(20)), 10);
        } else res.writeHead(404, { 'content-length': Buffer.byteLength(xml) }).end(xml);
      }),
    );
    const c = client();
    const plain = await get(c, server.port, '/plain');
    expect(plain.statusCode).toBe(404);
    expect((await readAll(plain.body)).bytes.toString()).toBe(xml);
    const chunked = await get(c, server.port, '/chunked');
    expect(chunked.statusCode).toBe(503);
    expect((await readAll(chunked.body)).bytes.toString()).toBe(xml);
  });

  test('a successful answer without Content-Length is refused as unframed (the caller falls back)', async () => {
    const server = await listen(
      http.createServer((_req, res) => {
        res.writeHead(200);
        res.end('data');
      }),
    );
    await expect(get(client(), server.port)).rejects.toMatchObject({ name: 'UnframedResponseError', statusCode: 200, message: expect.stringMatching(/without a Content-Length \(transfer-encoding chunked\)/) as unknown });
  });

  test('a connection cut in the middle of a body fails the body stream', async () => {
    const server = await listen(
      http.createServer((_req, res) => {
        res.writeHead(200, { 'content-length': 10 * 1024 * 1024 });
        res.write(randomBytes(256 * 1024), () => res.destroy());
      }),
    );
    const response = await get(client(), server.port);
    await expect(readAll(response.body)).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  test('a body that fails before anyone listens is no uncaught error: it waits in `errored`', async () => {
    const server = await listen(
      http.createServer((_req, res) => {
        res.writeHead(200, { 'content-length': 1024 * 1024 });
        res.write(Buffer.alloc(1024), () => res.destroy());
      }),
    );
    const response = await get(client(), server.port);
    await sleep(100);
    expect(response.body.errored).toMatchObject({ code: 'ECONNRESET' });
  });

  test('a server that closes a kept-alive connection while it is idle costs nothing: the next GET connects again', async () => {
    // The server drops each connection shortly after answering, as an idle timeout would.
    const server = await listen(http.createServer((req, res) => res.writeHead(200, { 'content-length': 2 }).end('ok', () => setTimeout(() => req.socket.destroy(), 30))));
    const c = client();
    expect((await readAll((await get(c, server.port)).body)).bytes.toString()).toBe('ok');
    await sleep(200);
    expect((await readAll((await get(c, server.port)).body)).bytes.toString()).toBe('ok');
    expect(server.connections()).toBe(2);
  });

  test('aborting fails a GET waiting for its answer and a body being received', async () => {
    const server = await listen(
      http.createServer((req, res) => {
        if (req.url === '/stall') return;
        res.writeHead(200, { 'content-length': 1024 * 1024 });
        res.write(Buffer.alloc(1024));
      }),
    );
    const c = client();
    const waiting = new AbortController();
    const pending = get(c, server.port, '/stall', waiting.signal);
    setTimeout(() => waiting.abort(new Error('stopped: waiting')), 20);
    await expect(pending).rejects.toThrow('stopped: waiting');
    const receiving = new AbortController();
    const response = await get(c, server.port, '/body', receiving.signal);
    setTimeout(() => receiving.abort(new Error('stopped: receiving')), 20);
    await expect(readAll(response.body)).rejects.toThrow('stopped: receiving');
  });

  test('a silent server trips the idle timeout', async () => {
    const server = await listen(http.createServer(() => undefined));
    const c = client();
    await expect(c.get({ hostname: '127.0.0.1', port: server.port, path: '/', headers: { host: 'x' }, signal, idleTimeoutMs: 50 })).rejects.toMatchObject({
      name: 'TimeoutError',
      message: 'no data from S3 for 50 ms',
    });
  });

  test('nothing listening: a connect error a retry can recognise', async () => {
    const server = await listen(net.createServer());
    const port = server.port;
    await cleanups.pop()!();
    await expect(get(client(), port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  test.each([
    ['not HTTP', 'SSH-2.0-OpenSSH\r\n\r\n', /malformed HTTP response/],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nbroken\r\n\r\n', /malformed HTTP response/],
    ['endless headers', `HTTP/1.1 200 OK\r\n${'x-filler: y\r\n'.repeat(8000)}`, /headers exceed/],
  ])('a broken answer (%s) is a protocol error', async (_what, answer, message) => {
    const server = await listen(net.createServer((socket) => socket.once('data', () => socket.write(answer))));
    await expect(get(client(), server.port)).rejects.toMatchObject({ code: 'EPROTO', message: expect.stringMatching(message) as unknown });
  });
});

describe('decodeChunked', () => {
  test.each([
    ['5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n', { state: 'complete', body: 'hello world' }],
    ['5\r\nhello\r\n0\r\nx-trailer: 1\r\n\r\n', { state: 'complete', body: 'hello' }],
    ['5\r\nhello\r\n', { state: 'incomplete' }],
    ['5\r\nhel', { state: 'incomplete' }],
    ['0\r\n', { state: 'incomplete' }],
    ['zz\r\nhello\r\n', { state: 'malformed' }],
    ['5\r\nhelloXX0\r\n\r\n', { state: 'malformed' }],
  ])('%j', (raw, expected) => {
    expect(decodeChunked(raw)).toEqual(expected);
  });
});

describe('parseHead', () => {
  test.each([
    ['HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\nETag: "x"\r\nX-Dup: a\r\nx-dup: b', { statusCode: 206, headers: { 'content-length': '5', etag: '"x"', 'x-dup': 'b' } }],
    ['HTTP/1.0 404', { statusCode: 404, headers: {} }],
    ['HTTP/2 200', undefined],
    ['HTTP/1.1 20 OK', undefined],
    ['HTTP/1.1 200 OK\r\n: no name', undefined],
  ])('%j', (text, expected) => {
    expect(parseHead(text)).toEqual(expected);
  });
});
