import { describe, expect, it } from 'vitest';
import { tensorflowThreadEnv } from '../../../../../src/server/servables/tensorflow/thread-env.js';

describe('tensorflowThreadEnv', () => {
  it('sets nothing when both flags are 0, so TensorFlow (or a variable the user set) decides', () => {
    expect(tensorflowThreadEnv({ tensorflow_intra_op_parallelism: 0, tensorflow_inter_op_parallelism: 0 })).toEqual({});
  });

  it('passes pool sizes through', () => {
    expect(tensorflowThreadEnv({ tensorflow_intra_op_parallelism: 2, tensorflow_inter_op_parallelism: 1 })).toEqual({
      TF_NUM_INTRAOP_THREADS: '2',
      TF_NUM_INTEROP_THREADS: '1',
    });
  });

  it('passes -1 through: TensorFlow then runs every op on the calling thread', () => {
    expect(tensorflowThreadEnv({ tensorflow_intra_op_parallelism: 0, tensorflow_inter_op_parallelism: -1 })).toEqual({ TF_NUM_INTEROP_THREADS: '-1' });
  });
});
