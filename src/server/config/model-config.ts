/**
 * The model config file (`--model_config_file`), YAML or JSON. It mirrors TensorFlow Serving's
 * `model_config_list` (same field names, snake_case) and adds TensorFleet's `routing`. The
 * operator renders exactly this into the ConfigMap a ServedModel's pods watch.
 *
 * ```yaml
 * model_config_list:
 *   - name: mnist
 *     base_path: s3://models/mnist        # or a local directory
 *     model_platform: tensorflow          # optional; only "tensorflow"
 *     model_version_policy: {latest: {num_versions: 2}}   # or {all: {}} or {specific: {versions: [3, 5]}}
 *     version_labels: {stable: 2, canary: 3}
 *     routing:                            # for requests naming no version or label
 *       canary: {version: 3, percent: 10}
 *       # ab_test: {key: {header: x-user-id}, variants: [{version: 2, percent: 50}, {version: 3, percent: 50}]}
 *       # shadow: {version: 3, percent: 100, tolerance: 1e-5}
 *     logging_config:                     # TF Serving's; sampled requests to TFRecord files
 *       log_collector_config: {type: tfrecord, filename_prefix: /var/log/tensorfleet/mnist}
 *       sampling_config: {sampling_rate: 0.01}
 * ```
 */
export type VersionPolicy =
  | { readonly kind: 'latest'; readonly numVersions: number }
  | { readonly kind: 'all' }
  | { readonly kind: 'specific'; readonly versions: readonly number[] };

export interface CanaryRoute {
  readonly version: number;
  /** 0..100, may be fractional. The rest goes to the stable version. */
  readonly percent: number;
}

export interface AbVariant {
  readonly version: number;
  readonly percent: number;
}

export interface AbTestRoute {
  /** The request key that keeps a caller on one variant: a gRPC metadata key / HTTP header. */
  readonly keyHeader: string;
  readonly variants: readonly AbVariant[];
}

export interface ShadowRoute {
  readonly version: number;
  readonly percent: number;
  /** Outputs agree when every element differs by at most this much. */
  readonly tolerance: number;
}

export interface RoutingConfig {
  readonly canary?: CanaryRoute;
  readonly abTest?: AbTestRoute;
  readonly shadow?: ShadowRoute;
}

/** TF Serving's logging_config with TensorFleet's one collector: TFRecord files of PredictionLogs. */
export interface RequestLoggingConfig {
  /** Files are named <prefix>.<start time>.<pid>.<n>.tfrecord. */
  readonly filenamePrefix: string;
  /** Share of successful requests logged, 0..1. */
  readonly samplingRate: number;
}

export interface ModelConfig {
  readonly name: string;
  readonly basePath: string;
  readonly versionPolicy: VersionPolicy;
  readonly versionLabels: Readonly<Record<string, number>>;
  readonly routing: RoutingConfig;
  readonly logging?: RequestLoggingConfig;
}

export interface ModelServerConfig {
  readonly models: readonly ModelConfig[];
}

export const DEFAULT_VERSION_POLICY: VersionPolicy = { kind: 'latest', numVersions: 1 };
