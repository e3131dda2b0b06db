import { describe, expect, it } from 'vitest';
import { ServingError } from '../../../../../../src/shared/errors.js';
import {
  encodeExample,
  parseClassifyRegressJson,
  serializeInputExamples,
} from '../../../../../../src/server/servables/tensorflow/codecs/tf-example.js';
import { protoType } from '../../../../../../src/server/servables/tensorflow/proto-root.js';

/** Decodes serialized tf.Example bytes independently of our encoder (protobufjs). */
function features(bytes: Uint8Array): Record<string, unknown> {
  const type = protoType('tensorflow.Example');
  const example = type.toObject(type.decode(bytes), { longs: String, bytes: String }) as {
    features?: { feature?: Record<string, unknown> };
  };
  return example.features?.feature ?? {};
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('classify/regress JSON to tf.Example', () => {
  it('maps JSON value kinds to feature kinds as TF Serving does', () => {
    const { signatureName, input } = parseClassifyRegressJson(
      '{"signature_name": "classify", "examples": [{"age": 25, "hours": 40.0, "ratio": [0.5, 1e2], "name": "ann", ' +
        '"tags": ["a", {"b64": "' + b64('\u0001b') + '"}], "ok": true, "big": 9223372036854775807, "none": []}]}',
    );
    expect(signatureName).toBe('classify');
    const [bytes] = serializeInputExamples(input);
    expect(features(bytes as Uint8Array)).toEqual({
      age: { int64_list: { value: ['25'] } },
      hours: { float_list: { value: [40] } },
      ratio: { float_list: { value: [0.5, 100] } },
      name: { bytes_list: { value: [b64('ann')] } },
      tags: { bytes_list: { value: [b64('a'), b64('\u0001b')] } },
      ok: { int64_list: { value: ['1'] } },
      big: { int64_list: { value: ['9223372036854775807'] } },
      none: {},
    });
  });

  it('serializes one example per entry, each prefixed by the context (protobuf merge)', () => {
    const { input } = parseClassifyRegressJson('{"context": {"q": "pizza", "k": 1}, "examples": [{"c": "a"}, {"c": "b", "k": 2}]}');
    const context = encodeExample({ features: { feature: { q: { bytes_list: { value: [Buffer.from('pizza')] } }, k: { int64_list: { value: ['1'] } } } } });
    const serialized = serializeInputExamples(input);
    expect(serialized).toHaveLength(2);
    for (const [i, bytes] of serialized.entries()) {
      expect(Buffer.from(bytes.subarray(0, context.length)).equals(Buffer.from(context))).toBe(true);
      const own = features(bytes.subarray(context.length));
      expect(own['c']).toEqual({ bytes_list: { value: [b64(i === 0 ? 'a' : 'b')] } });
    }
    expect(features((serialized[1] as Uint8Array).subarray(context.length))['k']).toEqual({ int64_list: { value: ['2'] } });
  });

  it('serializes Input objects as the gRPC transport decodes them', () => {
    const serialized = serializeInputExamples({
      example_list: { examples: [{ features: { feature: { x: { float_list: { value: [1.5] } }, n: { int64_list: { value: ['-3'] } } } } }] },
    });
    expect(features(serialized[0] as Uint8Array)).toEqual({ x: { float_list: { value: [1.5] } }, n: { int64_list: { value: ['-3'] } } });
  });

  it.each<[string, string, RegExp]>([
    ['no examples key', '{"signature_name": "s"}', /missing 'examples'/],
    ['examples not a list', '{"examples": {}}', /must be a list/],
    ['empty examples', '{"examples": []}', /empty list/],
    ['an example that is not an object', '{"examples": [[1]]}', /examples\[0\] must be a JSON object/],
    ['mixed kinds', '{"examples": [{"x": [1, 2.5]}]}', /mixes int64 and float/],
    ['null value', '{"examples": [{"x": null}]}', /unexpected JSON type \(null\)/],
    ['nested list', '{"examples": [{"x": [[1]]}]}', /nested list/],
    ['beyond int64', '{"examples": [{"x": 9223372036854775808}]}', /does not fit an int64/],
    ['context not an object', '{"context": 3, "examples": [{}]}', /context must be a JSON object/],
  ])('refuses %s', (_name, text, message) => {
    let error: unknown;
    try {
      serializeInputExamples(parseClassifyRegressJson(text).input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ServingError);
    expect((error as ServingError).code).toBe('INVALID_ARGUMENT');
    expect((error as ServingError).message).toMatch(message);
  });

  it('refuses an Input without examples', () => {
    expect(() => serializeInputExamples({})).toThrow(/no examples/);
  });
});
