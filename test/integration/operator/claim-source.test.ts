/**
 * A ServedModel whose versions live on a PersistentVolumeClaim (`pvc://claim/path`), through the
 * real apiserver and kube-controller-manager's volume binder: the operator mounts the claim
 * read-only and points the model config into it; status follows the claim from missing to
 * pending to bound (least-privilege RBAC: a `get` on the claim). There is no kubelet here, so the
 * "pod" is a real `tensorfleet serve` run with the Deployment's own arguments and the ConfigMap's
 * own model config, with the mount path standing for a directory that holds the claim's files;
 * moving to another path of the claim reaches it through the ConfigMap alone, also for version
 * numbers it already serves.
 */
import type { V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Condition, ServedModelStatus } from '../../../src/api/served-model-types.js';
import { k8sTestsSkipped, startControlPlane, type ControlPlane } from '../../helpers/k8s/control-plane.js';
import { eventually } from '../../helpers/k8s/eventually.js';
import { installCrdAndRbac } from '../../helpers/k8s/install-operator-rbac.js';
import { kubectlJson, kubectlOk } from '../../helpers/k8s/kubectl.js';
import { startOperator, type RunningOperator } from '../../helpers/k8s/operator-process.js';
import { tfsClients } from '../../helpers/server/grpc-client.js';
import { fixtureVersionDir, publishVersion, tempDir, type TempDir } from '../../helpers/server/model-dirs.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';
import { predictVersioned } from '../../helpers/server/versioned-calls.js';

const NS = 'claims';
const MOUNT = '/var/lib/tensorfleet/source';
const HASH = 'tensorfleet.dev/restart-hash';

interface ServedModelObj {
  status?: ServedModelStatus;
}

