/**
 * tensorflow_model_server flags that `tensorfleet serve` does not take as its own. An existing
 * TF Serving command line should start here or fail with a reason, never with "unknown flag":
 * - flags that tune parts this server does not have are accepted, and reported at start;
 * - flags whose meaning it cannot honour (TLS, other platforms) are refused, because ignoring
 *   them would change what the server does (e.g. serve in plain text what was meant to be TLS).
 * docs/decisions/0015-tf-serving-flags.md says which flag goes where and why.
 */

/** Accepted and reported at start: the name, and why it has no effect. */
export const FLAGS_WITHOUT_EFFECT: Readonly<Record<string, string>> = {
  grpc_max_threads: 'gRPC calls are handled on the event loop; TensorFlow runs on --inference_threads',
  rest_api_num_threads: 'REST calls are handled on the event loop; large predict bodies are parsed on --rest_json_threads',
  num_unload_threads: 'versions are unloaded as soon as their in-flight calls finish',
  flush_filesystem_caches: 'there are no file system caches to flush after loading',
  remove_unused_fields_from_bundle_metagraph: 'the meta graph is read for its signatures and not kept',
  enforce_session_run_timeout: 'a call whose gRPC deadline (or --rest_api_timeout_in_ms) passes before its run starts is not run; a run that started finishes',
  tensorflow_session_parallelism: 'set --tensorflow_intra_op_parallelism and --tensorflow_inter_op_parallelism instead',
  per_process_gpu_memory_fraction: 'TensorFleet runs TensorFlow on CPUs',
  enable_profiler: 'there is no TensorFlow profiler service',
  enable_grpc_healthcheck_service: 'the standard gRPC health service (grpc.health.v1) is always on',
  skip_initialize_tpu: 'TensorFleet runs TensorFlow on CPUs; there is no TPU to initialize',
  num_tflite_pools: 'TensorFlow Lite models are not served (see --prefer_tflite_model)',
  num_tflite_interpreters_per_pool: 'TensorFlow Lite models are not served (see --prefer_tflite_model)',
  xla_cpu_compilation_enabled: 'TensorFleet leaves XLA JIT compilation at the TensorFlow library\'s default',
  xla_gpu_compilation_enabled: 'TensorFleet runs TensorFlow on CPUs; see --xla_cpu_compilation_enabled',
};

/** Refused: the name, and what to do instead. */
export const FLAGS_REFUSED: Readonly<Record<string, string>> = {
  use_alts_credentials: 'ALTS is not supported; terminate transport security in front of the server',
  platform_config_file: 'platform configs are not supported; TensorFleet serves SavedModels, configured by its own flags (see --help)',
  prefer_tflite_model: 'TensorFlow Lite models are not supported; TensorFleet serves SavedModels',
  use_tflite_model: 'TensorFlow Lite models are not supported; TensorFleet serves SavedModels',
  thread_pool_factory_config_file: 'custom thread pool factories are not supported; see --inference_threads and --tensorflow_*_op_parallelism',
  mixed_precision: 'mixed precision is not supported; export the SavedModel in the precision it should run in',
};
