import { describe, expect, it } from 'vitest';
import { parseModelRoute, requestPath } from '../../../../../src/server/transports/rest/rest-routes.js';

describe('parseModelRoute', () => {
  it.each([
    ['GET', '/v1/models/mnist', { kind: 'status', model: 'mnist' }],
    ['GET', '/v1/models/mnist/versions/0', { kind: 'status', model: 'mnist', version: 0 }],
    ['GET', '/v1/models/mnist/labels/stable', { kind: 'status', model: 'mnist', label: 'stable' }],
    ['GET', '/v1/models/mnist/versions/3/metadata', { kind: 'metadata', model: 'mnist', version: 3 }],
    ['POST', '/v1/models/mnist:predict', { kind: 'predict', model: 'mnist' }],
    ['POST', '/v1/models/mnist/labels/canary:classify', { kind: 'classify', model: 'mnist', label: 'canary' }],
    ['POST', '/v1/models/my%20model/versions/2:regress', { kind: 'regress', model: 'my model', version: 2 }],
  ])('%s %s', (method, path, route) => {
    expect(parseModelRoute(method, path)).toEqual(route);
  });

  it.each([
    ['GET', '/v2/models/mnist', 'NOT_FOUND', /no such endpoint/],
    ['POST', '/v1/models/mnist:explain', 'NOT_FOUND', /no such endpoint/],
    ['GET', '/v1/models/mnist:predict', 'INVALID_ARGUMENT', /takes POST/],
    ['POST', '/v1/models/mnist', 'INVALID_ARGUMENT', /takes GET/],
    ['GET', '/v1/models/mnist/versions/-1', 'INVALID_ARGUMENT', /non-negative integer/],
    ['GET', '/v1/models/mnist/versions/99999999999999999999', 'INVALID_ARGUMENT', /beyond the versions/],
  ])('%s %s is refused', (method, path, code, message) => {
    expect(() => parseModelRoute(method, path)).toThrowError(message);
    try {
      parseModelRoute(method, path);
    } catch (error) {
      expect((error as { code: string }).code).toBe(code);
    }
  });
});

// Found by the live fuzz test (hostile-requests.test.ts): these answered 500 (a URIError, a TypeError).
describe('malformed request paths are INVALID_ARGUMENT, naming the part', () => {
  it.each([
    ['/v1/models/%E0%A4%A', 'the model name in the path "%E0%A4%A" is not valid percent-encoded UTF-8'],
    ['/v1/models/mnist/versions/%ZZ', 'the version in the path "%ZZ" is not valid percent-encoded UTF-8'],
    ['/v1/models/mnist/labels/%C0', 'the version label in the path "%C0" is not valid percent-encoded UTF-8'],
  ])('%s', (path, message) => {
    expect(() => parseModelRoute('GET', path)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message }) as Error);
  });

  it('refuses a request target that is no path', () => {
    expect(() => requestPath('//[')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: 'the request target "//[" is not a valid path' }) as Error);
    expect(requestPath('/v1/models/m?x=1')).toBe('/v1/models/m');
  });
});
