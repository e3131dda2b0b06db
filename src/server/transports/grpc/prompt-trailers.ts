import type * as grpc from '@grpc/grpc-js';
import { eachGrpcHttp2Server } from './grpc-http2-servers.js';
import { nativeTrailerList, type NativeHeaderList } from './native-header-list.js';

/*
 * A gRPC response ends with trailers (grpc-status). Node asks for them ('wantTrailers') while it
 * writes the response's last DATA frame, but its `sendTrailers` hands them to nghttp2 only from a
 * setImmediate: after every other callback of the current event-loop turn. With Predict calls
 * filling that turn, a status call's answer waited for all of them although its headers and data
 * had already left (docs/decisions/0011-prompt-trailers.md). nghttp2 documents the moment it asks
 * as the place to submit trailers, so we do that: the trailers leave in the same write.
 *
 * This replaces `sendTrailers` on Node's server-stream prototype and uses three private pieces of
 * Node's HTTP/2 stream (the native handle, its state flags, the maybe-destroy step). Each is checked,
 * along with the source of the method it replaces; if anything differs, nothing changes.
 */

export interface PromptTrailersInstall {
  /** True once the server-stream prototype sends trailers promptly. */
  installed: boolean;
}

/** Node's STREAM_FLAGS_HAS_TRAILERS: the stream was opened with waitForTrailers, none sent yet. */
const HAS_TRAILERS = 0x20;
const PATCHED = Symbol('tensorfleet.promptTrailers');

interface NodeStream {
  destroyed: boolean;
  closed: boolean;
  readonly sentTrailers?: unknown;
  destroy(error?: Error): void;
  [key: symbol]: unknown;
}

interface Internals {
  handle: symbol;
  state: symbol;
  maybeDestroy: symbol;
}

/** Sends trailers promptly on every server stream of a bound grpc-js server, from its first call on. */
export function installPromptTrailers(server: grpc.Server, onProblem: (reason: string) => void): PromptTrailersInstall {
  const install: PromptTrailersInstall = { installed: false };
  eachGrpcHttp2Server(server, onProblem, (http2Server) =>
    http2Server.prependOnceListener('stream', (stream: object) => {
      const problem = sendTrailersPromptly(stream);
      if (problem === undefined) install.installed = true;
      else onProblem(problem);
    }),
  );
  return install;
}

/**
 * Replaces `sendTrailers` on the prototype of this Node HTTP/2 server stream (once per prototype).
 * Returns why not, if Node's stream does not have the shape this relies on.
 */
export function sendTrailersPromptly(stream: object): string | undefined {
  const prototype = Object.getPrototypeOf(stream) as Record<string | symbol, unknown> | null;
  if (prototype === null) return 'the HTTP/2 stream has no prototype';
  if (prototype[PATCHED] === true) return undefined;
  const original = prototype.sendTrailers;
  if (typeof original !== 'function') return "Node's HTTP/2 stream has no sendTrailers method";
  const source = Function.prototype.toString.call(original);
  // Node 20 builds the list with mapToHeaders, Node 22 and 24 with buildNgHeaderString: same format.
  if (!source.includes('setImmediate(finishSendTrailers') || !/\b(mapToHeaders|buildNgHeaderString)\(\s*headers\b/.test(source)) {
    return "Node's sendTrailers is not the deferred one this replaces";
  }
  const internals = findInternals(stream);
  if (typeof internals === 'string') return internals;

  const sendTrailersNow = function (this: NodeStream, trailers: Record<string, unknown>): void {
    // Sent by this method before: Node would not know (its own record of sent trailers is private).
    if (Object.hasOwn(this, 'sentTrailers')) {
      throw Object.assign(new Error('Trailing headers have already been sent'), { code: 'ERR_HTTP2_TRAILERS_ALREADY_SENT' });
    }
    const list = typeof trailers === 'object' && trailers !== null ? nativeTrailerList(trailers) : undefined;
    const state = this[internals.state] as { flags: number; trailersReady?: boolean } | undefined;
    // Anything unusual goes to Node's own method, with its checks and errors.
    if (list === undefined || state?.trailersReady !== true || (state.flags & HAS_TRAILERS) === 0 || this.destroyed || this.closed || this.sentTrailers !== undefined) {
      (original as (this: NodeStream, trailers: unknown) => void).call(this, trailers);
      return;
    }
    // What Node's `sentTrailers` getter would report.
    Object.defineProperty(this, 'sentTrailers', { value: trailers, configurable: true });
    submitTrailers(this, list, state, internals);
  };
  Object.defineProperty(prototype, 'sendTrailers', { value: sendTrailersNow, writable: true, configurable: true });
  Object.defineProperty(prototype, PATCHED, { value: true });
  return undefined;
}

/** What Node's finishSendTrailers does, without waiting for a setImmediate. */
function submitTrailers(stream: NodeStream, list: NativeHeaderList, state: { flags: number }, internals: Internals): void {
  state.flags &= ~HAS_TRAILERS;
  const handle = stream[internals.handle] as { trailers(list: NativeHeaderList): number };
  const code = handle.trailers(list);
  if (code < 0) stream.destroy(new Error(`HTTP/2 trailers were refused (nghttp2 error ${code})`));
  else (stream[internals.maybeDestroy] as (this: NodeStream) => void).call(stream);
}

function findInternals(stream: object): Internals | string {
  const handle = symbolOf(stream, 'kHandle', false);
  const state = symbolOf(stream, 'state', false);
  const maybeDestroy = symbolOf(stream, 'kMaybeDestroy', true);
  if (handle === undefined || state === undefined || maybeDestroy === undefined) {
    return "Node's HTTP/2 stream lacks Symbol(kHandle), Symbol(state) or Symbol(kMaybeDestroy)";
  }
  const fields = stream as Record<symbol, unknown>;
  const nativeHandle = fields[handle] as { trailers?: unknown } | undefined;
  const flags = (fields[state] as { flags?: unknown } | undefined)?.flags;
  if (typeof nativeHandle?.trailers !== 'function' || typeof flags !== 'number' || typeof fields[maybeDestroy] !== 'function') {
    return "Node's HTTP/2 stream internals have changed (handle.trailers, state.flags, kMaybeDestroy)";
  }
  return { handle, state, maybeDestroy };
}

/** A symbol-keyed property by its description: on the object itself, or anywhere up its prototype chain. */
function symbolOf(object: object, description: string, inherited: boolean): symbol | undefined {
  for (let current: object | null = object; current !== null; current = inherited ? (Object.getPrototypeOf(current) as object | null) : null) {
    const found = Object.getOwnPropertySymbols(current).find((symbol) => symbol.description === description);
    if (found !== undefined) return found;
  }
  return undefined;
}
