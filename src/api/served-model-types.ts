/**
 * ServedModel (tensorfleet.dev/v1alpha1): the manifest a user applies and the status the
 * operator reports. These types mirror the OpenAPI schema in `served-model-schema.ts`, which is
 * the source the CRD YAML is generated from; a unit test checks the two agree on examples.
 */
export const GROUP = 'tensorfleet.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'ServedModel';
export const PLURAL = 'servedmodels';
export const SINGULAR = 'servedmodel';
export const SHORT_NAME = 'sm';

export interface SecretRef {
  readonly name: string;
}

export interface ModelSource {
  /**
   * `s3://bucket/prefix`, or `pvc://claim/path` on a PersistentVolumeClaim of the namespace
   * (mounted read-only, served in place); numeric children are versions.
   */
  readonly uri: string;
  /** Any S3-compatible endpoint, e.g. `http://minio.ml:9000` (s3:// only, as region and credentials). */
  readonly endpoint?: string;
  readonly region?: string;
  /** Secret with keys `accessKeyId`, `secretAccessKey` and optional `sessionToken`. */
  readonly credentialsSecretRef?: SecretRef;
  /** Go-style duration (`30s`, `1m30s`); how often the server lists the source. */
  readonly pollInterval?: string;
  /** ConfigMap key holding PEM CA certificates the S3 endpoint's certificate chains to (a private CA). */
  readonly caBundleRef?: { readonly name: string; readonly key?: string };
}

export const DEFAULT_CA_BUNDLE_KEY = 'ca.crt';

export type VersionPolicySpec =
  | { readonly latest: { readonly count?: number } }
  | { readonly all: Record<string, never> }
  | { readonly specific: { readonly versions: readonly number[] } };

export interface CanarySpec {
  readonly version: number;
  readonly percent: number;
}

export interface AbTestSpec {
  readonly key: { readonly header: string };
  readonly variants: readonly { readonly version: number; readonly percent: number }[];
}

export interface ShadowSpec {
  readonly version: number;
  readonly percent: number;
  /** Outputs agree within this absolute difference; default 1e-5. */
  readonly tolerance?: number;
}

export interface RoutingSpec {
  readonly canary?: CanarySpec;
  readonly abTest?: AbTestSpec;
  readonly shadow?: ShadowSpec;
}

/**
 * Server-side batching (`--enable_batching`): concurrent requests to one signature are merged
 * into one TensorFlow run. Present (even `{}`) turns it on; fields left out take the defaults.
 */
export interface BatchingSpec {
  /** Most rows in one batch; default 64. */
  readonly maxBatchSize?: number;
  /**
   * How long the oldest queued request waits for company: a duration in us, ms or s (`0s`,
   * `500us`, `2ms`), rounded to whole microseconds; default `0s`.
   */
  readonly batchTimeout?: string;
  /** Full batches a queue holds before refusing requests with UNAVAILABLE; default 64. */
  readonly maxEnqueuedBatches?: number;
  /** Batches running at once; default: the server's inference threads. */
  readonly numBatchThreads?: number;
  /** Batch sizes to pad up to; strictly increasing, the last equal to maxBatchSize. */
  readonly allowedBatchSizes?: readonly number[];
}

/**
 * Defaults of `spec.batching`, the model server's own (src/server/batching); the CRD fills them
 * in. numBatchThreads has none here: the server then runs one batch per inference thread.
 */
export const BATCHING_DEFAULTS = { maxBatchSize: 64, batchTimeout: '0s', maxEnqueuedBatches: 64 } as const;

/** TensorFlow's thread pools in the model server (decision 0008); unset or 0: sized from the CPU limit, else TensorFlow's choice. */
export interface TensorflowSpec {
  /** --tensorflow_intra_op_parallelism: threads one op may use. */
  readonly intraOpParallelism?: number;
  /** --tensorflow_inter_op_parallelism: threads running independent ops; -1 runs every op on the inference thread. */
  readonly interOpParallelism?: number;
  /** --saved_model_tags: the tag set of the meta graph to load (unset: serve). */
  readonly savedModelTags?: readonly string[];
  /** --enable_model_warmup: replay assets.extra/tf_serving_warmup_requests at load (unset: true). */
  readonly modelWarmup?: boolean;
  /** --num_request_iterations_for_warmup: times each warmup request is replayed (unset: once). */
  readonly warmupIterations?: number;
  /** --enable_signature_method_name_check (unset: false, as in TF Serving). */
  readonly signatureMethodNameCheck?: boolean;
}

