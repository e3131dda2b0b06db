import { createHash } from 'node:crypto';
import type { V1Container, V1Deployment, V1EnvVar, V1PodSpec, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { DEFAULT_CA_BUNDLE_KEY, type ServedModel } from '../../api/served-model-types.js';
import { BATCHING_PARAMETERS_KEY, renderBatchingParameters } from './batching-parameters.js';
import { MODEL_CONFIG_KEY } from './config-map.js';
import { downloadsVersions, modelSourceVolume } from './model-source.js';
import { parseDurationMs } from './duration.js';
import type { RenderConfig } from './operator-config.js';
import { configMapName, ownedLabels, ownedMeta, selectorLabels } from './owned-meta.js';
import { GRPC_PORT, HTTP_PORT } from './service.js';

export const CONFIG_DIR = '/etc/tensorfleet';
export const MODEL_STORE_DIR = '/var/lib/tensorfleet/models';
export const S3_CREDENTIALS_DIR = '/var/run/secrets/tensorfleet/s3';
export const S3_CA_DIR = '/var/run/tensorfleet/s3-ca';
const S3_CA_FILE = 'ca.crt';
export const GRPC_TLS_DIR = '/var/run/secrets/tensorfleet/grpc-tls';
/**
 * Pod-template annotation: a hash of what needs new pods, i.e. the pod spec and the batching
 * parameters (read only at start). The model config is deliberately absent (the server polls it).
 */
export const RESTART_HASH_ANNOTATION = 'tensorfleet.dev/restart-hash';
export const DEFAULT_MODEL_STORE_SIZE_LIMIT = '10Gi';
export const REQUEST_LOG_SPOOL_DIR = '/var/lib/tensorfleet/request-logs';
const REQUEST_LOG_SPOOL_SIZE_LIMIT = '1Gi';
const DEFAULT_RESOURCES = { requests: { cpu: '250m', memory: '512Mi' } };
const RUN_AS_USER = 10001;

/** The model server's command line (after the image's entrypoint): `serve` and its flags. */
export function serverArgs(sm: ServedModel): string[] {
  const args = [
    'serve',
    `--model_config_file=${CONFIG_DIR}/${MODEL_CONFIG_KEY}`,
    '--model_config_file_poll_wait_seconds=5',
    `--port=${GRPC_PORT}`,
    `--rest_api_port=${HTTP_PORT}`,
  ];
  if (downloadsVersions(sm)) args.push(`--model_store=${MODEL_STORE_DIR}`);
  const poll = sm.spec.source.pollInterval;
  if (poll) args.push(`--file_system_poll_wait_seconds=${Math.max(1, Math.ceil(parseDurationMs(poll) / 1000))}`);
  // The ConfigMap, mounted whole at CONFIG_DIR, carries the file (see config-map.ts).
  if (sm.spec.batching) args.push('--enable_batching', `--batching_parameters_file=${CONFIG_DIR}/${BATCHING_PARAMETERS_KEY}`);
  const { intraOpParallelism, interOpParallelism, savedModelTags, modelWarmup, warmupIterations, signatureMethodNameCheck } = sm.spec.tensorflow ?? {};
  // 0 is the server's default: leaving it out keeps the pod spec (and its hash) as before.
  if (intraOpParallelism) args.push(`--tensorflow_intra_op_parallelism=${intraOpParallelism}`);
  if (interOpParallelism) args.push(`--tensorflow_inter_op_parallelism=${interOpParallelism}`);
  if (savedModelTags?.length) args.push(`--saved_model_tags=${savedModelTags.join(',')}`);
  if (modelWarmup === false) args.push('--enable_model_warmup=false');
  if (warmupIterations) args.push(`--num_request_iterations_for_warmup=${warmupIterations}`);
  if (signatureMethodNameCheck) args.push('--enable_signature_method_name_check=true');
  if (sm.spec.tls) {
    args.push(`--grpc_tls_cert_file=${GRPC_TLS_DIR}/tls.crt`, `--grpc_tls_key_file=${GRPC_TLS_DIR}/tls.key`);
    if (sm.spec.tls.requireClientCertificate) args.push(`--grpc_tls_client_ca_file=${GRPC_TLS_DIR}/ca.crt`);
  }
  if (sm.spec.source.caBundleRef) args.push(`--s3_ca_file=${S3_CA_DIR}/${S3_CA_FILE}`);
  if (sm.spec.requestLogging) args.push(`--request_log_spool_dir=${REQUEST_LOG_SPOOL_DIR}`);
  // Last, after the operator's own; the CRD admits only flags none of the above sets.
  if (sm.spec.serverArgs) args.push(...sm.spec.serverArgs);
  return args;
}

function serverEnv(sm: ServedModel): V1EnvVar[] {
  const env: V1EnvVar[] = [];
  const { endpoint, region, credentialsSecretRef } = sm.spec.source;
  if (endpoint) env.push({ name: 'TENSORFLEET_S3_ENDPOINT', value: endpoint });
  if (region) env.push({ name: 'AWS_REGION', value: region });
  if (credentialsSecretRef) env.push({ name: 'TENSORFLEET_S3_CREDENTIALS_DIR', value: S3_CREDENTIALS_DIR });
  return env;
}

/** The pod spec; everything in it needs new pods when it changes (the ConfigMap does not). */
function podSpec(sm: ServedModel, config: RenderConfig): V1PodSpec {
  const mounts: V1VolumeMount[] = [{ name: 'model-config', mountPath: CONFIG_DIR, readOnly: true }];
  const volumes: V1Volume[] = [{ name: 'model-config', configMap: { name: configMapName(sm) } }];
  const claim = modelSourceVolume(sm);
  if (claim) {
    mounts.push(claim.mount);
    volumes.push(claim.volume);
  } else {
    mounts.push({ name: 'model-store', mountPath: MODEL_STORE_DIR });
    volumes.push({ name: 'model-store', emptyDir: { sizeLimit: String(sm.spec.modelStoreSizeLimit ?? DEFAULT_MODEL_STORE_SIZE_LIMIT) } });
  }
  mounts.push({ name: 'tmp', mountPath: '/tmp' });
  volumes.push({ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } });
  const secret = sm.spec.source.credentialsSecretRef;
  if (secret) {
    // Files, not env: a rotated Secret reaches running pods without a restart.
    mounts.push({ name: 's3-credentials', mountPath: S3_CREDENTIALS_DIR, readOnly: true });
    volumes.push({ name: 's3-credentials', secret: { secretName: secret.name, defaultMode: 0o440 } });
  }
  const ca = sm.spec.source.caBundleRef;
  if (ca) {
    mounts.push({ name: 's3-ca', mountPath: S3_CA_DIR, readOnly: true });
    volumes.push({ name: 's3-ca', configMap: { name: ca.name, items: [{ key: ca.key ?? DEFAULT_CA_BUNDLE_KEY, path: S3_CA_FILE }] } });
  }
  if (sm.spec.requestLogging) {
    // Files wait here until uploaded; /tmp is too small for a 64 MiB file.
    mounts.push({ name: 'request-logs', mountPath: REQUEST_LOG_SPOOL_DIR });
    volumes.push({ name: 'request-logs', emptyDir: { sizeLimit: REQUEST_LOG_SPOOL_SIZE_LIMIT } });
  }
  const tls = sm.spec.tls;
  if (tls) {
    // Mounted whole (no subPath), so the kubelet's updates of a renewed certificate reach the pod.
    mounts.push({ name: 'grpc-tls', mountPath: GRPC_TLS_DIR, readOnly: true });
    volumes.push({ name: 'grpc-tls', secret: { secretName: tls.secretName, defaultMode: 0o440 } });
  }
  const container: V1Container = {
    name: 'model-server',
    image: sm.spec.image ?? config.image,
    args: serverArgs(sm),
    ports: [
      { name: 'grpc', containerPort: GRPC_PORT, protocol: 'TCP' },
      { name: 'http', containerPort: HTTP_PORT, protocol: 'TCP' },
    ],
    resources: (sm.spec.resources as V1Container['resources']) ?? DEFAULT_RESOURCES,
    livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, failureThreshold: 3 },
    readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5, failureThreshold: 2 },
    volumeMounts: mounts,
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
  };
  // The operator's own first; the CRD keeps spec.pod.env from repeating them.
  const env = [...serverEnv(sm), ...((sm.spec.pod?.env ?? []) as V1EnvVar[])];
  if (env.length > 0) container.env = env;
  if (config.imagePullPolicy) container.imagePullPolicy = config.imagePullPolicy;
  return {
    ...podSpecSettings(sm),
    containers: [container],
    volumes,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: RUN_AS_USER,
      runAsGroup: RUN_AS_USER,
      fsGroup: RUN_AS_USER,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    terminationGracePeriodSeconds: terminationGraceSeconds(sm),
  };
}

