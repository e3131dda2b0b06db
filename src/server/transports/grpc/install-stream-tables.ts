import type * as grpc from '@grpc/grpc-js';
import { eachGrpcHttp2Server } from './grpc-http2-servers.js';
import { StreamTable } from './stream-table.js';

export interface StreamTableInstall {
  /** Sessions whose stream registry is a StreamTable. */
  sessions: number;
}

/**
 * Gives every HTTP/2 session of a bound grpc-js server a StreamTable as its stream registry
 * (stream-table.ts says why; docs/decisions/0007-http2-stream-table.md has the numbers). This
 * reaches into grpc-js (its private `http2Servers`) and Node (a session's `Symbol(state)`),
 * so it checks both shapes and, when either differs, changes nothing and calls `onProblem`
 * (the server then works as before, with longer GC pauses under load).
 */
export function installStreamTables(server: grpc.Server, onProblem: (reason: string) => void): StreamTableInstall {
  const install: StreamTableInstall = { sessions: 0 };
  eachGrpcHttp2Server(server, onProblem, (http2Server) =>
    http2Server.on('session', (session: object) => {
      const problem = replaceStreamRegistry(session);
      if (problem === undefined) install.sessions++;
      else onProblem(problem);
    }),
  );
  return install;
}

/** Swaps a Node HTTP/2 session's stream Map for a StreamTable with the same entries. */
export function replaceStreamRegistry(session: object): string | undefined {
  const key = Object.getOwnPropertySymbols(session).find((symbol) => symbol.description === 'state');
  const state = key === undefined ? undefined : (session as Record<symbol, unknown>)[key];
  const streams = typeof state === 'object' && state !== null ? (state as { streams?: unknown }).streams : undefined;
  // Node's is a SafeMap: a Map built from its primordials, which is not `instanceof Map`.
  if (!isMapLike(streams)) return "Node's HTTP/2 session keeps no stream Map under Symbol(state)";
  const registry = state as { streams: MapLike | StreamTable<unknown> };
  const table = new StreamTable<unknown>();
  for (const [id, stream] of registry.streams) table.set(id, stream);
  registry.streams = table;
  return undefined;
}

type MapLike = Iterable<[number, unknown]> & { get(id: number): unknown; set(id: number, value: unknown): unknown; delete(id: number): boolean; size: number };

function isMapLike(value: unknown): value is MapLike {
  if (typeof value !== 'object' || value === null) return false;
  const map = value as Partial<Record<string, unknown>> & { [Symbol.iterator]?: unknown };
  return ['get', 'set', 'delete', 'forEach'].every((name) => typeof map[name] === 'function') && typeof map.size === 'number' && typeof map[Symbol.iterator] === 'function';
}
