import { describe, expect, it } from 'vitest';
import { tensorflowThreadEnv, type ThreadEnvInput } from '../../../../../src/server/servables/tensorflow/thread-env.js';

const flags = (intra: number, inter: number): ThreadEnvInput['flags'] => ({ tensorflow_intra_op_parallelism: intra, tensorflow_inter_op_parallelism: inter });
const input = (overrides: Partial<ThreadEnvInput>): ThreadEnvInput => ({ flags: flags(0, 0), env: {}, quotaCores: undefined, visibleCores: 64, ...overrides });

describe('tensorflowThreadEnv', () => {
  it('sets nothing without flags or a quota, so TensorFlow sizes its pools from the visible cores', () => {
    expect(tensorflowThreadEnv(input({}))).toEqual({});
  });

  it('passes pool sizes from flags through', () => {
    expect(tensorflowThreadEnv(input({ flags: flags(2, 1) }))).toEqual({ TF_NUM_INTRAOP_THREADS: '2', TF_NUM_INTEROP_THREADS: '1' });
  });

  it('passes -1 through: TensorFlow then runs every op on the calling thread', () => {
    expect(tensorflowThreadEnv(input({ flags: flags(0, -1) }))).toEqual({ TF_NUM_INTEROP_THREADS: '-1' });
  });

  it('sizes both pools from a CPU quota below the visible cores, rounded up', () => {
    expect(tensorflowThreadEnv(input({ quotaCores: 2 }))).toEqual({ TF_NUM_INTRAOP_THREADS: '2', TF_NUM_INTEROP_THREADS: '2' });
    expect(tensorflowThreadEnv(input({ quotaCores: 0.25 }))).toEqual({ TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1' });
    expect(tensorflowThreadEnv(input({ quotaCores: 1.5 }))).toEqual({ TF_NUM_INTRAOP_THREADS: '2', TF_NUM_INTEROP_THREADS: '2' });
  });

  it('ignores a quota that is not below the visible cores', () => {
    expect(tensorflowThreadEnv(input({ quotaCores: 64, visibleCores: 64 }))).toEqual({});
    expect(tensorflowThreadEnv(input({ quotaCores: 63.5, visibleCores: 64 }))).toEqual({});
  });

  it('lets flags, then variables the user exported, win over the quota, pool by pool', () => {
    expect(tensorflowThreadEnv(input({ flags: flags(3, -1), quotaCores: 2 }))).toEqual({ TF_NUM_INTRAOP_THREADS: '3', TF_NUM_INTEROP_THREADS: '-1' });
    expect(tensorflowThreadEnv(input({ env: { TF_NUM_INTEROP_THREADS: '8' }, quotaCores: 2 }))).toEqual({ TF_NUM_INTRAOP_THREADS: '2' });
  });
});
