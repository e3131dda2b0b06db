/**
 * The shutdown delay in a Kubernetes pod: after SIGTERM the server keeps taking calls, on open
 * connections and new ones, while /readyz and gRPC health say it is going, so that the pod leaves
 * its Services before anything is refused; then it drains and exits. The default of 5 s comes
 * from KUBERNETES_SERVICE_HOST, as in a pod (the test helper drops the variable otherwise).
 */
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { tfsClients, type TfsClients } from '../../helpers/server/grpc-client.js';
import { fixtureVersionDir } from '../../helpers/server/model-dirs.js';
import { rest } from '../../helpers/server/rest-client.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';
import { predictVersioned } from '../../helpers/server/versioned-calls.js';

let server: ServerProcess | undefined;
const opened: TfsClients[] = [];
const connect = (target: string): TfsClients => {
  const clients = tfsClients(target, { ownConnection: true });
  opened.push(clients);
  return clients;
};

afterAll(async () => {
  for (const c of opened) c.close();
  await server?.stop();
});

test('in a pod, SIGTERM leaves 5 s of service with readiness and health down, then the server drains and exits 0', async () => {
  server = await startServer({
    config: `model_config_list:\n  - {name: versioned, base_path: ${JSON.stringify(join(fixtureVersionDir('versioned', 1), '..'))}}\n`,
    env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' },
  });
  const running = server;
  const before = connect(running.grpcTarget);
  expect(await predictVersioned(before, 'versioned', 1)).toEqual({ reported: 3, computed: 3 });
  expect((await rest(running.restUrl, '/readyz')).status).toBe(200);

  const signalledAt = Date.now();
  process.kill(running.pid, 'SIGTERM');
  await running.waitForLog((l) => l.msg?.startsWith('server draining') === true, 3000);
  expect(running.logs.find((l) => l.msg?.startsWith('server draining'))).toMatchObject({ delaySeconds: 5 });

  // Still serving: the open connection, a new one, REST; only readiness and health say otherwise.
  expect(await predictVersioned(before, 'versioned', 2)).toEqual({ reported: 3, computed: 3 });
  const after = connect(running.grpcTarget);
  expect(await predictVersioned(after, 'versioned', 3)).toEqual({ reported: 3, computed: 3 });
  expect((await rest(running.restUrl, '/v1/models/versioned:predict', { body: { instances: [1] } })).status).toBe(200);
  expect((await rest(running.restUrl, '/readyz')).status).toBe(503);
  expect((await rest(running.restUrl, '/healthz')).status).toBe(200);
  for (const service of ['', 'versioned']) {
    expect((await after.health.call<{ status: string }>('Check', { service })).response.status).toBe('NOT_SERVING');
  }
  const stillServingUntil = Date.now();

  expect(await running.exited).toEqual({ code: 0, signal: null });
  const exitedAt = Date.now();
  expect(stillServingUntil - signalledAt).toBeLessThan(5000);
  expect(exitedAt - signalledAt).toBeGreaterThanOrEqual(5000);
  expect(running.logs.some((l) => l.msg === 'server stopped')).toBe(true);
});
