import type { ServeOptions } from '../../serve-options.js';

type ThreadFlags = Pick<ServeOptions, 'tensorflow_intra_op_parallelism' | 'tensorflow_inter_op_parallelism'>;

/**
 * The environment variables TensorFlow sizes its thread pools from; it reads them when the first
 * session starts, so they must be set before any model loads. A flag left at 0 sets nothing, so
 * TensorFlow's own choice (or a variable the user exported) stands.
 *
 * A negative TF_NUM_INTEROP_THREADS makes every session run its ops on the calling thread, here the
 * inference worker. For small graphs the hand-off of each op to the inter-op pool costs more than
 * the op itself; intra-op parallelism (one op over several cores) is unaffected.
 */
export function tensorflowThreadEnv(flags: ThreadFlags): Record<string, string> {
  const env: Record<string, string> = {};
  if (flags.tensorflow_intra_op_parallelism > 0) env.TF_NUM_INTRAOP_THREADS = String(flags.tensorflow_intra_op_parallelism);
  if (flags.tensorflow_inter_op_parallelism !== 0) env.TF_NUM_INTEROP_THREADS = String(flags.tensorflow_inter_op_parallelism);
  return env;
}
