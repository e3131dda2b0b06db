/**
 * The CRD on a real kube-apiserver: every example is accepted by `kubectl apply`, and a table of
 * bad manifests is rejected with a message a person understands.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { k8sTestsSkipped, startControlPlane, type ControlPlane } from '../../helpers/k8s/control-plane.js';
import { installCrdAndRbac } from '../../helpers/k8s/install-operator-rbac.js';
import { admittedSpec } from '../../helpers/k8s/admitted-specs.js';
import { servedModelCrd } from '../../../src/api/served-model-schema.js';
import { kubectl, kubectlOk } from '../../helpers/k8s/kubectl.js';

const examplesDir = fileURLToPath(new URL('../../../examples/', import.meta.url));
// demo-models.yaml is the model server's config file, not a Kubernetes manifest.
const examples = readdirSync(examplesDir).filter((f) => f.endsWith('.yaml') && f !== 'demo-models.yaml');

const source = { uri: 's3://models/mnist' };

const invalid: { name: string; spec: Record<string, unknown>; message: string }[] = [
  { name: 'no source', spec: { replicas: 1 }, message: 'spec.source: Required value' },
  { name: 'a source that is neither s3 nor pvc', spec: { source: { uri: 'http://models/mnist' } }, message: 'source.uri must be s3://bucket/prefix' },
  { name: 'a claim name with capitals', spec: { source: { uri: 'pvc://Models/mnist' } }, message: 'source.uri must be s3://bucket/prefix' },
  { name: 'a claim path with ".."', spec: { source: { uri: 'pvc://models/../etc' } }, message: 'pvc://claim/path' },
  { name: 'a claim path with an empty segment', spec: { source: { uri: 'pvc://models//mnist' } }, message: 'pvc://claim/path' },
  { name: 'a claim without a name', spec: { source: { uri: 'pvc:///mnist' } }, message: 'pvc://claim/path' },
  { name: 'an S3 endpoint for a claim', spec: { source: { uri: 'pvc://models/mnist', endpoint: 'http://minio:9000' } }, message: 'source.endpoint, source.region, source.credentialsSecretRef and source.caBundleRef are for s3:// sources only' },
  { name: 'an S3 CA bundle for a claim', spec: { source: { uri: 'pvc://models/mnist', caBundleRef: { name: 'ca' } } }, message: 'are for s3:// sources only' },
  { name: 'an S3 CA bundle without a ConfigMap name', spec: { source: { uri: 's3://models/mnist', caBundleRef: { key: 'ca.crt' } } }, message: 'spec.source.caBundleRef.name: Required value' },
  { name: 'S3 credentials for a claim', spec: { source: { uri: 'pvc://models/mnist', credentialsSecretRef: { name: 's3' } } }, message: 'are for s3:// sources only' },
  { name: 'request logging with a claim source', spec: { source: { uri: 'pvc://models/mnist' }, requestLogging: { uri: 's3://logs/mnist', samplingRate: 0.1 } }, message: 'requestLogging needs an s3:// source' },
  { name: 'a credentials Secret name that no Secret can have', spec: { source: { ...source, credentialsSecretRef: { name: 'S3_Credentials' } } }, message: 'spec.source.credentialsSecretRef.name in body should match' },
  // Admitted, it left the pods uncreated (ReplicaFailure: must not have leading or trailing whitespace).
  { name: 'an image with a space', spec: { source, image: ' registry.example/tensorfleet:0.2.0' }, message: 'spec.image in body should match' },
  // Admitted, these left the Deployment unapplied (ApplyFailed) with the apiserver's message.
  { name: 'a negative CPU request', spec: { source, resources: { requests: { cpu: '-1' } } }, message: 'spec.resources.requests.cpu in body should match' },
  { name: 'a negative model store size', spec: { source, modelStoreSizeLimit: '-1Gi' }, message: 'spec.modelStoreSizeLimit in body should match' },
  { name: 'a negative model store size in bytes', spec: { source, modelStoreSizeLimit: -5 }, message: 'spec.modelStoreSizeLimit in body should be greater than or equal to 0' },
  { name: 'an endpoint that is not a URL', spec: { source: { ...source, endpoint: 'minio:9000' } }, message: 'source.endpoint must be an http:// or https:// URL' },
  { name: 'a poll interval that is not a duration', spec: { source: { ...source, pollInterval: 'soon' } }, message: 'source.pollInterval must be a duration of at least 1s' },
  { name: 'an unknown version policy', spec: { source, versionPolicy: { newest: {} } }, message: 'unknown field "spec.versionPolicy.newest"' },
  { name: 'two version policies', spec: { source, versionPolicy: { latest: { count: 2 }, all: {} } }, message: 'versionPolicy must set exactly one of latest, all or specific' },
  { name: 'latest of zero versions', spec: { source, versionPolicy: { latest: { count: 0 } } }, message: 'spec.versionPolicy.latest.count: Invalid value: 0: spec.versionPolicy.latest.count in body should be greater than or equal to 1' },
  { name: 'a label with a dash', spec: { source, versionLabels: { 'not-ok': 1 } }, message: 'versionLabels names must match [a-zA-Z0-9_]+' },
  { name: 'a negative version', spec: { source, versionLabels: { stable: -1 } }, message: 'should be greater than or equal to 0' },
  // Read as JSON numbers by the operator and the server, 1701432000000000001 became 1701432000000000000.
  { name: 'a version above 2^53 - 1', spec: { source, versionLabels: { stable: 2 ** 60 } }, message: 'spec.versionLabels.stable in body should be less than or equal to' },
  {
    name: 'a specific version above 2^53 - 1',
    spec: { source, versionPolicy: { specific: { versions: [9007199254740992] } } },
    message: 'spec.versionPolicy.specific.versions[0] in body should be less than or equal to',
  },
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
  { name: 'a batch size of zero', spec: { source, batching: { maxBatchSize: 0 } }, message: 'spec.batching.maxBatchSize in body should be greater than or equal to 1' },
  { name: 'no room for queued batches', spec: { source, batching: { maxEnqueuedBatches: 0 } }, message: 'spec.batching.maxEnqueuedBatches in body should be greater than or equal to 1' },
  { name: 'zero batch threads', spec: { source, batching: { numBatchThreads: 0 } }, message: 'spec.batching.numBatchThreads in body should be greater than or equal to 1' },
  { name: 'a batch timeout without a unit', spec: { source, batching: { batchTimeout: '500' } }, message: 'batching.batchTimeout must be a duration in us, ms or s of at most 10s' },
  { name: 'a batch timeout in minutes (2m for 2ms)', spec: { source, batching: { batchTimeout: '2m' } }, message: 'batching.batchTimeout must be a duration in us, ms or s of at most 10s' },
  { name: 'a batch timeout above 10s', spec: { source, batching: { batchTimeout: '11s' } }, message: 'batching.batchTimeout must be a duration in us, ms or s of at most 10s' },
  { name: 'a negative batch timeout', spec: { source, batching: { batchTimeout: '-1ms' } }, message: 'batching.batchTimeout must be a duration in us, ms or s of at most 10s' },
  {
    name: 'allowed batch sizes out of order',
    spec: { source, batching: { allowedBatchSizes: [8, 4, 64] } },
    message: 'batching.allowedBatchSizes must be strictly increasing',
  },
  { name: 'an allowed batch size twice', spec: { source, batching: { allowedBatchSizes: [8, 8, 64] } }, message: 'batching.allowedBatchSizes must be strictly increasing' },
  { name: 'an allowed batch size of zero', spec: { source, batching: { allowedBatchSizes: [0, 64] } }, message: 'should be greater than or equal to 1' },
  {
    name: 'allowed batch sizes that do not end at maxBatchSize',
    spec: { source, batching: { maxBatchSize: 32, allowedBatchSizes: [8, 16] } },
    message: 'batching.allowedBatchSizes must end with maxBatchSize',
  },
  {
    name: 'allowed batch sizes that do not end at the default maxBatchSize',
    spec: { source, batching: { allowedBatchSizes: [8, 32] } },
    message: 'batching.allowedBatchSizes must end with maxBatchSize (64 when not set)',
  },
  { name: 'inter-op threads below -1', spec: { source, tensorflow: { interOpParallelism: -2 } }, message: 'spec.tensorflow.interOpParallelism in body should be greater than or equal to -1' },
  { name: 'negative intra-op threads', spec: { source, tensorflow: { intraOpParallelism: -1 } }, message: 'spec.tensorflow.intraOpParallelism in body should be greater than or equal to 0' },
  { name: 'an unknown tensorflow field', spec: { source, tensorflow: { interOpThreads: 2 } }, message: 'unknown field "spec.tensorflow.interOpThreads"' },
  { name: 'a tag with a comma', spec: { source, tensorflow: { savedModelTags: ['serve,gpu'] } }, message: 'spec.tensorflow.savedModelTags[0] in body should match' },
  { name: 'an empty tag set', spec: { source, tensorflow: { savedModelTags: [] } }, message: 'spec.tensorflow.savedModelTags in body should have at least 1 items' },
  { name: 'zero warmup iterations', spec: { source, tensorflow: { warmupIterations: 0 } }, message: 'spec.tensorflow.warmupIterations in body should be greater than or equal to 1' },
  { name: 'a pod label the operator selects pods by', spec: { source, pod: { labels: { 'app.kubernetes.io/name': 'x' } } }, message: 'pod.labels may not set keys under tensorfleet.dev/, app.kubernetes.io/name' },
  { name: 'a pod label under tensorfleet.dev/', spec: { source, pod: { labels: { 'tensorfleet.dev/served-model': 'other' } } }, message: 'pod.labels may not set keys under tensorfleet.dev/' },
  { name: 'the restart-hash pod annotation', spec: { source, pod: { annotations: { 'tensorfleet.dev/restart-hash': 'x' } } }, message: 'pod.annotations may not set keys under tensorfleet.dev/' },
  { name: 'a service account name with capitals', spec: { source, pod: { serviceAccountName: 'Model_Reader' } }, message: 'spec.pod.serviceAccountName in body should match' },
  { name: 'a toleration operator that does not exist', spec: { source, pod: { tolerations: [{ key: 'a', operator: 'Is' }] } }, message: 'spec.pod.tolerations[0].operator: Unsupported value: "Is"' },
  { name: 'an unknown pod field', spec: { source, pod: { hostNetwork: true } }, message: 'unknown field "spec.pod.hostNetwork"' },
  { name: 'an env variable the operator sets', spec: { source, pod: { env: [{ name: 'AWS_REGION', value: 'eu-west-1' }] } }, message: 'pod.env must not set TENSORFLEET_S3_ENDPOINT, TENSORFLEET_S3_CREDENTIALS_DIR, AWS_REGION' },
  { name: 'an env entry with a value and a valueFrom', spec: { source, pod: { env: [{ name: 'A', value: 'x', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] } }, message: 'an env entry has value or valueFrom, not both' },
  { name: 'an env variable twice', spec: { source, pod: { env: [{ name: 'A', value: 'x' }, { name: 'A', value: 'y' }] } }, message: 'Duplicate value' },
  { name: 'an env name with a space', spec: { source, pod: { env: [{ name: 'MY VAR', value: 'x' }] } }, message: 'spec.pod.env[0].name in body should match' },
  { name: 'an image pull Secret without a name', spec: { source, pod: { imagePullSecrets: [{}] } }, message: 'spec.pod.imagePullSecrets[0].name: Required value' },
  { name: 'a server flag the operator sets', spec: { source, serverArgs: ['--port=9000'] }, message: 'serverArgs must be --name=value with a name among inference_threads' },
  { name: 'a misspelt server flag', spec: { source, serverArgs: ['--inference-threads=2'] }, message: 'serverArgs must be --name=value' },
  { name: 'a server flag value as its own item', spec: { source, serverArgs: ['--inference_threads', '2'] }, message: 'serverArgs must be --name=value' },
  { name: 'TLS without a Secret', spec: { source, tls: { requireClientCertificate: true } }, message: 'spec.tls.secretName: Required value' },
  { name: 'a TLS Secret name with capitals', spec: { source, tls: { secretName: 'Model-TLS' } }, message: 'spec.tls.secretName in body should match' },
  { name: 'a TLS flag in serverArgs', spec: { source, serverArgs: ['--grpc_tls_cert_file=/x'] }, message: 'serverArgs must be --name=value' },
  { name: 'autoscaling without maxReplicas', spec: { source, resources: { requests: { cpu: '1' } }, autoscaling: { minReplicas: 2 } }, message: 'spec.autoscaling.maxReplicas: Required value' },
  {
    name: 'autoscaling with minReplicas above maxReplicas',
    spec: { source, resources: { requests: { cpu: '1' } }, autoscaling: { minReplicas: 5, maxReplicas: 3 } },
    message: 'autoscaling.minReplicas must not exceed autoscaling.maxReplicas',
  },
  { name: 'autoscaling down to zero pods', spec: { source, resources: { requests: { cpu: '1' } }, autoscaling: { minReplicas: 0, maxReplicas: 3 } }, message: 'spec.autoscaling.minReplicas in body should be greater than or equal to 1' },
  { name: 'autoscaling on CPU without a CPU request', spec: { source, resources: { requests: { memory: '1Gi' } }, autoscaling: { maxReplicas: 3 } }, message: 'autoscaling on CPU needs resources.requests.cpu' },
  {
    name: 'a CPU target besides metrics without a CPU request',
    spec: { source, autoscaling: { maxReplicas: 3, targetCPUUtilization: 70, metrics: [{ type: 'Pods' }] } },
    message: 'autoscaling on CPU needs resources.requests.cpu',
  },
  { name: 'a CPU target of 0%', spec: { source, resources: { requests: { cpu: '1' } }, autoscaling: { maxReplicas: 3, targetCPUUtilization: 0 } }, message: 'spec.autoscaling.targetCPUUtilization in body should be greater than or equal to 1' },
  { name: 'an unknown autoscaling field', spec: { source, resources: { requests: { cpu: '1' } }, autoscaling: { maxReplicas: 3, targetMemoryUtilization: 70 } }, message: 'unknown field "spec.autoscaling.targetMemoryUtilization"' },
  { name: 'request logging to a local path', spec: { source, requestLogging: { uri: '/var/log/mnist', samplingRate: 0.1 } }, message: 'requestLogging.uri must be s3://bucket/key/prefix' },
  { name: 'request logging to a bucket without a key prefix', spec: { source, requestLogging: { uri: 's3://logs', samplingRate: 0.1 } }, message: 'requestLogging.uri must be s3://bucket/key/prefix' },
  { name: 'request logging to a key with ".."', spec: { source, requestLogging: { uri: 's3://logs/a/../b', samplingRate: 0.1 } }, message: 'requestLogging.uri must be s3://bucket/key/prefix' },
  { name: 'request logging without a rate', spec: { source, requestLogging: { uri: 's3://logs/mnist' } }, message: 'spec.requestLogging.samplingRate: Required value' },
  { name: 'a request logging rate above 1', spec: { source, requestLogging: { uri: 's3://logs/mnist', samplingRate: 5 } }, message: 'spec.requestLogging.samplingRate in body should be less than or equal to 1' },
  { name: 'an unknown batching field', spec: { source, batching: { batch_timeout_micros: 5 } }, message: 'unknown field "spec.batching.batch_timeout_micros"' },
];

/** Batching manifests the model server accepts, so the CRD must too. */
const validBatching: { name: string; batching: Record<string, unknown> }[] = [
  { name: 'the defaults', batching: {} },
  { name: 'a microsecond timeout', batching: { batchTimeout: '500us' } },
  { name: 'a fractional, compound timeout', batching: { batchTimeout: '1s1.5ms' } },
  { name: 'the largest timeout', batching: { batchTimeout: '10s' } },
  { name: 'one allowed size equal to the default maxBatchSize', batching: { allowedBatchSizes: [64] } },
  { name: 'an empty allowed list', batching: { allowedBatchSizes: [] } },
  { name: 'everything', batching: { maxBatchSize: 32, batchTimeout: '2ms', maxEnqueuedBatches: 8, numBatchThreads: 2, allowedBatchSizes: [1, 8, 32] } },
];

