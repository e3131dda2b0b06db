import { proxyFor } from './proxy-for.js';
import type { TransferSettings } from './download-files.js';

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
  /** Ranged GET sizes. */
  readonly transfer: TransferSettings;
  /** Object (relative to a version prefix) whose presence marks the version complete. */
  readonly completionMarker: string | undefined;
  /** Download and list with the SDK's GetObject and ListObjectsV2 instead of the lean signed GETs (a fallback; slower). */
  readonly sdkGet: boolean;
  /** Proxy URL for the store, from HTTPS_PROXY/HTTP_PROXY and NO_PROXY; undefined = direct. */
  readonly proxy: string | undefined;
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
 * half the client user CPU. Larger parts also mean fewer requests to pay for on AWS. The cost:
 * objects under 32 MiB come in one GET, and a failed part repeats up to its size.
 */
export const DEFAULT_PART_SIZE_MIB = 16;
/**
 * Unless the part size is set, a big object's parts grow up to this so that it takes about one
 * GET per slot (partSizeFor). 1 GiB with 16 GETs in flight, alternating probe runs: 64 MiB parts
 * 0.94-0.95 s against 1.08-1.11 s for 16 MiB when the store closes every connection, and
 * 0.80-0.86 s against 0.89-0.90 s when it keeps them open.
 */
export const DEFAULT_MAX_PART_SIZE_MIB = 64;

/** The ranged-GET sizes of a server whose part size is neither flagged nor in the environment. */
export const DEFAULT_TRANSFER: TransferSettings = transferSettings(DEFAULT_PART_SIZE_MIB * MiB, DEFAULT_MAX_PART_SIZE_MIB * MiB, false);

function transferSettings(partSizeBytes: number, maxPartSizeBytes: number, disableMultipart: boolean): TransferSettings {
  const part = Math.max(MiB, partSizeBytes);
  return {
    partSizeBytes: part,
    maxPartSizeBytes: Math.max(part, maxPartSizeBytes),
    multipartThresholdBytes: disableMultipart ? Number.POSITIVE_INFINITY : 2 * part,
  };
}

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
 * - proxy: HTTPS_PROXY or HTTP_PROXY (by the endpoint's scheme) unless NO_PROXY covers its host
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
  // A part size the user set is used as is; the default one grows for big objects.
  const setPartBytes = flags.s3_part_size_mb !== undefined ? flags.s3_part_size_mb * MiB : envPositiveInt(env.S3_MULTI_PART_DOWNLOAD_CHUNK_SIZE);
  const transfer = transferSettings(setPartBytes ?? DEFAULT_PART_SIZE_MIB * MiB, setPartBytes ?? DEFAULT_MAX_PART_SIZE_MIB * MiB, disableMultipart);
  const region = set(flags.s3_region) ?? set(env.AWS_REGION) ?? set(env.AWS_DEFAULT_REGION) ?? 'us-east-1';
  // Without an endpoint, AWS's regional host stands for the bucket hosts (NO_PROXY names domains).
  const storeUrl = endpoint !== undefined && URL.canParse(endpoint) ? new URL(endpoint) : new URL(`https://s3.${region}.amazonaws.com`);
  return {
    endpoint,
    region,
    forcePathStyle: flags.s3_path_style ?? endpoint !== undefined,
    credentialsDir: set(flags.s3_credentials_dir) ?? set(env.TENSORFLEET_S3_CREDENTIALS_DIR),
    caFile: set(flags.s3_ca_file) ?? set(env.S3_CA_FILE) ?? set(env.AWS_CA_BUNDLE),
    verifyTls: flags.s3_verify_ssl ?? envBool(env.S3_VERIFY_SSL) ?? true,
    connectTimeoutMs: envPositiveInt(env.S3_CONNECT_TIMEOUT_MSEC),
    requestTimeoutMs: envPositiveInt(env.S3_REQUEST_TIMEOUT_MSEC),
    concurrency: flags.s3_download_concurrency ?? 16,
    transfer,
    completionMarker: set(flags.s3_completion_marker),
    sdkGet: envBool(env.TENSORFLEET_S3_SDK_GET) === true,
    proxy: proxyFor(storeUrl, env),
  };
}

/** A proxy URL as it may be logged: without its user and password. */
function withoutCredentials(proxy: string): string {
  if (!URL.canParse(proxy)) return '(unparsable)';
  const url = new URL(proxy);
  if (url.username !== '' || url.password !== '') {
    url.username = '***';
    url.password = '';
  }
  return url.href;
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
    partSizeBytes: s.transfer.partSizeBytes,
    maxPartSizeBytes: s.transfer.maxPartSizeBytes,
    completionMarker: s.completionMarker,
    downloads: s.sdkGet ? 'SDK GetObject and ListObjectsV2' : 'signed GETs over keep-alive agents',
    proxy: s.proxy === undefined ? 'none' : withoutCredentials(s.proxy),
  };
}
