/**
 * JSON written as bytes (json-bytes.ts, and the predict responses written with it) against text
 * references: float32 values against the reference float32 writer for any bit pattern, integers
 * against String, and whole responses against a reference that builds each element's text and nests
 * the lists as TF Serving's JSON does.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { DType, HostTensor } from '../../../../../../src/server/core/host-tensor.js';
import { float32TextReference } from '../../../../../../src/server/servables/tensorflow/codecs/float32-text.js';
import { JsonBytes } from '../../../../../../src/server/servables/tensorflow/codecs/json-bytes.js';
import { encodePredictJson, formatNumber, fromBfloat16Bits, fromHalfBits } from '../../../../../../src/server/servables/tensorflow/codecs/json-tensor.js';
import { datatypeOf, encodeInferResponse } from '../../../../../../src/server/servables/tensorflow/codecs/open-inference-json.js';
import { fuzzParameters } from '../../../../../helpers/fuzz.js';

const utf8 = new TextDecoder();
const fromBits = (bits: number): number => new Float32Array(Uint32Array.of(bits).buffer)[0]!;
const written = (write: (out: JsonBytes) => void, initialBytes?: number): string => {
  const out = new JsonBytes(initialBytes);
  write(out);
  return utf8.decode(out.bytes());
};

describe('JsonBytes', () => {
  test('a float32 as the reference writes it (any bit pattern), also when the buffer must grow', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 1, max: 40 }), (bits, initialBytes) => {
        const value = fromBits(bits);
        expect(written((out) => out.float32(value), initialBytes)).toBe(float32TextReference(value));
      }),
      fuzzParameters(20_000),
    );
  });

  test('a float32 where the digit path applies, [1e-4, 1e6), and integers', () => {
    fc.assert(
      fc.property(fc.double({ min: -4, max: 7, noNaN: true }), fc.boolean(), fc.boolean(), (exponent, negative, integral) => {
        const magnitude = 10 ** exponent;
        const value = Math.fround((negative ? -1 : 1) * (integral ? Math.round(magnitude) : magnitude));
        expect(written((out) => out.float32(value))).toBe(float32TextReference(value));
      }),
      fuzzParameters(20_000),
    );
    for (const value of [0, -0, 1, -1, 1e-4, 0.1, 0.5, 1.5, 999999.5, 2 ** 24, 2 ** 53, 2 ** 60, 3.4028234663852886e38, NaN, Infinity, -Infinity]) {
      expect(written((out) => out.float32(Math.fround(value)))).toBe(float32TextReference(Math.fround(value)));
    }
  });

  test('reset starts over in the same buffer, as the event loop reuses one writer', () => {
    const out = new JsonBytes(4);
    out.ascii('{"predictions":[1,2,3]}');
    out.reset().ascii('[]');
    expect(utf8.decode(out.bytes())).toBe('[]');
  });

  test('integers as String writes them, exact or not', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.double({ noNaN: true }).map(Math.trunc)), (value) => {
        expect(written((out) => out.integer(value))).toBe(String(value));
      }),
      fuzzParameters(20_000),
    );
  });

  test('text as UTF-8, ASCII as is, in any order and past the first buffer', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ unit: 'grapheme' }).map((s) => ({ text: s })), fc.string({ unit: 'grapheme-ascii' }).map((s) => ({ ascii: s })))), (parts) => {
        const text = written((out) => parts.forEach((part) => ('text' in part ? out.text(part.text) : out.ascii(part.ascii))), 1);
        expect(text).toBe(parts.map((part) => ('text' in part ? part.text : part.ascii)).join(''));
      }),
      fuzzParameters(2_000),
    );
  });
});

/** The text of each element, as TF Serving writes it, by a route independent of the byte writer. */
function elementTexts(name: string, tensor: HostTensor): string[] {
  if (tensor.dtype === 'DT_STRING') {
    return tensor.strings.map((s) => (name.endsWith('_bytes') ? `{"b64":"${Buffer.from(s).toString('base64')}"}` : JSON.stringify(utf8.decode(s))));
  }
  const view = new DataView(tensor.bytes.buffer, tensor.bytes.byteOffset, tensor.bytes.byteLength);
  const count = tensor.shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: count }, (_, i) => {
    switch (tensor.dtype) {
      case 'DT_FLOAT': return float32TextReference(view.getFloat32(i * 4, true));
      case 'DT_DOUBLE': return formatNumber(view.getFloat64(i * 8, true));
      case 'DT_HALF': return formatNumber(fromHalfBits(view.getUint16(i * 2, true)));
      case 'DT_BFLOAT16': return formatNumber(fromBfloat16Bits(view.getUint16(i * 2, true)));
      case 'DT_INT64': return String(view.getBigInt64(i * 8, true));
      case 'DT_UINT64': return String(view.getBigUint64(i * 8, true));
      case 'DT_BOOL': return String(view.getUint8(i) !== 0);
      case 'DT_INT32': return String(view.getInt32(i * 4, true));
      case 'DT_UINT32': return String(view.getUint32(i * 4, true));
      case 'DT_INT16': return String(view.getInt16(i * 2, true));
      case 'DT_UINT16': return String(view.getUint16(i * 2, true));
      case 'DT_INT8': return String(view.getInt8(i));
      case 'DT_UINT8': return String(view.getUint8(i));
      default: throw new Error(`no reference for ${String((tensor as HostTensor).dtype)}`);
    }
  });
}

