/**
 * Everything the S3 source needs to reach a store, resolved once at start from flags first, then
 * the environment (TensorFleet's, TensorFlow Serving's and the AWS SDK's variables), then
 * defaults. Pure: main.ts hands in the environment.
 */
export interface S3Settings {
  /** Full endpoint URL of an S3-compatible store; undefined = AWS. */
  readonly endpoint: string | undefined;
  readonly region: string;
  readonly forcePathStyle: boolean;
  /** Directory holding `accessKeyId`, `secretAccessKey`, optional `sessionToken`; undefined = the SDK's default chain. */
  readonly credentialsDir: string | undefined;
  /** PEM bundle trusted for TLS in addition to (not instead of) Node's roots. */
  readonly caFile: string | undefined;
  readonly verifyTls: boolean;
  readonly connectTimeoutMs: number | undefined;
  readonly requestTimeoutMs: number | undefined;
  /** GETs in flight at once, over all models. */
  readonly concurrency: number;
  readonly partSizeBytes: number;
  readonly multipartThresholdBytes: number;
  /** Object (relative to a version prefix) whose presence marks the version complete. */
  readonly completionMarker: string | undefined;
  /** Download and list with the SDK's GetObject and ListObjectsV2 instead of the lean signed GETs (a fallback; slower). */
  readonly sdkGet: boolean;
}

/** The flags that feed S3Settings (a subset of ServeOptions). */
export interface S3Flags {
  readonly s3_endpoint?: string | undefined;
  readonly s3_region?: string | undefined;
  readonly s3_path_style?: boolean | undefined;
  readonly s3_credentials_dir?: string | undefined;
  readonly s3_ca_file?: string | undefined;
  readonly s3_verify_ssl?: boolean | undefined;
  readonly s3_download_concurrency?: number | undefined;
  readonly s3_part_size_mb?: number | undefined;
  readonly s3_completion_marker?: string | undefined;
}

export type Environment = Readonly<Record<string, string | undefined>>;

const MiB = 1024 * 1024;
/**
 * Ranged GET size. 16 MiB rather than the 8 of aws-cli: in the 1 GiB benchmark (16 GETs in
 * flight, versitygw on loopback) 16 MiB parts took 0.80-0.83 s against 0.94-1.07 s for 8 MiB, with
 * half the client user CPU; 32 MiB was no faster. Larger parts also mean fewer requests to pay
 * for on AWS. The cost: objects under 32 MiB come in one GET, and a failed part repeats up to 16 MiB.
 */
export const DEFAULT_PART_SIZE_MIB = 16;

const set = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value.trim());

function envBool(value: string | undefined): boolean | undefined {
  const v = set(value)?.toLowerCase();
  if (v === undefined) return undefined;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  return undefined;
}

function envPositiveInt(value: string | undefined): number | undefined {
  const n = Number(set(value));
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * Flags win over the environment. Recognized variables:
 * - endpoint: TENSORFLEET_S3_ENDPOINT, S3_ENDPOINT (TF Serving: host[:port], scheme from
 *   S3_USE_HTTPS, default https), AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL
 * - region: AWS_REGION, AWS_DEFAULT_REGION (default us-east-1)
 * - TLS: S3_VERIFY_SSL=0 turns verification off; S3_CA_FILE or AWS_CA_BUNDLE adds a CA bundle
 * - timeouts: S3_CONNECT_TIMEOUT_MSEC, S3_REQUEST_TIMEOUT_MSEC
 * - transfer: S3_DISABLE_MULTI_PART_DOWNLOAD=1, S3_MULTI_PART_DOWNLOAD_CHUNK_SIZE (bytes)
 * - credentials: TENSORFLEET_S3_CREDENTIALS_DIR (else the AWS SDK's chain reads its own
 *   variables, shared config files and web identity token)
 * - TENSORFLEET_S3_SDK_GET=1: download and list through the SDK's GetObject and ListObjectsV2
 *   (fallback for a store that rejects the lean signed GETs)
 * Path-style addressing defaults to on when an endpoint is set (what S3-compatible stores
 * expect, and what TF Serving did) and off for AWS.
 */
export function resolveS3Settings(flags: S3Flags, env: Environment): S3Settings {
  let endpoint = set(flags.s3_endpoint) ?? set(env.TENSORFLEET_S3_ENDPOINT);
  const tfEndpoint = set(env.S3_ENDPOINT);
  if (endpoint === undefined && tfEndpoint !== undefined) {
    endpoint = /^[a-z]+:\/\//i.test(tfEndpoint) ? tfEndpoint : `${envBool(env.S3_USE_HTTPS) === false ? 'http' : 'https'}://${tfEndpoint}`;
  }
  endpoint ??= set(env.AWS_ENDPOINT_URL_S3) ?? set(env.AWS_ENDPOINT_URL);
  const disableMultipart = envBool(env.S3_DISABLE_MULTI_PART_DOWNLOAD) === true;
  const partSizeBytes =
    flags.s3_part_size_mb !== undefined ? flags.s3_part_size_mb * MiB : (envPositiveInt(env.S3_MULTI_PART_DOWNLOAD_CHUNK_SIZE) ?? DEFAULT_PART_SIZE_MIB * MiB);
  return {
    endpoint,
    region: set(flags.s3_region) ?? set(env.AWS_REGION) ?? set(env.AWS_DEFAULT_REGION) ?? 'us-east-1',
    forcePathStyle: flags.s3_path_style ?? endpoint !== undefined,
    credentialsDir: set(flags.s3_credentials_dir) ?? set(env.TENSORFLEET_S3_CREDENTIALS_DIR),
    caFile: set(flags.s3_ca_file) ?? set(env.S3_CA_FILE) ?? set(env.AWS_CA_BUNDLE),
    verifyTls: flags.s3_verify_ssl ?? envBool(env.S3_VERIFY_SSL) ?? true,
    connectTimeoutMs: envPositiveInt(env.S3_CONNECT_TIMEOUT_MSEC),
    requestTimeoutMs: envPositiveInt(env.S3_REQUEST_TIMEOUT_MSEC),
    concurrency: flags.s3_download_concurrency ?? 16,
    partSizeBytes: Math.max(MiB, partSizeBytes),
    multipartThresholdBytes: disableMultipart ? Number.POSITIVE_INFINITY : 2 * Math.max(MiB, partSizeBytes),
    completionMarker: set(flags.s3_completion_marker),
    sdkGet: envBool(env.TENSORFLEET_S3_SDK_GET) === true,
  };
}

/** The settings as they may be logged: where, never who. */
export function describeS3Settings(s: S3Settings): Record<string, unknown> {
  return {
    endpoint: s.endpoint ?? '(AWS)',
    region: s.region,
    forcePathStyle: s.forcePathStyle,
    credentialsFrom: s.credentialsDir !== undefined ? `files in ${s.credentialsDir}` : 'AWS SDK default chain',
    caFile: s.caFile,
    verifyTls: s.verifyTls,
    concurrency: s.concurrency,
    partSizeBytes: s.partSizeBytes,
    completionMarker: s.completionMarker,
    downloads: s.sdkGet ? 'SDK GetObject and ListObjectsV2' : 'signed GETs over keep-alive agents',
  };
}