/**
 * Model server flags a ServedModel may pass in spec.serverArgs: tuning that no other field covers.
 * The rest are set by the operator from the spec (ports, config files, sources, TensorFlow) or
 * need files the pod does not have. A unit test checks each name against the server's flags.
 */
export const SERVER_ARGS_ALLOWED = [
  'inference_threads',
  'inference_thread_niceness',
  'grpc_channel_arguments',
  'grpc_prompt_trailers',
  'max_connection_age_seconds',
  'max_request_bytes',
  'max_tensor_elements',
  'rest_api_timeout_in_ms',
  'rest_json_threads',
  'rest_api_enable_cors_support',
  'enable_per_model_batching_parameters',
  'request_log_upload_interval_seconds',
  'enable_serialization_as_tensor_content',
  'max_num_load_retries',
  'load_retry_interval_micros',
  'num_load_threads',
  'allow_version_labels_for_unavailable_models',
  'shutdown_delay_seconds',
  'shutdown_grace_seconds',
  's3_path_style',
  's3_verify_ssl',
  's3_download_concurrency',
  's3_part_size_mb',
  's3_completion_marker',
  'log_level',
] as const;

/** The gRPC port's TLS: a kubernetes.io/tls Secret (tls.crt, tls.key; ca.crt for client certificates). */
export interface TlsSpec {
  readonly secretName: string;
  /** Clients must present a certificate that chains to the Secret's ca.crt (mutual TLS). */
  readonly requireClientCertificate?: boolean;
}

/**
 * Request logging (TF Serving's logging_config): a sampled share of successful calls is written as
 * PredictionLogs to TFRecord files under an S3 prefix, through the source's endpoint and credentials.
 */
export interface RequestLoggingSpec {
  /** `s3://bucket/key/prefix`; files are `<prefix>.<start>.<pod>.<pid>.<n>.tfrecord`. */
  readonly uri: string;
  /** Share of calls logged, 0 to 1. */
  readonly samplingRate: number;
}

/** A core/v1 Toleration. */
export interface Toleration {
  readonly key?: string;
  readonly operator?: 'Exists' | 'Equal';
  readonly value?: string;
  readonly effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  readonly tolerationSeconds?: number;
}

/**
 * The model server pods' metadata and scheduling, passed into the pod template as given (changing
 * it rolls the pods). Affinity and spread constraints are core/v1 objects that the apiserver checks
 * when the operator applies the Deployment.
 */
/** core/v1 EnvVar: a value, or valueFrom (secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef) as given. */
export interface EnvVarSpec {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: Readonly<Record<string, unknown>>;
}

/** Environment variables the operator sets in the model server container from the spec. */
export const OPERATOR_ENV_NAMES = ['TENSORFLEET_S3_ENDPOINT', 'TENSORFLEET_S3_CREDENTIALS_DIR', 'AWS_REGION'] as const;

export interface PodSettings {
  readonly annotations?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  /** E.g. one bound to a cloud role that may read the bucket (IRSA, workload identity). */
  readonly serviceAccountName?: string;
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerations?: readonly Toleration[];
  readonly affinity?: Readonly<Record<string, unknown>>;
  readonly topologySpreadConstraints?: readonly Readonly<Record<string, unknown>>[];
  readonly priorityClassName?: string;
  /** Secrets to pull the model server image from a private registry. */
  readonly imagePullSecrets?: readonly SecretRef[];
  /** More environment of the model server container, after the operator's own. */
  readonly env?: readonly EnvVarSpec[];
}

/**
 * A HorizontalPodAutoscaler (autoscaling/v2) the operator keeps for the ServedModel. It scales the
 * ServedModel through its scale subresource, so spec.replicas stays the one replica count the
 * Deployment, the PodDisruptionBudget and status follow.
 */
export interface AutoscalingSpec {
  /** Default 1. */
  readonly minReplicas?: number;
  readonly maxReplicas: number;
  /** Average CPU use as a percentage of the pods' CPU request; default 80 when `metrics` is absent. */
  readonly targetCPUUtilization?: number;
  /** autoscaling/v2 MetricSpecs, passed as given (e.g. a Pods metric served by a Prometheus adapter). */
  readonly metrics?: readonly Readonly<Record<string, unknown>>[];
  /** autoscaling/v2 HorizontalPodAutoscalerBehavior, passed as given. */
  readonly behavior?: Readonly<Record<string, unknown>>;
}

