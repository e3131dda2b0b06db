import { invalidArgument } from '../../../shared/errors.js';
import { parseTextFormat } from '../../config/text-format.js';
import type { IgnoredFlag, ServeOptions } from '../../serve-options.js';

/** What TensorFleet takes from TF Serving's --tensorflow_session_config_file (a ConfigProto). */
export interface SessionConfig {
  readonly intraOpThreads?: number;
  readonly interOpThreads?: number;
  /** Fields read and ignored, with why: reported at start like TF Serving flags without effect. */
  readonly ignored: readonly IgnoredFlag[];
}

/** ConfigProto fields that only place ops on devices or size GPU memory: nothing to do on CPUs. */
const FIELDS_WITHOUT_EFFECT: Readonly<Record<string, string>> = {
  device_count: 'TensorFleet runs every op on the CPU',
  gpu_options: 'TensorFleet runs TensorFlow on CPUs',
  allow_soft_placement: 'TensorFleet runs every op on the CPU',
  log_device_placement: 'TensorFleet runs every op on the CPU',
};

const THREAD_FIELDS = ['intra_op_parallelism_threads', 'inter_op_parallelism_threads'] as const;

function threads(doc: Record<string, unknown>, field: (typeof THREAD_FIELDS)[number]): number | undefined {
  const value = doc[field];
  if (value === undefined) return undefined;
  // ConfigProto's 0 means "let TensorFlow choose", as our flags' 0 does; negative inter-op runs ops inline.
  const min = field === 'inter_op_parallelism_threads' ? -1 : 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw invalidArgument(`session config: ${field} must be an integer of at least ${min}, got ${JSON.stringify(value)}`);
  }
  return value === 0 ? undefined : value;
}

/**
 * Reads a ConfigProto in text format. Sessions here are created by tfjs-node's binding, which takes
 * no ConfigProto; TensorFlow's thread pools are sized through the environment instead
 * (thread-env.ts), so the two thread counts are honoured that way. Fields that change nothing on a
 * CPU are reported; any other field (graph optimizations, timeouts, thread pool lists, ...) would
 * be silently dropped, so it is refused, naming the field.
 */
export function parseSessionConfig(text: string): SessionConfig {
  const doc = parseTextFormat(text, 'session config');
  const ignored: IgnoredFlag[] = [];
  for (const key of Object.keys(doc)) {
    const field = key.replace(' (repeated)', '');
    if ((THREAD_FIELDS as readonly string[]).includes(field)) {
      if (key !== field) throw invalidArgument(`session config: ${field} is given twice`);
      continue;
    }
    const reason = FIELDS_WITHOUT_EFFECT[field];
    if (reason === undefined) {
      throw invalidArgument(
        `session config: field "${field}" is not supported; TensorFleet takes ${THREAD_FIELDS.join(' and ')} ` +
          `from it (and ignores ${Object.keys(FIELDS_WITHOUT_EFFECT).join(', ')})`,
      );
    }
    if (key === field) ignored.push({ flag: `tensorflow_session_config_file: ${field}`, reason });
  }
  const intraOpThreads = threads(doc, 'intra_op_parallelism_threads');
  const interOpThreads = threads(doc, 'inter_op_parallelism_threads');
  return { ...(intraOpThreads !== undefined ? { intraOpThreads } : {}), ...(interOpThreads !== undefined ? { interOpThreads } : {}), ignored };
}

/**
 * The options with the session config applied: its thread counts where the flags are 0 (the
 * flags win, as in TF Serving), its ignored fields added to those reported at start.
 */
export function withSessionConfig(options: ServeOptions, config: SessionConfig): ServeOptions {
  return Object.freeze({
    ...options,
    tensorflow_intra_op_parallelism: options.tensorflow_intra_op_parallelism || (config.intraOpThreads ?? 0),
    tensorflow_inter_op_parallelism: options.tensorflow_inter_op_parallelism || (config.interOpThreads ?? 0),
    ignoredFlags: Object.freeze([...options.ignoredFlags, ...config.ignored]),
  });
}
