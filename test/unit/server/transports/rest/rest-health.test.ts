/** /healthz and /readyz answers from the backend's state, and CORS headers, over a real HTTP server. */
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, expect, test } from 'vitest';
import { createRestServer, type RestBackend } from '../../../../../src/server/transports/rest/rest-server.js';
import { ServerMetrics } from '../../../../../src/server/metrics/server-metrics.js';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

interface HealthState {
  ready: boolean;
  unready: string[];
  problem: string | undefined;
}

async function serve(state: HealthState, cors = false): Promise<string> {
  const backend: RestBackend = {
    predict: undefined as never,
    metrics: new ServerMetrics(),
    status: () => [],
    labels: () => ({}),
    isReady: () => state.ready,
    modelNames: () => [],
    unreadyModels: () => state.unready,
    livenessProblem: () => state.problem,
  };
  const server = createRestServer(backend, { maxRequestBytes: 1024, limits: { maxElements: 10 }, timeoutMs: 1000, cors }, pino({ level: 'silent' }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  close = () => new Promise((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const get = async (url: string): Promise<{ status: number; body: string }> => {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
};

test.each([
  { what: 'healthy and ready', state: { ready: true, unready: [], problem: undefined }, healthz: [200, 'ok\n'], readyz: [200, '{"ready":true}'] },
  {
    what: 'healthy, waiting for a model',
    state: { ready: false, unready: ['mnist'], problem: undefined },
    healthz: [200, 'ok\n'],
    readyz: [503, '{"ready":false,"waiting_for":["mnist"]}'],
  },
  {
    what: 'a lost inference worker fails both',
    state: { ready: true, unready: [], problem: 'inference worker 0 died and could not be replaced' },
    healthz: [503, 'unhealthy: inference worker 0 died and could not be replaced\n'],
    readyz: [503, '{"ready":false,"error":"inference worker 0 died and could not be replaced"}'],
  },
] as const)('$what', async ({ state, healthz, readyz }) => {
  const base = await serve({ ...state, unready: [...state.unready] });
  expect(await get(`${base}/healthz`)).toEqual({ status: healthz[0], body: healthz[1] });
  expect(await get(`${base}/readyz`)).toEqual({ status: readyz[0], body: readyz[1] });
});

test('sends CORS headers and answers preflights only with --rest_api_enable_cors_support', async () => {
  const state = { ready: true, unready: [], problem: undefined };
  const preflight = { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } };
  for (const cors of [false, true]) {
    const base = await serve(state, cors);
    const readyz = await fetch(`${base}/readyz`, { headers: { origin: 'https://app.example' } });
    expect(readyz.headers.get('access-control-allow-origin'), `cors ${cors}`).toBe(cors ? '*' : null);
    const options = await fetch(`${base}/v1/models/m:predict`, preflight);
    expect({ status: options.status, allowHeaders: options.headers.get('access-control-allow-headers') }, `cors ${cors}`).toEqual(
      cors ? { status: 204, allowHeaders: 'content-type' } : { status: 400, allowHeaders: null },
    );
    await close?.();
    close = undefined;
  }
});
