/**
 * The CRD on a real kube-apiserver: every example is accepted by `kubectl apply`, and a table of
 * bad manifests is rejected with a message a person understands.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { k8sTestsSkipped, startControlPlane, type ControlPlane } from '../../helpers/k8s/control-plane.js';
import { installCrdAndRbac } from '../../helpers/k8s/install-operator-rbac.js';
import { kubectl, kubectlOk } from '../../helpers/k8s/kubectl.js';

const examplesDir = fileURLToPath(new URL('../../../examples/', import.meta.url));
// demo-models.yaml is the model server's config file, not a Kubernetes manifest.
const examples = readdirSync(examplesDir).filter((f) => f.endsWith('.yaml') && f !== 'demo-models.yaml');

const source = { uri: 's3://models/mnist' };

const invalid: { name: string; spec: Record<string, unknown>; message: string }[] = [
  { name: 'no source', spec: { replicas: 1 }, message: 'spec.source: Required value' },
  { name: 'a source that is not s3', spec: { source: { uri: 'http://models/mnist' } }, message: 'source.uri must be an s3://bucket/prefix URI' },
  { name: 'an endpoint that is not a URL', spec: { source: { ...source, endpoint: 'minio:9000' } }, message: 'source.endpoint must be an http:// or https:// URL' },
  { name: 'a poll interval that is not a duration', spec: { source: { ...source, pollInterval: 'soon' } }, message: 'source.pollInterval must be a duration of at least 1s' },
  { name: 'an unknown version policy', spec: { source, versionPolicy: { newest: {} } }, message: 'unknown field "spec.versionPolicy.newest"' },
  { name: 'two version policies', spec: { source, versionPolicy: { latest: { count: 2 }, all: {} } }, message: 'versionPolicy must set exactly one of latest, all or specific' },
  { name: 'latest of zero versions', spec: { source, versionPolicy: { latest: { count: 0 } } }, message: 'spec.versionPolicy.latest.count: Invalid value: 0: spec.versionPolicy.latest.count in body should be greater than or equal to 1' },
  { name: 'a label with a dash', spec: { source, versionLabels: { 'not-ok': 1 } }, message: 'versionLabels names must match [a-zA-Z0-9_]+' },
  { name: 'a negative version', spec: { source, versionLabels: { stable: -1 } }, message: 'should be greater than or equal to 0' },
  {
    name: 'a label on a version the policy never loads',
    spec: { source, versionPolicy: { specific: { versions: [3, 5] } }, versionLabels: { stable: 4 } },
    message: 'versionLabels must point at versions listed in versionPolicy.specific.versions',
  },
  {
    name: 'a canary on a version the policy never loads',
    spec: { source, versionPolicy: { specific: { versions: [3, 5] } }, routing: { canary: { version: 6, percent: 10 } } },
    message: 'routing names a version that versionPolicy.specific.versions never loads',
  },
  {
    name: 'a canary while only one version is served',
    spec: { source, routing: { canary: { version: 3, percent: 10 } } },
    message: 'routing between versions needs a versionPolicy that serves at least two versions',
  },
  {
    name: 'a canary share above 100',
    spec: { source, versionPolicy: { all: {} }, routing: { canary: { version: 3, percent: 150 } } },
    message: 'spec.routing.canary.percent in body should be less than or equal to 100',
  },
  {
    name: 'A/B shares that do not add up',
    spec: { source, versionPolicy: { all: {} }, routing: { abTest: { key: { header: 'x-user' }, variants: [{ version: 1, percent: 50 }, { version: 2, percent: 40 }] } } },
    message: 'routing.abTest.variants percentages must add up to 100',
  },
  {
    name: 'an A/B test naming a version twice',
    spec: { source, versionPolicy: { all: {} }, routing: { abTest: { key: { header: 'x-user' }, variants: [{ version: 1, percent: 50 }, { version: 1, percent: 50 }] } } },
    message: 'routing.abTest.variants must name each version once',
  },
  {
    name: 'an A/B key that is not a header name',
    spec: { source, versionPolicy: { all: {} }, routing: { abTest: { key: { header: 'X User' }, variants: [{ version: 1, percent: 50 }, { version: 2, percent: 50 }] } } },
    message: 'routing.abTest.key.header must be a lowercase header name',
  },
  {
    name: 'canary and A/B at once',
    spec: {
      source,
      versionPolicy: { all: {} },
      routing: { canary: { version: 1, percent: 5 }, abTest: { key: { header: 'x-user' }, variants: [{ version: 1, percent: 50 }, { version: 2, percent: 50 }] } },
    },
    message: 'routing may set canary or abTest, not both',
  },
  { name: 'negative replicas', spec: { source, replicas: -1 }, message: 'spec.replicas in body should be greater than or equal to 0' },
];

describe.skipIf(k8sTestsSkipped())('ServedModel CRD on a real kube-apiserver', () => {
  let cp: ControlPlane;

  beforeAll(async () => {
    cp = await startControlPlane();
    await installCrdAndRbac(cp);
  });
  afterAll(async () => {
    await cp?.stop();
  });

  it('installs with the short name, printer columns and subresources', async () => {
    const resources = await kubectlOk(cp.adminKubeconfig, ['api-resources', '--api-group=tensorfleet.dev', '--no-headers']);
    expect(resources).toMatch(/^servedmodels\s+sm\s+tensorfleet\.dev\/v1alpha1\s+true\s+ServedModel/m);
  });

  it('accepts the in-cluster operator Deployment (server-side dry run)', async () => {
    const file = fileURLToPath(new URL('../../../deploy/operator.yaml', import.meta.url));
    const out = await kubectlOk(cp.adminKubeconfig, ['apply', '--dry-run=server', '-f', file]);
    expect(out).toContain('deployment.apps/tensorfleet-operator created (server dry run)');
  });

  it.each(examples)('accepts examples/%s', async (file) => {
    const result = await kubectl(cp.adminKubeconfig, ['apply', '-n', 'default', '-f', `${examplesDir}${file}`]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/servedmodel\.tensorfleet\.dev\/\S+ (created|configured|unchanged)/);
  });

  it.each(invalid)('rejects $name', async ({ spec, message }) => {
    const manifest = stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name: 'bad', namespace: 'default' }, spec });
    const result = await kubectl(cp.adminKubeconfig, ['apply', '-f', '-'], manifest);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
  });
});