/** Every path under a directory with its size and mtime: what a server that writes nothing leaves as it was. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((name) => {
      const s = statSync(join(dir, name));
      return `${name} ${s.size} ${s.mtimeMs}`;
    });
}

describe.skipIf(k8sTestsSkipped())('pvc:// sources on a real control plane', () => {
  let cp: ControlPlane;
  let op: RunningOperator | undefined;
  let claimFiles: TempDir | undefined;
  let server: ServerProcess | undefined;

  const admin = (args: string[], input?: string): Promise<string> => kubectlOk(cp.adminKubeconfig, args, input);
  const get = <T>(what: string): Promise<T> => kubectlJson<T>(cp.adminKubeconfig, ['-n', NS, 'get', ...what.split(' ')]);
  const apply = (uri: string): Promise<string> =>
    admin(['apply', '-n', NS, '-f', '-'], stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name: 'mnist' }, spec: { source: { uri, pollInterval: '1s' }, versionPolicy: { all: {} } } }));
  const condition = async (type: string): Promise<string> => {
    const c: Condition | undefined = (await get<ServedModelObj>('sm mnist')).status?.conditions?.find((x) => x.type === type);
    return `${c?.status}/${c?.reason}`;
  };
  const deployment = (): Promise<V1Deployment> => get<V1Deployment>('deploy mnist');
  const modelConfig = async (): Promise<string> => (await get<V1ConfigMap>('cm mnist-models')).data?.['models.yaml'] ?? '';

  beforeAll(async () => {
    cp = await startControlPlane();
    await installCrdAndRbac(cp);
    await admin(['create', 'namespace', NS]);
    op = await startOperator({ kubeconfig: cp.operatorKubeconfig, resyncMs: 500 });
  });
  afterAll(async () => {
    await server?.stop();
    await op?.stop();
    await cp?.stop();
    claimFiles?.remove();
  });

  it('mounts the claim read-only and points the model config into it; a missing claim is reported', async () => {
    await apply('pvc://models/team/versioned');
    await eventually(async () => expect((await deployment()).spec?.template.spec?.volumes).toContainEqual({ name: 'model-source', persistentVolumeClaim: { claimName: 'models', readOnly: true } }));
    const container = (await deployment()).spec?.template.spec?.containers[0];
    expect(container?.volumeMounts).toContainEqual({ name: 'model-source', mountPath: MOUNT, readOnly: true });
    expect(container?.args?.filter((a) => a.startsWith('--model_store'))).toEqual([]);
    expect(await modelConfig()).toContain(`base_path: ${MOUNT}/team/versioned`);
    await eventually(async () => expect(await condition('SourceReady')).toBe('False/ClaimNotFound'));
    expect(await condition('Degraded')).toBe('True/ClaimNotFound');
    const events = await kubectlJson<{ items: { type: string; message: string }[] }>(cp.adminKubeconfig, ['-n', NS, 'get', 'events', '--field-selector', 'reason=ClaimNotFound']);
    expect(events.items.map((e) => `${e.type}: ${e.message}`)).toEqual(['Warning: PersistentVolumeClaim models does not exist: the pods cannot start']);
  });

  it('follows the claim from pending to bound once a volume for it exists', async () => {
    await admin(
      ['apply', '-n', NS, '-f', '-'],
      stringify({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'models' },
        spec: { accessModes: ['ReadOnlyMany'], storageClassName: '', resources: { requests: { storage: '1Gi' } } },
      }),
    );
    await eventually(async () => expect(await condition('SourceReady')).toBe('Unknown/ClaimPending'));
    expect(await condition('Degraded')).toBe('False/AsExpected');
    await admin(
      ['apply', '-f', '-'],
      stringify({
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: 'models-volume' },
        spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadOnlyMany'], storageClassName: '', hostPath: { path: '/srv/models' } },
      }),
    );
    await eventually(async () => expect(await condition('SourceReady')).toBe('True/ClaimBound'), 30_000);
    const c = (await get<ServedModelObj>('sm mnist')).status?.conditions?.find((x) => x.type === 'SourceReady');
    expect(c?.message).toBe('PersistentVolumeClaim models is bound (ReadOnlyMany)');
  });

  it("serves from the claim's files with the pod's own arguments and config, and writes nothing there", async () => {
    claimFiles = tempDir('tensorfleet-claim-');
    const base = join(claimFiles.path, 'team', 'versioned');
    for (const v of [1, 2]) publishVersion(fixtureVersionDir('versioned', v), base, v);
    const before = snapshot(claimFiles.path);
    // The harness sets the config file and ports; everything else is the Deployment's.
    const podArgs = ((await deployment()).spec?.template.spec?.containers[0]?.args ?? []).slice(1);
    const args = podArgs.filter((a) => !/^--(model_config_file|port|rest_api_port)=/.test(a));
    server = await startServer({ config: (await modelConfig()).replaceAll(MOUNT, claimFiles.path), args });
    const clients = tfsClients(server.grpcTarget);
    try {
      expect(await predictVersioned(clients, 'mnist', 3, { version: 1 })).toEqual({ reported: 1, computed: 1 });
      expect(await predictVersioned(clients, 'mnist', 3)).toEqual({ reported: 2, computed: 2 });
    } finally {
      clients.close();
    }
    expect(snapshot(claimFiles.path)).toEqual(before);
  });

  it('changes the path within the claim without new pods, and a different claim with new ones', async () => {
    // The other path holds the same version numbers; its version 2 is the graph of versioned/3.
    const other = join(claimFiles!.path, 'team', 'other');
    publishVersion(fixtureVersionDir('versioned', 1), other, 1);
    publishVersion(fixtureVersionDir('versioned', 3), other, 2);
    const hash = (await deployment()).spec?.template.metadata?.annotations?.[HASH];
    await apply('pvc://models/team/other');
    await eventually(async () => expect(await modelConfig()).toContain(`base_path: ${MOUNT}/team/other`));
    expect((await deployment()).spec?.template.metadata?.annotations?.[HASH]).toBe(hash);
    // The running pod (the server of the test before) reads the new ConfigMap and serves the new path's copies.
    writeFileSync(server!.configPath, (await modelConfig()).replaceAll(MOUNT, claimFiles!.path));
    const clients = tfsClients(server!.grpcTarget);
    try {
      await eventually(async () => expect(await predictVersioned(clients, 'mnist', 3)).toEqual({ reported: 2, computed: 3 }), 30_000);
    } finally {
      clients.close();
    }
    await apply('pvc://archive/team/other');
    await eventually(async () => expect((await deployment()).spec?.template.metadata?.annotations?.[HASH]).not.toBe(hash));
    await eventually(async () => expect(await condition('SourceReady')).toBe('False/ClaimNotFound'));
  });
});
