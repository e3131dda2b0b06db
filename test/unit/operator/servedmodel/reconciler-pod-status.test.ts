/**
 * The reconciler with pod observation, over an in-memory cluster (the real apiserver version is
 * test/integration/operator/pod-status.test.ts): when it asks pods, when it comes back, which
 * Events a RoutingReady flip records, and that an unchanged observation writes nothing.
 */
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { ServedModelSpec } from '../../../../src/api/served-model-types.js';
import type { PodObservation, PodObserver, PodTarget } from '../../../../src/operator/servedmodel/pod-observation.js';
import { ServedModelReconciler } from '../../../../src/operator/servedmodel/reconciler.js';
import { servedModel } from '../fixtures.js';
import { MemoryCluster } from '../memory-cluster.js';

/** Reports whatever the test sets, and remembers which pods it was asked about. */
class ScriptedObserver implements PodObserver {
  asked: string[][] = [];
  constructor(public observation: PodObservation) {}
  observe(_key: string, _model: string, targets: readonly PodTarget[]): Promise<PodObservation> {
    this.asked.push(targets.map((t) => t.pod));
    return Promise.resolve(this.observation);
  }
  forget(): void {}
}

const observation = (versions: Record<number, number>): PodObservation => ({
  asked: 1,
  answered: 1,
  versions: new Map(Object.entries(versions).map(([v, available]) => [Number(v), { available, loading: 0, failed: 0 }])),
  unreachable: [],
});

const slice: V1EndpointSlice = {
  // The endpointslice controller copies the Service's labels.
  metadata: { name: 'mnist-headless-x', labels: { 'kubernetes.io/service-name': 'mnist-headless', 'tensorfleet.dev/served-model': 'mnist' } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8501 }],
  endpoints: [{ addresses: ['10.0.0.9'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'mnist-abc' } }],
};

/** A reconciler that asks no pods, and a condition of its ServedModel as `status/reason`. */
function withoutObserver(spec: Partial<ServedModelSpec>): { cluster: MemoryCluster; reconciler: ServedModelReconciler; condition: (type: string) => string | undefined } {
  const cluster = new MemoryCluster(servedModel(spec, { resourceVersion: '1' }));
  const reconciler = new ServedModelReconciler({ cluster, config: { image: 'tensorfleet/tensorfleet:test' }, now: () => new Date('2030-01-01T00:00:00Z'), logger: pino({ level: 'silent' }) });
  const condition = (type: string): string | undefined => {
    const c = cluster.sm.status?.conditions?.find((x) => x.type === type);
    return c && `${c.status}/${c.reason}`;
  };
  return { cluster, reconciler, condition };
}

