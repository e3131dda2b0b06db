import { describe, expect, it } from 'vitest';
import { OptionsError, SERVE_FLAGS, defaultShutdownDelaySeconds, parseServeOptions, savedModelTags, serveHelp } from '../../../src/server/serve-options.js';
import { FLAGS_REFUSED, FLAGS_WITHOUT_EFFECT } from '../../../src/server/tf-serving-flags.js';

describe('parseServeOptions', () => {
  it('takes tensorflow_model_server style flags, in both --a=b and --a b forms', () => {
    const options = parseServeOptions(['--model_name=mnist', '--model_base_path', '/m', '--port=9000', '--allow_version_labels_for_unavailable_models']);
    expect(options).toMatchObject({ model_name: 'mnist', model_base_path: '/m', port: 9000, rest_api_port: 8501, allow_version_labels_for_unavailable_models: true });
    expect(Object.isFrozen(options)).toBe(true);
  });

  it('accepts dashes for underscores', () => {
    expect(parseServeOptions(['--model-config-file=/c.yaml']).model_config_file).toBe('/c.yaml');
  });

  it('lists every problem at once', () => {
    try {
      parseServeOptions(['--port=abc', '--nope', '--log_level=loud', 'stray']);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(OptionsError);
      const { problems } = error as OptionsError;
      expect(problems).toEqual(
        expect.arrayContaining([
          '--port takes a non-negative integer, got "abc"',
          'unknown flag --nope (see --help)',
          'unexpected argument "stray"',
          'give --model_base_path (one model) or --model_config_file (several)',
          expect.stringContaining('--log_level must be one of'),
        ]),
      );
    }
  });

  it('takes -1 for --tensorflow_inter_op_parallelism (ops inline) and nothing lower; other numbers stay non-negative', () => {
    expect(parseServeOptions(['--model_base_path=/m', '--tensorflow_inter_op_parallelism', '-1']).tensorflow_inter_op_parallelism).toBe(-1);
    expect(() => parseServeOptions(['--model_base_path=/m', '--tensorflow_inter_op_parallelism=-2', '--tensorflow_intra_op_parallelism=-1'])).toThrowError(
      /--tensorflow_inter_op_parallelism takes an integer of at least -1, got "-2"\n {2}--tensorflow_intra_op_parallelism takes a non-negative integer, got "-1"/,
    );
  });

  it('takes port numbers up to 65535 (Node refused larger ones only after the models had started loading)', () => {
    expect(parseServeOptions(['--model_base_path=/m', '--port=65535', '--rest_api_port=0'])).toMatchObject({ port: 65535, rest_api_port: 0 });
    expect(() => parseServeOptions(['--model_base_path=/m', '--port=65536', '--rest_api_port=99999'])).toThrowError(
      /--port takes at most 65535, got "65536"\n {2}--rest_api_port takes at most 65535, got "99999"/,
    );
  });

  it('checks --grpc_channel_arguments', () => {
    expect(parseServeOptions(['--model_base_path=/m', '--grpc_channel_arguments=grpc.max_concurrent_streams=8']).grpc_channel_arguments).toBe('grpc.max_concurrent_streams=8');
    expect(() => parseServeOptions(['--model_base_path=/m', '--grpc_channel_arguments=grpc.max_concurrent_streams'])).toThrowError(
      '--grpc_channel_arguments: "grpc.max_concurrent_streams" is not key=value',
    );
  });

  it('refuses both ways of naming models, and equal ports', () => {
    expect(() => parseServeOptions(['--model_base_path=/m', '--model_config_file=/c', '--port=1', '--rest_api_port=1'])).toThrowError(
      /exclude each other[\s\S]*must differ/,
    );
  });

  it('documents every flag in --help', () => {
    const help = serveHelp();
    for (const name of Object.keys(SERVE_FLAGS)) expect(help).toContain(`--${name}=`);
    expect(help).toContain('tensorfleet serve --version');
  });
});

