import { describe, expect, it } from 'vitest';
import { OPERATOR_POD_LABELS } from '../../../../src/api/served-model-schema.js';
import { SERVER_ARGS_ALLOWED } from '../../../../src/api/served-model-types.js';
import { parseServeOptions, SERVE_FLAGS } from '../../../../src/server/serve-options.js';
import { buildDeployment, RESTART_HASH_ANNOTATION } from '../../../../src/operator/specs/deployment.js';
import { DEFAULT_RENDER_CONFIG } from '../../../../src/operator/specs/operator-config.js';
import { buildPodDisruptionBudget } from '../../../../src/operator/specs/pod-disruption-budget.js';
import { buildHeadlessService, buildService } from '../../../../src/operator/specs/service.js';
import { servedModel } from '../fixtures.js';

/** The fixture's restart hash as the operator computed it before spec.batching existed (commit 3d01753). */
const HASH_WITHOUT_BATCHING = 'f3c947a7d0c932f4';

const hash = (spec: Parameters<typeof servedModel>[0]): string | undefined =>
  buildDeployment(servedModel(spec), DEFAULT_RENDER_CONFIG).spec?.template.metadata?.annotations?.[RESTART_HASH_ANNOTATION];

describe('buildDeployment', () => {
  const d = buildDeployment(servedModel({ replicas: 3 }), DEFAULT_RENDER_CONFIG);
  const pod = d.spec?.template.spec;
  const c = pod?.containers[0];

  it('runs the model server with the documented arguments and probes', () => {
    expect(c?.image).toBe('tensorfleet/tensorfleet:0.1.0');
    expect(c?.args).toEqual([
      'serve',
      '--model_config_file=/etc/tensorfleet/models.yaml',
      '--model_config_file_poll_wait_seconds=5',
      '--port=8500',
      '--rest_api_port=8501',
      '--model_store=/var/lib/tensorfleet/models',
    ]);
    expect(c?.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c?.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c?.ports?.map((p) => [p.name, p.containerPort])).toEqual([['grpc', 8500], ['http', 8501]]);
  });

  it('is locked down and never rolls below the ready count', () => {
    expect(c?.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    expect(pod?.securityContext?.runAsNonRoot).toBe(true);
    expect(d.spec?.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
    expect(d.spec?.replicas).toBe(3);
    expect(pod?.volumes?.find((v) => v.name === 'model-store')?.emptyDir).toEqual({ sizeLimit: '10Gi' });
  });

  it('mounts a pvc:// source read-only, whole, instead of a model store', () => {
    const onClaim = buildDeployment(servedModel({ source: { uri: 'pvc://team-models/mnist/prod', pollInterval: '10s' } }), DEFAULT_RENDER_CONFIG).spec?.template.spec;
    const container = onClaim?.containers[0];
    expect(onClaim?.volumes?.map((v) => v.name)).toEqual(['model-config', 'model-source', 'tmp']);
    expect(onClaim?.volumes).toContainEqual({ name: 'model-source', persistentVolumeClaim: { claimName: 'team-models', readOnly: true } });
    expect(container?.volumeMounts).toContainEqual({ name: 'model-source', mountPath: '/var/lib/tensorfleet/source', readOnly: true });
    expect(container?.args?.some((a) => a.startsWith('--model_store'))).toBe(false);
    expect(container?.args).toContain('--file_system_poll_wait_seconds=10');
    expect(container?.env).toBeUndefined();
  });

  it('keeps the pods of a claim source when only the path in the claim changes', () => {
    expect(hash({ source: { uri: 'pvc://models/a' } })).toBe(hash({ source: { uri: 'pvc://models/b/c' } }));
    expect(hash({ source: { uri: 'pvc://models/a' } })).not.toBe(hash({ source: { uri: 'pvc://other/a' } }));
  });

  it("adds spec.pod.env after the operator's own variables, and the image pull Secrets", () => {
    const env = [{ name: 'S3_REQUEST_TIMEOUT_MSEC', value: '30000' }, { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 't', key: 'k' } } }];
    const spec = buildDeployment(servedModel({ source: { uri: 's3://m/x', region: 'eu-west-1' }, pod: { env, imagePullSecrets: [{ name: 'registry' }] } }), DEFAULT_RENDER_CONFIG).spec?.template.spec;
    expect(spec?.containers[0]?.env).toEqual([{ name: 'AWS_REGION', value: 'eu-west-1' }, ...env]);
    expect(spec?.imagePullSecrets).toEqual([{ name: 'registry' }]);
    expect(hash({ pod: { env } })).not.toBe(hash({}));
  });

  it("mounts source.caBundleRef's key as the server's S3 CA file", () => {
    const spec = buildDeployment(servedModel({ source: { uri: 's3://m/x', endpoint: 'https://minio.ml:9000', caBundleRef: { name: 'internal-ca', key: 'bundle.pem' } } }), DEFAULT_RENDER_CONFIG).spec?.template.spec;
    const container = spec?.containers[0];
    expect(spec?.volumes).toContainEqual({ name: 's3-ca', configMap: { name: 'internal-ca', items: [{ key: 'bundle.pem', path: 'ca.crt' }] } });
    expect(container?.volumeMounts).toContainEqual({ name: 's3-ca', mountPath: '/var/run/tensorfleet/s3-ca', readOnly: true });
    expect(parseServeOptions((container?.args ?? []).slice(1)).s3_ca_file).toBe('/var/run/tensorfleet/s3-ca/ca.crt');
    const byDefault = buildDeployment(servedModel({ source: { uri: 's3://m/x', caBundleRef: { name: 'internal-ca' } } }), DEFAULT_RENDER_CONFIG).spec?.template.spec;
    expect(byDefault?.volumes?.find((v) => v.name === 's3-ca')?.configMap?.items).toEqual([{ key: 'ca.crt', path: 'ca.crt' }]);
  });

  it('mounts the credentials Secret as files and passes endpoint and region as env', () => {
    const withS3 = buildDeployment(
      servedModel({ source: { uri: 's3://m/x', endpoint: 'http://minio:9000', region: 'eu-west-1', credentialsSecretRef: { name: 's3' }, pollInterval: '1m' } }),
      DEFAULT_RENDER_CONFIG,
    );
    const spec = withS3.spec?.template.spec;
    const container = spec?.containers[0];
    expect(spec?.volumes?.find((v) => v.name === 's3-credentials')?.secret?.secretName).toBe('s3');
    expect(container?.volumeMounts).toContainEqual({ name: 's3-credentials', mountPath: '/var/run/secrets/tensorfleet/s3', readOnly: true });
    expect(container?.env).toEqual([
      { name: 'TENSORFLEET_S3_ENDPOINT', value: 'http://minio:9000' },
      { name: 'AWS_REGION', value: 'eu-west-1' },
      { name: 'TENSORFLEET_S3_CREDENTIALS_DIR', value: '/var/run/secrets/tensorfleet/s3' },
    ]);
    expect(container?.args).toContain('--file_system_poll_wait_seconds=60');
  });

  it.each([
    ['without batching', {}, []],
    ['with batching: {}', { batching: {} }, ['--enable_batching', '--batching_parameters_file=/etc/tensorfleet/batching_parameters.txt']],
    ['with parameters', { batching: { maxBatchSize: 8 } }, ['--enable_batching', '--batching_parameters_file=/etc/tensorfleet/batching_parameters.txt']],
  ] as const)('passes the batching flags only when spec.batching is set (%s)', (_name, spec, flags) => {
    const args = buildDeployment(servedModel(spec), DEFAULT_RENDER_CONFIG).spec?.template.spec?.containers[0]?.args ?? [];
    expect(args.filter((a) => a.includes('batching'))).toEqual(flags);
    // The file comes from the ConfigMap volume already mounted there.
    expect(buildDeployment(servedModel(spec), DEFAULT_RENDER_CONFIG).spec?.template.spec?.containers[0]?.volumeMounts).toContainEqual({
      name: 'model-config',
      mountPath: '/etc/tensorfleet',
      readOnly: true,
    });
  });

  it.each([
    ['without spec.tensorflow', {}, []],
    ['with zeros (the server default)', { tensorflow: { intraOpParallelism: 0, interOpParallelism: 0 } }, []],
    ['with ops inline', { tensorflow: { interOpParallelism: -1 } }, ['--tensorflow_inter_op_parallelism=-1']],
    ['with both pools', { tensorflow: { intraOpParallelism: 2, interOpParallelism: 1 } }, ['--tensorflow_intra_op_parallelism=2', '--tensorflow_inter_op_parallelism=1']],
  ] as const)('passes the TensorFlow thread flags that differ from the default (%s)', (_name, spec, flags) => {
    const args = buildDeployment(servedModel(spec), DEFAULT_RENDER_CONFIG).spec?.template.spec?.containers[0]?.args ?? [];
    expect(args.filter((a) => a.startsWith('--tensorflow_'))).toEqual(flags);
  });

  it.each([
    ['unset (the server defaults)', {}, []],
    ['defaults written out', { savedModelTags: ['serve'], modelWarmup: true, signatureMethodNameCheck: false }, ['--saved_model_tags=serve']],
    ['another tag set', { savedModelTags: ['serve', 'gpu'] }, ['--saved_model_tags=serve,gpu']],
    ['warmup off', { modelWarmup: false }, ['--enable_model_warmup=false']],
    ['three warmup iterations', { warmupIterations: 3 }, ['--num_request_iterations_for_warmup=3']],
    ['the method-name check on', { signatureMethodNameCheck: true }, ['--enable_signature_method_name_check=true']],
  ] as const)('passes the SavedModel loading flags that are set (%s)', (_name, tensorflow, flags) => {
    const args = buildDeployment(servedModel({ tensorflow }), DEFAULT_RENDER_CONFIG).spec?.template.spec?.containers[0]?.args ?? [];
    expect(args.filter((a) => /^--(saved_model_tags|enable_model_warmup|num_request_iterations_for_warmup|enable_signature_method_name_check)=/.test(a))).toEqual(flags);
  });

  it('keeps the restart hash of a ServedModel without batching (upgrading the operator rolls no pods)', () => {
    // The pod-spec-only hash from before batching existed, for this fixture.
    expect(hash({})).toBe(HASH_WITHOUT_BATCHING);
  });

  it.each([
    ['a different max batch size', { maxBatchSize: 32 }, true],
    ['a different timeout', { batchTimeout: '1ms' }, true],
    ['threads', { numBatchThreads: 2 }, true],
    ['allowed sizes', { allowedBatchSizes: [8, 64] }, true],
    ['the defaults written out', { maxBatchSize: 64, batchTimeout: '0s', maxEnqueuedBatches: 64 }, false],
    ['the same timeout in other units', { batchTimeout: '0ms' }, false],
  ] as const)('compared with batching: {}, %s rolls the pods: %s', (_what, batching, rolls) => {
    expect(hash({ batching }) !== hash({ batching: {} })).toBe(rolls);
  });

  it.each([
    ['batching', { batching: {} }, true],
    ['version policy', { versionPolicy: { latest: { count: 2 } } }, false],
    ['labels', { versionLabels: { stable: 1 } }, false],
    ['routing', { versionPolicy: { all: {} }, routing: { canary: { version: 2, percent: 5 } } }, false],
    ['replicas', { replicas: 4 }, false],
    ['image', { image: 'other:1' }, true],
    ['resources', { resources: { limits: { memory: '1Gi' } } }, true],
    ['store size', { modelStoreSizeLimit: '1Gi' }, true],
    ['TensorFlow threads', { tensorflow: { interOpParallelism: -1 } }, true],
    ['TensorFlow threads set to their default', { tensorflow: { interOpParallelism: 0 } }, false],
    ['pod annotations', { pod: { annotations: { 'prometheus.io/scrape': 'true' } } }, true],
    ['pod labels', { pod: { labels: { team: 'search' } } }, true],
    ['the service account', { pod: { serviceAccountName: 'model-reader' } }, true],
    ['tolerations', { pod: { tolerations: [{ key: 'gpu', operator: 'Exists' }] } }, true],
    ['an empty pod section', { pod: {} }, false],
    ['server flags', { serverArgs: ['--inference_threads=2'] }, true],
    ['TLS', { tls: { secretName: 'model-tls' } }, true],
  ] as const)('a change of %s %s the restart hash', (_what, spec, rolls) => {
    expect(hash(spec as never) !== hash({})).toBe(rolls);
  });
});

