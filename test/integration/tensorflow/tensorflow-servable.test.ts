/**
 * Real TensorFlow (the native library from the tensorflow-cpu wheel) running the fixture
 * SavedModels in the inference worker: outputs must equal what Python TensorFlow computed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHalfBits } from '../../../src/server/servables/tensorflow/codecs/json-tensor.js';
import { InferencePool } from '../../../src/server/servables/tensorflow/inference-pool.js';
import { TensorflowLoader } from '../../../src/server/servables/tensorflow/tensorflow-servable.js';
import type { Servable } from '../../../src/server/core/servable.js';
import { fixtureModelDir, hostTensorOf, jsonValuesOf, readExpectations } from '../../helpers/fixture-tensors.js';

let pool: InferencePool;
let loader: TensorflowLoader;
const signal = new AbortController().signal;

beforeAll(async () => {
  pool = await InferencePool.start(1);
  loader = new TensorflowLoader(pool);
});
afterAll(async () => {
  await pool.close();
});

const closeTo = (actual: number, expected: number): boolean =>
  Object.is(actual, expected) || Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected));

describe.each(['dtypes', 'adder', 'mnist', 'image_flag', 'jpeg_labeler', 'tiny', 'census'])('fixture %s', (model) => {
  const expectations = readExpectations(model);
  let servable: Servable;
  beforeAll(async () => {
    servable = await loader.load(model, 1, fixtureModelDir(model), signal);
  });
  afterAll(async () => {
    await servable.unload();
  });

  for (const [signatureName, { cases }] of Object.entries(expectations.signatures)) {
    it.each(cases.map((c, i) => [i, c] as const))(`${signatureName} case %i matches Python TensorFlow`, async (_i, fixtureCase) => {
      const inputs = Object.fromEntries(Object.entries(fixtureCase.inputs).map(([name, t]) => [name, hostTensorOf(t)]));
      const outputs = await servable.run(signatureName, inputs, undefined);
      for (const [name, want] of Object.entries(fixtureCase.outputs)) {
        const got = outputs[name];
        expect(got, `output ${name}`).toBeDefined();
        expect(got!.dtype).toBe(want.dtype);
        expect(got!.shape).toEqual(want.shape);
        const values = jsonValuesOf(got!);
        if (want.dtype === 'DT_FLOAT' || want.dtype === 'DT_DOUBLE') {
          values.forEach((v, j) => expect(closeTo(v as number, want.values[j] as number), `${name}[${j}] ${v} vs ${want.values[j]}`).toBe(true));
        } else if (want.dtype === 'DT_HALF') {
          expect(values.map((bits) => fromHalfBits(bits as number))).toEqual(want.values);
        } else {
          // Integers (int64 as exact decimal strings), bools and byte strings: bit for bit.
          expect(values).toEqual(want.values);
        }
      }
    });
  }
});

describe('failures', () => {
  it('reports a corrupt SavedModel as FAILED_PRECONDITION naming the file', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/tf-corrupt-`);
    await writeFile(`${dir}/saved_model.pb`, 'not a protobuf');
    const failure: unknown = await loader.load('broken', 1, dir, signal).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(String((failure as Error).message)).toContain('saved_model.pb');
  });

  it('turns a TensorFlow run error into INVALID_ARGUMENT and keeps serving', async () => {
    const servable = await loader.load('tiny', 1, fixtureModelDir('tiny'), signal);
    try {
      // Three features where the graph needs four: TensorFlow refuses inside the session.
      const bad = { x: { dtype: 'DT_FLOAT' as const, shape: [1, 3], bytes: new Uint8Array(12) } };
      await expect(servable.run('serving_default', bad, undefined)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      const good = { x: { dtype: 'DT_FLOAT' as const, shape: [1, 4], bytes: new Uint8Array(16) } };
      const out = await servable.run('serving_default', good, undefined);
      expect(out.y?.shape).toEqual([1, 3]);
    } finally {
      await servable.unload();
    }
  });
});
