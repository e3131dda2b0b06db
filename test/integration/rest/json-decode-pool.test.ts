/**
 * The JSON threads (json-decode-pool.ts) on real worker threads: what comes back equals what the
 * codec gives on this thread, decoded bodies and written responses, errors included, and bodies
 * move without a copy when they can.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ServingError } from '../../../src/shared/errors.js';
import type { SignatureMap } from '../../../src/server/core/signature.js';
import type { HostTensor } from '../../../src/server/core/host-tensor.js';
import { decodePredictJson, encodePredictJson, parseJsonBody } from '../../../src/server/servables/tensorflow/codecs/json-tensor.js';
import { encodeInferResponse } from '../../../src/server/servables/tensorflow/codecs/open-inference-json.js';
import { JsonDecodePool } from '../../../src/server/transports/rest/json-decode-pool.js';

const PREDICT = 'tensorflow/serving/predict';
const SIGNATURES: SignatureMap = {
  serving_default: { methodName: PREDICT, inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 4] } }, outputs: { y: { name: 'y:0', dtype: 'DT_FLOAT', shape: [-1, 1] } } },
  ids: {
    methodName: PREDICT,
    inputs: { id: { name: 'id:0', dtype: 'DT_INT64', shape: [-1] }, name: { name: 'name:0', dtype: 'DT_STRING', shape: [-1] } },
    outputs: {},
  },
};
const LIMITS = { maxElements: 1_000_000 };

const pool = new JsonDecodePool(2);
afterAll(() => pool.close());

/** The same body decoded on this thread, or the error it gives here. */
function onThisThread(text: string, signature = 'serving_default'): unknown {
  try {
    return decodePredictJson(parseJsonBody(text), SIGNATURES[signature]!.inputs, LIMITS).inputs;
  } catch (error) {
    return { code: (error as ServingError).code, message: (error as Error).message };
  }
}

/** A copy in memory of its own, as Node's HTTP parser delivers each piece of a body. */
function ownMemory(bytes: Uint8Array): Buffer {
  const memory = new ArrayBuffer(bytes.length);
  new Uint8Array(memory).set(bytes);
  return Buffer.from(memory);
}

