import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { installStreamTables } from './install-stream-tables.js';
import { installPromptTrailers } from './prompt-trailers.js';

/**
 * Our two fixes to Node's HTTP/2 server under load, installed on a bound grpc-js server (prompt
 * trailers unless --grpc_prompt_trailers=false). Each checks the Node internals it relies on;
 * where they differ, it changes nothing and warns once.
 */
export function installHttp2Tuning(server: grpc.Server, options: { promptTrailers: boolean }, logger: Logger): void {
  installStreamTables(server, warnOnce(logger, 'HTTP/2 stream registry left as is: expect longer GC pauses under load'));
  if (options.promptTrailers) {
    installPromptTrailers(server, warnOnce(logger, 'gRPC trailers left to Node: each answer waits for the rest of its event-loop turn'));
  }
}

function warnOnce(logger: Logger, message: string): (reason: string) => void {
  let warned = false;
  return (reason) => {
    if (warned) return;
    warned = true;
    logger.warn({ reason }, message);
  };
}
