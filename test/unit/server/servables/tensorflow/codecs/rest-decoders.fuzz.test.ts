/**
 * Fuzzes the REST request decoders (TF Serving's predict in row and columnar form, the Open
 * Inference Protocol's infer, TF Serving's classify/regress examples) with the fixtures' valid
 * bodies damaged at the JSON level: any node replaced by another value. Each decoder must refuse
 * only with a ServingError (a 4xx answer naming the problem), and every tensor it accepts must be
 * well formed (its bytes or strings match its shape), since TensorFlow trusts what it is given.
 */
import fc from 'fast-check';
import { beforeEach, describe, expect, test } from 'vitest';
import type { TensorInfo } from '../../../../../../src/server/core/signature.js';
import { decodePredictJson, parseJsonBody } from '../../../../../../src/server/servables/tensorflow/codecs/json-tensor.js';
import { decodeInferInputs, parseInferRequest } from '../../../../../../src/server/servables/tensorflow/codecs/open-inference-json.js';
import { parseClassifyRegressJson, serializeInputExamples } from '../../../../../../src/server/servables/tensorflow/codecs/tf-example.js';
import { ServingError } from '../../../../../../src/shared/errors.js';
import { expectWellFormedTensors, fuzzParameters } from '../../../../../helpers/fuzz.js';
import { damagedBody } from '../../../../../helpers/fuzz-json.js';
import { examplesJson } from '../../../../../helpers/server/fixture-examples.js';
import { columnarBody, inferJsonBody, rowBody } from '../../../../../helpers/server/fixture-json.js';
import { eachFixtureCase } from '../../../../../helpers/server/fixture-tensors.js';

const limits = { maxElements: 100_000 };

interface Case {
  readonly body: string;
  readonly inputs: Record<string, TensorInfo>;
}

function fixtureCases(): { predict: Case[]; infer: Case[]; examples: string[] } {
  const predict: Case[] = [];
  const infer: Case[] = [];
  const examples: string[] = [];
  for (const { signature, spec, testCase: c } of eachFixtureCase()) {
    const inputs = Object.fromEntries(Object.entries(spec.input_specs).map(([n, s]) => [n, { name: `${n}:0`, dtype: s.dtype, shape: s.shape ?? undefined } as TensorInfo]));
    if (c.examples !== undefined) examples.push(examplesJson(signature, c));
    if (Object.keys(c.inputs).length === 0) continue;
    predict.push({ body: columnarBody(c.inputs, signature), inputs });
    predict.push({ body: rowBody(c.inputs, signature), inputs });
    infer.push({ body: inferJsonBody(c.inputs, signature), inputs });
  }
  return { predict, infer, examples };
}



/** Runs a decoder: it may return or refuse with a ServingError, nothing else. */
function decodeOrRefuse<T>(decode: () => T): T | undefined {
  try {
    return decode();
  } catch (error) {
    if (!(error instanceof ServingError)) throw error;
    expect(['INVALID_ARGUMENT', 'RESOURCE_EXHAUSTED']).toContain(error.code);
    expect(error.message.length).toBeGreaterThan(0);
    return undefined;
  }
}

describe('REST request decoders under damaged bodies', () => {
  const cases = fixtureCases();
  const outcomes = { accepted: 0, refused: 0 };
  const tally = <T>(decoded: T | undefined): T | undefined => {
    outcomes[decoded === undefined ? 'refused' : 'accepted']++;
    return decoded;
  };
  // Damage must leave both outcomes common, or the property would test only one path.
  const expectBothOutcomes = (): void => {
    const runs = outcomes.accepted + outcomes.refused;
    expect(outcomes.accepted, JSON.stringify(outcomes)).toBeGreaterThan(runs / 40);
    expect(outcomes.refused, JSON.stringify(outcomes)).toBeGreaterThan(runs / 20);
  };
  beforeEach(() => {
    outcomes.accepted = 0;
    outcomes.refused = 0;
  });

  test('TF Serving predict (row and columnar)', () => {
    fc.assert(
      fc.property(damagedBody(cases.predict), (c) => {
        const decoded = tally(decodeOrRefuse(() => decodePredictJson(parseJsonBody(c.text), c.inputs, limits)));
        if (decoded !== undefined) expectWellFormedTensors(decoded.inputs);
      }),
      fuzzParameters(1000),
    );
    expectBothOutcomes();
  });

  test('Open Inference Protocol infer', () => {
    fc.assert(
      fc.property(damagedBody(cases.infer), (c) => {
        const tensors = tally(decodeOrRefuse(() => decodeInferInputs(parseInferRequest(parseJsonBody(c.text)), c.inputs, limits)));
        if (tensors !== undefined) expectWellFormedTensors(tensors);
      }),
      fuzzParameters(1000),
    );
    expectBothOutcomes();
  });

  test('TF Serving classify/regress examples', () => {
    fc.assert(
      fc.property(damagedBody(cases.examples.map((body) => ({ body }))), (c) => {
        const parsed = tally(decodeOrRefuse(() => parseClassifyRegressJson(c.text)));
        if (parsed !== undefined) expect(() => serializeInputExamples(parsed.input)).not.toThrow();
      }),
      fuzzParameters(1000),
    );
    expectBothOutcomes();
  });
});
