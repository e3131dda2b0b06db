import { availableParallelism } from 'node:os';
import type { ServeOptions } from '../../serve-options.js';
import { cpuQuotaCores } from './cpu-quota.js';

type ThreadFlags = Pick<ServeOptions, 'tensorflow_intra_op_parallelism' | 'tensorflow_inter_op_parallelism'>;

export interface ThreadEnvInput {
  readonly flags: ThreadFlags;
  /** The environment as started: a TF_NUM_* variable the user exported wins over the quota. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The process's CPU quota in cores, if it has one (cpu-quota.ts). */
  readonly quotaCores: number | undefined;
  /** The cores TensorFlow sees and would size its pools from. */
  readonly visibleCores: number;
}

/**
 * The environment variables TensorFlow sizes its thread pools from; it reads them when the first
 * session starts, so they must be set before any model loads. For each pool, in order: a flag
 * other than 0; a variable the user exported; the CPU quota rounded up, when it is below the
 * visible cores; else nothing, and TensorFlow picks the visible cores.
 *
 * A negative TF_NUM_INTEROP_THREADS makes every session run its ops on the calling thread, here the
 * inference worker. For small graphs the hand-off of each op to the inter-op pool costs more than
 * the op itself; intra-op parallelism (one op over several cores) is unaffected.
 */
export function tensorflowThreadEnv({ flags, env, quotaCores, visibleCores }: ThreadEnvInput): Record<string, string> {
  const quotaThreads = quotaCores !== undefined && Math.ceil(quotaCores) < visibleCores ? Math.ceil(quotaCores) : undefined;
  const pool = (name: string, flag: number): Record<string, string> => {
    if (flag !== 0) return { [name]: String(flag) };
    if (env[name] !== undefined || quotaThreads === undefined) return {};
    return { [name]: String(quotaThreads) };
  };
  return {
    ...pool('TF_NUM_INTRAOP_THREADS', flags.tensorflow_intra_op_parallelism),
    ...pool('TF_NUM_INTEROP_THREADS', flags.tensorflow_inter_op_parallelism),
  };
}

/** tensorflowThreadEnv for this process: its environment, its cgroup's CPU quota, the cores it sees. */
export function threadEnvOfThisProcess(flags: ThreadFlags, quotaCores = cpuQuotaCores()): Record<string, string> {
  return tensorflowThreadEnv({ flags, env: process.env, quotaCores, visibleCores: availableParallelism() });
}
