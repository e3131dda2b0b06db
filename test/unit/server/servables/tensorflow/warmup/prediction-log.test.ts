/** PredictionLog records written by Python's tensorflow-serving-api, read back into requests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { jsonValuesOf } from '../../../../../helpers/fixture-tensors.js';
import { decodeTensorProto } from '../../../../../../src/server/servables/tensorflow/codecs/tensor-proto.js';
import { examplesOfInput } from '../../../../../../src/server/servables/tensorflow/codecs/tf-example.js';
import { readPredictionLog } from '../../../../../../src/server/servables/tensorflow/warmup/prediction-log.js';
import { FIXTURES_DIR } from '../../../../../helpers/server/fixture-tensors.js';
import { fixtureVersionDir } from '../../../../../helpers/server/model-dirs.js';

/** The records of a TFRecord file (checksums are the reader's test's business). */
function records(path: string): Buffer[] {
  const file = readFileSync(path);
  const out: Buffer[] = [];
  for (let offset = 0; offset < file.length; ) {
    const length = Number(file.readBigUInt64LE(offset));
    out.push(file.subarray(offset + 12, offset + 12 + length));
    offset += 12 + length + 4;
  }
  return out;
}

test('predict_log records give their PredictRequest', () => {
  const logged = records(join(fixtureVersionDir('counter', 1), 'assets.extra', 'tf_serving_warmup_requests')).map(readPredictionLog);
  expect(logged.map((l) => l.kind)).toEqual(['predict', 'predict', 'predict']);
  const values = logged.map((l) => {
    if (l.kind !== 'predict') throw new Error('not predict');
    expect(l.request.model_spec?.name).toBe('counter');
    return jsonValuesOf(decodeTensorProto(l.request.inputs.x!, { maxElements: 100 }));
  });
  expect(values).toEqual([[1, 2], [3], [4, 5, 6]]);
});

test('classify_log and regress_log records give their requests and examples', () => {
  const [classify, regress] = records(join(FIXTURES_DIR, 'warmup', 'census-classify-regress.tfrecord')).map(readPredictionLog);
  expect(classify?.kind).toBe('classify');
  expect(regress?.kind).toBe('regress');
  for (const [logged, signature] of [[classify, 'classify'], [regress, 'regress']] as const) {
    if (logged?.kind !== 'classify' && logged?.kind !== 'regress') throw new Error('wrong kind');
    expect(logged.request.model_spec?.signature_name).toBe(signature);
    expect(examplesOfInput(logged.request.input)).toHaveLength(2);
  }
});

test('multi_inference_log records give their MultiInferenceRequest', () => {
  const [multi] = records(join(FIXTURES_DIR, 'warmup', 'counter-multi-inference.tfrecord')).map(readPredictionLog);
  if (multi?.kind !== 'multi_inference') throw new Error(`wrong kind ${multi?.kind}`);
  expect(multi.request.tasks.map((t) => [t.model_spec?.name, t.method_name])).toEqual([['counter', '']]);
});

test('other log types are UNIMPLEMENTED, naming the type', () => {
  // PredictionLog { session_run_log (5): SessionRunLog { request (1): {} } }, as Python writes it.
  expect(failureOf(Uint8Array.of(0x2a, 0x02, 0x0a, 0x00))).toEqual({ code: 'UNIMPLEMENTED', message: expect.stringContaining('session_run_log records cannot be replayed') as unknown });
});

test('a record with no logged request is INVALID_ARGUMENT; malformed bytes throw', () => {
  expect(failureOf(new Uint8Array(0))).toEqual({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('no logged request') as unknown });
  // predict_log (field 6) announcing 5 bytes, holding 1.
  expect(() => readPredictionLog(Uint8Array.of(0x32, 0x05, 0x01))).toThrow(/truncated/);
});

function failureOf(bytes: Uint8Array): { code: string; message: string } {
  try {
    readPredictionLog(bytes);
  } catch (error) {
    return { code: (error as { code: string }).code, message: (error as Error).message };
  }
  throw new Error('the record was read');
}
