import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServingError } from '../../../../../src/shared/errors.js';
import {
  readSignatures,
  signatureDefMapOf,
  storedSignatureDefMap,
} from '../../../../../src/server/servables/tensorflow/saved-model-metadata.js';
import { decodeMessage, packAny } from '../../../../../src/server/transports/grpc/proto-loader.js';

const MODELS = join(import.meta.dirname, '../../../../fixtures/models');

describe('readSignatures on real SavedModels', () => {
  it('reads the adder signature (INT64 scalars)', async () => {
    const { tags, signatures, skipped } = await readSignatures(join(MODELS, 'adder/1'));
    expect(tags).toEqual([['serve']]);
    expect(signatures['add']).toEqual({
      methodName: 'tensorflow/serving/predict',
      inputs: {
        a: { name: 'add_a:0', dtype: 'DT_INT64', shape: [] },
        b: { name: 'add_b:0', dtype: 'DT_INT64', shape: [] },
      },
      outputs: { sum: { name: 'PartitionedCall:0', dtype: 'DT_INT64', shape: [] } },
    });
    // The init-op pseudo signature (DT_INVALID output) is no model function: left out, not reported.
    expect(skipped).toEqual([]);
    expect(Object.keys(signatures)).toEqual(['add']);
  });

  it('reports signatures with a dtype it cannot serve, with why (odd_signatures)', async () => {
    const { signatures, skipped } = await readSignatures(join(MODELS, 'odd_signatures/1'));
    expect(skipped).toEqual([{ name: 'complex_outputs', reason: 'output outputs has unsupported dtype DT_COMPLEX64' }]);
    expect(signatures['complex_outputs']).toBeUndefined();
  });

  it('reads unknown batch dimensions as -1 (mnist)', async () => {
    const { signatures } = await readSignatures(join(MODELS, 'mnist/1'));
    expect(signatures['predict_images']?.inputs['images']).toEqual({
      name: 'predict_images_images:0',
      dtype: 'DT_FLOAT',
      shape: [-1, 28, 28, 1],
    });
  });

  it('reads classify and regress method names (census)', async () => {
    const { signatures } = await readSignatures(join(MODELS, 'census/1'));
    expect(signatures['classify']?.methodName).toBe('tensorflow/serving/classify');
    expect(signatures['regress']?.methodName).toBe('tensorflow/serving/regress');
    expect(signatures['classify']?.inputs['inputs']?.dtype).toBe('DT_STRING');
  });

  it('keeps the stored signatures, and packs them as GetModelMetadata does', async () => {
    const { storedSignatures } = await readSignatures(join(MODELS, 'adder/1'));
    expect(Object.keys(storedSignatures).sort()).toEqual(['__saved_model_init_op', 'add']);
    const any = packAny('tensorflow.serving.SignatureDefMap', storedSignatureDefMap(storedSignatures));
    expect(any.type_url).toBe('type.googleapis.com/tensorflow.serving.SignatureDefMap');
    const back = decodeMessage('tensorflow.serving.SignatureDefMap', any.value) as {
      signature_def: Record<string, { inputs: Record<string, { dtype: string; tensor_shape: unknown }> }>;
    };
    expect(back.signature_def['add']?.inputs['a']).toMatchObject({ dtype: 'DT_INT64', tensor_shape: { dim: [], unknown_rank: false } });
  });
});

describe('signatureDefMapOf', () => {
  it('writes dtype names, -1 dimensions and unknown rank', () => {
    const message = signatureDefMapOf({
      s: {
        methodName: 'tensorflow/serving/predict',
        inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 3] } },
        outputs: { y: { name: 'y:0', dtype: 'DT_STRING', shape: undefined } },
      },
    });
    const back = decodeMessage('tensorflow.serving.SignatureDefMap', packAny('tensorflow.serving.SignatureDefMap', message).value);
    expect(back).toEqual({
      signature_def: {
        s: {
          method_name: 'tensorflow/serving/predict',
          defaults: {},
          inputs: { x: { name: 'x:0', encoding: 'name', dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '-1', name: '' }, { size: '3', name: '' }], unknown_rank: false } } },
          outputs: { y: { name: 'y:0', encoding: 'name', dtype: 'DT_STRING', tensor_shape: { dim: [], unknown_rank: true } } },
        },
      },
    });
  });
});

describe('readSignatures failures', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'saved-model-metadata-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function failure(promise: Promise<unknown>): Promise<ServingError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ServingError);
    return error as ServingError;
  }

  it('names the missing file', async () => {
    const error = await failure(readSignatures(join(dir, 'nope')));
    expect(error.code).toBe('FAILED_PRECONDITION');
    expect(error.message).toContain(join(dir, 'nope', 'saved_model.pb'));
  });

  it('names a corrupt file', async () => {
    const model = join(dir, 'corrupt');
    await rm(model, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(model));
    await writeFile(join(model, 'saved_model.pb'), Buffer.from([0x12, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    const error = await failure(readSignatures(model));
    expect(error.code).toBe('FAILED_PRECONDITION');
    expect(error.message).toMatch(/corrupt\/saved_model\.pb is not a valid SavedModel protobuf/);
  });

  it('lists the tag sets when none matches', async () => {
    const error = await failure(readSignatures(join(MODELS, 'adder/1'), ['train']));
    expect(error.code).toBe('FAILED_PRECONDITION');
    expect(error.message).toMatch(/no meta graph tagged \{train\} \(tag sets found: \{serve\}\)/);
  });
});
