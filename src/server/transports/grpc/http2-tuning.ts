import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { installFlowControl, type FlowControlOptions } from './flow-control.js';
import { installStreamTables } from './install-stream-tables.js';
import { installPromptTrailers } from './prompt-trailers.js';

/**
 * Our fixes to Node's HTTP/2 server, installed on a bound grpc-js server: the stream table and
 * prompt trailers (unless --grpc_prompt_trailers=false) for load, growing receive windows for
 * large requests. The first two check the Node internals they rely on; where those differ, they
 * change nothing and warn once.
 */
export function installHttp2Tuning(server: grpc.Server, options: { promptTrailers: boolean; flowControl: FlowControlOptions }, logger: Logger): void {
  installStreamTables(server, warnOnce(logger, 'HTTP/2 stream registry left as is: expect longer GC pauses under load'));
  if (options.promptTrailers) {
    installPromptTrailers(server, warnOnce(logger, 'gRPC trailers left to Node: each answer waits for the rest of its event-loop turn'));
  }
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