describe('tensorflow_model_server flags that are not ours', () => {
  it('accepts those without effect here, in both forms, and lists them with their reason', () => {
    const options = parseServeOptions(['--model_base_path=/m', '--grpc_max_threads=8', '--rest_api_num_threads', '4', '--enable_profiler', '--port=9000']);
    expect(options.port).toBe(9000);
    expect(options.ignoredFlags).toEqual([
      { flag: 'grpc_max_threads', reason: FLAGS_WITHOUT_EFFECT.grpc_max_threads },
      { flag: 'rest_api_num_threads', reason: FLAGS_WITHOUT_EFFECT.rest_api_num_threads },
      { flag: 'enable_profiler', reason: FLAGS_WITHOUT_EFFECT.enable_profiler },
    ]);
    expect(parseServeOptions(['--model_base_path=/m']).ignoredFlags).toEqual([]);
  });

  it('refuses those it cannot honour, saying what to do instead', () => {
    expect(() => parseServeOptions(['--model_base_path=/m', '--use_alts_credentials', '--platform_config_file=/p'])).toThrowError(
      /--use_alts_credentials is not supported: ALTS is not supported.*\n {2}--platform_config_file is not supported: platform configs/s,
    );
  });

  it('accepts a refused feature switched off, since that is what this server does', () => {
    const options = parseServeOptions(['--model_base_path=/m', '--use_alts_credentials=false', '--prefer_tflite_model', '0']);
    expect(options.ignoredFlags.map((f) => f.flag)).toEqual(['use_alts_credentials', 'prefer_tflite_model']);
    expect(() => parseServeOptions(['--model_base_path=/m', '--prefer_tflite_model=true'])).toThrowError(/--prefer_tflite_model is not supported/);
    expect(() => parseServeOptions(['--model_base_path=/m', '--mixed_precision=bfloat16'])).toThrowError(/--mixed_precision is not supported/);
  });

  // Every flag of tensorflow_model_server (TF Serving 2.19's main.cc): an existing command line
  // either starts or fails naming the flag and the reason, never with "unknown flag".
  const TF_SERVING_FLAGS = [
    'port', 'grpc_socket_path', 'rest_api_port', 'rest_api_num_threads', 'rest_api_timeout_in_ms', 'rest_api_enable_cors_support',
    'enable_batching', 'allow_version_labels_for_unavailable_models', 'batching_parameters_file', 'enable_per_model_batching_parameters',
    'model_config_file', 'model_config_file_poll_wait_seconds', 'model_name', 'model_base_path', 'num_load_threads', 'num_unload_threads',
    'max_num_load_retries', 'load_retry_interval_micros', 'file_system_poll_wait_seconds', 'flush_filesystem_caches',
    'tensorflow_session_parallelism', 'tensorflow_session_config_file', 'tensorflow_intra_op_parallelism', 'tensorflow_inter_op_parallelism',
    'use_alts_credentials', 'ssl_config_file', 'platform_config_file', 'per_process_gpu_memory_fraction', 'saved_model_tags',
    'grpc_channel_arguments', 'grpc_max_threads', 'enable_model_warmup', 'num_request_iterations_for_warmup', 'monitoring_config_file',
    'remove_unused_fields_from_bundle_metagraph', 'prefer_tflite_model', 'num_tflite_pools', 'num_tflite_interpreters_per_pool',
    'enable_signature_method_name_check', 'xla_cpu_compilation_enabled', 'xla_gpu_compilation_enabled', 'enable_profiler',
    'thread_pool_factory_config_file', 'mixed_precision', 'skip_initialize_tpu', 'enable_grpc_healthcheck_service',
    'enable_serialization_as_tensor_content', 'use_tflite_model', 'enforce_session_run_timeout',
  ];
  it.each(TF_SERVING_FLAGS)('knows --%s', (name) => {
    const known = name in SERVE_FLAGS || name in FLAGS_WITHOUT_EFFECT || name in FLAGS_REFUSED;
    expect(known, `--${name} is in none of SERVE_FLAGS, FLAGS_WITHOUT_EFFECT, FLAGS_REFUSED`).toBe(true);
  });

  it('names no flag in both lists, nor one of its own', () => {
    for (const name of Object.keys(FLAGS_WITHOUT_EFFECT)) {
      expect(FLAGS_REFUSED).not.toHaveProperty(name);
      expect(SERVE_FLAGS).not.toHaveProperty(name);
    }
    for (const name of Object.keys(FLAGS_REFUSED)) expect(SERVE_FLAGS).not.toHaveProperty(name);
    expect(serveHelp()).toContain('--use_alts_credentials: ALTS is not supported');
  });
});

describe('gRPC TLS flags', () => {
  it.each([
    [['--grpc_tls_cert_file=/c'], '--grpc_tls_cert_file and --grpc_tls_key_file go together'],
    [['--grpc_tls_key_file=/k'], '--grpc_tls_cert_file and --grpc_tls_key_file go together'],
    [['--grpc_tls_client_ca_file=/ca'], '--grpc_tls_client_ca_file needs --grpc_tls_cert_file and --grpc_tls_key_file'],
    [['--grpc_tls_cert_file=/c', '--grpc_tls_key_file=/k', '--ssl_config_file=/s'], '--ssl_config_file and --grpc_tls_cert_file exclude each other'],
    [['--grpc_tls_cert_file=/c', '--grpc_tls_key_file=/k', '--grpc_tls_reload_seconds=0'], '--grpc_tls_reload_seconds'],
  ])('refuses %j', (flags, message) => {
    expect(() => parseServeOptions(['--model_base_path=/m', ...flags])).toThrowError(message);
  });

  it('takes certificate, key and client CA files, re-read every 60 s by default', () => {
    const options = parseServeOptions(['--model_base_path=/m', '--grpc_tls_cert_file=/c', '--grpc_tls_key_file=/k', '--grpc_tls_client_ca_file=/ca']);
    expect(options).toMatchObject({ grpc_tls_cert_file: '/c', grpc_tls_key_file: '/k', grpc_tls_client_ca_file: '/ca', grpc_tls_reload_seconds: 60 });
  });
});

describe('--saved_model_tags', () => {
  it('is a comma-separated tag set, serve by default; blanks and repeats are dropped', () => {
    expect(parseServeOptions(['--model_base_path=/m']).saved_model_tags).toBe('serve');
    expect(savedModelTags(' gpu, serve,,gpu ')).toEqual(['gpu', 'serve']);
  });

  it('must name at least one tag', () => {
    expect(() => parseServeOptions(['--model_base_path=/m', '--saved_model_tags= , '])).toThrowError(/--saved_model_tags must name at least one tag/);
  });
});

describe('--shutdown_delay_seconds', () => {
  it('is left to the environment unless given', () => {
    expect(parseServeOptions(['--model_base_path=/m']).shutdown_delay_seconds).toBeUndefined();
    expect(parseServeOptions(['--model_base_path=/m', '--shutdown_delay_seconds=0']).shutdown_delay_seconds).toBe(0);
    expect(() => parseServeOptions(['--model_base_path=/m', '--shutdown_delay_seconds=-1'])).toThrow(OptionsError);
  });

  it('defaults to 5 s in a Kubernetes pod and to none elsewhere', () => {
    expect(defaultShutdownDelaySeconds({ KUBERNETES_SERVICE_HOST: '10.96.0.1' })).toBe(5);
    expect(defaultShutdownDelaySeconds({})).toBe(0);
  });
});
