/**
 * Fuzzes the hand-written PredictRequest reader with damaged fixture requests and random bytes.
 * It must never fail with anything but a WireError (grpc-js answers INTERNAL for it), and where
 * protobufjs, the reference decoder, also accepts the bytes, both must mean the same. Where only
 * one accepts, the difference is protobufjs's: it reads a known field number whatever its wire
 * type, where protobuf's rule (and our reader) skips the field as unknown; and we refuse groups.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { readPredictRequest, WireError } from '../../../../../../src/server/servables/tensorflow/codecs/predict-request-wire.js';
import { fuzzParameters, hostileBytes } from '../../../../../helpers/fuzz.js';
import { fixturePredictRequests, predictRequestMeaning, viaProtobufjs } from '../../../../../helpers/server/predict-request-meaning.js';

function decodeEither<T>(decode: () => T): T | undefined {
  try {
    return decode();
  } catch {
    return undefined;
  }
}

describe('readPredictRequest under hostile bytes', () => {
  const valid = fixturePredictRequests();

  test('fails only with WireError, and reads what protobufjs also accepts the same way', () => {
    let bothAccepted = 0;
    let runs = 0;
    fc.assert(
      fc.property(hostileBytes(valid), (bytes) => {
        runs++;
        let ours;
        try {
          ours = readPredictRequest(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(WireError);
          return;
        }
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
