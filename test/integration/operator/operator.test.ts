/**
 * The operator against a real kube-apiserver, etcd and kube-controller-manager, running under
 * the least-privilege RBAC of deploy/rbac.yaml (never as admin).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Deployment, V1Lease, V1Service } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import type { ServedModelStatus } from '../../../src/api/served-model-types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { k8sTestsSkipped, startControlPlane, type ControlPlane } from '../../helpers/k8s/control-plane.js';
import { eventually } from '../../helpers/k8s/eventually.js';
import { installCrdAndRbac } from '../../helpers/k8s/install-operator-rbac.js';
import { kubectl, kubectlJson, kubectlOk } from '../../helpers/k8s/kubectl.js';
import { startOperator, type RunningOperator } from '../../helpers/k8s/operator-process.js';
import { FIXTURES_DIR } from '../../helpers/server/fixture-tensors.js';

interface Obj {
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion: string;
    generation?: number;
    ownerReferences?: { uid: string; controller?: boolean }[];
    managedFields?: { manager: string; operation: string }[];
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  data?: Record<string, string>;
}
interface ServedModelObj extends Omit<Obj, 'status'> {
  status?: ServedModelStatus;
}
interface List {
  items: Obj[];
}

const WRITES = 'tensorfleet_operator_api_writes_total';
const RECONCILES = 'tensorfleet_operator_reconciles_total';
const OWNED = 'deploy,svc,cm,pdb';

describe.skipIf(k8sTestsSkipped())('ServedModel operator on a real control plane', () => {
  let cp: ControlPlane;
  const running: RunningOperator[] = [];
  let nsCounter = 0;

  const admin = (args: string[], input?: string): Promise<string> => kubectlOk(cp.adminKubeconfig, args, input);
  const get = <T = Obj>(ns: string, what: string): Promise<T> => kubectlJson<T>(cp.adminKubeconfig, ['-n', ns, 'get', ...what.split(' ')]);
  const newNamespace = async (): Promise<string> => {
    nsCounter += 1;
    const ns = `op-test-${nsCounter}`;
    await admin(['create', 'namespace', ns]);
    return ns;
  };
  const applyModel = (ns: string, name: string, spec: Record<string, unknown>): Promise<string> =>
    admin(['apply', '-n', ns, '-f', '-'], stringify({ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', metadata: { name }, spec }));
  const operator = async (options: Parameters<typeof startOperator>[0] extends infer O ? Omit<O, 'kubeconfig'> : never = {}): Promise<RunningOperator> => {
    const op = await startOperator({ kubeconfig: cp.operatorKubeconfig, ...options });
    running.push(op);
    return op;
  };
  /** Converged: status observed the latest generation and every owned object exists. */
  const converged = async (ns: string, name: string, expectPdb: boolean): Promise<ServedModelObj> => {
    const sm = await get<ServedModelObj>(ns, `sm ${name}`);
    expect(sm.status?.observedGeneration).toBe(sm.metadata.generation);
    const owned = await get<List>(ns, `${OWNED} -l tensorfleet.dev/served-model=${name}`);
    expect(owned.items.map((o) => o.metadata.name).sort()).toEqual(
      [name, `${name}-headless`, `${name}-models`, name, ...(expectPdb ? [name] : [])].sort(),
    );
    return sm;
  };
  const resourceVersions = async (ns: string, name: string): Promise<Record<string, string>> => {
    const sm = await get<ServedModelObj>(ns, `sm ${name}`);
    const owned = await get<List>(ns, `${OWNED} -l tensorfleet.dev/served-model=${name}`);
    const entries: [string, string][] = [['sm', sm.metadata.resourceVersion], ...owned.items.map((o, i): [string, string] => [`${i}:${o.metadata.name}`, o.metadata.resourceVersion])];
    return Object.fromEntries(entries);
  };

  beforeAll(async () => {
    cp = await startControlPlane();
    await installCrdAndRbac(cp);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((op) => op.stop()));
  });
  afterAll(async () => {
    await cp?.stop();
  });

  it('runs under the operator RBAC only, not as admin', async () => {
    const canI = async (verb: string, resource: string): Promise<string> =>
      (await kubectl(cp.operatorKubeconfig, ['auth', 'can-i', verb, resource, '-A'])).stdout.trim();
    expect(await canI('patch', 'deployments.apps')).toBe('yes');
    expect(await canI('list', 'secrets')).toBe('no');
    expect(await canI('delete', 'servedmodels.tensorfleet.dev')).toBe('no');
    expect(await canI('create', 'pods')).toBe('no');
  });

  it('reconciles a ServedModel into its owned objects, status and events, then writes nothing', async () => {
    const ns = await newNamespace();
    const op = await operator({ resyncMs: 500 });
    await applyModel(ns, 'mnist', {
      source: { uri: 's3://models/mnist', endpoint: 'http://minio.ml:9000', region: 'eu-west-1' },
      versionPolicy: { latest: { count: 2 } },
      versionLabels: { stable: 2, canary: 3 },
      routing: { canary: { version: 3, percent: 10 } },
      replicas: 3,
    });
    const sm = await eventually(() => converged(ns, 'mnist', true));

    const deployment = await get<V1Deployment>(ns, 'deploy mnist');
    expect(deployment.metadata?.ownerReferences).toEqual([expect.objectContaining({ uid: sm.metadata.uid, controller: true })]);
    const container = deployment.spec?.template.spec?.containers[0];
    expect(container?.image).toBe('tensorfleet/tensorfleet:0.1.0');
    expect(container?.args).toEqual(expect.arrayContaining(['serve', '--model_config_file=/etc/tensorfleet/models.yaml', '--port=8500', '--rest_api_port=8501']));
    expect(container?.env).toEqual(expect.arrayContaining([{ name: 'TENSORFLEET_S3_ENDPOINT', value: 'http://minio.ml:9000' }, { name: 'AWS_REGION', value: 'eu-west-1' }]));
    expect(container?.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    expect(deployment.spec?.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
    // kube-controller-manager turned the Deployment into a ReplicaSet.
    await eventually(async () => expect((await get<List>(ns, 'rs -l tensorfleet.dev/served-model=mnist')).items).toHaveLength(1));

    const svc = await get<V1Service>(ns, 'svc mnist');
    expect(svc.spec?.ports).toEqual([
      expect.objectContaining({ name: 'grpc', port: 8500, appProtocol: 'grpc' }),
      expect.objectContaining({ name: 'http', port: 8501 }),
    ]);
    expect((await get<V1Service>(ns, 'svc mnist-headless')).spec?.clusterIP).toBe('None');
    expect(parse((await get(ns, 'cm mnist-models')).data?.['models.yaml'] ?? '')).toEqual({
      model_config_list: [
        {
          name: 'mnist',
          base_path: 's3://models/mnist',
          model_platform: 'tensorflow',
          model_version_policy: { latest: { num_versions: 2 } },
          version_labels: { canary: 3, stable: 2 },
          routing: { canary: { version: 3, percent: 10 } },
        },
      ],
    });

    const status = await eventually(async () => {
      const s = (await get<ServedModelObj>(ns, 'sm mnist')).status ?? {};
      expect(s.replicas).toBe(3);
      return s;
    });
    expect(status).toMatchObject({ ready: '0/3', readyReplicas: 0, servedVersions: 'latest 2', canary: '3@10%', endpoints: { grpc: `mnist.${ns}.svc:8500` } });
    const conditions = Object.fromEntries((status.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));
    // No pod runs here (no kubelet), so whether the canary and labels are loaded is unknown.
    expect(conditions).toEqual({
      Ready: 'False/NoReplicasReady',
      Progressing: 'False/RolloutComplete',
      Degraded: 'False/AsExpected',
      SourceReady: 'True/PodIdentity',
      RoutingReady: 'Unknown/NotObserved',
    });
    const events = await admin(['-n', ns, 'get', 'events', '--field-selector', 'involvedObject.kind=ServedModel', '-o', 'jsonpath={.items[*].reason}']);
    expect(events).toContain('Applied');

    // Converged: more reconciles (resync every 500 ms) write nothing and change no resourceVersion.
    await eventually(async () => expect(await resourceVersions(ns, 'mnist')).toEqual(await resourceVersions(ns, 'mnist')));
    const before = await resourceVersions(ns, 'mnist');
    const writesBefore = await op.metric(WRITES);
    const reconcilesBefore = await op.metric(RECONCILES);
    await eventually(async () => expect(await op.metric(RECONCILES)).toBeGreaterThanOrEqual(reconcilesBefore + 3));
    expect(await op.metric(WRITES)).toBe(writesBefore);
    expect(await resourceVersions(ns, 'mnist')).toEqual(before);
  });

  it('changes only the ConfigMap for routing, and rolls the Deployment for the image', async () => {
    const ns = await newNamespace();
    await operator();
    const spec = { source: { uri: 's3://models/m' }, versionPolicy: { all: {} }, routing: { canary: { version: 2, percent: 5 } } };
    await applyModel(ns, 'm', spec);
    await eventually(() => converged(ns, 'm', false));
    const deploy0 = await get<V1Deployment>(ns, 'deploy m');
    const cm0 = await get(ns, 'cm m-models');

    await applyModel(ns, 'm', { ...spec, routing: { canary: { version: 2, percent: 50 } } });
    await eventually(async () => expect((await get(ns, 'cm m-models')).data?.['models.yaml']).toContain('percent: 50'));
    await eventually(() => converged(ns, 'm', false));
    const deploy1 = await get<V1Deployment>(ns, 'deploy m');
    expect(deploy1.metadata?.generation).toBe(deploy0.metadata?.generation);
    expect(deploy1.spec?.template).toEqual(deploy0.spec?.template);

    await applyModel(ns, 'm', { ...spec, routing: { canary: { version: 2, percent: 50 } }, image: 'registry.example/tensorfleet:0.2.0' });
    await eventually(async () => expect((await get<V1Deployment>(ns, 'deploy m')).spec?.template.spec?.containers[0]?.image).toBe('registry.example/tensorfleet:0.2.0'));
    const deploy2 = await get<V1Deployment>(ns, 'deploy m');
    expect(deploy2.metadata?.generation).toBe((deploy1.metadata?.generation ?? 0) + 1);
    expect(deploy2.spec?.template.metadata?.annotations?.['tensorfleet.dev/restart-hash']).not.toBe(deploy1.spec?.template.metadata?.annotations?.['tensorfleet.dev/restart-hash']);
    expect((await get(ns, 'cm m-models')).metadata.resourceVersion).not.toBe(cm0.metadata.resourceVersion);
    const cm2 = await get(ns, 'cm m-models');
    await eventually(async () => expect((await get<List>(ns, 'rs -l tensorfleet.dev/served-model=m')).items).toHaveLength(2));
    expect((await get(ns, 'cm m-models')).metadata.resourceVersion).toBe(cm2.metadata.resourceVersion);
  });

  it('passes spec.pod and spec.serverArgs into the pods, takes out what is removed from it, and reports a pod field the apiserver rejects', async () => {
    const ns = await newNamespace();
    await operator({ resyncMs: 500 });
    const pod = {
      annotations: { 'prometheus.io/scrape': 'true', 'example.com/owner': 'search' },
      labels: { team: 'search' },
      serviceAccountName: 'model-reader',
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'inference', effect: 'NoSchedule' }],
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'tensorfleet.dev/served-model': 'p' } } } },
          ],
        },
      },
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'tensorfleet.dev/served-model': 'p' } } }],
      priorityClassName: 'inference',
      imagePullSecrets: [{ name: 'registry' }],
      env: [
        { name: 'S3_REQUEST_TIMEOUT_MSEC', value: '30000' },
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      ],
    };
    await applyModel(ns, 'p', { source: { uri: 's3://models/p', region: 'eu-west-1' }, pod, serverArgs: ['--inference_threads=2'] });
    await eventually(() => converged(ns, 'p', false));
    const template = (await get<V1Deployment>(ns, 'deploy p')).spec!.template;
    expect(template.spec?.containers[0]?.args?.at(-1)).toBe('--inference_threads=2');
    expect(template.spec).toMatchObject({ serviceAccountName: 'model-reader', nodeSelector: pod.nodeSelector, tolerations: pod.tolerations, affinity: pod.affinity, priorityClassName: 'inference', imagePullSecrets: pod.imagePullSecrets });
    // The apiserver fills in fieldRef.apiVersion; the operator's comparison takes that as converged.
    expect(template.spec?.containers[0]?.env).toEqual([
      { name: 'AWS_REGION', value: 'eu-west-1' },
      pod.env[0],
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    ]);
    const settled = await resourceVersions(ns, 'p');
    await new Promise((resolve) => setTimeout(resolve, 2000)); // four resyncs
    expect(await resourceVersions(ns, 'p')).toEqual(settled);
    expect(template.spec?.topologySpreadConstraints).toEqual(pod.topologySpreadConstraints);
    expect(template.metadata?.labels).toMatchObject({ team: 'search', 'tensorfleet.dev/served-model': 'p' });
    expect(template.metadata?.annotations).toMatchObject(pod.annotations);

    // Removed one at a time: an annotation alone is not in the pod spec, yet it must leave too.
    const oneAnnotation = { ...pod, annotations: { 'prometheus.io/scrape': 'true' } };
    await applyModel(ns, 'p', { source: { uri: 's3://models/p' }, pod: oneAnnotation });
    await eventually(async () => {
      const annotations = (await get<V1Deployment>(ns, 'deploy p')).spec!.template.metadata?.annotations ?? {};
      expect(Object.keys(annotations).sort()).toEqual(['prometheus.io/scrape', 'tensorfleet.dev/restart-hash']);
    });
    await applyModel(ns, 'p', { source: { uri: 's3://models/p' }, pod: { ...oneAnnotation, tolerations: undefined } });
    await eventually(async () => expect((await get<V1Deployment>(ns, 'deploy p')).spec!.template.spec?.tolerations).toBeUndefined());

    // The CRD leaves affinity's contents to the apiserver, which refuses them on the Deployment.
    await applyModel(ns, 'p', { source: { uri: 's3://models/p' }, pod: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } } } });
    await eventually(async () => {
      const degraded = (await get<ServedModelObj>(ns, 'sm p')).status?.conditions?.find((c) => c.type === 'Degraded');
      expect(degraded).toMatchObject({ status: 'True', reason: 'ApplyFailed', message: expect.stringContaining('nodeSelectorTerms') as unknown });
    });
    // Left failing, it would keep later tests' operators (which watch every namespace) writing.
    await admin(['-n', ns, 'delete', 'sm', 'p']);
  });

  it('reports an apiserver refusal longer than a condition message may be, cut to fit', async () => {
    const ns = await newNamespace();
    await operator({ resyncMs: 500 });
    // 200 bad node affinity terms: the apiserver names each, values included (about 100 kB).
    const matchExpressions = Array.from({ length: 200 }, (_, i) => ({ key: `bad key ${i} ${'x'.repeat(200)}`, operator: 'In', values: [`v ${'y'.repeat(100)}`] }));
    await applyModel(ns, 'long', { source: { uri: 's3://models/l' }, pod: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions }] } } } } });
    const sm = await eventually(async () => {
      const got = await get<ServedModelObj>(ns, 'sm long');
      expect(got.status?.observedGeneration).toBe(got.metadata.generation);
      return got;
    });
    const degraded = sm.status?.conditions?.find((c) => c.type === 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'ApplyFailed', message: expect.stringMatching(/^Deployment long: apply Deployment long: HTTP 422: .*bad key 0 /) as unknown });
    expect([...(degraded?.message ?? '')]).toHaveLength(32768);
    expect(degraded?.message).toMatch(/ … \(\d+ more characters; the operator's log has all of it\)$/);
    await admin(['-n', ns, 'delete', 'sm', 'long']);
  });

  it('does not roll out a spec the model server would refuse: the Deployment keeps the last accepted one, and status says why', async () => {
    const ns = await newNamespace();
    await operator({ resyncMs: 500 });
    const args = async (): Promise<string[] | undefined> => (await get<V1Deployment>(ns, 'deploy r')).spec!.template.spec?.containers[0]?.args;
    await applyModel(ns, 'r', { source: { uri: 's3://models/r' }, serverArgs: ['--max_request_bytes=1048576'] });
    await eventually(() => converged(ns, 'r', false));
    // The CRD admits the flag; only the server's own parser knows its value is no number.
    await applyModel(ns, 'r', { source: { uri: 's3://models/r' }, serverArgs: ['--max_request_bytes=1MB'] });
    await eventually(async () => {
      const sm = await get<ServedModelObj>(ns, 'sm r');
      expect(sm.status?.observedGeneration).toBe(sm.metadata.generation);
      expect(sm.status?.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({ status: 'True', reason: 'InvalidSpec', message: expect.stringContaining('--max_request_bytes takes a non-negative integer, got "1MB"') as unknown });
    });
    expect((await args())?.at(-1)).toBe('--max_request_bytes=1048576');
    const events = await admin(['-n', ns, 'get', 'events', '--field-selector', 'reason=InvalidSpec', '-o', 'jsonpath={.items[*].type}']);
    expect(events).toBe('Warning');
    // Scaling (kubectl scale, an autoscaler) still reaches the held Deployment, whose pods stay as they are.
    const template = (await get<V1Deployment>(ns, 'deploy r')).spec?.template;
    await admin(['-n', ns, 'scale', 'sm', 'r', '--replicas=3']);
    await eventually(async () => expect((await get<V1Deployment>(ns, 'deploy r')).spec?.replicas).toBe(3));
    expect((await get<V1Deployment>(ns, 'deploy r')).spec?.template).toEqual(template);
    expect((await get<ServedModelObj>(ns, 'sm r')).status?.conditions?.find((c) => c.type === 'Degraded')?.reason).toBe('InvalidSpec');

    await applyModel(ns, 'r', { source: { uri: 's3://models/r' }, serverArgs: ['--max_request_bytes=2097152'] });
    await eventually(async () => expect((await args())?.at(-1)).toBe('--max_request_bytes=2097152'));
    await eventually(async () => expect((await get<ServedModelObj>(ns, 'sm r')).status?.conditions?.find((c) => c.type === 'Degraded')?.status).toBe('False'));
    await admin(['-n', ns, 'delete', 'sm', 'r']);
  });

  it('mounts the TLS Secret for the gRPC port and reports it missing or incomplete until it is whole', async () => {
    const ns = await newNamespace();
    await operator({ resyncMs: 500 });
    await applyModel(ns, 't', { source: { uri: 's3://models/t' }, tls: { secretName: 't-tls', requireClientCertificate: true } });
    const degraded = async (): Promise<string> => {
      const c = (await get<ServedModelObj>(ns, 'sm t')).status?.conditions?.find((x) => x.type === 'Degraded');
      return `${c?.status}/${c?.reason}: ${c?.message}`;
    };
    await eventually(async () => expect(await degraded()).toBe('True/TLSSecretNotFound: TLS Secret t-tls does not exist: the pods cannot start'));
    const pod = (await get<V1Deployment>(ns, 'deploy t')).spec!.template.spec!;
    expect(pod.volumes).toContainEqual({ name: 'grpc-tls', secret: { secretName: 't-tls', defaultMode: 0o440 } });
    expect(pod.containers[0]?.args).toEqual(expect.arrayContaining(['--grpc_tls_cert_file=/var/run/secrets/tensorfleet/grpc-tls/tls.crt', '--grpc_tls_client_ca_file=/var/run/secrets/tensorfleet/grpc-tls/ca.crt']));

    const tlsDir = join(FIXTURES_DIR, 'tls');
    await admin(['-n', ns, 'create', 'secret', 'tls', 't-tls', `--cert=${join(tlsDir, 'server.pem')}`, `--key=${join(tlsDir, 'server-key.pem')}`]);
    await eventually(async () => expect(await degraded()).toBe('True/TLSSecretIncomplete: TLS Secret t-tls lacks ca.crt'));
    const ca = Buffer.from(readFileSync(join(tlsDir, 'ca.pem'))).toString('base64');
    await admin(['-n', ns, 'patch', 'secret', 't-tls', '--type=merge', '-p', JSON.stringify({ data: { 'ca.crt': ca } })]);
    await eventually(async () => expect(await degraded()).toMatch(/^False\/AsExpected/));
  });

  it('writes request logging into the model config and gives the pods an upload spool, and takes both out again', async () => {
    const ns = await newNamespace();
    await operator({ resyncMs: 500 });
    const spec = { source: { uri: 's3://models/logged' }, requestLogging: { uri: 's3://ml-logs/requests/logged', samplingRate: 0.25 } };
    await applyModel(ns, 'logged', spec);
    const volumes = async (): Promise<string[]> => ((await get<V1Deployment>(ns, 'deploy logged')).spec?.template.spec?.volumes ?? []).map((v) => v.name);
    const logging = async (): Promise<unknown> => (parse((await get(ns, 'cm logged-models')).data?.['models.yaml'] ?? '') as { model_config_list: { logging_config?: unknown }[] }).model_config_list[0]?.logging_config;
    await eventually(async () => {
      expect(await logging()).toEqual({ log_collector_config: { type: 'tfrecord', filename_prefix: 's3://ml-logs/requests/logged' }, sampling_config: { sampling_rate: 0.25 } });
      expect(await volumes()).toContain('request-logs');
    });
    await applyModel(ns, 'logged', { source: spec.source });
    await eventually(async () => {
      expect(await logging()).toBeUndefined();
      expect(await volumes()).not.toContain('request-logs');
    });
  });

  it('reports pods the cluster refuses to create (here a quota) as Degraded, with the reason', async () => {
    const ns = await newNamespace();
    await admin(['-n', ns, 'create', 'quota', 'no-pods', '--hard=pods=0']);
    // Admission enforces a quota only once its controller has filled in the status.
    await eventually(async () => expect((await get<{ status?: { hard?: Record<string, string> } }>(ns, 'quota no-pods')).status?.hard).toEqual({ pods: '0' }));
    await operator({ resyncMs: 500 });
    await applyModel(ns, 'q', { source: { uri: 's3://models/q' } });
    await eventually(async () => {
      const degraded = (await get<ServedModelObj>(ns, 'sm q')).status?.conditions?.find((c) => c.type === 'Degraded');
      expect(degraded).toMatchObject({ status: 'True', reason: 'PodsNotCreated', message: expect.stringMatching(/forbidden.*quota/) as unknown });
    }, 30_000);
    const warnings = await admin(['-n', ns, 'get', 'events', '--field-selector', 'type=Warning', '-o', 'jsonpath={.items[*].reason}']);
    expect(warnings).toContain('PodsNotCreated');
    await admin(['-n', ns, 'delete', 'sm', 'q']);
  });

  it('follows kubectl scale, adds and removes the PodDisruptionBudget', async () => {
    const ns = await newNamespace();
    await operator();
    await applyModel(ns, 's', { source: { uri: 's3://models/s' } });
    await eventually(() => converged(ns, 's', false));
    await admin(['-n', ns, 'scale', 'sm', 's', '--replicas=3']);
    await eventually(async () => {
      expect((await get<V1Deployment>(ns, 'deploy s')).spec?.replicas).toBe(3);
      await converged(ns, 's', true);
    });
    await admin(['-n', ns, 'scale', 'sm', 's', '--replicas=1']);
    await eventually(async () => {
      expect((await get<V1Deployment>(ns, 'deploy s')).spec?.replicas).toBe(1);
      await converged(ns, 's', false);
    });
  });

  it('keeps a HorizontalPodAutoscaler that scales the ServedModel, reports that it cannot (no metrics API here), and removes it', async () => {
    interface Hpa {
      metadata: { annotations?: Record<string, string> };
      spec: Record<string, unknown>;
    }
    const ns = await newNamespace();
    await operator({ resyncMs: 500, autoscalingGraceMs: 3000 });
    const spec = {
      source: { uri: 's3://models/auto' },
      resources: { requests: { cpu: '500m' } },
      autoscaling: { minReplicas: 2, maxReplicas: 3, behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } },
    };
    await applyModel(ns, 'auto', spec);
    // The HPA controller raises spec.replicas to minReplicas through the scale subresource; the
    // Deployment and the PodDisruptionBudget follow spec.replicas.
    await eventually(async () => {
      expect((await get<ServedModelObj>(ns, 'sm auto')).spec?.replicas).toBe(2);
      expect((await get<V1Deployment>(ns, 'deploy auto')).spec?.replicas).toBe(2);
      await converged(ns, 'auto', true);
    }, 60_000);
    const hpa = await get<Hpa>(ns, 'hpa auto');
    expect(hpa.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', name: 'auto' },
      minReplicas: 2,
      maxReplicas: 3,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
      behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
    });

    // Scaled by hand above maxReplicas: the autoscaler brings it back.
    await admin(['-n', ns, 'scale', 'sm', 'auto', '--replicas=5']);
    await eventually(async () => expect((await get<V1Deployment>(ns, 'deploy auto')).spec?.replicas).toBe(3), 60_000);

    // Without a metrics API the autoscaler cannot compute a replica count; after the grace, status says so.
    await eventually(async () => {
      const degraded = (await get<ServedModelObj>(ns, 'sm auto')).status?.conditions?.find((c) => c.type === 'Degraded');
      expect(degraded).toMatchObject({ status: 'True', reason: 'AutoscalingInactive', message: expect.stringMatching(/ScalingActive=False \(FailedGetResourceMetric\)/) as unknown });
    }, 60_000);
    expect(await admin(['-n', ns, 'get', 'events', '--field-selector', 'type=Warning', '-o', 'jsonpath={.items[*].reason}'])).toContain('AutoscalingInactive');

    // A removed behavior leaves the HPA (the apiserver fills in defaults, which "contains" alone would accept).
    await applyModel(ns, 'auto', { ...spec, autoscaling: { minReplicas: 2, maxReplicas: 3 } });
    await eventually(async () => {
      const updated = await get<Hpa>(ns, 'hpa auto');
      expect(updated.spec.behavior).toBeUndefined();
      expect(updated.metadata.annotations?.['tensorfleet.dev/autoscaling-hash']).not.toBe(hpa.metadata.annotations?.['tensorfleet.dev/autoscaling-hash']);
    });

    // Without spec.autoscaling the HPA goes, the replicas it chose stay, and Degraded clears.
    await applyModel(ns, 'auto', { source: spec.source, resources: spec.resources });
    await eventually(async () => {
      expect((await kubectl(cp.adminKubeconfig, ['-n', ns, 'get', 'hpa', 'auto'])).stderr).toContain('NotFound');
      const sm = await get<ServedModelObj>(ns, 'sm auto');
      expect(sm.spec?.replicas).toBe(3);
      expect(sm.status?.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    });
  });

  it('reports a missing credentials Secret, then recovers when it appears', async () => {
    const ns = await newNamespace();
    await operator({ resyncMs: 500 });
    await applyModel(ns, 'c', { source: { uri: 's3://models/c', credentialsSecretRef: { name: 's3' } } });
    const sourceReady = async (): Promise<string> => {
      const conditions = (await get<ServedModelObj>(ns, 'sm c')).status?.conditions ?? [];
      const c = conditions.find((x) => x.type === 'SourceReady');
      return `${c?.status}/${c?.reason}`;
    };
    await eventually(async () => expect(await sourceReady()).toBe('False/SecretNotFound'));
    const warnings = await admin(['-n', ns, 'get', 'events', '--field-selector', 'type=Warning', '-o', 'jsonpath={.items[*].reason}']);
    expect(warnings).toContain('SecretNotFound');
    const mounted = (await get<V1Deployment>(ns, 'deploy c')).spec?.template.spec?.volumes?.find((v) => v.name === 's3-credentials');
    expect(mounted?.secret?.secretName).toBe('s3');

    await admin(['-n', ns, 'create', 'secret', 'generic', 's3', '--from-literal=accessKeyId=a', '--from-literal=secretAccessKey=b']);
    await eventually(async () => expect(await sourceReady()).toBe('True/CredentialsFound'));

    // An S3 CA bundle: reported missing, then without its key, then whole.
    await applyModel(ns, 'c', { source: { uri: 's3://models/c', credentialsSecretRef: { name: 's3' }, caBundleRef: { name: 'internal-ca', key: 'bundle.pem' } } });
    await eventually(async () => expect(await sourceReady()).toBe('False/CABundleNotFound'));
    const caVolume = (await get<V1Deployment>(ns, 'deploy c')).spec?.template.spec?.volumes?.find((v) => v.name === 's3-ca');
    expect(caVolume?.configMap).toEqual({ name: 'internal-ca', items: [{ key: 'bundle.pem', path: 'ca.crt' }], defaultMode: 420 });
    await admin(['-n', ns, 'create', 'configmap', 'internal-ca', '--from-literal=ca.crt=x']);
    await eventually(async () => expect(await sourceReady()).toBe('False/CABundleIncomplete'));
    // A new problem in place of another (False before and after) gets its Warning too.
    await eventually(async () =>
      expect((await admin(['-n', ns, 'get', 'events', '--field-selector', 'type=Warning', '-o', 'jsonpath={.items[*].reason}'])).split(' ')).toEqual(
        expect.arrayContaining(['SecretNotFound', 'CABundleNotFound', 'CABundleIncomplete']),
      ),
    );
    await admin(['-n', ns, 'create', 'configmap', 'internal-ca', '--from-literal=bundle.pem=x', '--dry-run=client', '-o', 'yaml'], undefined).then((yaml) => admin(['-n', ns, 'apply', '-f', '-'], yaml));
    await eventually(async () => expect(await sourceReady()).toBe('True/CredentialsFound'));
  });

  it('leaves alone objects of the same names that someone else made, says so, and builds its own once they are gone', async () => {
    const ns = await newNamespace();
    await operator({ resyncMs: 500 });
    // Made by hand before the ServedModel: no operator label, so the informers never show them.
    await admin(['-n', ns, 'create', 'configmap', 'taken-models', '--from-literal=app.properties=x=1']);
    await admin(['-n', ns, 'create', 'service', 'clusterip', 'taken', '--tcp=80:8080']);
    await applyModel(ns, 'taken', { source: { uri: 's3://models/t' } });
    const degraded = async (): Promise<string> => {
      const c = (await get<ServedModelObj>(ns, 'sm taken')).status?.conditions?.find((x) => x.type === 'Degraded');
      return `${c?.status}/${c?.reason}: ${c?.message}`;
    };
    await eventually(async () =>
      expect(await degraded()).toBe(
        'True/ApplyFailed: ConfigMap taken-models already exists and was not created by the operator for this ServedModel: it is left alone (delete or rename it, or give the ServedModel another name); ' +
          'Service taken already exists and was not created by the operator for this ServedModel: it is left alone (delete or rename it, or give the ServedModel another name)',
      ),
    );
    const theirs = { cm: await get(ns, 'cm taken-models'), svc: await get<V1Service>(ns, 'svc taken') };
    expect(theirs.cm.metadata.ownerReferences).toBeUndefined();
    expect(theirs.cm.data).toEqual({ 'app.properties': 'x=1' });
    expect((theirs.cm.metadata as { labels?: unknown }).labels).toBeUndefined();
    // Without an ownerReference, garbage collection leaves them be when the ServedModel is deleted.
    expect(theirs.svc.metadata?.ownerReferences).toBeUndefined();
    expect(theirs.svc.spec?.selector).toEqual({ app: 'taken' });
    expect(theirs.svc.spec?.ports?.map((p) => p.port)).toEqual([80]);
    // The rest is built.
    expect((await get<V1Service>(ns, 'svc taken-headless')).spec?.clusterIP).toBe('None');
    expect((await get<V1Deployment>(ns, 'deploy taken')).metadata?.ownerReferences?.[0]?.name).toBe('taken');

    // Once they are gone, the ServedModel gets its own.
    await admin(['-n', ns, 'delete', 'configmap', 'taken-models']);
    await admin(['-n', ns, 'delete', 'service', 'taken']);
    await eventually(() => converged(ns, 'taken', false));
    await eventually(async () => expect(await degraded()).toBe('False/AsExpected: No problems found'));
  });

  it('adopts the objects of a ServedModel deleted with --cascade=orphan when it is applied again, without new pods', async () => {
    const ns = await newNamespace();
    await operator({ resyncMs: 500 });
    const spec = { source: { uri: 's3://models/o' }, replicas: 2 };
    await applyModel(ns, 'o', spec);
    await eventually(() => converged(ns, 'o', true));
    const before = await get<List>(ns, `${OWNED} -l tensorfleet.dev/served-model=o`);
    await admin(['-n', ns, 'delete', 'sm', 'o', '--cascade=orphan', '--wait=true']);
    await eventually(async () => expect((await get<List>(ns, `${OWNED} -l tensorfleet.dev/served-model=o`)).items.flatMap((o) => o.metadata.ownerReferences ?? [])).toEqual([]));

    await applyModel(ns, 'o', spec);
    const sm = await eventually(async () => {
      const got = await converged(ns, 'o', true);
      expect(got.status?.conditions?.find((c) => c.type === 'Degraded')?.reason).toBe('AsExpected');
      return got;
    });
    const after = await get<List>(ns, `${OWNED} -l tensorfleet.dev/served-model=o`);
    // The same objects (uids), now controlled by the new ServedModel.
    expect(after.items.map((o) => o.metadata.uid).sort()).toEqual(before.items.map((o) => o.metadata.uid).sort());
    for (const o of after.items) expect(o.metadata.ownerReferences).toEqual([expect.objectContaining({ uid: sm.metadata.uid, controller: true })]);
    // No new pods: the Deployment's template did not change, so it still has one ReplicaSet.
    expect((await get<List>(ns, 'rs -l tensorfleet.dev/served-model=o')).items).toHaveLength(1);
  });

  it('leaves garbage collection to delete what a deleted ServedModel owned', async () => {
    const ns = await newNamespace();
    await operator();
    await applyModel(ns, 'gone', { source: { uri: 's3://models/g' }, replicas: 2 });
    await eventually(() => converged(ns, 'gone', true));
    await admin(['-n', ns, 'delete', 'sm', 'gone', '--wait=true']);
    await eventually(async () => expect((await get<List>(ns, `${OWNED},rs -l tensorfleet.dev/served-model=gone`)).items).toEqual([]), 30_000);
  });

  it('converges without duplicates when restarted mid-work', async () => {
    const ns = await newNamespace();
    const names = Array.from({ length: 12 }, (_, i) => `r${i}`);
    const first = await operator();
    await Promise.all(names.map((n) => applyModel(ns, n, { source: { uri: `s3://models/${n}` }, replicas: 2 })));
    await eventually(async () => expect(await first.metric(WRITES)).toBeGreaterThan(0));
    await first.stop();
    const second = await operator();
    for (const n of names) await eventually(() => converged(ns, n, true));
    const all = await get<List>(ns, `${OWNED} -l app.kubernetes.io/managed-by=tensorfleet-operator --show-managed-fields`);
    expect(all.items).toHaveLength(names.length * 5);
    for (const o of all.items) {
      expect(o.metadata.ownerReferences).toHaveLength(1);
      const appliers = new Set((o.metadata.managedFields ?? []).filter((f) => f.operation === 'Apply').map((f) => f.manager));
      expect([...appliers]).toEqual(['tensorfleet-operator']);
    }
    const writes = await second.metric(WRITES);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await second.metric(WRITES)).toBe(writes);
  });

  it('keeps working when the apiserver restarts', async () => {
    const ns = await newNamespace();
    const op = await operator();
    await applyModel(ns, 'before', { source: { uri: 's3://models/b' } });
    await eventually(() => converged(ns, 'before', false));
    await cp.restartApiServer();
    await applyModel(ns, 'after', { source: { uri: 's3://models/a' } });
    await eventually(() => converged(ns, 'after', false), 45_000);
    expect(await op.metric('tensorfleet_operator_watch_restarts_total')).toBeGreaterThan(0);
  });

  it('leaves other namespaces alone when scoped to one', async () => {
    const mine = await newNamespace();
    const other = await newNamespace();
    const op = await operator({ namespace: mine });
    await applyModel(other, 'theirs', { source: { uri: 's3://models/t' } });
    await applyModel(mine, 'ours', { source: { uri: 's3://models/o' } });
    await eventually(() => converged(mine, 'ours', false));
    // Both were created together; give the operator time it would need to act on the other one.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await get<List>(other, `${OWNED} -l tensorfleet.dev/served-model=theirs`)).items).toEqual([]);
    expect((await get<ServedModelObj>(other, 'sm theirs')).status).toBeUndefined();
    expect(await op.metric(RECONCILES)).toBeGreaterThan(0);
  });

  it('runs two replicas with exactly one leader, and fails over', async () => {
    const ns = await newNamespace();
    const a = await operator({ leaderElect: true, identity: 'replica-a' });
    const b = await operator({ leaderElect: true, identity: 'replica-b' });
    const leaders = async (): Promise<string[]> => {
      const out: string[] = [];
      for (const [id, op] of [['replica-a', a], ['replica-b', b]] as const) {
        // A stopped replica no longer serves /metrics: it leads nothing.
        if ((await op.metric('tensorfleet_operator_leader').catch(() => 0)) === 1) out.push(id);
      }
      return out;
    };
    const leader = await eventually(async () => {
      const l = await leaders();
      expect(l).toHaveLength(1);
      return l[0];
    });
    const lease = await get<V1Lease>('tensorfleet-system', 'lease tensorfleet-operator');
    expect(lease.spec?.holderIdentity).toBe(leader);
    await applyModel(ns, 'one', { source: { uri: 's3://models/one' } });
    await eventually(() => converged(ns, 'one', false));
    // Only the leader wrote anything.
    const [leading, standby] = leader === 'replica-a' ? [a, b] : [b, a];
    expect(await standby.metric(WRITES)).toBe(0);
    expect(await leading.metric(WRITES)).toBeGreaterThan(0);
    for (let i = 0; i < 4; i += 1) {
      expect(await leaders()).toEqual([leader]);
      await new Promise((r) => setTimeout(r, 500));
    }

    await leading.stop();
    await eventually(async () => expect(await leaders()).toEqual([leader === 'replica-a' ? 'replica-b' : 'replica-a']), 15_000);
    await applyModel(ns, 'two', { source: { uri: 's3://models/two' } });
    await eventually(() => converged(ns, 'two', false));
    expect(await standby.metric(WRITES)).toBeGreaterThan(0);
  });
});
