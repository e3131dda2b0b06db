/**
 * spec.batching through the real apiserver: the operator renders the parameters file into the
 * ConfigMap and the flags into the Deployment, rolls the pods when the parameters change (the
 * server reads them only at start), removes both when batching is turned off, and writes nothing
 * once converged. The tests run in order on one ServedModel, each starting where the last ended.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultBatchingParameters, parseBatchingParameters } from '../../../src/server/batching/batching-parameters.js';
import { k8sTestsSkipped, startControlPlane, type ControlPlane } from '../../helpers/k8s/control-plane.js';
import { eventually } from '../../helpers/k8s/eventually.js';
import { installCrdAndRbac } from '../../helpers/k8s/install-operator-rbac.js';
import { kubectlJson, kubectlOk } from '../../helpers/k8s/kubectl.js';
import { startOperator, type RunningOperator } from '../../helpers/k8s/operator-process.js';

interface ConfigMap {
  metadata: { resourceVersion: string };
  data?: Record<string, string>;
}
interface ServedModelObj {
  metadata: { generation: number };
  spec: { batching?: Record<string, unknown> };
  status?: { observedGeneration?: number };
}

const NS = 'batching';
const FILE_FLAG = '--batching_parameters_file=/etc/tensorfleet/batching_parameters.txt';
const HASH = 'tensorfleet.dev/restart-hash';
const WRITES = 'tensorfleet_operator_api_writes_total';
const RECONCILES = 'tensorfleet_operator_reconciles_total';

describe.skipIf(k8sTestsSkipped())('spec.batching on a real control plane', () => {
  let cp: ControlPlane;
  let op: RunningOperator | undefined;

  const get = <T>(what: string): Promise<T> => kubectlJson<T>(cp.adminKubeconfig, ['-n', NS, 'get', ...what.split(' ')]);
  const apply = (spec: Record<string, unknown>): Promise<string> =>
    kubectlOk(cp.adminKubeconfig, ['apply', '-n', NS, '-f', '-'], stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name: 'b' }, spec }));
  const deployment = (): Promise<V1Deployment> => get<V1Deployment>('deploy b');
  const args = async (): Promise<string[]> => (await deployment()).spec?.template.spec?.containers[0]?.args ?? [];
  const restartHash = async (): Promise<string | undefined> => (await deployment()).spec?.template.metadata?.annotations?.[HASH];
  const parameters = async (): Promise<string | undefined> => (await get<ConfigMap>('cm b-models')).data?.['batching_parameters.txt'];
  /** The operator has acted on the latest spec. */
  const observed = async (): Promise<void> => {
    const sm = await get<ServedModelObj>('sm b');
    expect(sm.status?.observedGeneration).toBe(sm.metadata.generation);
  };
  const resourceVersions = async (): Promise<string[]> =>
    (await kubectlJson<{ items: { metadata: { name: string; resourceVersion: string } }[] }>(cp.adminKubeconfig, ['-n', NS, 'get', 'sm,deploy,cm,svc', '-o', 'json'])).items.map(
      (o) => `${o.metadata.name}@${o.metadata.resourceVersion}`,
    );

  beforeAll(async () => {
    cp = await startControlPlane();
    await installCrdAndRbac(cp);
    await kubectlOk(cp.adminKubeconfig, ['create', 'namespace', NS]);
    op = await startOperator({ kubeconfig: cp.operatorKubeconfig, resyncMs: 500 });
  });
  afterAll(async () => {
    await op?.stop();
    await cp?.stop();
  });

  it('starts without batching: no flags, no parameters file', async () => {
    await apply({ source: { uri: 's3://models/b' } });
    await eventually(observed);
    await eventually(async () => expect(await args()).toContain('serve'));
    expect((await args()).filter((a) => a.includes('batching'))).toEqual([]);
    expect(await parameters()).toBeUndefined();
  });

  it('turns batching on with the defaults: the file the server reads, the flags, new pods', async () => {
    const before = await restartHash();
    const generation = (await deployment()).metadata?.generation ?? 0;
    await apply({ source: { uri: 's3://models/b' }, batching: {} });
    await eventually(async () => expect(await args()).toEqual(expect.arrayContaining(['--enable_batching', FILE_FLAG])));
    // The apiserver filled in the CRD defaults; the server reads the file as its own defaults.
    expect((await get<ServedModelObj>('sm b')).spec.batching).toEqual({ maxBatchSize: 64, batchTimeout: '0s', maxEnqueuedBatches: 64 });
    const text = await parameters();
    expect(text).toContain('max_batch_size { value: 64 }');
    expect(parseBatchingParameters(text ?? '', defaultBatchingParameters(1))).toEqual(defaultBatchingParameters(1));
    expect(await restartHash()).not.toBe(before);
    expect((await deployment()).metadata?.generation).toBe(generation + 1);
  });

  it('rolls the pods when only a parameter changes (the flags stay the same)', async () => {
    await eventually(observed);
    const before = await restartHash();
    const argsBefore = await args();
    await apply({ source: { uri: 's3://models/b' }, batching: { maxBatchSize: 32, batchTimeout: '1.5ms', numBatchThreads: 2, allowedBatchSizes: [8, 32] } });
    await eventually(async () => expect(await parameters()).toContain('max_batch_size { value: 32 }'));
    expect(parseBatchingParameters((await parameters()) ?? '', defaultBatchingParameters(1))).toEqual({
      maxBatchSize: 32,
      batchTimeoutMicros: 1500,
      maxEnqueuedBatches: 64,
      numBatchThreads: 2,
      allowedBatchSizes: [8, 32],
    });
    await eventually(async () => expect(await restartHash()).not.toBe(before));
    expect(await args()).toEqual(argsBefore);
    // kube-controller-manager made a new ReplicaSet for the new template.
    await eventually(async () =>
      expect((await kubectlJson<{ items: unknown[] }>(cp.adminKubeconfig, ['-n', NS, 'get', 'rs', '-l', 'tensorfleet.dev/served-model=b', '-o', 'json'])).items.length).toBeGreaterThanOrEqual(3),
    );
  });

  it('writes nothing once converged', async () => {
    await eventually(observed);
    await eventually(async () => expect(await resourceVersions()).toEqual(await resourceVersions()));
    const before = await resourceVersions();
    const writes = await op!.metric(WRITES);
    const reconciles = await op!.metric(RECONCILES);
    await eventually(async () => expect(await op!.metric(RECONCILES)).toBeGreaterThanOrEqual(reconciles + 3));
    expect(await op!.metric(WRITES)).toBe(writes);
    expect(await resourceVersions()).toEqual(before);
  });

  it('turns batching off: flags and the parameters file go, the model config stays', async () => {
    const modelConfig = (await get<ConfigMap>('cm b-models')).data?.['models.yaml'];
    await apply({ source: { uri: 's3://models/b' } });
    await eventually(async () => expect((await args()).filter((a) => a.includes('batching'))).toEqual([]));
    await eventually(async () => expect(await parameters()).toBeUndefined());
    expect((await get<ConfigMap>('cm b-models')).data?.['models.yaml']).toBe(modelConfig);
    await eventually(observed);
    const before = await resourceVersions();
    const writes = await op!.metric(WRITES);
    const reconciles = await op!.metric(RECONCILES);
    await eventually(async () => expect(await op!.metric(RECONCILES)).toBeGreaterThanOrEqual(reconciles + 3));
    expect(await op!.metric(WRITES)).toBe(writes);
    expect(await resourceVersions()).toEqual(before);
  });
});