const DEFAULT_TERMINATION_GRACE_SECONDS = 30;
/** The server's defaults in a pod: --shutdown_delay_seconds (serve-options.ts) and --shutdown_grace_seconds. */
const POD_SHUTDOWN_DELAY_SECONDS = 5;
const SHUTDOWN_GRACE_SECONDS = 30;

function lastIntFlag(sm: ServedModel, name: string): number | undefined {
  const flag = sm.spec.serverArgs?.findLast((a) => a.startsWith(`--${name}=`));
  const value = flag === undefined ? NaN : Number(flag.slice(flag.indexOf('=') + 1));
  return Number.isInteger(value) && value >= 0 ? value : undefined;
}

/**
 * On SIGTERM the server keeps serving for --shutdown_delay_seconds, then drains in-flight calls
 * for up to --shutdown_grace_seconds. With both at their defaults the kubelet's 30 s stay (as
 * before the delay existed, so those pods keep their spec) and cut a drain that runs past 25 s;
 * when spec.serverArgs sets either, the pods get both plus a few seconds.
 */
function terminationGraceSeconds(sm: ServedModel): number {
  const delay = lastIntFlag(sm, 'shutdown_delay_seconds');
  const drain = lastIntFlag(sm, 'shutdown_grace_seconds');
  if (delay === undefined && drain === undefined) return DEFAULT_TERMINATION_GRACE_SECONDS;
  return Math.max(DEFAULT_TERMINATION_GRACE_SECONDS, (delay ?? POD_SHUTDOWN_DELAY_SECONDS) + (drain ?? SHUTDOWN_GRACE_SECONDS) + 5);
}

