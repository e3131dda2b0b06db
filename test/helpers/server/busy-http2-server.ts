/**
 * A bare Node HTTP/2 server that answers every request like a gRPC server (headers, one DATA frame,
 * trailers) and then keeps its event loop busy for BUSY_MS in a setImmediate, as a turn full of
 * other calls would. Run with `node --import tsx busy-http2-server.ts node|prompt`; it prints its
 * port. "prompt" installs sendTrailersPromptly (src/server/transports/grpc/prompt-trailers.ts).
 */
import http2 from 'node:http2';
import { sendTrailersPromptly } from '../../../src/server/transports/grpc/prompt-trailers.js';

const BUSY_MS = Number(process.env.BUSY_MS ?? 1000);
const mode = process.argv[2];
if (mode !== 'node' && mode !== 'prompt') throw new Error('usage: busy-http2-server.ts node|prompt');

function busyFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

const server = http2.createServer();
server.on('stream', (stream) => {
  if (mode === 'prompt') {
    const problem = sendTrailersPromptly(stream);
    if (problem !== undefined) throw new Error(problem);
  }
  stream.resume();
  stream.on('end', () => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': 0, 'grpc-message': 'done' }));
    stream.end(Buffer.from([0, 0, 0, 0, 2, 0x08, 0x01]));
    setImmediate(busyFor, BUSY_MS);
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address !== null ? address.port : ''}\n`);
});
