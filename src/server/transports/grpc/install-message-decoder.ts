import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { GrpcMessageDecoder } from './message-decoder.js';

export interface MessageDecoderInstall {
  /** True once grpc-js reads every call's messages with GrpcMessageDecoder. */
  installed: boolean;
}

const require = createRequire(import.meta.url);
/** Where grpc-js makes a decoder for each server call, reading the class from the module's exports. */
const CONSTRUCTION = 'new stream_decoder_1.StreamDecoder(';

/**
 * Makes grpc-js read the messages of every call in this process with GrpcMessageDecoder
 * (message-decoder.ts says why). grpc-js builds one decoder per call from its stream-decoder
 * module's `StreamDecoder` export, which this replaces. The module and the construction are checked
 * first; if either differs, nothing changes and `onProblem` says why. Client calls made by this
 * process use it too: it produces what grpc-js's decoder produces.
 */
export function installMessageDecoder(onProblem: (reason: string) => void): MessageDecoderInstall {
  try {
    const module = require('@grpc/grpc-js/build/src/stream-decoder.js') as { StreamDecoder?: unknown };
    if (module.StreamDecoder === GrpcMessageDecoder) return { installed: true };
    if (typeof module.StreamDecoder !== 'function') return notInstalled(onProblem, "grpc-js's stream-decoder module exports no StreamDecoder class");
    const callSource = readFileSync(require.resolve('@grpc/grpc-js/build/src/server-interceptors.js'), 'utf8');
    if (!callSource.includes(CONSTRUCTION)) return notInstalled(onProblem, 'grpc-js no longer builds each server call\'s decoder from the stream-decoder module');
    module.StreamDecoder = GrpcMessageDecoder;
    return { installed: true };
  } catch (error) {
    return notInstalled(onProblem, `grpc-js's stream-decoder module could not be loaded: ${(error as Error).message}`);
  }
}

function notInstalled(onProblem: (reason: string) => void, reason: string): MessageDecoderInstall {
  onProblem(reason);
  return { installed: false };
}
