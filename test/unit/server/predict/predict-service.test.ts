import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { RoutingConfig } from '../../../../src/server/config/model-config.js';
import type { HostTensor } from '../../../../src/server/core/host-tensor.js';
import { CallHangup } from '../../../../src/server/core/hangup.js';
import type { RunOptions, Servable } from '../../../../src/server/core/servable.js';
import { ServerMetrics } from '../../../../src/server/metrics/server-metrics.js';
import type { ModelCatalog, VersionHandle } from '../../../../src/server/predict/model-catalog.js';
import { PredictService, type CallContext } from '../../../../src/server/predict/predict-service.js';
import { seededRandom } from '../../../../src/server/routing/seeded-random.js';
import { ServingError } from '../../../../src/shared/errors.js';

const float = (value: number): HostTensor => ({ dtype: 'DT_FLOAT', shape: [1], bytes: new Uint8Array(new Float32Array([value]).buffer) });
const valueOf = (t: HostTensor | undefined): number => new Float32Array((t as { bytes: Uint8Array }).bytes.slice().buffer)[0]!;

/** A servable answering y = version (optionally failing), standing in for TensorFlow in this unit. */
function versionServable(version: number, fail = false): Servable {
  return {
    signatures: {
      serving_default: {
        methodName: 'tensorflow/serving/predict',
        inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1] } },
        outputs: { y: { name: 'y:0', dtype: 'DT_FLOAT', shape: [-1] } },
      },
    },
    run: () => (fail ? Promise.reject(new ServingError('INTERNAL', 'boom')) : Promise.resolve({ y: float(version) })),
    unload: () => Promise.resolve(),
  };
}

class MemoryCatalog implements ModelCatalog {
  held = 0;
  constructor(
    private readonly versions: Map<number, Servable>,
    private readonly routes: RoutingConfig | undefined,
    private readonly labelMap: Record<string, number> = {},
  ) {}
  acquire(model: string, selector: { version?: number; label?: string }): VersionHandle {
    const version = selector.label !== undefined ? this.labelMap[selector.label] : (selector.version ?? Math.max(...this.versions.keys()));
    const servable = version === undefined ? undefined : this.versions.get(version);
    if (!servable || version === undefined) throw new ServingError('NOT_FOUND', `no version ${version}`);
    this.held++;
    return { model, version, servable, release: () => void this.held-- };
  }
  availableVersions(): number[] {
    return [...this.versions.keys()];
  }
  labels(): Record<string, number> {
    return this.labelMap;
  }
  logging(): undefined {
    return undefined;
  }
  routing(): RoutingConfig | undefined {
    return this.routes;
  }
}

const call = (headers: Record<string, string> = {}): CallContext => ({ entrypoint: 'GRPC', headers: (name) => headers[name] });
const service = (catalog: ModelCatalog, metrics = new ServerMetrics({ processMetrics: false })): PredictService =>
  new PredictService(catalog, metrics, pino({ level: 'silent' }), seededRandom(7), () => 0);
const inputs = (): Record<string, HostTensor> => ({ x: float(1) });

