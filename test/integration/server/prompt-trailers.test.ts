/**
 * Prompt trailers (prompt-trailers.ts, decision 0011) on this Node: installed on a real grpc-js
 * server whose calls still succeed, and the trailers of an answer leave before the rest of the
 * event-loop turn runs. The control case shows Node's own sendTrailers still waits for that turn:
 * if a Node upgrade stops deferring them, that half fails and the patch can be deleted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import http2 from 'node:http2';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, expect, it } from 'vitest';
import { installPromptTrailers, sendTrailersPromptly } from '../../../src/server/transports/grpc/prompt-trailers.js';
import { REPO_ROOT } from '../../helpers/server/build-check.js';
import { UnaryClient } from '../../helpers/server/grpc-client.js';
import { checkServing, startHealthGrpcServer } from '../../helpers/server/health-grpc-server.js';

const BUSY_MS = 1000;
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

it('is installed on a grpc-js server, and 2000 calls (32 at a time) over one connection all succeed', async () => {
  const running = await startHealthGrpcServer();
  cleanups.push(() => running.close());
  const problems: string[] = [];
  const install = installPromptTrailers(running.server, (reason) => problems.push(reason));
  const client = running.client();
  await checkServing(client, 2000, 32);
  await expect(new UnaryClient(client).call('check', { service: 'unknown' })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  expect(problems).toEqual([]);
  expect(install.installed).toBe(true);
});

it.each([
  ['prompt', 'before', (ms: number) => expect(ms).toBeLessThan(BUSY_MS / 2)],
  ['node', 'only after', (ms: number) => expect(ms).toBeGreaterThanOrEqual(BUSY_MS * 0.9)],
] as const)('with %s trailers, an answer ends %s the busy rest of the turn', async (mode, _when, check) => {
  const port = await startBusyServer(mode);
  const session = http2.connect(`http://127.0.0.1:${port}`);
  cleanups.push(() => session.destroy());
  for (let call = 0; call < 2; call++) {
    const t0 = performance.now();
    const request = session.request({ ':method': 'POST', ':path': '/test.Service/Call', 'content-type': 'application/grpc' });
    request.end(Buffer.from([0, 0, 0, 0, 0]));
    request.resume();
    const trailers = await trailersOf(request);
    expect(trailers).toMatchObject({ 'grpc-status': '0', 'grpc-message': 'done' });
    check(performance.now() - t0);
    await once(request, 'close');
    await new Promise((resolve) => setTimeout(resolve, BUSY_MS + 200)); // let the server's busy turn pass
  }
});

/** The request's trailers; fails at once if the stream closes without them (e.g. the server died). */
function trailersOf(request: http2.ClientHttp2Stream): Promise<http2.IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    request.once('trailers', (trailers: http2.IncomingHttpHeaders) => resolve(trailers));
    request.once('close', () => reject(new Error(`stream closed without trailers (RST code ${request.rstCode})`)));
    request.once('error', reject);
  });
}

async function startBusyServer(mode: 'node' | 'prompt'): Promise<number> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test/helpers/server/busy-http2-server.ts'), mode], {
    cwd: REPO_ROOT,
    env: { ...process.env, BUSY_MS: String(BUSY_MS) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(() => child.kill());
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = Number(line.toString().trim());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`busy-http2-server printed ${line.toString()}`);
  return port;
}

it('records the trailers it sent, and refuses to send them twice as Node does', async () => {
  const server = http2.createServer();
  const seen: { problem?: string; sentTrailers?: unknown; secondCall?: string } = {};
  server.on('stream', (stream) => {
    seen.problem = sendTrailersPromptly(stream);
    stream.resume();
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.once('wantTrailers', () => {
      stream.sendTrailers({ 'grpc-status': 0 });
      seen.sentTrailers = stream.sentTrailers;
      try {
        stream.sendTrailers({ 'grpc-status': 2 });
      } catch (error) {
        seen.secondCall = (error as { code?: string }).code;
      }
    });
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const session = http2.connect(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
  cleanups.push(() => {
    session.destroy();
    server.close();
  });
  const request = session.request({ ':method': 'POST', ':path': '/test.Service/Call' });
  request.end();
  request.resume();
  const trailers = await trailersOf(request);
  expect(trailers['grpc-status']).toBe('0');
  expect(seen).toEqual({ problem: undefined, sentTrailers: { 'grpc-status': 0 }, secondCall: 'ERR_HTTP2_TRAILERS_ALREADY_SENT' });
});
