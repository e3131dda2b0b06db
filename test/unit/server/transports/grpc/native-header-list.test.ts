import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { nativeTrailerList } from '../../../../../src/server/transports/grpc/native-header-list.js';

/** What this Node's own header encoder (in internal/http2/util) makes of the same trailers. */
function nodesOwnList(trailers: Record<string, unknown>): unknown {
  // Node 20's encoder is mapToHeaders; Node 22 and 24 renamed it buildNgHeaderString.
  const script =
    "const util = require('internal/http2/util'); const encode = util.buildNgHeaderString ?? util.mapToHeaders;" +
    "if (typeof encode !== 'function') throw new Error(`Node ${process.version} has no internal header encoder we know: check prompt trailers' header format on it (docs/decisions/0011-prompt-trailers.md)`);" +
    `process.stdout.write(JSON.stringify(encode(${JSON.stringify(trailers)})));`;
  return JSON.parse(execFileSync(process.execPath, ['--expose-internals', '-e', script], { encoding: 'utf8' }));
}

describe('nativeTrailerList', () => {
  it.each([
    { 'grpc-status': 0, 'grpc-message': '' },
    { 'grpc-status': 3, 'grpc-message': 'Missing%20input%20%22x%22', 'x-request-id': 'abc' },
    { 'grpc-status': 0, 'x-multi': ['one', 'two'], 'x-skipped': undefined },
    {},
  ])('encodes %j exactly as Node does', (trailers) => {
    expect(nativeTrailerList(trailers)).toEqual(nodesOwnList(trailers));
  });

  it.each([
    ['a pseudo-header', { ':status': '200' }],
    ['an uppercase name', { 'Grpc-Status': 0 }],
    ['a name with a space', { 'grpc status': 0 }],
    ['a value with a newline', { 'grpc-message': 'a\nb' }],
    ['a value with a NUL', { 'grpc-message': 'a\0b' }],
    ['an object value', { 'grpc-status': { code: 0 } }],
    ['a connection-specific field', { 'grpc-status': 0, connection: 'close' }],
  ])('leaves %s to Node', (_what, trailers) => {
    expect(nativeTrailerList(trailers)).toBeUndefined();
  });

  it("leaves Node's sensitive-header marker to Node", () => {
    const trailers = { 'grpc-status': 0, [Symbol('sensitiveHeaders')]: ['grpc-status'] };
    expect(nativeTrailerList(trailers)).toBeUndefined();
  });
});