/** spec.pod's pod-spec fields, only those set (so pods without them keep their spec and hash). */
function podSpecSettings(sm: ServedModel): Partial<V1PodSpec> {
  const { serviceAccountName, nodeSelector, tolerations, affinity, topologySpreadConstraints, priorityClassName, imagePullSecrets } = sm.spec.pod ?? {};
  const fields: Partial<V1PodSpec> = {
    serviceAccountName,
    imagePullSecrets: imagePullSecrets?.map(({ name }) => ({ name })),
    nodeSelector,
    tolerations: tolerations as V1PodSpec['tolerations'],
    affinity,
    topologySpreadConstraints: topologySpreadConstraints as V1PodSpec['topologySpreadConstraints'],
    priorityClassName,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

/** spec.pod's labels and annotations for the pod template; the CRD keeps the operator's own keys out. */
function podMetadata(sm: ServedModel): { labels?: Record<string, string>; annotations?: Record<string, string> } | undefined {
  const { labels, annotations } = sm.spec.pod ?? {};
  if (!labels && !annotations) return undefined;
  return { ...(labels ? { labels: { ...labels } } : {}), ...(annotations ? { annotations: { ...annotations } } : {}) };
}

/** Stable JSON (sorted keys) so the hash never depends on property order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export const hashOf = (value: unknown): string => createHash('sha256').update(canonical(value)).digest('hex').slice(0, 16);

/**
 * What the restart hash covers: the pod spec, plus the batching parameters and spec.pod's labels
 * and annotations when set. Those left out keep the hash (and the pods) that ServedModels without
 * them had before the fields existed. The metadata is in it so that a label or annotation removed
 * from spec.pod changes the template, and the apply then removes it from the pods.
 */
function restartInputs(sm: ServedModel, spec: V1PodSpec): unknown {
  const batchingParameters = sm.spec.batching ? renderBatchingParameters(sm.spec.batching) : undefined;
  const podMeta = podMetadata(sm);
  return batchingParameters || podMeta ? { pod: spec, batchingParameters, podMetadata: podMeta } : spec;
}

export function buildDeployment(sm: ServedModel, config: RenderConfig): V1Deployment {
  const spec = podSpec(sm, config);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: ownedMeta(sm, sm.metadata.name),
    spec: {
      replicas: sm.spec.replicas ?? 1,
      selector: { matchLabels: selectorLabels(sm) },
      // Never go below the ready count while rolling: bring a new pod up first.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      revisionHistoryLimit: 5,
      template: {
        metadata: {
          labels: { ...podMetadata(sm)?.labels, ...ownedLabels(sm) },
          annotations: { ...podMetadata(sm)?.annotations, [RESTART_HASH_ANNOTATION]: hashOf(restartInputs(sm, spec)) },
        },
        spec,
      },
    },
  };
}
