import { describe, expect, it } from 'vitest';
import { parseServeOptions } from '../../../../../src/server/serve-options.js';
import { parseSessionConfig, withSessionConfig } from '../../../../../src/server/servables/tensorflow/session-config.js';

describe('parseSessionConfig (a TensorFlow ConfigProto in text format)', () => {
  it('takes the thread counts, 0 as unset and a negative inter-op count as ops inline', () => {
    expect(parseSessionConfig('intra_op_parallelism_threads: 4\ninter_op_parallelism_threads: 2\n')).toEqual({ intraOpThreads: 4, interOpThreads: 2, ignored: [] });
    expect(parseSessionConfig('intra_op_parallelism_threads: 0\ninter_op_parallelism_threads: -1\n')).toEqual({ interOpThreads: -1, ignored: [] });
    expect(parseSessionConfig('')).toEqual({ ignored: [] });
  });

  it('reports placement and GPU fields once each, as without effect', () => {
    const config = parseSessionConfig('device_count { key: "GPU" value: 0 }\ndevice_count { key: "CPU" value: 1 }\ngpu_options { allow_growth: true }\nlog_device_placement: true\n');
    expect(config.ignored.map((f) => f.flag)).toEqual([
      'tensorflow_session_config_file: device_count',
      'tensorflow_session_config_file: gpu_options',
      'tensorflow_session_config_file: log_device_placement',
    ]);
  });

  it.each([
    ['graph_options { place_pruned_graph: true }', /field "graph_options" is not supported/],
    ['operation_timeout_in_ms: 100', /field "operation_timeout_in_ms" is not supported/],
    ['use_per_session_threads: true', /field "use_per_session_threads" is not supported/],
    ['intra_op_parallelism_threads: 1.5', /intra_op_parallelism_threads must be an integer of at least 0, got 1.5/],
    ['inter_op_parallelism_threads: -2', /inter_op_parallelism_threads must be an integer of at least -1/],
    ['intra_op_parallelism_threads: 1\nintra_op_parallelism_threads: 2', /intra_op_parallelism_threads is given twice/],
    ['intra_op_parallelism_threads {', /session config/],
  ])('refuses %j', (text, message) => {
    expect(() => parseSessionConfig(text)).toThrowError(message);
  });
});

describe('withSessionConfig', () => {
  it('fills thread flags left at 0, keeps those given (the flags win, as in TF Serving), and adds what it ignored', () => {
    const options = parseServeOptions(['--model_base_path=/m', '--tensorflow_intra_op_parallelism=3', '--grpc_max_threads=4']);
    const merged = withSessionConfig(options, parseSessionConfig('intra_op_parallelism_threads: 8\ninter_op_parallelism_threads: 2\ngpu_options {}\n'));
    expect(merged.tensorflow_intra_op_parallelism).toBe(3);
    expect(merged.tensorflow_inter_op_parallelism).toBe(2);
    expect(merged.ignoredFlags.map((f) => f.flag)).toEqual(['grpc_max_threads', 'tensorflow_session_config_file: gpu_options']);
  });
});
