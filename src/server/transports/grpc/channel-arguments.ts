import { MAX_WINDOW_BYTES, type FlowControlOptions } from './flow-control.js';

/** gRPC server arguments as `--grpc_channel_arguments` gives them: values that are integers become numbers. */
export type ChannelArguments = Readonly<Record<string, string | number>>;

/**
 * Parses TF Serving's `--grpc_channel_arguments` (`key=value,key=value`, e.g.
 * `grpc.max_concurrent_streams=8`). Returns the arguments, or the problems with them: a key
 * without a value, an empty key, or a key given twice.
 */
export function parseChannelArguments(text: string): { arguments: ChannelArguments; problems: string[] } {
  const args: Record<string, string | number> = {};
  const problems: string[] = [];
  for (const item of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq).trim();
    const value = eq < 0 ? '' : item.slice(eq + 1).trim();
    if (eq < 0 || key === '' || value === '') {
      problems.push(`--grpc_channel_arguments: "${item}" is not key=value`);
      continue;
    }
    if (key in args) {
      problems.push(`--grpc_channel_arguments: ${key} is given twice`);
      continue;
    }
    args[key] = /^-?\d+$/.test(value) && Number.isSafeInteger(Number(value)) ? Number(value) : value;
  }
  problems.push(...flowControlProblems(args));
  return { arguments: args, problems };
}

/** The arguments gRPC servers take for HTTP/2 flow control, which grpc-js ignores and we apply. */
export function flowControlOptions(args: ChannelArguments): FlowControlOptions {
  const lookahead = args[LOOKAHEAD_BYTES];
  return { initialWindowBytes: typeof lookahead === 'number' ? lookahead : undefined, bdpProbe: args[BDP_PROBE] !== 0 };
}

const LOOKAHEAD_BYTES = 'grpc.http2.lookahead_bytes';
const BDP_PROBE = 'grpc.http2.bdp_probe';

function flowControlProblems(args: ChannelArguments): string[] {
  const problems: string[] = [];
  const lookahead = args[LOOKAHEAD_BYTES];
  if (lookahead !== undefined && !(typeof lookahead === 'number' && lookahead >= 1 && lookahead <= MAX_WINDOW_BYTES)) {
    problems.push(`--grpc_channel_arguments: ${LOOKAHEAD_BYTES} must be a whole number of bytes from 1 to ${MAX_WINDOW_BYTES} (an HTTP/2 window), not "${lookahead}"`);
  }
  const bdp = args[BDP_PROBE];
  if (bdp !== undefined && bdp !== 0 && bdp !== 1) problems.push(`--grpc_channel_arguments: ${BDP_PROBE} must be 0 or 1, not "${bdp}"`);
  // grpc-js 1.14 tracks connections only with channelz on: without it, shutdown cannot end open calls.
  if (args['grpc.enable_channelz'] === 0) problems.push('--grpc_channel_arguments: grpc.enable_channelz=0 is refused: grpc-js could then not end open calls at shutdown');
  return problems;
}
