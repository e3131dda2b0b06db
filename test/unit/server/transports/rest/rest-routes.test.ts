import { describe, expect, it } from 'vitest';
import { parseModelRoute } from '../../../../../src/server/transports/rest/rest-routes.js';

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
