/** closeS3Client closes the kept-alive connections of the lean getter (a real loopback HTTP server). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { closeS3Client, createS3Client } from '../../../../../src/server/sources/s3/create-s3-client.js';
import { objectGetterFor } from '../../../../../src/server/sources/s3/object-getter.js';
import { resolveS3Settings } from '../../../../../src/server/sources/s3/s3-settings.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

test('closeS3Client ends the idle keep-alive connections that GETs left open', async () => {
  const sockets = new Set<Socket>();
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (_req, res) => {
    res.writeHead(200, { 'content-length': '5', etag: '"e1"' });
    res.end('hello');
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    server.closeAllConnections();
    server.close();
  });
  const dir = mkdtempSync(join(tmpdir(), 'tensorfleet-close-s3-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'accessKeyId'), 'AKIDTEST');
  writeFileSync(join(dir, 'secretAccessKey'), 'secret');
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = createS3Client(resolveS3Settings({ s3_endpoint: endpoint, s3_credentials_dir: dir }, {}), Date.now);

  const { stream } = await objectGetterFor(client).get({ bucket: 'models', key: 'm/1/saved_model.pb', etag: 'e1' }, new AbortController().signal);
  let body = '';
  for await (const chunk of stream) body += String(chunk);
  expect(body).toBe('hello');
  expect(sockets.size).toBe(1);

  closeS3Client(client);
  const deadline = Date.now() + 5000;
  while (sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(sockets.size).toBe(0);
});