describe('JsonDecodePool', () => {
  it('decodes a body into the tensors this thread would make, and moves the body when it owns its memory', async () => {
    const text = JSON.stringify({ instances: Array.from({ length: 5000 }, (_, i) => [i, -i, i / 3, 1e-3 * i]) });
    const body = Buffer.from(text);
    const result = await pool.decode(body, SIGNATURES, LIMITS);
    expect(result.signatureName).toBeUndefined();
    expect(result.decoded?.format).toBe('row');
    expect(result.decoded?.inputs).toEqual(onThisThread(text));
    expect(body.buffer.byteLength).toBe(0); // moved to the thread
  });

  it('decodes a body that shares its memory (copied on the way, left intact here), for a named signature', async () => {
    // 2^53 + 1 takes the exact parser; the thread must keep every digit as this one does.
    const text = '{"signature_name": "ids", "inputs": {"id": [9007199254740993, 2], "name": ["a", "b"]}}';
    const shared = Buffer.from(`xx${text}yy`);
    const body = shared.subarray(2, 2 + text.length);
    const result = await pool.decode(body, SIGNATURES, LIMITS);
    expect(result.signatureName).toBe('ids');
    expect(result.decoded?.inputs).toEqual(onThisThread(text, 'ids'));
    expect(shared.toString()).toBe(`xx${text}yy`);
  });

  it('joins a body given as chunks in the thread: the same tensors, each chunk that owns its memory moved, the others copied', async () => {
    const text = JSON.stringify({ instances: Array.from({ length: 5000 }, (_, i) => [i, -i, i / 3, 1e-3 * i]) });
    const whole = Buffer.from(text);
    // Cut mid-number and mid-key; the last piece is a view into shared memory, as a pooled buffer would be.
    const cuts = [0, 7, 13, 65_536, 100_001, whole.length - 10, whole.length];
    const chunks = cuts.slice(1).map((end, i) => ownMemory(whole.subarray(cuts[i], end)));
    const shared = Buffer.from(`xx${text.slice(-10)}`);
    chunks[chunks.length - 1] = shared.subarray(2);
    const result = await pool.decode(chunks, SIGNATURES, LIMITS);
    expect(result.decoded?.inputs).toEqual(onThisThread(text));
    expect(chunks.slice(0, -1).map((chunk) => chunk.buffer.byteLength)).toEqual(chunks.slice(0, -1).map(() => 0)); // moved
    expect(shared.toString()).toBe(`xx${text.slice(-10)}`);
  });

  it('joins an Open Inference Protocol body given as chunks, errors included', async () => {
    const text = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 4], data: [1, 2, 3, 4, 5, 6, 7, 8] }] });
    const cut = (body: string): Buffer[] => [Buffer.from(body.slice(0, 20)), Buffer.from(body.slice(20))];
    const whole = await pool.decodeOpenInference(Buffer.from(text), text.length, SIGNATURES, LIMITS);
    expect(await pool.decodeOpenInference(cut(text), text.length, SIGNATURES, LIMITS)).toEqual(whole);
    const broken = text.slice(0, -3);
    const expected = await pool.decodeOpenInference(Buffer.from(broken), broken.length, SIGNATURES, LIMITS).catch((e: unknown) => e);
    expect(expected).toBeInstanceOf(ServingError);
    expect(await pool.decodeOpenInference(cut(broken), broken.length, SIGNATURES, LIMITS).catch((e: unknown) => e)).toEqual(expected);
  });

  it('leaves an unknown signature to the caller: its name, no inputs', async () => {
    expect(await pool.decode(Buffer.from('{"signature_name": "nope", "instances": []}'), SIGNATURES, LIMITS)).toEqual({ signatureName: 'nope' });
  });

  it.each([
    ['malformed JSON', '{"instances": [[1, 2, 3, 4]'],
    ['not an object', '[1, 2]'],
    ['wrong dtype', '{"instances": [["a", "b", "c", "d"]]}'],
    ['ragged instances', '{"instances": [[1, 2, 3, 4], [1, 2]]}'],
    ['an input the signature lacks', '{"inputs": {"y": [1]}}'],
    ['too many elements', JSON.stringify({ inputs: { x: Array.from({ length: 300_000 }, () => [1, 2, 3, 4]) } })],
  ])('%s: the ServingError this thread would throw', async (_name, text) => {
    const expected = onThisThread(text) as { code?: string };
    expect(expected.code).toBe('INVALID_ARGUMENT');
    const error = await pool.decode(Buffer.from(text), SIGNATURES, LIMITS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServingError);
    expect({ code: (error as ServingError).code, message: (error as Error).message }).toEqual(expected);
  });

  const floats = (values: number[], shape: number[]): HostTensor => ({ dtype: 'DT_FLOAT', shape, bytes: new Uint8Array(Float32Array.from(values).buffer) });
  const OUTPUTS: Record<string, HostTensor> = {
    scores: floats(Array.from({ length: 6000 }, (_, i) => Math.fround(i / 7 - 100)), [3000, 2]),
    ids: { dtype: 'DT_INT64', shape: [3000], bytes: new Uint8Array(BigInt64Array.from({ length: 3000 }, (_, i) => 2n ** 60n + BigInt(i)).buffer) },
    names_bytes: { dtype: 'DT_STRING', shape: [3000], strings: Array.from({ length: 3000 }, (_, i) => Uint8Array.from([i % 256, 0xff])) },
  };

  it.each(['row', 'columnar'] as const)('writes a %s response as this thread would, leaving the outputs intact', async (format) => {
    const before = JSON.stringify(OUTPUTS, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v));
    const written = await pool.encodePredict(OUTPUTS, format);
    expect(written.toString('utf8')).toBe(encodePredictJson(OUTPUTS, format));
    expect(JSON.stringify(OUTPUTS, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v))).toBe(before);
  });

  it('writes an Open Inference Protocol response as this thread would, JSON and binary outputs', async () => {
    const asks = { id: 'req-1', binaryOutputs: new Set(['ids']) };
    const here = encodeInferResponse('m', 3, OUTPUTS, asks);
    const there = await pool.encodeInfer({ model: 'm', version: 3, outputs: OUTPUTS, asks });
    expect(there.json.toString('utf8')).toBe(here.json);
    expect(there.binary.map((part) => Buffer.from(part).toString('hex'))).toEqual(here.binary.map((part) => Buffer.from(part).toString('hex')));
  });

  it('gives the error this thread would for outputs that cannot be written in row form', async () => {
    const outputs = { a: floats([1, 2], [2]), b: floats([1, 2, 3], [3]) };
    const expected = (() => {
      try {
        encodePredictJson(outputs, 'row');
      } catch (error) {
        return { code: (error as ServingError).code, message: (error as Error).message };
      }
      throw new Error('row form with two batch sizes was written');
    })();
    const error = await pool.encodePredict(outputs, 'row').catch((e: unknown) => e);
    expect({ code: (error as ServingError).code, message: (error as Error).message }).toEqual(expected);
  });

  it('refuses work once closed', async () => {
    const closed = new JsonDecodePool(1);
    await closed.close();
    await expect(closed.decode(Buffer.from('{}'), SIGNATURES, LIMITS)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