const longName = 'm'.repeat(60);
const longNameManifest = (name: string, replicas: number): string =>
  stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name, namespace: 'default' }, spec: { source, replicas } });

/** The CRD as it was before the name rules (for the upgrade test). */
function crdWithoutNameRules(): string {
  const crd = JSON.parse(JSON.stringify(servedModelCrd())) as { spec: { versions: { schema: { openAPIV3Schema: Record<string, unknown> } }[] } };
  for (const version of crd.spec.versions) {
    const root = version.schema.openAPIV3Schema;
    delete root['x-kubernetes-validations'];
    (root.properties as Record<string, unknown>).metadata = { type: 'object' };
  }
  return stringify(crd);
}

describe.skipIf(k8sTestsSkipped())('ServedModel CRD on a real kube-apiserver', () => {
  let cp: ControlPlane;

  beforeAll(async () => {
    cp = await startControlPlane();
    await installCrdAndRbac(cp);
  });
  afterAll(async () => {
    await cp?.stop();
  });

  it('admits the specs the property tests generate as admitted (server-side dry run of a sample)', async () => {
    // The generator stands in for the CRD in test/unit/operator/specs/server-acceptance.test.ts: check it is faithful.
    const specs = fc.sample(admittedSpec, { numRuns: Number(process.env.TENSORFLEET_FUZZ_RUNS ?? 25), ...(process.env.TENSORFLEET_FUZZ_SEED ? { seed: Number(process.env.TENSORFLEET_FUZZ_SEED) } : {}) });
    const manifests = specs.map((spec, i) => stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name: `generated-${i}`, namespace: 'default' }, spec }));
    const refused: string[] = [];
    for (const manifest of manifests) {
      const result = await kubectl(cp.adminKubeconfig, ['apply', '--dry-run=server', '-f', '-'], manifest);
      if (result.code !== 0) refused.push(`${result.stderr.trim()}\n${manifest}`);
    }
    expect(refused).toEqual([]);
  });

  it('installs with the short name, printer columns and subresources', async () => {
    const resources = await kubectlOk(cp.adminKubeconfig, ['api-resources', '--api-group=tensorfleet.dev', '--no-headers']);
    expect(resources).toMatch(/^servedmodels\s+sm\s+tensorfleet\.dev\/v1alpha1\s+true\s+ServedModel/m);
  });

  it('shows the source with kubectl get -o wide', async () => {
    const manifest = stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name: 'wide', namespace: 'default' }, spec: { source: { uri: 'pvc://models/team/wide' } } });
    await kubectlOk(cp.adminKubeconfig, ['apply', '-f', '-'], manifest);
    const table = await kubectlOk(cp.adminKubeconfig, ['-n', 'default', 'get', 'sm', 'wide', '-o', 'wide']);
    expect(table.split('\n')[0]).toMatch(/\bROUTING\s+SOURCE\s+AGE\b/);
    expect(table.split('\n')[1]).toContain('pvc://models/team/wide');
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

  it.each(validBatching)('accepts batching with $name (server-side dry run)', async ({ batching }) => {
    const manifest = stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name: 'batched', namespace: 'default' }, spec: { source, batching } });
    const result = await kubectl(cp.adminKubeconfig, ['apply', '--dry-run=server', '-f', '-'], manifest);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('servedmodel.tensorfleet.dev/batched created (server dry run)');
  });

  it('accepts TensorFlow thread settings, ops inline included, and the SavedModel loading settings (server-side dry run)', async () => {
    const spec = { source, tensorflow: { intraOpParallelism: 2, interOpParallelism: -1, savedModelTags: ['serve', 'gpu'], modelWarmup: false, warmupIterations: 2, signatureMethodNameCheck: true } };
    const manifest = stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name: 'inline', namespace: 'default' }, spec });
    const result = await kubectl(cp.adminKubeconfig, ['apply', '--dry-run=server', '-f', '-'], manifest);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('servedmodel.tensorfleet.dev/inline created (server dry run)');
  });

  it('accepts spec.pod with every field, app.kubernetes.io labels the operator does not set included (server-side dry run)', async () => {
    const pod = {
      annotations: { 'prometheus.io/scrape': 'true' },
      labels: { 'app.kubernetes.io/part-of': 'search', team: 'search' },
      serviceAccountName: 'model-reader',
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'inference', effect: 'NoSchedule' }, { operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } } },
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' }],
      priorityClassName: 'inference',
      imagePullSecrets: [{ name: 'registry' }],
      env: [
        { name: 'S3_REQUEST_TIMEOUT_MSEC', value: '30000' },
        { name: 'S3_CONNECT_TIMEOUT_MSEC', valueFrom: { configMapKeyRef: { name: 's3-tuning', key: 'connect-timeout' } } },
      ],
    };
    const manifest = stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name: 'scheduled', namespace: 'default' }, spec: { source, pod } });
    const out = await kubectlOk(cp.adminKubeconfig, ['apply', '--dry-run=server', '-o', 'json', '-f', '-'], manifest);
    expect((JSON.parse(out) as { spec: { pod: unknown } }).spec.pod).toEqual(pod);
  });

  it('accepts TLS from a Secret, with client certificates (server-side dry run)', async () => {
    const manifest = stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name: 'secure', namespace: 'default' }, spec: { source, tls: { secretName: 'model-tls', requireClientCertificate: true } } });
    const out = await kubectlOk(cp.adminKubeconfig, ['apply', '--dry-run=server', '-o', 'json', '-f', '-'], manifest);
    expect((JSON.parse(out) as { spec: { tls: unknown } }).spec.tls).toEqual({ secretName: 'model-tls', requireClientCertificate: true });
  });

  it('accepts server flags the spec does not set otherwise (server-side dry run)', async () => {
    const serverArgs = ['--inference_threads=2', '--grpc_channel_arguments=grpc.max_concurrent_streams=8', '--grpc_prompt_trailers', '--s3_completion_marker=_READY'];
    const manifest = stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name: 'tuned', namespace: 'default' }, spec: { source, serverArgs } });
    const out = await kubectlOk(cp.adminKubeconfig, ['apply', '--dry-run=server', '-o', 'json', '-f', '-'], manifest);
    expect((JSON.parse(out) as { spec: { serverArgs: unknown } }).spec.serverArgs).toEqual(serverArgs);
  });

  it.each([
    ['on CPU with a request', { resources: { requests: { cpu: '500m' } }, autoscaling: { maxReplicas: 4 } }],
    ['on CPU with only a limit', { resources: { limits: { cpu: '2' } }, autoscaling: { minReplicas: 2, maxReplicas: 2, targetCPUUtilization: 150 } }],
    [
      'on a custom metric only, with behavior, and without CPU resources',
      {
        autoscaling: {
          maxReplicas: 10,
          metrics: [{ type: 'Pods', pods: { metric: { name: 'tensorfleet_inference_utilization' }, target: { type: 'AverageValue', averageValue: '600m' } } }],
          behavior: { scaleDown: { stabilizationWindowSeconds: 600 } },
        },
      },
    ],
  ])('accepts autoscaling %s (server-side dry run)', async (_what, fields) => {
    const manifest = stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name: 'scaled', namespace: 'default' }, spec: { source, ...fields } });
    const out = await kubectlOk(cp.adminKubeconfig, ['apply', '--dry-run=server', '-o', 'json', '-f', '-'], manifest);
    expect((JSON.parse(out) as { spec: { autoscaling: unknown } }).spec.autoscaling).toEqual(fields.autoscaling);
  });

  it.each(['pvc://models', 'pvc://models/', 'pvc://team-a.models/mnist/prod', 'pvc://m/x.v2/..data'])('accepts the claim source %s (server-side dry run)', async (uri) => {
    const manifest = stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name: 'on-claim', namespace: 'default' }, spec: { source: { uri, pollInterval: '10s' } } });
    const out = await kubectlOk(cp.adminKubeconfig, ['apply', '--dry-run=server', '-o', 'json', '-f', '-'], manifest);
    expect((JSON.parse(out) as { spec: { source: unknown } }).spec.source).toEqual({ uri, pollInterval: '10s' });
  });

  it('accepts an S3 CA bundle and fills in its key (server-side dry run)', async () => {
    const manifest = stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name: 'private-ca', namespace: 'default' }, spec: { source: { ...source, caBundleRef: { name: 'internal-ca' } } } });
    const out = await kubectlOk(cp.adminKubeconfig, ['apply', '--dry-run=server', '-o', 'json', '-f', '-'], manifest);
    expect((JSON.parse(out) as { spec: { source: { caBundleRef: unknown } } }).spec.source.caBundleRef).toEqual({ name: 'internal-ca', key: 'ca.crt' });
  });

  it('accepts request logging to an S3 prefix (server-side dry run)', async () => {
    const requestLogging = { uri: 's3://ml-logs/requests/mnist', samplingRate: 0.01 };
    const manifest = stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name: 'logged', namespace: 'default' }, spec: { source, requestLogging } });
    const out = await kubectlOk(cp.adminKubeconfig, ['apply', '--dry-run=server', '-o', 'json', '-f', '-'], manifest);
    expect((JSON.parse(out) as { spec: { requestLogging: unknown } }).spec.requestLogging).toEqual(requestLogging);
  });

  it('fills in the batching defaults, and leaves the thread count to the server', async () => {
    const manifest = stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name: 'batched', namespace: 'default' }, spec: { source, batching: {} } });
    const out = await kubectlOk(cp.adminKubeconfig, ['apply', '--dry-run=server', '-o', 'json', '-f', '-'], manifest);
    expect((JSON.parse(out) as { spec: { batching: unknown } }).spec.batching).toEqual({ maxBatchSize: 64, batchTimeout: '0s', maxEnqueuedBatches: 64 });
  });

  it.each([
    ['with a dot, which no Service name may hold', 'mnist.v2', "metadata.name must be a DNS label (lowercase letters, digits and '-', no dots)"],
    ['of 55 characters, whose <name>-headless Service name would have 64', 'm'.repeat(55), 'metadata.name must be at most 54 characters'],
    ['of 80 characters, too long for a label value', 'm'.repeat(80), 'metadata.name must be at most 54 characters'],
  ])('rejects a name %s', async (_what, name, message) => {
    const manifest = stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name, namespace: 'default' }, spec: { source } });
    const result = await kubectl(cp.adminKubeconfig, ['apply', '-f', '-'], manifest);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
  });

  it('accepts versions up to 2^53 - 1 (server-side dry run)', async () => {
    const spec = { source, versionPolicy: { specific: { versions: [1, 9007199254740991] } }, versionLabels: { stable: 9007199254740991 } };
    const manifest = stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name: 'big-versions', namespace: 'default' }, spec });
    const out = await kubectlOk(cp.adminKubeconfig, ['apply', '--dry-run=server', '-f', '-'], manifest);
    expect(out).toContain('servedmodel.tensorfleet.dev/big-versions created (server dry run)');
  });

  it.each(['m'.repeat(54), '7-days', 'a-b-c'])('accepts the name %s (server-side dry run)', async (name) => {
    const manifest = stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name, namespace: 'default' }, spec: { source } });
    const out = await kubectlOk(cp.adminKubeconfig, ['apply', '--dry-run=server', '-f', '-'], manifest);
    expect(out).toContain(`servedmodel.tensorfleet.dev/${name} created (server dry run)`);
  });

  it.each(invalid)('rejects $name', async ({ spec, message }) => {
    const manifest = stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name: 'bad', namespace: 'default' }, spec });
    const result = await kubectl(cp.adminKubeconfig, ['apply', '-f', '-'], manifest);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
  });

  // Last: it swaps the CRD for one without the name rules and back.
  it('keeps a ServedModel named before the name rules writable after a CRD upgrade (the rules sit on metadata.name, which the apiserver ratchets)', async () => {
    await kubectlOk(cp.adminKubeconfig, ['apply', '--server-side', '--force-conflicts', '-f', '-'], crdWithoutNameRules());
    await kubectlOk(cp.adminKubeconfig, ['apply', '-f', '-'], longNameManifest(longName, 1));
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

    const created = await kubectl(cp.adminKubeconfig, ['apply', '-f', '-'], longNameManifest('n'.repeat(60), 1));
    expect(created.code).not.toBe(0);
    expect(created.stderr).toContain('metadata.name must be at most 54 characters');
  });
});