describe('PredictService', () => {
  const both = new Map([
    [1, versionServable(1)],
    [2, versionServable(2)],
  ]);

  it.each([
    ['no version, no routing: the newest', {}, undefined, 2, 'latest'],
    ['an explicit version', { version: 1 }, undefined, 1, 'pinned'],
    ['a label', { label: 'stable' }, undefined, 1, 'label:stable'],
    ['a 100% canary', {}, { canary: { version: 2, percent: 100 } }, 2, 'canary'],
    ['a 0% canary: stable', {}, { canary: { version: 2, percent: 0 } }, 1, 'stable'],
    ['an explicit version under a canary', { version: 1 }, { canary: { version: 2, percent: 100 } }, 1, 'pinned'],
  ] as const)('%s', async (_name, selector, routing, version, variant) => {
    const catalog = new MemoryCatalog(both, routing, { stable: 1 });
    const result = await service(catalog).predict({ name: 'm', ...selector }, inputs, [], call());
    expect(result).toMatchObject({ model: 'm', version, variant, signatureName: 'serving_default' });
    expect(valueOf(result.outputs.y)).toBe(version);
    expect(catalog.held).toBe(0);
  });

  it('keeps an A/B key on one version', async () => {
    const routing: RoutingConfig = { abTest: { keyHeader: 'x-user-id', variants: [{ version: 1, percent: 50 }, { version: 2, percent: 50 }] } };
    const svc = service(new MemoryCatalog(both, routing));
    const first = await svc.predict({ name: 'm' }, inputs, [], call({ 'x-user-id': 'alice' }));
    for (let i = 0; i < 20; i++) {
      expect((await svc.predict({ name: 'm' }, inputs, [], call({ 'x-user-id': 'alice' }))).version).toBe(first.version);
    }
  });

  it('falls back to stable when the canary is not available, and counts it', async () => {
    const metrics = new ServerMetrics({ processMetrics: false });
    const catalog = new MemoryCatalog(new Map([[1, versionServable(1)]]), { canary: { version: 9, percent: 100 } });
    const result = await service(catalog, metrics).predict({ name: 'm' }, inputs, [], call());
    expect(result.version).toBe(1);
    expect((await metrics.routingFallbacks.get()).values).toEqual([expect.objectContaining({ value: 1, labels: { model: 'm', wanted_version: '9' } })]);
  });

  it.each([
    ['fails', true, 'error'],
    ['answers differently', false, 'disagree'],
  ] as const)('hides a shadow that %s from the caller and counts it', async (_name, shadowFails, outcome) => {
    const metrics = new ServerMetrics({ processMetrics: false });
    const versions = new Map([
      [1, versionServable(1)],
      [2, versionServable(2, shadowFails)],
    ]);
    // A 0% canary makes version 1 (stable) the primary; every request is copied to version 2.
    const routing: RoutingConfig = { canary: { version: 2, percent: 0 }, shadow: { version: 2, percent: 100, tolerance: 0.5 } };
    const catalog = new MemoryCatalog(versions, routing, { stable: 1 });
    const result = await service(catalog, metrics).predict({ name: 'm' }, inputs, [], call());
    expect(result.version).toBe(1);
    expect(valueOf(result.outputs.y)).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    const counted = (await metrics.shadowRequests.get()).values;
    expect(counted).toEqual([expect.objectContaining({ value: 1, labels: { model: 'm', version: '2', outcome } })]);
    expect(catalog.held).toBe(0);
  });

  it('runs a shadow copy after its caller has gone: the caller has its answer, the copy is ours', async () => {
    const metrics = new ServerMetrics({ processMetrics: false });
    const shadowRuns: RunOptions[] = [];
    const shadow: Servable = { ...versionServable(2), run: (_s, _i, _o, options = {}) => (shadowRuns.push(options), Promise.resolve({ y: float(2) })) };
    const routing: RoutingConfig = { canary: { version: 2, percent: 0 }, shadow: { version: 2, percent: 100, tolerance: 0.5 } };
    const catalog = new MemoryCatalog(new Map([[1, versionServable(1)], [2, shadow]]), routing, { stable: 1 });
    const hangup = new CallHangup();
    await service(catalog, metrics).predict({ name: 'm' }, inputs, [], { ...call(), hangup });
    hangup.aborted = true; // the answer went out and the stream closed
    await new Promise((resolve) => setImmediate(resolve));
    expect(shadowRuns).toHaveLength(1);
    expect(shadowRuns[0]!.hangup).toBeUndefined();
    expect((await metrics.shadowRequests.get()).values).toEqual([expect.objectContaining({ labels: { model: 'm', version: '2', outcome: 'disagree' } })]); // ran and compared (1 against 2)
  });

  it('counts errors by code and releases the version', async () => {
    const metrics = new ServerMetrics({ processMetrics: false });
    const catalog = new MemoryCatalog(both, undefined);
    const bad = (): Record<string, HostTensor> => ({ nope: float(1) });
    await expect(service(catalog, metrics).predict({ name: 'm' }, bad, [], call())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(service(catalog, metrics).predict({ name: 'm', signatureName: 'other' }, inputs, [], call())).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const codes = metrics.requests.get().values.map((v) => v.labels.code).sort();
    expect(codes).toEqual(['INVALID_ARGUMENT', 'NOT_FOUND']);
    expect(catalog.held).toBe(0);
  });

  it("keeps Triton-style statistics of predict calls per version: rows, executions and where the time went", async () => {
    const timed: Servable = {
      ...versionServable(1),
      run: (_signature, _inputs, _outputs, options) => {
        if (options?.timing) Object.assign(options.timing, { queueNs: 5, inputNs: 10, inferNs: 1000, outputNs: 20, executions: 1 });
        return Promise.resolve({ y: float(1) });
      },
    };
    const predict = service(new MemoryCatalog(new Map([[1, timed]]), undefined));
    const rows = (n: number): Record<string, HostTensor> => ({ x: { dtype: 'DT_FLOAT', shape: [n], bytes: new Uint8Array(4 * n) } });
    await predict.predict({ name: 'm' }, () => rows(3), [], call());
    await predict.predict({ name: 'm' }, () => rows(1), [], call());
    await expect(predict.predict({ name: 'm' }, () => ({ z: float(1) }), [], call())).rejects.toThrow(/z/);
    // Metadata is not an inference.
    await predict.metadata({ name: 'm' }, call());
    const stats = predict.statistics.get('m', 1);
    expect(stats).toMatchObject({
      inferenceCount: 4,
      executionCount: 2,
      success: { count: 2 },
      fail: { count: 1 },
      queue: { count: 2, ns: 10 },
      computeInput: { count: 2, ns: 20 },
      computeInfer: { count: 2, ns: 2000 },
      computeOutput: { count: 2, ns: 40 },
    });
    expect(stats.lastInference).toBeGreaterThan(0);
    // Unbatched, each execution's batch size is its request's rows.
    expect([...stats.batches.values()].map((b) => [b.batchSize, b.computeInfer.count, b.computeInfer.ns])).toEqual([
      [3, 1, 1000],
      [1, 1, 1000],
    ]);
    expect(predict.statistics.get('m', 2).success.count).toBe(0);
  });
});
