import type * as grpc from '@grpc/grpc-js';
import type { EventEmitter } from 'node:events';

/**
 * The Node HTTP/2 servers behind a bound grpc-js server (its private `http2Servers` map), or why
 * there are none. Our HTTP/2 tuning (install-stream-tables.ts, prompt-trailers.ts) starts here.
 */
export function grpcHttp2Servers(server: grpc.Server): EventEmitter[] | string {
  const http2Servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(http2Servers instanceof Map)) return 'grpc-js has no http2Servers map (bind the server first)';
  return [...(http2Servers.keys() as IterableIterator<EventEmitter>)];
}