describe('spec.pod', () => {
  const pod = {
    annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8501' },
    labels: { team: 'search' },
    serviceAccountName: 'model-reader',
    nodeSelector: { 'node.kubernetes.io/instance-type': 'c7i.4xlarge' },
    tolerations: [{ key: 'dedicated', operator: 'Equal' as const, value: 'inference', effect: 'NoSchedule' as const }],
    affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } },
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' }],
    priorityClassName: 'inference-high',
  };
  const template = buildDeployment(servedModel({ pod }), DEFAULT_RENDER_CONFIG).spec!.template;

  it('passes the scheduling fields into the pod spec as given', () => {
    expect(template.spec).toMatchObject({
      serviceAccountName: 'model-reader',
      nodeSelector: pod.nodeSelector,
      tolerations: pod.tolerations,
      affinity: pod.affinity,
      topologySpreadConstraints: pod.topologySpreadConstraints,
      priorityClassName: 'inference-high',
    });
  });

  it("adds the labels and annotations to the operator's own, which select the pods and roll them", () => {
    const plain = buildDeployment(servedModel({}), DEFAULT_RENDER_CONFIG).spec!.template;
    expect(template.metadata?.labels).toEqual({ ...plain.metadata?.labels, team: 'search' });
    expect(template.metadata?.annotations).toEqual({ ...pod.annotations, [RESTART_HASH_ANNOTATION]: expect.any(String) as unknown });
  });

  it('sets none of them when spec.pod is absent (pods of existing ServedModels keep their spec)', () => {
    const plain = buildDeployment(servedModel({}), DEFAULT_RENDER_CONFIG).spec!.template;
    expect(Object.keys(plain.spec!).sort()).toEqual(['containers', 'securityContext', 'terminationGracePeriodSeconds', 'volumes']);
    expect(Object.keys(plain.metadata!.annotations!)).toEqual([RESTART_HASH_ANNOTATION]);
  });

  it('changes the restart hash when an annotation is removed, so the apply removes it from the pods', () => {
    const withTwo = hash({ pod: { annotations: { a: '1', b: '2' } } });
    expect(hash({ pod: { annotations: { a: '1' } } })).not.toBe(withTwo);
    expect(hash({ pod: { annotations: { a: '1', b: '2' } } })).toBe(withTwo);
  });

  it("names exactly the operator's app.kubernetes.io pod labels in the CRD rule that keeps them out of spec.pod.labels", () => {
    const owned = Object.keys(buildDeployment(servedModel({}), DEFAULT_RENDER_CONFIG).spec!.template.metadata!.labels!).filter((k) => k.startsWith('app.kubernetes.io/'));
    expect(owned.sort()).toEqual([...OPERATOR_POD_LABELS].sort());
  });
});

