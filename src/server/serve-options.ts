/**
 * Flags of `tensorfleet serve`. Names follow tensorflow_model_server's where one exists, so an
 * existing command line keeps working; TensorFleet's own flags are marked in the help text.
 */
import { FLAGS_REFUSED, FLAGS_WITHOUT_EFFECT } from './tf-serving-flags.js';
import { parseChannelArguments } from './transports/grpc/channel-arguments.js';

type FlagType = 'string' | 'int' | 'number' | 'bool';

interface FlagSpec {
  readonly type: FlagType;
  readonly default: string | number | boolean | undefined;
  readonly help: string;
  /** Smallest accepted value of an int or number flag (default 0). */
  readonly min?: number;
  /** Largest accepted value, when there is one (a port number). */
  readonly max?: number;
}

export const SERVE_FLAGS = {
  port: { type: 'int', default: 8500, max: 65535, help: 'gRPC port (PredictionService, ModelService, health, reflection).' },
  grpc_bind_address: { type: 'string', default: '0.0.0.0', help: 'Address the gRPC server binds to.' },
  grpc_socket_path: {
    type: 'string',
    default: undefined,
    help: 'Also serve gRPC on this UNIX socket (relative or absolute path), with the same services and TLS as --port; a stale socket file left by an earlier run is replaced.',
  },
  enable_serialization_as_tensor_content: {
    type: 'bool',
    default: false,
    help: 'gRPC Predict responses carry numeric outputs in tensor_content (raw little-endian bytes, as TensorFlow\'s AsProtoTensorContent) instead of float_val, int64_val, ...: smaller and faster to encode and decode for large outputs; tf.make_ndarray reads both. String outputs stay in string_val.',
  },
  ssl_config_file: {
    type: 'string',
    default: undefined,
    help: 'TF Serving\'s SSL config (text format: server_key, server_cert, custom_ca as PEM text; client_verify): TLS on the gRPC port, with client certificates required when client_verify is true. REST stays plain HTTP, as in TF Serving.',
  },
  grpc_tls_cert_file: {
    type: 'string',
    default: undefined,
    help: '[TensorFleet] TLS on the gRPC port from PEM files (e.g. a Kubernetes TLS Secret\'s tls.crt), with --grpc_tls_key_file; re-read every --grpc_tls_reload_seconds, so a renewed certificate is served without a restart.',
  },
  grpc_tls_key_file: { type: 'string', default: undefined, help: '[TensorFleet] Private key (PEM) of --grpc_tls_cert_file.' },
  grpc_tls_client_ca_file: {
    type: 'string',
    default: undefined,
    help: '[TensorFleet] With --grpc_tls_cert_file: clients must present a certificate that chains to these CAs (PEM; mutual TLS).',
  },
  grpc_tls_reload_seconds: { type: 'int', default: 60, min: 1, help: '[TensorFleet] How often the --grpc_tls_* files are read again.' },
  rest_api_port: { type: 'int', default: 8501, max: 65535, help: 'HTTP port for the REST API, health and metrics; 0 disables it.' },
  rest_api_bind_address: { type: 'string', default: '0.0.0.0', help: 'Address the REST server binds to.' },
  rest_api_timeout_in_ms: { type: 'int', default: 30000, help: 'Deadline of a REST call, from its arrival: one whose inference has not started by then is not run and gets 504 (gRPC calls use their own deadline); also the time allowed to receive the request.' },
  rest_api_enable_cors_support: {
    type: 'bool',
    default: false,
    help: 'Let web pages of any origin call the REST API: Access-Control-Allow-Origin: * on every answer, and OPTIONS preflight requests answered.',
  },
  monitoring_config_file: {
    type: 'string',
    default: undefined,
    help: 'TF Serving\'s monitoring config (text format, prometheus_config { enable: true, path: "..." }): metrics are also served at its path. They are always served on the REST port at /metrics and /monitoring/prometheus/metrics.',
  },
  rest_json_threads: {
    type: 'int',
    default: 1,
    help: '[TensorFleet] Threads that parse and decode REST predict bodies of 64 KiB or more and write predict responses of 4096 output elements or more, so that large JSON inputs and outputs do not hold up the event loop (status, health, gRPC); 0 does all JSON on the event loop.',
  },
  model_name: { type: 'string', default: 'default', help: 'Name of the single model served with --model_base_path.' },
  model_base_path: { type: 'string', default: undefined, help: 'Directory (or s3:// URI) holding numbered version directories.' },
  model_config_file: { type: 'string', default: undefined, help: 'Model config file (YAML, JSON or TF Serving text format); replaces --model_name/--model_base_path.' },
  model_config_file_poll_wait_seconds: { type: 'int', default: 0, help: 'Re-read the model config file this often; 0 reads it once.' },
  file_system_poll_wait_seconds: { type: 'int', default: 1, help: 'Look for new or removed versions this often.' },
  max_num_load_retries: { type: 'int', default: 5, help: 'Retries of a failed version load.' },
  load_retry_interval_micros: { type: 'int', default: 60_000_000, help: 'First delay between load retries (doubles each retry).' },
  num_load_threads: { type: 'int', default: 1, help: 'Versions loaded at the same time.' },
  saved_model_tags: { type: 'string', default: 'serve', help: 'Comma-separated tag set of the meta graph to load from each SavedModel.' },
  enable_model_warmup: {
    type: 'bool',
    default: true,
    help: 'Replay the requests in a version\'s assets.extra/tf_serving_warmup_requests (a TFRecord file of PredictionLogs) on every inference thread before serving it; a file that cannot be replayed fails the load.',
  },
  enable_signature_method_name_check: {
    type: 'bool',
    default: false,
    help: 'Classify and Regress take only signatures with the classify and regress method names, Predict only the three standard ones. Off, as in TF Serving: tf.saved_model.save records every signature as predict.',
  },
  num_request_iterations_for_warmup: { type: 'int', default: 0, min: 0, help: 'Times each warmup request is replayed; 0 means once.' },
  allow_version_labels_for_unavailable_models: { type: 'bool', default: false, help: 'Allow labels to point at versions that are not yet available.' },
  tensorflow_intra_op_parallelism: {
    type: 'int',
    default: 0,
    help: 'Threads one TensorFlow op may use; 0: the container\'s CPU limit (cgroup quota, rounded up) if it has one, else TensorFlow\'s choice (the cores it sees).',
  },
  tensorflow_session_config_file: {
    type: 'string',
    default: undefined,
    help: 'TensorFlow ConfigProto in text format. Its intra_op_parallelism_threads and inter_op_parallelism_threads apply where the --tensorflow_*_op_parallelism flags are 0; device placement and GPU fields are reported and ignored (TensorFleet runs on CPUs); any other field is refused.',
  },
  tensorflow_inter_op_parallelism: {
    type: 'int',
    default: 0,
    min: -1,
    help: 'Threads running independent TensorFlow ops; 0 as for --tensorflow_intra_op_parallelism. -1 runs every op on the inference thread itself, with no hand-off per op: about twice the throughput for small models without batching (docs/benchmarks.md), but independent ops of one request no longer run side by side.',
  },
  enable_batching: { type: 'bool', default: false, help: 'Merge concurrent requests to the same model signature into batches (signatures whose tensors all have a variable first dimension).' },
  batching_parameters_file: { type: 'string', default: undefined, help: 'BatchingParameters in text format (max_batch_size, batch_timeout_micros, max_enqueued_batches, num_batch_threads, allowed_batch_sizes); implies nothing without --enable_batching.' },
  enable_per_model_batching_parameters: {
    type: 'bool',
    default: false,
    help: 'With --enable_batching: a version directory holding batching_params.pbtxt (BatchingParameters text) is batched by its sizes, timeout and queue bound; fields it leaves out come from --batching_parameters_file, and the batch threads stay shared. A file that cannot be used fails that version\'s load.',
  },
  inference_threads: { type: 'int', default: 1, help: '[TensorFleet] Worker threads running TensorFlow; every version is loaded in each.' },
  inference_thread_niceness: { type: 'int', default: 10, help: '[TensorFleet] Linux nice value of the inference threads, TensorFlow\'s pools and the REST JSON threads, so that under load the event loop (I/O, health, status) gets the CPU first; 0 leaves them at the server\'s priority.' },
  max_request_bytes: { type: 'int', default: 64 * 1024 * 1024, help: '[TensorFleet] Largest request message (gRPC or REST body).' },
  max_tensor_elements: { type: 'int', default: 50_000_000, help: '[TensorFleet] Largest number of elements in one request tensor.' },
  grpc_channel_arguments: {
    type: 'string',
    default: undefined,
    help:
      'Comma-separated key=value arguments for the gRPC server, as in TF Serving (e.g. grpc.max_concurrent_streams=8: at most 8 calls in flight per connection, ' +
      'which keeps status and health calls fast while Predict saturates the server; clients queue the rest). ' +
      'HTTP/2 receive windows: grpc.http2.bdp_probe=0 stops them from growing with the network\'s bandwidth-delay product (on by default, as in gRPC servers); ' +
      'grpc.http2.lookahead_bytes=N starts each call\'s window at N bytes instead of 64 KiB.',
  },
  grpc_prompt_trailers: {
    type: 'bool',
    default: true,
    help: '[TensorFleet] Send each gRPC answer\'s trailers (its status) as soon as HTTP/2 asks for them; false leaves them to Node, which sends them after the rest of the event-loop turn (decision 0011).',
  },
  max_connection_age_seconds: { type: 'int', default: 300, help: '[TensorFleet] Close gRPC connections after this long so clients rebalance across pods; 0 keeps them.' },
  shutdown_delay_seconds: {
    type: 'int',
    default: undefined,
    help:
      '[TensorFleet] On SIGTERM, keep serving this long while /readyz and gRPC health say not serving, before taking no new calls: ' +
      'Kubernetes takes a terminating pod out of its Services only after a moment, and calls sent meanwhile would fail ' +
      '(default: 5 in a Kubernetes pod, i.e. with KUBERNETES_SERVICE_HOST set, else 0).',
  },
  shutdown_grace_seconds: { type: 'int', default: 30, help: '[TensorFleet] On SIGTERM, after --shutdown_delay_seconds, time to finish in-flight calls.' },
  request_log_spool_dir: {
    type: 'string',
    default: undefined,
    help: '[TensorFleet] Where request logs with an s3:// filename_prefix are written before they are uploaded (default: <tmpdir>/tensorfleet-request-logs); files left by a stopped server are uploaded at the next start.',
  },
  request_log_upload_interval_seconds: {
    type: 'int',
    default: 300,
    min: 1,
    help: '[TensorFleet] A request log file with an s3:// filename_prefix is closed and uploaded after this long (or at 64 MiB, or at shutdown).',
  },
  model_store: { type: 'string', default: undefined, help: '[TensorFleet] Local directory for versions synced from S3 (default: <tmpdir>/tensorfleet-model-store).' },
  s3_endpoint: { type: 'string', default: undefined, help: '[TensorFleet] S3-compatible endpoint URL (else env TENSORFLEET_S3_ENDPOINT, S3_ENDPOINT with S3_USE_HTTPS, AWS_ENDPOINT_URL_S3; else AWS).' },
  s3_region: { type: 'string', default: undefined, help: '[TensorFleet] S3 region (else env AWS_REGION, AWS_DEFAULT_REGION; else us-east-1).' },
  s3_path_style: { type: 'bool', default: undefined, help: '[TensorFleet] Path-style S3 addressing (default: on when an endpoint is set, off for AWS).' },
  s3_credentials_dir: { type: 'string', default: undefined, help: '[TensorFleet] Directory with files accessKeyId, secretAccessKey[, sessionToken], re-read on change (else env TENSORFLEET_S3_CREDENTIALS_DIR; else the AWS SDK credential chain).' },
  s3_ca_file: { type: 'string', default: undefined, help: '[TensorFleet] PEM CA bundle trusted for S3 TLS, added to the system roots (else env S3_CA_FILE, AWS_CA_BUNDLE).' },
  s3_verify_ssl: { type: 'bool', default: undefined, help: '[TensorFleet] Verify S3 TLS certificates (else env S3_VERIFY_SSL; default true).' },
  s3_download_concurrency: { type: 'int', default: undefined, help: '[TensorFleet] S3 GETs in flight at once, over all models (default 16).' },
  s3_part_size_mb: { type: 'int', default: undefined, help: '[TensorFleet] Size of one ranged GET; objects over twice this are fetched in parallel parts (or env S3_MULTI_PART_DOWNLOAD_CHUNK_SIZE in bytes). Unset: 16, and a big object\'s parts grow up to 64 so it takes about one GET per --s3_download_concurrency slot.' },
  s3_completion_marker: { type: 'string', default: undefined, help: '[TensorFleet] Object name (relative to a version prefix, e.g. .complete) that marks an S3 version complete; unset: complete once two listings agree.' },
  log_level: { type: 'string', default: 'info', help: '[TensorFleet] trace, debug, info, warn, error.' },
} as const satisfies Record<string, FlagSpec>;

