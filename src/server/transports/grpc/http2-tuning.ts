import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { installFlowControl, type FlowControlOptions } from './flow-control.js';
import { installMessageDecoder } from './install-message-decoder.js';
import { installStreamTables } from './install-stream-tables.js';
import { installPromptTrailers } from './prompt-trailers.js';

/**
 * Our fixes to Node's HTTP/2 server and grpc-js's reading of it, installed on a bound grpc-js
 * server: the stream table and prompt trailers (unless --grpc_prompt_trailers=false) for load,
 * growing receive windows for large requests, and messages assembled as they arrive (fewer full
 * collections under large requests). Each checks the internals it relies on; where those differ,
 * it changes nothing and warns once.
 */
export function installHttp2Tuning(server: grpc.Server, options: { promptTrailers: boolean; flowControl: FlowControlOptions }, logger: Logger): void {
  installStreamTables(server, warnOnce(logger, 'HTTP/2 stream registry left as is: expect longer GC pauses under load'));
  if (options.promptTrailers) {
    installPromptTrailers(server, warnOnce(logger, 'gRPC trailers left to Node: each answer waits for the rest of its event-loop turn'));
  }
  installMessageDecoder(warnOnce(logger, 'gRPC messages left to grpc-js to assemble: large requests keep socket buffers alive until their last byte (more full GCs)'));
  installFlowControl(server, options.flowControl, warnOnce(logger, 'HTTP/2 receive windows left at 64 KiB: large requests take a round trip per 64 KiB'));
}

function warnOnce(logger: Logger, message: string): (reason: string) => void {
  let warned = false;
  return (reason) => {
    if (warned) return;
    warned = true;
    logger.warn({ reason }, message);
  };
}