describe('spec.tls', () => {
  const render = (tls: { secretName: string; requireClientCertificate?: boolean }): NonNullable<ReturnType<typeof buildDeployment>['spec']>['template']['spec'] =>
    buildDeployment(servedModel({ tls }), DEFAULT_RENDER_CONFIG).spec!.template.spec;

  it('mounts the Secret whole (so renewals reach the pod) and points the server at its files', () => {
    const pod = render({ secretName: 'model-tls' });
    expect(pod?.volumes).toContainEqual({ name: 'grpc-tls', secret: { secretName: 'model-tls', defaultMode: 0o440 } });
    expect(pod?.containers[0]?.volumeMounts).toContainEqual({ name: 'grpc-tls', mountPath: '/var/run/secrets/tensorfleet/grpc-tls', readOnly: true });
    const args = pod?.containers[0]?.args ?? [];
    expect(args.filter((a) => a.startsWith('--grpc_tls'))).toEqual(['--grpc_tls_cert_file=/var/run/secrets/tensorfleet/grpc-tls/tls.crt', '--grpc_tls_key_file=/var/run/secrets/tensorfleet/grpc-tls/tls.key']);
  });

  it("asks for client certificates from the Secret's ca.crt when required", () => {
    const args = render({ secretName: 'model-tls', requireClientCertificate: true })?.containers[0]?.args ?? [];
    expect(args).toContain('--grpc_tls_client_ca_file=/var/run/secrets/tensorfleet/grpc-tls/ca.crt');
    expect(parseServeOptions(args.slice(1))).toMatchObject({ grpc_tls_client_ca_file: '/var/run/secrets/tensorfleet/grpc-tls/ca.crt' });
  });
});

