/**
 * Status that follows what the model servers really serve: the operator (least-privilege RBAC,
 * real apiserver) finds the ready pods in the EndpointSlices of a ServedModel's headless Service
 * and asks each one's REST port for the model status. There is no kubelet here, so the two
 * serving "pods" are real `tensorfleet serve` processes on loopback, each with its own model
 * directory, reached through an EndpointSlice we create (the
 * harness runs no endpointslice controller; ours says it is managed by this test anyway, so a
 * controller would leave it alone) and the operator's test hook that maps pod addresses to
 * loopback (EndpointSlices may not hold loopback addresses).
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Condition, ServedModelStatus } from '../../../src/api/served-model-types.js';
import { k8sTestsSkipped, startControlPlane, type ControlPlane } from '../../helpers/k8s/control-plane.js';
import { eventually } from '../../helpers/k8s/eventually.js';
import { installCrdAndRbac } from '../../helpers/k8s/install-operator-rbac.js';
import { kubectlJson, kubectlOk } from '../../helpers/k8s/kubectl.js';
import { startOperator, type RunningOperator } from '../../helpers/k8s/operator-process.js';
import { fixtureVersionDir, publishVersion, tempDir, type TempDir } from '../../helpers/server/model-dirs.js';
import { freePort, startServer, type ServerProcess } from '../../helpers/server/server-process.js';

interface ServedModelObj {
  metadata: { name: string; resourceVersion: string; generation?: number };
  status?: ServedModelStatus;
}

const POD_A_IP = '10.200.0.5';
const POD_B_IP = '10.200.0.8';
const DEAD_POD_IP = '10.200.0.6';
const NOT_READY_POD_IP = '10.200.0.7';
const EMPTY_POD_IP = '10.200.0.9';
const WRITES = 'tensorfleet_operator_api_writes_total';

describe.skipIf(k8sTestsSkipped())('ServedModel status from the model server pods', () => {
  let cp: ControlPlane;
  let modelsA: TempDir;
  let modelsB: TempDir;
  let serverA: ServerProcess;
  let serverB: ServerProcess;
  /** A server whose model's base path does not exist: it runs, is never ready, and says why. */
  let serverEmpty: ServerProcess;
  let op: RunningOperator;
  let deadPort: number;
  const ns = 'pod-status';

  const admin = (args: string[], input?: string): Promise<string> => kubectlOk(cp.adminKubeconfig, args, input);
  const sm = (name: string): Promise<ServedModelObj> => kubectlJson<ServedModelObj>(cp.adminKubeconfig, ['-n', ns, 'get', 'sm', name]);
  const condition = (s: ServedModelObj, type: string): Condition | undefined => s.status?.conditions?.find((c) => c.type === type);
  const events = async (reason: string): Promise<string[]> =>
    (await kubectlJson<{ items: { reason: string; type: string; message: string }[] }>(cp.adminKubeconfig, ['-n', ns, 'get', 'events', '--field-selector', `reason=${reason}`]))
      .items.map((e) => `${e.type}: ${e.message}`);

  /** An EndpointSlice for `<name>-headless`, as the endpointslice controller would write it for our pods. */
  const endpointSlice = (name: string): string =>
    stringify({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${name}-headless-test`,
        labels: {
          'kubernetes.io/service-name': `${name}-headless`,
          'endpointslice.kubernetes.io/managed-by': 'tensorfleet-integration-test',
          // The endpointslice controller copies the Service's labels; the operator's informer selects on them.
          'app.kubernetes.io/managed-by': 'tensorfleet-operator',
          'tensorfleet.dev/served-model': name,
        },
      },
      addressType: 'IPv4',
      ports: [{ name: 'grpc', port: 8500, protocol: 'TCP' }, { name: 'http', port: 8501, protocol: 'TCP' }],
      endpoints: [
        { addresses: [POD_A_IP], conditions: { ready: true }, targetRef: { kind: 'Pod', name: `${name}-a`, namespace: ns } },
        { addresses: [POD_B_IP], conditions: { ready: true }, targetRef: { kind: 'Pod', name: `${name}-b`, namespace: ns } },
        { addresses: [DEAD_POD_IP], conditions: { ready: true }, targetRef: { kind: 'Pod', name: `${name}-dead`, namespace: ns } },
        // Not ready: never asked (it would not answer either).
        { addresses: [NOT_READY_POD_IP], conditions: { ready: false }, targetRef: { kind: 'Pod', name: `${name}-starting`, namespace: ns } },
      ],
    });

  beforeAll(async () => {
    modelsA = tempDir();
    modelsB = tempDir();
    for (const dir of [modelsA, modelsB]) for (const v of [1, 2]) publishVersion(fixtureVersionDir('versioned', v), dir.path, v);
    const serve = (dir: TempDir): Promise<ServerProcess> =>
      startServer({
        config: stringify({ model_config_list: [{ name: 'pm', base_path: dir.path, model_version_policy: { all: {} } }] }),
        args: ['--max_num_load_retries=0', '--load_retry_interval_micros=200000'],
      });
    const emptyServer = (): Promise<ServerProcess> =>
      startServer({ config: stringify({ model_config_list: [{ name: 'empty', base_path: join(modelsA.path, 'no-such-dir') }] }), waitReady: false });
    [cp, serverA, serverB, serverEmpty] = await Promise.all([startControlPlane(), serve(modelsA), serve(modelsB), emptyServer()]);
    deadPort = await freePort();
    await installCrdAndRbac(cp);
    await admin(['create', 'namespace', ns]);
    op = await startOperator({
      kubeconfig: cp.operatorKubeconfig,
      podStatusIntervalMs: 500,
      podStatusTimeoutMs: 1000,
      // Pods a and b are the real servers; the dead one is a port nobody listens on.
      modelServerBaseUrl: (ip) => `http://127.0.0.1:${ip === POD_A_IP ? serverA.restPort : ip === POD_B_IP ? serverB.restPort : ip === EMPTY_POD_IP ? serverEmpty.restPort : deadPort}`,
    });
  });
  afterAll(async () => {
    await op?.stop();
    await Promise.all([serverA?.stop(), serverB?.stop(), serverEmpty?.stop()]);
    await cp?.stop();
    modelsA?.remove();
    modelsB?.remove();
  });

  it('reports the versions the servers have loaded, and RoutingReady=False for a canary they lack until it is on every pod', async () => {
    await admin(
      ['apply', '-n', ns, '-f', '-'],
      stringify({
        apiVersion: 'tensorfleet.dev/v1alpha1',
        kind: 'ServedModel',
        metadata: { name: 'pm' },
        spec: {
          source: { uri: 's3://models/pm' },
          versionPolicy: { all: {} },
          versionLabels: { stable: 1 },
          routing: { canary: { version: 3, percent: 10 } },
        },
      }),
    );
    // Before any pod is known: what the spec configured, and no claim about routing.
    const configured = await eventually(async () => {
      const s = await sm('pm');
      expect(condition(s, 'RoutingReady')).toMatchObject({ status: 'Unknown', reason: 'NotObserved' });
      return s;
    });
    expect(configured.status?.versions).toEqual([
      { version: 1, state: 'Configured', labels: ['stable'] },
      { version: 3, state: 'Configured', percent: 10 },
    ]);
    expect(configured.status?.servedVersions).toBe('all');

    await admin(['apply', '-n', ns, '-f', '-'], endpointSlice('pm'));
    const missing = await eventually(async () => {
      const s = await sm('pm');
      // The dead pod does not count; the not-ready one is never asked.
      expect(s.status?.observedReplicas).toBe(2);
      expect(condition(s, 'RoutingReady')?.status).toBe('False');
      return s;
    });
    expect(missing.status?.versions).toEqual([
      { version: 1, state: 'AVAILABLE', availableReplicas: 2, labels: ['stable'] },
      { version: 2, state: 'AVAILABLE', availableReplicas: 2 },
      {
        version: 3,
        state: 'NOT_LOADED',
        availableReplicas: 0,
        percent: 10,
        message: 'none of the 2 pods has loaded it (not in the source, or outside the version policy)',
      },
    ]);
    expect(missing.status?.servedVersions).toBe('1,2');
    expect(condition(missing, 'RoutingReady')).toMatchObject({
      reason: 'RouteTargetUnavailable',
      message: 'canary version 3 is not loaded on any pod: its share of unversioned requests falls back to the stable version 1',
    });
    expect(condition(missing, 'Degraded')?.reason).toBe('AsExpected');
    await eventually(async () => expect(await events('RouteTargetUnavailable')).toEqual([expect.stringMatching(/^Warning: canary version 3 is not loaded/)]));
    expect(await op.metric('tensorfleet_operator_route_target_unavailable')).toBe(1);

    // Steady state while pods are watched: the operator keeps asking, and writes nothing.
    const rv = (await sm('pm')).metadata.resourceVersion;
    const writes = await op.metric(WRITES);
    const queries = await op.metric('tensorfleet_operator_pod_status_queries_total');
    await eventually(async () => expect(await op.metric('tensorfleet_operator_pod_status_queries_total')).toBeGreaterThanOrEqual(queries + 6));
    expect(await op.metric(WRITES)).toBe(writes);
    expect((await sm('pm')).metadata.resourceVersion).toBe(rv);

    // On one pod only: PARTIAL, and routing still not ready (the other pod falls back).
    publishVersion(fixtureVersionDir('versioned', 3), modelsA.path, 3);
    const partial = await eventually(async () => {
      const s = await sm('pm');
      expect(s.status?.versions?.find((v) => v.version === 3)?.state).toBe('PARTIAL');
      return s;
    }, 30_000);
    expect(partial.status?.versions?.find((v) => v.version === 3)).toEqual({ version: 3, state: 'PARTIAL', availableReplicas: 1, percent: 10, message: 'available on 1/2 pods' });
    expect(partial.status?.servedVersions).toBe('1,2,3');
    expect(condition(partial, 'RoutingReady')).toMatchObject({
      status: 'False',
      message: 'canary version 3 is available on only 1/2 pods: on the other pods, its share of unversioned requests falls back to the stable version 1',
    });

    publishVersion(fixtureVersionDir('versioned', 3), modelsB.path, 3);
    const ready = await eventually(async () => {
      const s = await sm('pm');
      expect(condition(s, 'RoutingReady')?.status).toBe('True');
      return s;
    }, 30_000);
    expect(condition(ready, 'RoutingReady')).toMatchObject({ reason: 'RouteTargetsAvailable', message: 'canary version 3, version 1 (label "stable") available on all 2 pods' });
    expect(ready.status?.versions?.find((v) => v.version === 3)).toEqual({ version: 3, state: 'AVAILABLE', availableReplicas: 2, percent: 10 });
    expect(ready.status?.servedVersions).toBe('1,2,3');
    await eventually(async () => expect(await events('RouteTargetsAvailable')).toEqual([expect.stringMatching(/^Normal: canary version 3, version 1/)]));
    expect(await op.metric('tensorfleet_operator_route_target_unavailable')).toBe(0);
  });

  it('reports a version that failed to load on one pod as FAILED and Degraded, with the server\'s error', async () => {
    const staging = join(modelsA.path, 'corrupt-4');
    cpSync(fixtureVersionDir('versioned', 3), staging, { recursive: true });
    writeFileSync(join(staging, 'saved_model.pb'), Buffer.from('not a SavedModel \u0000\u00ff'.repeat(20)));
    publishVersion(staging, modelsA.path, 4);
    const degraded = await eventually(async () => {
      const s = await sm('pm');
      expect(condition(s, 'Degraded')?.reason).toBe('VersionLoadFailed');
      return s;
    }, 30_000);
    const v4 = degraded.status?.versions?.find((v) => v.version === 4);
    expect(v4).toMatchObject({ state: 'FAILED', availableReplicas: 0 });
    expect(v4?.message).toMatch(/^failed to load on 1\/2 pods: .{10,}/);
    expect(condition(degraded, 'Degraded')?.message).toMatch(/^version 4 failed to load on 1\/2 pods: .{10,}/);
    // The versions that loaded still serve, and routing is unaffected.
    expect(degraded.status?.servedVersions).toBe('1,2,3');
    expect(condition(degraded, 'RoutingReady')?.status).toBe('True');
    await eventually(async () => expect((await events('VersionLoadFailed'))[0]).toMatch(/^Warning: version 4 failed to load/));
  });

  it('asks pods that are not ready when none is, and reports a server that cannot list its source as SourceReady=False with the reason', async () => {
    await admin(['apply', '-n', ns, '-f', '-'], stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name: 'empty' }, spec: { source: { uri: 's3://models/empty' } } }));
    await admin(
      ['apply', '-n', ns, '-f', '-'],
      stringify({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: 'empty-headless-test',
          labels: {
            'kubernetes.io/service-name': 'empty-headless',
            'endpointslice.kubernetes.io/managed-by': 'tensorfleet-integration-test',
            'app.kubernetes.io/managed-by': 'tensorfleet-operator',
            'tensorfleet.dev/served-model': 'empty',
          },
        },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: 8501, protocol: 'TCP' }],
        endpoints: [{ addresses: [EMPTY_POD_IP], conditions: { ready: false }, targetRef: { kind: 'Pod', name: 'empty-a', namespace: ns } }],
      }),
    );
    const s = await eventually(async () => {
      const found = await sm('empty');
      expect(condition(found, 'SourceReady')).toMatchObject({ status: 'False', reason: 'ListingFailed' });
      return found;
    });
    expect(condition(s, 'SourceReady')?.message).toBe(
      `The model servers cannot list the source (pod empty-a: Could not find any versions of model empty; listing its base path fails: model base path ${join(modelsA.path, 'no-such-dir')} does not exist)`,
    );
    expect(condition(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'ListingFailed' });
    expect(s.status?.observedReplicas).toBeUndefined();
    await eventually(async () => expect(await events('ListingFailed')).toHaveLength(1));
  });
});
