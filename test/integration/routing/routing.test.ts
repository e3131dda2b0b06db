/**
 * Routing inside the real server, with `versioned`-style models (y = 0.5x + version, so every
 * answer shows which version computed it): canary split, sticky A/B over gRPC metadata and REST
 * headers, fallback to stable, shadow copies whose failures callers never see, and routing
 * changed in the config file under load.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { eventually } from '../../helpers/k8s/eventually.js';
import { tfsClients, type TfsClients } from '../../helpers/server/grpc-client.js';
import { startLoad } from '../../helpers/server/load-generator.js';
import { waitForAvailable } from '../../helpers/server/model-status.js';
import { fixtureVersionDir, publishVersion, tempDir, type TempDir } from '../../helpers/server/model-dirs.js';
import { scrapeMetric } from '../../helpers/server/rest-client.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';
import { openInferenceGrpcVersioned, openInferenceRestVersioned, predictVersioned, restPredictVersioned, type VersionedAnswer } from '../../helpers/server/versioned-calls.js';

let models: TempDir;
let server: ServerProcess;
let clients: TfsClients;

const VERSIONED = join(fixtureVersionDir('versioned', 1), '..');

/** The whole config; `canaryPercent` is what the live-change test moves. */
function config(canaryPercent: number): string {
  return `
model_config_list:
  - name: canary
    base_path: ${VERSIONED}
    model_version_policy: {all: {}}
    version_labels: {stable: 2}
    routing:
      canary: {version: 3, percent: ${canaryPercent}}
  - name: ab
    base_path: ${VERSIONED}
    model_version_policy: {all: {}}
    routing:
      ab_test:
        key: {header: x-user-id}
        variants: [{version: 1, percent: 50}, {version: 3, percent: 50}]
  - name: fallback
    base_path: ${VERSIONED}
    model_version_policy: {specific: {versions: [1, 2]}}
    version_labels: {stable: 2}
    routing:
      canary: {version: 3, percent: 50}
  - name: shadow_agree
    base_path: ${join(models.path, 'shadow_agree')}
    model_version_policy: {all: {}}
    routing:
      shadow: {version: 1, percent: 100, tolerance: 1e-6}
  - name: shadow_disagree
    base_path: ${VERSIONED}
    model_version_policy: {all: {}}
    routing:
      shadow: {version: 1, percent: 100}
  - name: shadow_error
    base_path: ${join(models.path, 'shadow_error')}
    model_version_policy: {all: {}}
    routing:
      shadow: {version: 1, percent: 100}
`;
}

beforeAll(async () => {
  models = tempDir();
  // shadow_agree: versions 1 and 2 compute the same thing (both copies of versioned/1).
  mkdirSync(join(models.path, 'shadow_agree'));
  publishVersion(fixtureVersionDir('versioned', 1), join(models.path, 'shadow_agree'), 1);
  publishVersion(fixtureVersionDir('versioned', 1), join(models.path, 'shadow_agree'), 2);
  // shadow_error: the shadow (version 1) is `tiny`, whose signature cannot take the primary's input.
  mkdirSync(join(models.path, 'shadow_error'));
  publishVersion(fixtureVersionDir('tiny', 1), join(models.path, 'shadow_error'), 1);
  publishVersion(fixtureVersionDir('versioned', 2), join(models.path, 'shadow_error'), 2);
  server = await startServer({ config: config(20), args: ['--model_config_file_poll_wait_seconds=1'] });
  clients = tfsClients(server.grpcTarget);
  await Promise.all([
    waitForAvailable(clients.model, 'canary', [1, 2, 3]),
    waitForAvailable(clients.model, 'ab', [1, 2, 3]),
    waitForAvailable(clients.model, 'fallback', [1, 2]),
    waitForAvailable(clients.model, 'shadow_agree', [1, 2]),
    waitForAvailable(clients.model, 'shadow_disagree', [1, 2, 3]),
    waitForAvailable(clients.model, 'shadow_error', [1, 2]),
  ]);
});