type FlagName = keyof typeof SERVE_FLAGS;
type ValueOf<T extends FlagType> = T extends 'string' ? string : T extends 'bool' ? boolean : number;
export type ServeOptions = {
  readonly [K in FlagName]: (typeof SERVE_FLAGS)[K]['default'] extends undefined
    ? ValueOf<(typeof SERVE_FLAGS)[K]['type']> | undefined
    : ValueOf<(typeof SERVE_FLAGS)[K]['type']>;
} & {
  /** tensorflow_model_server flags given that have no effect here (tf-serving-flags.ts), to report at start. */
  readonly ignoredFlags: readonly IgnoredFlag[];
};

export interface IgnoredFlag {
  readonly flag: string;
  readonly reason: string;
}

export class OptionsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid flags:\n  ${problems.join('\n  ')}`);
  }
}

function parseValue(name: string, spec: FlagSpec, raw: string | undefined, problems: string[]): unknown {
  switch (spec.type) {
    case 'bool':
      if (raw === undefined || raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      problems.push(`--${name} takes true or false, got "${raw}"`);
      return undefined;
    case 'int':
    case 'number': {
      const value = Number(raw);
      const min = spec.min ?? 0;
      if (raw === undefined || raw.trim() === '' || !Number.isFinite(value) || (spec.type === 'int' && !Number.isInteger(value)) || value < min) {
        const kind = spec.type === 'int' ? 'integer' : 'number';
        problems.push(`--${name} takes ${min === 0 ? `a non-negative ${kind}` : `an ${kind} of at least ${min}`}, got "${raw ?? ''}"`);
        return undefined;
      }
      if (spec.max !== undefined && value > spec.max) {
        problems.push(`--${name} takes at most ${spec.max}, got "${raw}"`);
        return undefined;
      }
      return value;
    }
    case 'string':
      if (raw === undefined || raw === '') problems.push(`--${name} needs a value`);
      return raw;
  }
}

/** The tag set --saved_model_tags names: comma-separated, blanks and repeats dropped. */
export function savedModelTags(text: string): string[] {
  return [...new Set(text.split(',').map((tag) => tag.trim()).filter((tag) => tag !== ''))];
}

/** Parses and validates `serve` flags; every problem is listed at once. */
export function parseServeOptions(argv: readonly string[]): ServeOptions {
  const problems: string[] = [];
  const ignored: IgnoredFlag[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(SERVE_FLAGS)) values[name] = spec.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--?([a-zA-Z0-9_-]+)(?:=(.*))?$/s.exec(arg);
    if (!match) {
      problems.push(`unexpected argument "${arg}"`);
      continue;
    }
    const name = match[1]!.replaceAll('-', '_');
    const spec = (SERVE_FLAGS as Record<string, FlagSpec>)[name];
    if (!spec) {
      // A TF Serving flag written as "--flag value" takes its value with it.
      const tfServingFlag = name in FLAGS_WITHOUT_EFFECT || name in FLAGS_REFUSED;
      const value = match[2] ?? (tfServingFlag && i + 1 < argv.length && !argv[i + 1]!.startsWith('--') ? argv[++i] : undefined);
      if (name in FLAGS_WITHOUT_EFFECT) ignored.push({ flag: name, reason: FLAGS_WITHOUT_EFFECT[name]! });
      // Switching a refused feature off asks for what this server does anyway.
      else if (name in FLAGS_REFUSED && (value === 'false' || value === '0')) ignored.push({ flag: name, reason: `set to ${value}, which is what TensorFleet does` });
      else if (name in FLAGS_REFUSED) problems.push(`--${name} is not supported: ${FLAGS_REFUSED[name]!}`);
      else problems.push(`unknown flag --${name} (see --help)`);
      continue;
    }
    let raw = match[2];
    if (raw === undefined && spec.type !== 'bool' && i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) raw = argv[++i];
    values[name] = parseValue(name, spec, raw, problems);
  }
  if (values.model_config_file === undefined && values.model_base_path === undefined) {
    problems.push('give --model_base_path (one model) or --model_config_file (several)');
  }
  if (values.model_config_file !== undefined && values.model_base_path !== undefined) {
    problems.push('--model_config_file and --model_base_path exclude each other');
  }
  if (values.inference_threads === 0) problems.push('--inference_threads must be at least 1');
  if (typeof values.inference_thread_niceness === 'number' && values.inference_thread_niceness > 19) problems.push('--inference_thread_niceness must be between 0 and 19');
  if (values.s3_download_concurrency === 0) problems.push('--s3_download_concurrency must be at least 1');
  if (values.s3_part_size_mb === 0) problems.push('--s3_part_size_mb must be at least 1');
  problems.push(...tlsFlagProblems(values));
  if (values.port === values.rest_api_port && values.port !== 0) problems.push('--port and --rest_api_port must differ');
  if (typeof values.saved_model_tags === 'string' && savedModelTags(values.saved_model_tags).length === 0) problems.push('--saved_model_tags must name at least one tag');
  if (typeof values.grpc_channel_arguments === 'string') problems.push(...parseChannelArguments(values.grpc_channel_arguments).problems);
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(String(values.log_level))) {
    problems.push(`--log_level must be one of trace, debug, info, warn, error, got "${String(values.log_level)}"`);
  }
  if (problems.length > 0) throw new OptionsError(problems);
  return Object.freeze({ ...values, ignoredFlags: Object.freeze(ignored) }) as ServeOptions;
}

function tlsFlagProblems(values: Record<string, unknown>): string[] {
  const set = (name: string): boolean => values[name] !== undefined;
  const problems: string[] = [];
  if (set('grpc_tls_cert_file') !== set('grpc_tls_key_file')) problems.push('--grpc_tls_cert_file and --grpc_tls_key_file go together');
  if (set('grpc_tls_client_ca_file') && !set('grpc_tls_cert_file')) problems.push('--grpc_tls_client_ca_file needs --grpc_tls_cert_file and --grpc_tls_key_file');
  if (set('ssl_config_file') && set('grpc_tls_cert_file')) problems.push('--ssl_config_file and --grpc_tls_cert_file exclude each other (both set the gRPC port\'s TLS)');
  return problems;
}

export function serveHelp(): string {
  const lines = [
    'Usage: tensorfleet serve [flags]',
    '       tensorfleet serve --version    (the server\'s and TensorFlow\'s versions)',
    '',
    'Serves TensorFlow SavedModels over TensorFlow Serving\'s gRPC and REST APIs.',
    '',
    'Flags:',
  ];
  for (const [name, spec] of Object.entries(SERVE_FLAGS) as [string, FlagSpec][]) {
    const def = spec.default === undefined ? '' : ` (default: ${String(spec.default)})`;
    lines.push(`  --${name}=<${spec.type}>`, `      ${spec.help}${def}`);
  }
  lines.push('', 'tensorflow_model_server flags accepted without effect (reported at start):');
  for (const [name, reason] of Object.entries(FLAGS_WITHOUT_EFFECT)) lines.push(`  --${name}: ${reason}`);
  lines.push('', 'tensorflow_model_server flags refused:');
  for (const [name, reason] of Object.entries(FLAGS_REFUSED)) lines.push(`  --${name}: ${reason}`);
  return lines.join('\n');
}

/** Where --shutdown_delay_seconds is not given: a pod needs the delay, a terminal does not. */
export function defaultShutdownDelaySeconds(env: Readonly<Record<string, string | undefined>>): number {
  return env.KUBERNETES_SERVICE_HOST ? 5 : 0;
}
