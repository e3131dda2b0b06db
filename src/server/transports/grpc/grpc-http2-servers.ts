import type * as grpc from '@grpc/grpc-js';
import type { EventEmitter } from 'node:events';

/**
 * Calls `attach` with each Node HTTP/2 server behind a bound grpc-js server (its private
 * `http2Servers` map), or `onProblem` when there is no such map. Our HTTP/2 tuning
 * (install-stream-tables.ts, prompt-trailers.ts) hooks in here.
 */
export function eachGrpcHttp2Server(server: grpc.Server, onProblem: (reason: string) => void, attach: (http2Server: EventEmitter) => void): void {
  const http2Servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(http2Servers instanceof Map)) {
    onProblem('grpc-js has no http2Servers map (bind the server first)');
    return;
  }
  for (const http2Server of http2Servers.keys() as IterableIterator<EventEmitter>) attach(http2Server);
}
