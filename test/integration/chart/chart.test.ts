/**
 * The Helm chart: lint, what it renders, that its CRD and RBAC match crds/ and deploy/, and that
 * its manifests apply to a real kube-apiserver and its RBAC alone is enough to run the operator
 * (the operator runs with a token of the chart's ServiceAccount, never as admin).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { k8sTestsSkipped, startControlPlane, type ControlPlane } from '../../helpers/k8s/control-plane.js';
import { eventually } from '../../helpers/k8s/eventually.js';
import { kubectl, kubectlJson, kubectlOk } from '../../helpers/k8s/kubectl.js';
import { startOperator, type RunningOperator } from '../../helpers/k8s/operator-process.js';
import { CHART, ensureHelm, helm, repoFile, template, type Manifest } from './helm.js';
import { parseOperatorArgs } from '../../../src/cli/operator-command.js';
import { buildDeployment } from '../../../src/operator/specs/deployment.js';
import { DEFAULT_RENDER_CONFIG } from '../../../src/operator/specs/operator-config.js';
import { servedModel } from '../../unit/operator/fixtures.js';

interface Container {
  image: string;
  args: string[];
  env?: { name: string }[];
  livenessProbe?: { httpGet?: { path: string } };
  readinessProbe?: { httpGet?: { path: string } };
  securityContext?: Record<string, unknown>;
  resources?: Record<string, unknown>;
}
interface PodSpecShape {
  serviceAccountName: string;
  securityContext: Record<string, unknown>;
  containers: Container[];
}

const find = (docs: Manifest[], kind: string, name: string): Manifest | undefined => docs.find((d) => d.kind === kind && d.metadata.name === name);
const must = (docs: Manifest[], kind: string, name: string): Manifest => {
  const doc = find(docs, kind, name);
  if (!doc) throw new Error(`rendered chart has no ${kind} ${name}; it has ${docs.map((d) => `${d.kind}/${d.metadata.name}`).join(', ')}`);
  return doc;
};
const podSpec = (deployment: Manifest): PodSpecShape => (deployment.spec as { template: { spec: PodSpecShape } }).template.spec;
const operatorContainer = (docs: Manifest[], name = 'tensorfleet-operator'): Container => {
  const container = podSpec(must(docs, 'Deployment', name)).containers[0];
  if (!container) throw new Error('operator Deployment has no container');
  return container;
};
const deployRbac = (): Manifest[] =>
  parseAllDocuments(readFileSync(repoFile('deploy/rbac.yaml'), 'utf8'))
    .map((d) => d.toJS() as Manifest)
    .filter(Boolean);

let helmBin: string;

beforeAll(async () => {
  helmBin = await ensureHelm();
}, 600_000);

describe('Helm chart', () => {
  it('ships the same CRD as crds/servedmodel.yaml', () => {
    const chartCrd = readFileSync(join(CHART, 'crds/servedmodel.yaml'), 'utf8');
    const crd = readFileSync(repoFile('crds/servedmodel.yaml'), 'utf8');
    // Fix: cp crds/servedmodel.yaml charts/tensorfleet/crds/servedmodel.yaml
    expect(chartCrd, 'charts/tensorfleet/crds/servedmodel.yaml differs from crds/servedmodel.yaml').toBe(crd);
  });

  it.each([
    ['defaults', []],
    ['one namespace', ['watchNamespace=team-a']],
    ['no leader election, no aggregated roles', ['leaderElection.enabled=false', 'replicaCount=1', 'rbac.aggregateToDefaultRoles=false']],
  ])('passes helm lint --strict (%s)', async (_label, sets) => {
    const out = await helm(helmBin, ['lint', '--strict', CHART, ...sets.flatMap((s) => ['--set', s])]);
    expect(out).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it('renders the operator Deployment with leader election, probes and a locked-down security context', async () => {
    const { docs } = await template(helmBin, 'tensorfleet', 'tensorfleet-system');
    const deployment = must(docs, 'Deployment', 'tensorfleet-operator');
    expect(deployment.metadata.namespace).toBe('tensorfleet-system');
    expect(deployment.spec?.replicas).toBe(2);
    const pod = podSpec(deployment);
    expect(pod.serviceAccountName).toBe('tensorfleet-operator');
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    const c = operatorContainer(docs);
    expect(c.image).toBe('tensorfleet/tensorfleet:0.1.0');
    expect(c.args).toEqual(['operator', '--leader-elect', '--metrics-port=8080', '--workers=2', '--log-level=info', '--image=tensorfleet/tensorfleet:0.1.0']);
    expect(c.env?.map((e) => e.name)).toEqual(['POD_NAME', 'POD_NAMESPACE']);
    expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(c.resources).toMatchObject({ limits: { memory: '512Mi' } });
  });

  it('takes image, model server image, replicas and resources from values', async () => {
    const { docs } = await template(helmBin, 'tf', 'ml-ops', [
      'image.repository=registry.example/tf',
      'image.tag=1.2.3',
      'modelServerImage=registry.example/tf-serve:9',
      'replicaCount=3',
      'resources.limits.memory=1Gi',
      'leaderElection.enabled=false',
      'extraArgs={--autoscaling-grace=300,--resync=600}',
    ]);
    const deployment = must(docs, 'Deployment', 'tf-tensorfleet-operator');
    expect(deployment.spec?.replicas).toBe(3);
    const c = operatorContainer(docs, 'tf-tensorfleet-operator');
    expect(c.image).toBe('registry.example/tf:1.2.3');
    expect(c.args).toContain('--image=registry.example/tf-serve:9');
    expect(c.args).not.toContain('--leader-elect');
    expect(c.args?.slice(-2)).toEqual(['--autoscaling-grace=300', '--resync=600']);
    // The operator takes the rendered command line as it is.
    expect(parseOperatorArgs((c.args ?? []).slice(1))).toMatchObject({ autoscalingGraceMs: 300_000, resyncMs: 600_000 });
    expect(c.resources).toMatchObject({ limits: { memory: '1Gi' } });
    expect(find(docs, 'Role', 'tf-tensorfleet-operator-leader-election')).toBeUndefined();
  });

  it("renders PodMonitors that select the operator's model server pods and the operator, only where the PodMonitor CRD exists", async () => {
    const withCrd = ['--api-versions', 'monitoring.coreos.com/v1/PodMonitor'];
    const { docs } = await template(helmBin, 'tf', 'ml-ops', ['podMonitor.enabled=true', 'podMonitor.labels.release=kube-prometheus-stack'], withCrd);
    const servers = must(docs, 'PodMonitor', 'tf-tensorfleet-model-servers');
    expect(servers.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    expect(servers.spec).toMatchObject({ namespaceSelector: { any: true }, podMetricsEndpoints: [{ port: 'http', path: '/metrics', interval: '30s' }] });
    // The labels and port the operator gives model server pods (src/operator/specs/deployment.ts).
    const pod = buildDeployment(servedModel(), DEFAULT_RENDER_CONFIG).spec!.template;
    const selected = (servers.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
    expect(pod.metadata?.labels).toMatchObject(selected);
    expect(pod.spec?.containers[0]?.ports?.map((p) => p.name)).toContain('http');
    const operatorMonitor = must(docs, 'PodMonitor', 'tf-tensorfleet-operator');
    const operatorPodLabels = (must(docs, 'Deployment', 'tf-tensorfleet-operator').spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    expect(operatorPodLabels).toMatchObject((operatorMonitor.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels);
    expect(operatorMonitor.spec).toMatchObject({ podMetricsEndpoints: [{ port: 'metrics' }] });

    const scoped = await template(helmBin, 'tf', 'ml-ops', ['podMonitor.enabled=true', 'watchNamespace=team-a'], withCrd);
    expect(must(scoped.docs, 'PodMonitor', 'tf-tensorfleet-model-servers').spec).toMatchObject({ namespaceSelector: { matchNames: ['team-a'] } });
    expect((await template(helmBin, 'tf', 'ml-ops')).docs.filter((d) => d.kind === 'PodMonitor')).toEqual([]);
    await expect(template(helmBin, 'tf', 'ml-ops', ['podMonitor.enabled=true'])).rejects.toThrow(/podMonitor.enabled needs the Prometheus Operator's PodMonitor CRD/);
  });

  it('grants exactly what deploy/rbac.yaml grants', async () => {
    const { docs } = await template(helmBin, 'tensorfleet', 'tensorfleet-system');
    const reference = deployRbac();
    for (const [kind, name] of [
      ['ClusterRole', 'tensorfleet-operator'],
      ['Role', 'tensorfleet-operator-leader-election'],
      ['ClusterRole', 'tensorfleet-servedmodel-editor'],
      ['ClusterRole', 'tensorfleet-servedmodel-viewer'],
    ] as const) {
      expect(must(docs, kind, name).rules, `${kind} ${name}`).toEqual(must(reference, kind, name).rules);
    }
    expect(must(docs, 'ClusterRoleBinding', 'tensorfleet-operator').subjects).toEqual([{ kind: 'ServiceAccount', name: 'tensorfleet-operator', namespace: 'tensorfleet-system' }]);
    expect(must(docs, 'Role', 'tensorfleet-operator-leader-election').metadata.namespace).toBe('tensorfleet-system');
  });

  it('scoped to one namespace, grants a Role there and nothing cluster-wide for the operator', async () => {
    const { docs } = await template(helmBin, 'tensorfleet', 'tensorfleet-system', ['watchNamespace=team-a', 'rbac.aggregateToDefaultRoles=false']);
    expect(docs.filter((d) => d.kind.startsWith('Cluster'))).toEqual([]);
    const role = must(docs, 'Role', 'tensorfleet-operator');
    expect(role.metadata.namespace).toBe('team-a');
    expect(role.rules).toEqual(must(deployRbac(), 'ClusterRole', 'tensorfleet-operator').rules);
    expect(must(docs, 'RoleBinding', 'tensorfleet-operator').metadata.namespace).toBe('team-a');
    expect(operatorContainer(docs).args).toContain('--namespace=team-a');
  });
});

function tokenKubeconfig(server: string, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'sa', user: { token } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: 'sa', namespace: 'default' } }],
    'current-context': 'test',
  });
}

describe.skipIf(k8sTestsSkipped())('Helm chart on a real kube-apiserver', () => {
  let cp: ControlPlane;
  const running: RunningOperator[] = [];
  const admin = (args: string[], input?: string): Promise<string> => kubectlOk(cp.adminKubeconfig, args, input);

  /** A kubeconfig that authenticates as the chart's ServiceAccount (a TokenRequest token). */
  const serviceAccountKubeconfig = async (namespace: string, name: string): Promise<string> => {
    const token = (await admin(['create', 'token', name, '-n', namespace, '--duration=1h'])).trim();
    const file = join(cp.dir, `${namespace}-${name}.kubeconfig`);
    writeFileSync(file, tokenKubeconfig(cp.server, token));
    return file;
  };
  const applyModel = (ns: string, name: string): Promise<string> =>
    admin(['apply', '-n', ns, '-f', '-'], stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name }, spec: { source: { uri: `s3://models/${name}` } } }));
  const converged = async (ns: string, name: string): Promise<void> => {
    const sm = await kubectlJson<{ metadata: { generation: number }; status?: { observedGeneration?: number } }>(cp.adminKubeconfig, ['-n', ns, 'get', 'sm', name]);
    expect(sm.status?.observedGeneration).toBe(sm.metadata.generation);
    const owned = await kubectlJson<{ items: { metadata: { name: string } }[] }>(cp.adminKubeconfig, ['-n', ns, 'get', 'deploy,svc,cm', '-l', `tensorfleet.dev/served-model=${name}`]);
    expect(owned.items.map((o) => o.metadata.name).sort()).toEqual([name, name, `${name}-headless`, `${name}-models`].sort());
  };
  const ownedIn = async (ns: string): Promise<string[]> =>
    (await kubectlJson<{ items: { metadata: { name: string } }[] }>(cp.adminKubeconfig, ['-n', ns, 'get', 'deploy,svc,cm', '-l', 'app.kubernetes.io/managed-by=tensorfleet-operator'])).items.map((o) => o.metadata.name);

  beforeAll(async () => {
    cp = await startControlPlane();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((op) => op.stop()));
  });
  afterAll(async () => {
    await cp?.stop();
  });

  it('applies the rendered chart with its CRD, and its ServiceAccount alone runs the operator', async () => {
    await admin(['create', 'namespace', 'tensorfleet-system']);
    const { text } = await template(helmBin, 'tensorfleet', 'tensorfleet-system', [], ['--include-crds']);
    const out = await admin(['apply', '--server-side', '-f', '-'], text);
    expect(out).toContain('customresourcedefinition.apiextensions.k8s.io/servedmodels.tensorfleet.dev serverside-applied');
    expect(out).toContain('deployment.apps/tensorfleet-operator serverside-applied');
    await admin(['wait', '--for=condition=Established', '--timeout=60s', 'crd/servedmodels.tensorfleet.dev']);

    const kubeconfig = await serviceAccountKubeconfig('tensorfleet-system', 'tensorfleet-operator');
    const canI = async (...args: string[]): Promise<string> => (await kubectl(kubeconfig, ['auth', 'can-i', ...args])).stdout.trim();
    expect(await canI('patch', 'deployments.apps', '-A')).toBe('yes');
    expect(await canI('list', 'secrets', '-A')).toBe('no');
    expect(await canI('create', 'pods', '-A')).toBe('no');
    expect(await canI('update', 'leases.coordination.k8s.io', '-n', 'tensorfleet-system')).toBe('yes');
    expect(await canI('update', 'leases.coordination.k8s.io', '-n', 'default')).toBe('no');

    await admin(['create', 'namespace', 'models-a']);
    running.push(await startOperator({ kubeconfig, leaderElect: true, leaderElectionNamespace: 'tensorfleet-system', identity: 'chart-sa' }));
    await applyModel('models-a', 'mnist');
    await eventually(() => converged('models-a', 'mnist'), 30_000);
    const lease = await kubectlJson<{ spec: { holderIdentity: string } }>(cp.adminKubeconfig, ['-n', 'tensorfleet-system', 'get', 'lease', 'tensorfleet-operator']);
    expect(lease.spec.holderIdentity).toBe('chart-sa');
  });

  it('scoped to one namespace, its Role is enough there and grants nothing elsewhere', async () => {
    await admin(['create', 'namespace', 'scoped-system']);
    await admin(['create', 'namespace', 'team-a']);
    await admin(['create', 'namespace', 'team-b']);
    // The CRD is in place from the previous test (the chart's crds/ are applied once, as helm does).
    const { text } = await template(helmBin, 'scoped', 'scoped-system', ['watchNamespace=team-a', 'rbac.aggregateToDefaultRoles=false']);
    await admin(['apply', '--server-side', '-f', '-'], text);

    const kubeconfig = await serviceAccountKubeconfig('scoped-system', 'scoped-tensorfleet-operator');
    const canI = async (...args: string[]): Promise<string> => (await kubectl(kubeconfig, ['auth', 'can-i', ...args])).stdout.trim();
    expect(await canI('list', 'servedmodels.tensorfleet.dev', '-n', 'team-a')).toBe('yes');
    expect(await canI('list', 'servedmodels.tensorfleet.dev', '-n', 'team-b')).toBe('no');
    expect(await canI('list', 'servedmodels.tensorfleet.dev', '-A')).toBe('no');

    running.push(await startOperator({ kubeconfig, namespace: 'team-a', leaderElect: true, leaderElectionNamespace: 'scoped-system', identity: 'scoped-sa' }));
    await applyModel('team-b', 'theirs');
    await applyModel('team-a', 'ours');
    await eventually(() => converged('team-a', 'ours'), 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await ownedIn('team-b')).toEqual([]);
  });
});