describe('ServedModelReconciler with pod observation', () => {
  const setup = () => {
    const cluster = new MemoryCluster(servedModel({ versionLabels: { stable: 1 }, routing: { canary: { version: 2, percent: 10 } } }, { resourceVersion: '1' }));
    const observer = new ScriptedObserver(observation({ 1: 1 }));
    const reconciler = new ServedModelReconciler({
      cluster,
      config: { image: 'tensorfleet/tensorfleet:test' },
      now: () => new Date('2030-01-01T00:00:00Z'),
      logger: pino({ level: 'silent' }),
      observer,
      podStatusIntervalMs: 700,
    });
    return { cluster, observer, reconciler };
  };
  const routingReady = (cluster: MemoryCluster): string | undefined => {
    const c = cluster.sm.status?.conditions?.find((x) => x.type === 'RoutingReady');
    return c && `${c.status}/${c.reason}`;
  };

  it("asks no pod behind the ClusterIP Service of a ServedModel named mnist-headless, whose name is this one's headless Service's", async () => {
    const { cluster, observer, reconciler } = setup();
    cluster.slices = [{ ...slice, metadata: { name: 'mnist-headless-y', labels: { 'kubernetes.io/service-name': 'mnist-headless', 'tensorfleet.dev/served-model': 'mnist-headless' } } }];
    await reconciler.reconcile('ml', 'mnist');
    expect(observer.asked).toEqual([]);
    expect(routingReady(cluster)).toBe('Unknown/NotObserved');
  });

  it('asks no pod and does not come back while none is ready', async () => {
    const { cluster, observer, reconciler } = setup();
    const result = await reconciler.reconcile('ml', 'mnist');
    expect(result.requeueAfterMs).toBeUndefined();
    expect(observer.asked).toEqual([]);
    expect(routingReady(cluster)).toBe('Unknown/NotObserved');
  });

  it('asks the ready pods, comes back after the interval, records flips as Events and writes nothing when unchanged', async () => {
    const { cluster, observer, reconciler } = setup();
    await reconciler.reconcile('ml', 'mnist');
    cluster.slices = [slice];

    const first = await reconciler.reconcile('ml', 'mnist');
    expect(first).toMatchObject({ statusPatched: true, requeueAfterMs: 700 });
    expect(observer.asked.at(-1)).toEqual(['mnist-abc']);
    expect(routingReady(cluster)).toBe('False/RouteTargetUnavailable');
    expect(cluster.events.filter((e) => e !== 'Normal/Applied')).toEqual(['Warning/RouteTargetUnavailable']);

    const writes = cluster.writes;
    const again = await reconciler.reconcile('ml', 'mnist');
    expect(again).toEqual({ changed: [], statusPatched: false, requeueAfterMs: 700 });
    expect(cluster.writes).toBe(writes);

    observer.observation = observation({ 1: 1, 2: 1 });
    await reconciler.reconcile('ml', 'mnist');
    expect(routingReady(cluster)).toBe('True/RouteTargetsAvailable');
    expect(cluster.sm.status?.versions?.map((v) => `${v.version}:${v.state}`)).toEqual(['1:AVAILABLE', '2:AVAILABLE']);
    expect(cluster.events.filter((e) => e !== 'Normal/Applied')).toEqual(['Warning/RouteTargetUnavailable', 'Normal/RouteTargetsAvailable']);
  });

  it('asks pods that are not ready when none is, and reports a source they cannot list', async () => {
    const { cluster, observer, reconciler } = setup();
    cluster.slices = [{ ...slice, endpoints: [{ addresses: ['10.0.0.9'], conditions: { ready: false }, targetRef: { kind: 'Pod', name: 'mnist-new' } }] }];
    observer.observation = { asked: 1, answered: 1, versions: new Map(), unreachable: [], noVersions: { pod: 'mnist-new', message: 'Could not find any versions of model mnist; listing its base path fails: AccessDenied' } };
    const result = await reconciler.reconcile('ml', 'mnist');
    expect(observer.asked).toEqual([['mnist-new']]);
    expect(result.requeueAfterMs).toBe(700);
    expect(cluster.sm.status?.conditions?.find((c) => c.type === 'SourceReady')).toMatchObject({ status: 'False', reason: 'ListingFailed' });
    // Not ready pods are not counted as answering ones.
    expect(cluster.sm.status?.observedReplicas).toBeUndefined();
  });

  it("comes back while a pvc:// source's claim is missing or unbound, and stops once it is bound", async () => {
    const { cluster, reconciler, condition } = withoutObserver({ source: { uri: 'pvc://models/mnist' } });
    const source = (): string | undefined => condition('SourceReady');
    cluster.claim = { state: 'missing', name: 'models' };
    expect((await reconciler.reconcile('ml', 'mnist')).requeueAfterMs).toBe(30_000);
    expect(source()).toBe('False/ClaimNotFound');
    // SourceReady and Degraded both flip: one Event.
    expect(cluster.events.filter((e) => e.startsWith('Warning/'))).toEqual(['Warning/ClaimNotFound']);
    cluster.claim = { state: 'found', name: 'models', phase: 'Pending', accessModes: [] };
    expect((await reconciler.reconcile('ml', 'mnist')).requeueAfterMs).toBe(30_000);
    expect(source()).toBe('Unknown/ClaimPending');
    cluster.claim = { state: 'found', name: 'models', phase: 'Bound', accessModes: ['ReadOnlyMany'] };
    expect((await reconciler.reconcile('ml', 'mnist')).requeueAfterMs).toBeUndefined();
    expect(source()).toBe('True/ClaimBound');
  });

  it('comes back while the TLS Secret is missing or incomplete, and stops once it is whole', async () => {
    const { cluster, reconciler, condition } = withoutObserver({ tls: { secretName: 'mnist-tls' } });
    const degraded = (): string | undefined => condition('Degraded');
    // Nothing the operator watches announces the Secret: the 5-minute resync would be the next look.
    expect((await reconciler.reconcile('ml', 'mnist')).requeueAfterMs).toBe(30_000);
    expect(degraded()).toBe('True/TLSSecretNotFound');
    cluster.secrets.set('mnist-tls', ['tls.crt']);
    expect((await reconciler.reconcile('ml', 'mnist')).requeueAfterMs).toBe(30_000);
    expect(degraded()).toBe('True/TLSSecretIncomplete');
    cluster.secrets.set('mnist-tls', ['tls.crt', 'tls.key']);
    expect((await reconciler.reconcile('ml', 'mnist')).requeueAfterMs).toBeUndefined();
    expect(degraded()).toBe('False/AsExpected');
  });
});
