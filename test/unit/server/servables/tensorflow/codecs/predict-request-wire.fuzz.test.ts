/**
 * Fuzzes the hand-written PredictRequest reader with fixture requests damaged as bytes and field by
 * field, and random bytes.
 * It must never fail with anything but a WireError (grpc-js answers INTERNAL for it), each input
 * it reads must become a well-formed tensor or a ServingError, and where
 * protobufjs, the reference decoder, also accepts the bytes, both must mean the same. Where only
 * one accepts, the difference is protobufjs's: it reads a known field number whatever its wire
 * type, where protobuf's rule (and our reader) skips the field as unknown; and we refuse groups.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { readPredictRequest, WireError } from '../../../../../../src/server/servables/tensorflow/codecs/predict-request-wire.js';
import { decodeTensorProto, type TensorProtoObject } from '../../../../../../src/server/servables/tensorflow/codecs/tensor-proto.js';
import { ServingError } from '../../../../../../src/shared/errors.js';
import { expectWellFormedTensors, fuzzParameters, hostileBytes } from '../../../../../helpers/fuzz.js';
import { damagedMessages } from '../../../../../helpers/fuzz-messages.js';
import { fixturePredictRequests, predictRequestMeaning, viaProtobufjs } from '../../../../../helpers/server/predict-request-meaning.js';

function decodeEither<T>(decode: () => T): T | undefined {
  try {
    return decode();
  } catch {
    return undefined;
  }
}

/** What the handlers do next: each input becomes a well-formed tensor or a ServingError. */
function expectTensorsDecodeOrRefuse(inputs: Record<string, TensorProtoObject>): void {
  for (const proto of Object.values(inputs)) {
    try {
      expectWellFormedTensors({ tensor: decodeTensorProto(proto, { maxElements: 100_000 }) });
    } catch (error) {
      if (!(error instanceof ServingError)) throw error;
    }
  }
}

describe('readPredictRequest under hostile bytes', () => {
  const valid = fixturePredictRequests();

  test('fails only with WireError, and reads what protobufjs also accepts the same way', () => {
    let bothAccepted = 0;
    let runs = 0;
    fc.assert(
      fc.property(fc.oneof(hostileBytes(valid), damagedMessages('tensorflow.serving.PredictRequest', valid)), (bytes) => {
        runs++;
        let ours;
        try {
          ours = readPredictRequest(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(WireError);
          return;
        }
        expectTensorsDecodeOrRefuse(ours.inputs);
        const theirs = decodeEither(() => viaProtobufjs(bytes));
        if (theirs === undefined) return;
        bothAccepted++;
        expect(predictRequestMeaning(ours)).toEqual(predictRequestMeaning(theirs));
      }),
      fuzzParameters(5000),
    );
    // Damage often leaves a message both decoders accept; if not, this test would compare nothing.
    expect(bothAccepted).toBeGreaterThan(runs / 25);
  });
});