/** Texts nested into lists along `shape`. */
function nested(texts: string[], shape: readonly number[]): string {
  if (shape.length === 0) return texts[0]!;
  const [size, ...inner] = shape as [number, ...number[]];
  const per = inner.reduce((a, b) => a * b, 1);
  return `[${Array.from({ length: size }, (_, i) => nested(texts.slice(i * per, (i + 1) * per), inner)).join(',')}]`;
}

function referenceResponse(outputs: Record<string, HostTensor>, format: 'row' | 'columnar'): string {
  const names = Object.keys(outputs);
  const texts = Object.fromEntries(names.map((name) => [name, elementTexts(name, outputs[name]!)]));
  if (format === 'columnar') {
    if (names.length === 1) return `{"outputs":${nested(texts[names[0]!]!, outputs[names[0]!]!.shape)}}`;
    return `{"outputs":{${names.map((name) => `${JSON.stringify(name)}:${nested(texts[name]!, outputs[name]!.shape)}`).join(',')}}}`;
  }
  const batch = outputs[names[0]!]!.shape[0]!;
  const rows = Array.from({ length: batch }, (_, row) => {
    const rowOf = (name: string): string => {
      const [, ...inner] = outputs[name]!.shape;
      const per = inner.reduce((a, b) => a * b, 1);
      return nested(texts[name]!.slice(row * per, (row + 1) * per), inner);
    };
    return names.length === 1 ? rowOf(names[0]!) : `{${names.map((name) => `${JSON.stringify(name)}:${rowOf(name)}`).join(',')}}`;
  });
  return `{"predictions":[${rows.join(',')}]}`;
}

const NUMERIC: Record<string, number> = {
  DT_FLOAT: 4, DT_DOUBLE: 8, DT_HALF: 2, DT_BFLOAT16: 2, DT_INT64: 8, DT_UINT64: 8, DT_BOOL: 1,
  DT_INT32: 4, DT_UINT32: 4, DT_INT16: 2, DT_UINT16: 2, DT_INT8: 1, DT_UINT8: 1,
};

/** Tensors of every dtype, random bytes (so every bit pattern), sharing a batch size. */
const outputsArbitrary = fc.integer({ min: 1, max: 3 }).chain((batch) =>
  fc.dictionary(
    fc.oneof(fc.string({ minLength: 1, maxLength: 6 }), fc.constantFrom('a_bytes', 'é', 'x"y')),
    fc.tuple(fc.constantFrom(...Object.keys(NUMERIC), 'DT_STRING'), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 })).chain(([dtype, inner]) => {
      const shape = [batch, ...inner];
      const count = shape.reduce((a, b) => a * b, 1);
      if (dtype === 'DT_STRING') {
        return fc.array(fc.uint8Array({ maxLength: 5 }), { minLength: count, maxLength: count }).map((strings): HostTensor => ({ dtype: 'DT_STRING', shape, strings }));
      }
      const bytes = NUMERIC[dtype]! * count;
      return fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((data): HostTensor => ({ dtype: dtype as Exclude<DType, 'DT_STRING'>, shape, bytes: data }));
    }),
    { minKeys: 1, maxKeys: 3 },
  ),
);

describe('encodePredictJson (written as bytes)', () => {
  test('equals the reference for tensors of every dtype and shape, in row and columnar form', () => {
    fc.assert(
      fc.property(outputsArbitrary, fc.constantFrom('row' as const, 'columnar' as const), (outputs, format) => {
        // Strings that are not UTF-8 are written with replacement characters by both.
        expect(encodePredictJson(outputs, format)).toBe(referenceResponse(outputs, format));
      }),
      fuzzParameters(2_000),
    );
  });
});

describe('encodeInferResponse (written as bytes)', () => {
  test('equals the reference: each output with its data as one flat list', () => {
    fc.assert(
      fc.property(outputsArbitrary, fc.option(fc.string()), (outputs, id) => {
        const utf8Only = Object.values(outputs).every((t) => t.dtype !== 'DT_STRING' || t.strings.every((s) => Buffer.from(utf8.decode(s)).equals(s)));
        fc.pre(utf8Only);
        const tensors = Object.entries(outputs).map(
          ([name, t]) => `{"name":${JSON.stringify(name)},"datatype":"${datatypeOf(t.dtype)}","shape":[${t.shape.join(',')}],"data":[${elementTexts('', t).join(',')}]}`,
        );
        const idPart = id === null ? '' : `"id":${JSON.stringify(id)},`;
        expect(encodeInferResponse('m', 3, outputs, id === null ? {} : { id }).json).toBe(`{"model_name":"m","model_version":"3",${idPart}"outputs":[${tensors.join(',')}]}`);
      }),
      fuzzParameters(2_000),
    );
  });
});