/** Target of the CPU metric when spec.autoscaling names no metric at all. */
export const DEFAULT_TARGET_CPU_UTILIZATION = 80;

export interface ResourceList {
  readonly [name: string]: string | number;
}

export interface ServedModelSpec {
  readonly source: ModelSource;
  readonly versionPolicy?: VersionPolicySpec;
  readonly versionLabels?: Readonly<Record<string, number>>;
  readonly routing?: RoutingSpec;
  /** Absent: no batching. Changing it rolls the pods (the server reads it at start). */
  readonly batching?: BatchingSpec;
  /** Changing it rolls the pods (the server reads it at start). */
  readonly tensorflow?: TensorflowSpec;
  readonly replicas?: number;
  /** Absent: replicas is set by hand (or by any autoscaler the user brings). */
  readonly autoscaling?: AutoscalingSpec;
  /** Overrides the operator's default model server image. */
  readonly image?: string;
  readonly resources?: { readonly requests?: ResourceList; readonly limits?: ResourceList };
  /** Size limit of the emptyDir the server keeps model versions in. */
  readonly modelStoreSizeLimit?: string;
  readonly pod?: PodSettings;
  /** TLS on the gRPC port from a Secret (absent: plain text). */
  readonly tls?: TlsSpec;
  /** Absent: no request logging. */
  readonly requestLogging?: RequestLoggingSpec;
  /** Extra model server flags (`--name=value`), among SERVER_ARGS_ALLOWED only. */
  readonly serverArgs?: readonly string[];
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** The longest status condition message the CRD admits (metav1.Condition's limit). */
export const CONDITION_MESSAGE_MAX_LENGTH = 32768;

export interface Condition {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  /** At most CONDITION_MESSAGE_MAX_LENGTH characters. */
  readonly message: string;
  readonly observedGeneration: number;
  readonly lastTransitionTime: string;
}

/**
 * A version's state across the ready pods whose model server answered (see docs/operator.md):
 * AVAILABLE on all of them, PARTIAL on some, LOADING on none yet, FAILED to load everywhere it
 * was tried, NOT_LOADED on none; `Configured` when no pod could be asked.
 */
export type ServedVersionState = 'AVAILABLE' | 'PARTIAL' | 'LOADING' | 'FAILED' | 'NOT_LOADED' | 'Configured';

export interface ServedVersionStatus {
  readonly version: number;
  readonly state: ServedVersionState;
  /** Pods on which this version is AVAILABLE (absent when no pod could be asked). */
  readonly availableReplicas?: number;
  readonly labels?: readonly string[];
  /** Share of unversioned traffic routed here, when routing decides it. */
  readonly percent?: number;
  /** Why the version is not AVAILABLE everywhere, e.g. the server's load error. */
  readonly message?: string;
}

export interface ServedModelEndpoints {
  readonly grpc: string;
  readonly rest: string;
  readonly headless: string;
}

export interface ServedModelStatus {
  readonly observedGeneration?: number;
  readonly replicas?: number;
  readonly readyReplicas?: number;
  readonly updatedReplicas?: number;
  /** Ready pods whose model server answered the last status query. */
  readonly observedReplicas?: number;
  /** `ready/desired`, for `kubectl get`. */
  readonly ready?: string;
  /** Label selector of the pods, for the scale subresource (HPA). */
  readonly selector?: string;
  /**
   * Comma-separated versions AVAILABLE on at least one pod ("none" when pods answered but serve
   * nothing); before any pod answered, the configured versions or the policy.
   */
  readonly servedVersions?: string;
  /** `3@10%` when a canary is configured. */
  readonly canary?: string;
  readonly versions?: readonly ServedVersionStatus[];
  readonly endpoints?: ServedModelEndpoints;
  readonly conditions?: readonly Condition[];
}

export interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly resourceVersion?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly deletionTimestamp?: string;
}

export interface ServedModel {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: typeof KIND;
  readonly metadata: ObjectMeta;
  readonly spec: ServedModelSpec;
  readonly status?: ServedModelStatus;
}
