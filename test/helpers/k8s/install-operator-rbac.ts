import { fileURLToPath } from 'node:url';
import { OPERATOR_USER, type ControlPlane } from './control-plane.js';
import { kubectlOk } from './kubectl.js';

const repoFile = (path: string): string => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

/**
 * Installs the CRD and deploy/rbac.yaml as admin, then binds the operator's roles to the test
 * operator identity too, so the operator runs with exactly what its ServiceAccount would get.
 */
export async function installCrdAndRbac(cp: ControlPlane): Promise<void> {
  await kubectlOk(cp.adminKubeconfig, ['apply', '--server-side', '-f', repoFile('crds/servedmodel.yaml')]);
  await kubectlOk(cp.adminKubeconfig, ['apply', '--server-side', '-f', repoFile('deploy/rbac.yaml')]);
  await kubectlOk(cp.adminKubeconfig, ['wait', '--for=condition=Established', '--timeout=60s', 'crd/servedmodels.tensorfleet.dev']);
  const bindings = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: tensorfleet-operator-test-user}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: tensorfleet-operator}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: ${OPERATOR_USER}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: tensorfleet-operator-test-user, namespace: tensorfleet-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: tensorfleet-operator-leader-election}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: ${OPERATOR_USER}}]
`;
  await kubectlOk(cp.adminKubeconfig, ['apply', '--server-side', '-f', '-'], bindings);
}