describe('spec.requestLogging', () => {
  it('gives the upload spool its own emptyDir and points the server at it; the rate and URI stay out of the pods (they roll only when logging is turned on or off)', () => {
    const on = (samplingRate: number, uri: string): Parameters<typeof servedModel>[0] => ({ requestLogging: { uri, samplingRate } });
    const pod = buildDeployment(servedModel(on(0.1, 's3://logs/requests/mnist')), DEFAULT_RENDER_CONFIG).spec?.template.spec;
    expect(pod?.volumes).toContainEqual({ name: 'request-logs', emptyDir: { sizeLimit: '1Gi' } });
    expect(pod?.containers[0]?.volumeMounts).toContainEqual({ name: 'request-logs', mountPath: '/var/lib/tensorfleet/request-logs' });
    const args = pod?.containers[0]?.args ?? [];
    expect(parseServeOptions(args.slice(1)).request_log_spool_dir).toBe('/var/lib/tensorfleet/request-logs');
    expect(hash(on(0.1, 's3://logs/a'))).toBe(hash(on(1, 's3://other/b')));
    expect(hash(on(0.1, 's3://logs/a'))).not.toBe(hash({}));
  });
});

describe('spec.serverArgs', () => {
  /** A ServedModel with every field that becomes a server flag. */
  const everything = servedModel({
    source: { uri: 's3://models/m', pollInterval: '30s', endpoint: 'http://minio:9000', region: 'eu-west-1', credentialsSecretRef: { name: 's3' } },
    batching: {},
    tensorflow: { intraOpParallelism: 2, interOpParallelism: -1, savedModelTags: ['serve'], modelWarmup: false, warmupIterations: 2, signatureMethodNameCheck: true },
    tls: { secretName: 'model-tls', requireClientCertificate: true },
    serverArgs: ['--inference_threads=2', '--grpc_channel_arguments=grpc.max_concurrent_streams=8', '--grpc_prompt_trailers=false', '--log_level=debug'],
  });
  const args = buildDeployment(everything, DEFAULT_RENDER_CONFIG).spec!.template.spec!.containers[0]!.args!;
  const flagName = (arg: string): string => arg.replace(/^--/, '').split('=')[0]!;

  it('come after the flags the operator sets, and the server accepts the whole command line', () => {
    expect(args.slice(-4)).toEqual(everything.spec.serverArgs);
    const options = parseServeOptions(args.slice(1));
    expect(options.inference_threads).toBe(2);
    expect(options.grpc_prompt_trailers).toBe(false);
  });

  it.each([
    [[], 30],
    [['--shutdown_grace_seconds=10'], 30],
    [['--shutdown_grace_seconds=60'], 70],
    [['--shutdown_grace_seconds=60', '--shutdown_grace_seconds=100'], 110],
    [['--shutdown_delay_seconds=0', '--shutdown_grace_seconds=60'], 65],
    [['--shutdown_delay_seconds=15'], 50],
  ])('give the pods time to drain for %j: %i s before the kubelet kills them', (serverArgs, grace) => {
    expect(buildDeployment(servedModel({ serverArgs }), DEFAULT_RENDER_CONFIG).spec?.template.spec?.terminationGracePeriodSeconds).toBe(grace);
  });

  it('admit only flags the server has, none of which the operator sets itself', () => {
    const serverFlags = new Set(Object.keys(SERVE_FLAGS));
    expect(SERVER_ARGS_ALLOWED.filter((name) => !serverFlags.has(name))).toEqual([]);
    const operatorFlags = args.slice(1, -4).map(flagName);
    expect(operatorFlags.filter((name) => (SERVER_ARGS_ALLOWED as readonly string[]).includes(name))).toEqual([]);
  });
});

describe('services and PDB', () => {
  it('exposes gRPC with appProtocol grpc and HTTP, plus a headless twin', () => {
    const svc = buildService(servedModel());
    expect(svc.spec?.ports).toEqual([
      { name: 'grpc', port: 8500, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'grpc' },
      { name: 'http', port: 8501, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' },
    ]);
    const headless = buildHeadlessService(servedModel());
    expect(headless.metadata?.name).toBe('mnist-headless');
    expect(headless.spec?.clusterIP).toBe('None');
  });

  it.each([
    [undefined, false],
    [1, false],
    [0, false],
    [2, true],
  ])('replicas %s → PDB %s', (replicas, wanted) => {
    expect(buildPodDisruptionBudget(servedModel(replicas === undefined ? {} : { replicas })) !== undefined).toBe(wanted);
  });
});