afterAll(async () => {
  clients?.close();
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
  models?.remove();
});

/** `n` calls, `concurrency` at a time. */
async function many<T>(n: number, call: (i: number) => Promise<T>, concurrency = 16): Promise<T[]> {
  const out: T[] = [];
  for (let start = 0; start < n; start += concurrency) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(concurrency, n - start) }, (_, j) => call(start + j)))));
  }
  return out;
}

const countBy = (answers: readonly VersionedAnswer[]): Record<number, number> => {
  const counts: Record<number, number> = {};
  for (const a of answers) {
    expect(a.computed).toBe(a.reported);
    counts[a.reported] = (counts[a.reported] ?? 0) + 1;
  }
  return counts;
};

/** |count - n p| within 4.5 binomial standard deviations. */
function expectBinomial(count: number, n: number, p: number): void {
  const sigma = Math.sqrt(n * p * (1 - p));
  expect(Math.abs(count - n * p), `${count} of ${n} at p=${p} (sigma ${sigma.toFixed(1)})`).toBeLessThanOrEqual(4.5 * sigma);
}

describe('canary', () => {
  test('20% to the canary, the rest to the stable label, within a 4.5-sigma binomial bound', async () => {
    const n = 2000;
    const counts = countBy(await many(n, (i) => predictVersioned(clients, 'canary', i % 10)));
    expect(Object.keys(counts).sort()).toEqual(['2', '3']);
    expectBinomial(counts[3]!, n, 0.2);
    const variantCount = await scrapeMetric(server.restUrl, 'tensorfleet_requests_total', { model: 'canary', variant: 'canary', version: '3' });
    expect(variantCount).toBe(counts[3]);
  });

  test('Open Inference Protocol calls naming no version are split the same way', async () => {
    const n = 400;
    const counts = countBy(await many(n, (i) => (i % 2 === 0 ? openInferenceRestVersioned(server.restUrl, 'canary', i % 10) : openInferenceGrpcVersioned(clients, 'canary', i % 10))));
    expect(Object.keys(counts).sort()).toEqual(['2', '3']);
    expectBinomial(counts[3]!, n, 0.2);
  });

  test('an explicit version or label is never rerouted', async () => {
    const pinned = countBy(await many(100, () => predictVersioned(clients, 'canary', 1, { version: 1 })));
    expect(pinned).toEqual({ 1: 100 });
    const labelled = countBy(await many(100, () => predictVersioned(clients, 'canary', 1, { label: 'stable' })));
    expect(labelled).toEqual({ 2: 100 });
  });
});

describe('A/B test', () => {
  test('the same user always gets the same version, over gRPC metadata and REST headers, in both protocols', async () => {
    const users = Array.from({ length: 200 }, (_, i) => `user-${i}`);
    const assigned = new Map<string, number>();
    for (const user of users) {
      const answers = await Promise.all([
        predictVersioned(clients, 'ab', 1, {}, { 'x-user-id': user }),
        predictVersioned(clients, 'ab', 2, {}, { 'x-user-id': user }),
        restPredictVersioned(server.restUrl, 'ab', 3, { 'x-user-id': user }),
        predictVersioned(clients, 'ab', 4, {}, { 'x-user-id': user }),
        openInferenceRestVersioned(server.restUrl, 'ab', 5, { 'x-user-id': user }),
        openInferenceGrpcVersioned(clients, 'ab', 6, { 'x-user-id': user }),
      ]);
      for (const a of answers) expect(a.computed).toBe(a.reported);
      expect(new Set(answers.map((a) => a.reported)).size, user).toBe(1);
      assigned.set(user, answers[0].reported);
    }
    const versions = [...assigned.values()];
    expect(new Set(versions)).toEqual(new Set([1, 3]));
    expectBinomial(versions.filter((v) => v === 3).length, users.length, 0.5);
    // Sticky across time too: a second pass gives every user the same version again.
    for (const user of users.slice(0, 50)) expect((await restPredictVersioned(server.restUrl, 'ab', 0, { 'x-user-id': user })).reported).toBe(assigned.get(user));
  });

  test('requests without the key are split by weight', async () => {
    const n = 400;
    const counts = countBy(await many(n, (i) => predictVersioned(clients, 'ab', i % 10)));
    expect(Object.keys(counts).sort()).toEqual(['1', '3']);
    expectBinomial(counts[3]!, n, 0.5);
  });
});

