/**
 * The CRD's name rules on an upgrade: a ServedModel created under an earlier CRD with a name the
 * rules now refuse (longer than 54 characters: its ClusterIP Service and pods worked, only the
 * headless Service did not) must stay writable, spec and status, or the operator could never
 * update its status again. New ones with such names are refused at `kubectl apply`.
 */
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedModelCrd } from '../../../src/api/served-model-schema.js';
import { k8sTestsSkipped, startControlPlane, type ControlPlane } from '../../helpers/k8s/control-plane.js';
import { installCrdAndRbac } from '../../helpers/k8s/install-operator-rbac.js';
import { kubectl, kubectlOk } from '../../helpers/k8s/kubectl.js';

const source = { uri: 's3://models/mnist' };
const longName = 'm'.repeat(60);
const manifest = (name: string, replicas: number): string =>
  stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name, namespace: 'default' }, spec: { source, replicas } });

/** The CRD as it was before the name rules. */
function crdWithoutNameRules(): string {
  const crd = JSON.parse(JSON.stringify(servedModelCrd())) as { spec: { versions: { schema: { openAPIV3Schema: Record<string, unknown> } }[] } };
  for (const version of crd.spec.versions) {
    const root = version.schema.openAPIV3Schema;
    delete root['x-kubernetes-validations'];
    (root.properties as Record<string, unknown>).metadata = { type: 'object' };
  }
  return stringify(crd);
}

describe.skipIf(k8sTestsSkipped())('the ServedModel name rules on a CRD upgrade', () => {
  let cp: ControlPlane;

  beforeAll(async () => {
    cp = await startControlPlane();
    await installCrdAndRbac(cp);
  });
  afterAll(async () => {
    await cp?.stop();
  });

  it('keep an existing ServedModel with a longer name writable, and refuse new ones', async () => {
    await kubectlOk(cp.adminKubeconfig, ['apply', '--server-side', '--force-conflicts', '-f', '-'], crdWithoutNameRules());
    await kubectlOk(cp.adminKubeconfig, ['apply', '-f', '-'], manifest(longName, 1));
    await kubectlOk(cp.adminKubeconfig, ['apply', '--server-side', '--force-conflicts', '-f', '-'], stringify(servedModelCrd()));
    await kubectlOk(cp.adminKubeconfig, ['wait', '--for=condition=Established', '--timeout=60s', 'crd/servedmodels.tensorfleet.dev']);

    const status = { status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'False', reason: 'Probe', message: 'm', lastTransitionTime: '2026-12-07T00:00:00Z' }] } };
    // Written, with the rule's message as a warning (the apiserver ratchets an unchanged name).
    const statusPatch = await kubectl(cp.adminKubeconfig, ['patch', 'sm', longName, '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
    expect(statusPatch.code, statusPatch.stderr).toBe(0);
    expect(statusPatch.stderr).toContain('Warning: metadata.name: Invalid value');
    const specPatch = await kubectl(cp.adminKubeconfig, ['patch', 'sm', longName, '--type=merge', '-p', JSON.stringify({ spec: { replicas: 2 } })]);
    expect(specPatch.code, specPatch.stderr).toBe(0);
    const stored = JSON.parse(await kubectlOk(cp.adminKubeconfig, ['get', 'sm', longName, '-o', 'json'])) as { spec: { replicas: number }; status: { conditions: { reason: string }[] } };
    expect([stored.spec.replicas, stored.status.conditions[0]?.reason]).toEqual([2, 'Probe']);

    const created = await kubectl(cp.adminKubeconfig, ['apply', '-f', '-'], manifest('n'.repeat(60), 1));
    expect(created.code).not.toBe(0);
    expect(created.stderr).toContain('metadata.name must be at most 54 characters');
  });
});