test('a route to an unavailable version falls back to stable, counted and logged, with no errors', async () => {
  const before = await scrapeMetric(server.restUrl, 'tensorfleet_routing_fallbacks_total', { model: 'fallback', wanted_version: '3' });
  const n = 200;
  const counts = countBy(await many(n, (i) => predictVersioned(clients, 'fallback', i % 10)));
  expect(counts).toEqual({ 2: n });
  const after = await scrapeMetric(server.restUrl, 'tensorfleet_routing_fallbacks_total', { model: 'fallback', wanted_version: '3' });
  expectBinomial(after - before, n, 0.5);
  expect(server.logs.some((l) => l.msg === 'routing fell back to the stable version' && l.model === 'fallback')).toBe(true);
});

describe('shadow', () => {
  const outcomes = async (model: string): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const outcome of ['agree', 'disagree', 'error']) out[outcome] = await scrapeMetric(server.restUrl, 'tensorfleet_shadow_requests_total', { model, version: '1', outcome });
    return out;
  };

  test.each([
    { model: 'shadow_agree', primary: 2, computed: 1, outcome: 'agree' },
    { model: 'shadow_disagree', primary: 3, computed: 3, outcome: 'disagree' },
    { model: 'shadow_error', primary: 2, computed: 2, outcome: 'error' },
  ])('$model: callers get the primary answer only; the shadow is counted as $outcome', async ({ model, primary, computed, outcome }) => {
    const n = 50;
    const grpcAnswers = await many(n, (i) => predictVersioned(clients, model, i % 10));
    const restAnswers = await many(n, (i) => restPredictVersioned(server.restUrl, model, i % 10));
    for (const a of [...grpcAnswers, ...restAnswers]) expect(a).toEqual({ reported: primary, computed });
    const expected = { agree: 0, disagree: 0, error: 0, [outcome]: 2 * n };
    await eventually(async () => expect(await outcomes(model)).toEqual(expected), 10_000, 100);
  });

  test('pinned requests are not copied', async () => {
    const before = await outcomes('shadow_disagree');
    await many(20, () => predictVersioned(clients, 'shadow_disagree', 1, { version: 3 }));
    await sleep(200);
    expect(await outcomes('shadow_disagree')).toEqual(before);
  });
});

test('routing changed in the config file under load: zero failed requests, new split within seconds', async () => {
  const load = startLoad((i) => predictVersioned(clients, 'canary', i % 10), 4);
  await sleep(500);
  const changedAt = Date.now();
  writeFileSync(server.configPath, config(100));
  // Every answer after the change is applied comes from the canary: wait for a long run of them.
  await eventually(() => {
    const tail = load.results.slice(-100);
    expect(tail.length).toBe(100);
    expect(tail.every((a) => a.reported === 3)).toBe(true);
  }, 15_000, 50);
  const appliedMs = Date.now() - changedAt;
  writeFileSync(server.configPath, config(0));
  await eventually(() => expect(load.results.slice(-100).every((a) => a.reported === 2)).toBe(true), 15_000, 50);
  const result = await load.stop();
  expect(result.failures.map(String)).toEqual([]);
  expect(result.results.filter((a) => a.reported !== a.computed)).toEqual([]);
  expect(appliedMs).toBeLessThan(10_000);
  expect(server.logs.filter((l) => l.msg === 'model config reloaded').length).toBeGreaterThanOrEqual(2);
});
