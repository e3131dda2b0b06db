import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWholeMessageBuffer, noteRequestMessage } from '../../../../../src/server/core/message-buffers.js';
import { GrpcMessageDecoder, MESSAGE_PREFIX_BYTES } from '../../../../../src/server/transports/grpc/message-decoder.js';
import { fuzzParameters } from '../../../../helpers/fuzz.js';

interface Decoder {
  write(data: Buffer): Buffer[];
}
/** grpc-js's own decoder: what ours must produce, chunk by chunk. */
const { StreamDecoder } = createRequire(import.meta.url)('@grpc/grpc-js/build/src/stream-decoder.js') as { StreamDecoder: new (max: number) => Decoder };

const LIMIT = 4 * 1024 * 1024;

function framed(length: number, seed: number, compressed = false): Buffer {
  const out = Buffer.alloc(MESSAGE_PREFIX_BYTES + length);
  out[0] = compressed ? 1 : 0;
  out.writeUInt32BE(length, 1);
  for (let i = 0; i < length; i++) out[MESSAGE_PREFIX_BYTES + i] = (i * 31 + seed) % 256;
  return out;
}

/** A small deterministic generator, so that a failure names a reproducible seed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** Cuts `stream` into chunks of random sizes up to `maxChunk`, as HTTP/2 DATA frames and reads do. */
function chunks(stream: Buffer, maxChunk: number, next: () => number): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 0; offset < stream.length; ) {
    const size = 1 + Math.floor(next() * maxChunk);
    out.push(stream.subarray(offset, offset + size));
    offset += size;
  }
  return out;
}

function decodeAll(decoder: Decoder, parts: readonly Buffer[]): Buffer[][] {
  return parts.map((part) => decoder.write(part));
}

describe('GrpcMessageDecoder', () => {
  const streamOf = (lengths: number[]): Buffer => Buffer.concat(lengths.map((length, i) => framed(length, i, i % 3 === 1)));
  const streams = {
    small: streamOf([0, 1, 4, 5, 100, 3000, 0, 70]),
    large: streamOf([0, 1, 100, 16_384, 70_000, 300_000, 0, 602_117]),
  };

  it.each([
    ['small', 1, 7],
    ['small', 2, 19],
    ['small', 9, 23],
    ['large', 16_384, 3],
    ['large', 65_536, 11],
    ['large', 700_000, 5],
  ] as const)('yields what grpc-js yields, after the same chunks (%s messages, chunks of up to %i bytes, seed %i)', (name, maxChunk, seed) => {
    const stream = streams[name];
    const parts = chunks(stream, maxChunk, random(seed));
    const ours = decodeAll(new GrpcMessageDecoder(LIMIT), parts);
    const theirs = decodeAll(new StreamDecoder(LIMIT), parts);
    expect(ours.map((messages) => messages.length)).toEqual(theirs.map((messages) => messages.length));
    expect(Buffer.concat(ours.flat()).equals(stream)).toBe(true);
    ours.flat().forEach((message, i) => expect(message.equals(theirs.flat()[i]!)).toBe(true));
  });

  it('yields several messages from one chunk, and none from a chunk that ends inside a prefix', () => {
    const decoder = new GrpcMessageDecoder(LIMIT);
    const two = Buffer.concat([framed(3, 1), framed(4, 2), framed(5, 3).subarray(0, 2)]);
    expect(decoder.write(two).map((m) => m.length)).toEqual([8, 9]);
    expect(decoder.write(framed(5, 3).subarray(2, 4))).toEqual([]);
    expect(decoder.write(framed(5, 3).subarray(4))).toEqual([framed(5, 3)]);
  });

  it('copies each chunk as it arrives: reusing a chunk afterwards does not change the message', () => {
    const message = framed(200_000, 9);
    const decoder = new GrpcMessageDecoder(LIMIT);
    const first = Buffer.from(message.subarray(0, 100_000));
    expect(decoder.write(first)).toEqual([]);
    first.fill(0xee); // what a socket read buffer may hold next
    const [decoded, ...rest] = decoder.write(Buffer.from(message.subarray(100_000)));
    expect(rest).toEqual([]);
    expect(decoded!.equals(message)).toBe(true);
  });

  it('hands over a large message in a buffer of its own, which can move to the inference thread', () => {
    const [message] = new GrpcMessageDecoder(LIMIT).write(framed(Buffer.poolSize + 50_000, 4));
    expect(message!.byteOffset).toBe(0);
    expect(message!.buffer.byteLength).toBe(message!.length);
    noteRequestMessage(message!.subarray(MESSAGE_PREFIX_BYTES));
    expect(isWholeMessageBuffer(message!.buffer)).toBe(true);
  });

  it('refuses a message over the limit with the error grpc-js gives, before reading it', () => {
    const prefix = framed(LIMIT + 1, 0).subarray(0, MESSAGE_PREFIX_BYTES);
    const expected = `Received message larger than max (${LIMIT + 1} vs ${LIMIT})`;
    expect(() => new StreamDecoder(LIMIT).write(prefix)).toThrow(expected);
    expect(() => new GrpcMessageDecoder(LIMIT).write(prefix)).toThrow(expected);
    expect(new GrpcMessageDecoder(-1).write(Buffer.concat([prefix, Buffer.alloc(10)]))).toEqual([]);
  });

  it('agrees with grpc-js on any stream, cut anywhere: the same messages after each chunk, or the same error', () => {
    const limit = 4096;
    /** Each chunk's messages (hex) or the error it raised; nothing is written after an error. */
    const outcomes = (decoder: Decoder, parts: readonly Buffer[]): (string[] | string)[] => {
      const out: (string[] | string)[] = [];
      for (const part of parts) {
        try {
          out.push(decoder.write(part).map((m) => m.toString('hex')));
        } catch (error) {
          out.push(`error: ${(error as Error).message}`);
          break;
        }
      }
      return out;
    };
    const whole = fc.tuple(fc.integer({ min: 0, max: 300 }), fc.nat(), fc.boolean()).map(([length, seed, compressed]) => framed(length, seed, compressed));
    // A prefix declaring the limit or more, and a few bytes: over the limit, both must refuse it at once.
    const announced = fc.constantFrom(limit, limit + 1, 2 ** 32 - 1).map((length) => {
      const head = Buffer.from([0, 0, 0, 0, 0, 1, 2]);
      head.writeUInt32BE(length, 1);
      return head;
    });
    fc.assert(
      fc.property(fc.array(fc.oneof({ weight: 5, arbitrary: whole }, { weight: 1, arbitrary: announced }), { maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 20 }), (messages, cuts) => {
        const stream = Buffer.concat(messages);
        const parts: Buffer[] = [];
        let offset = 0;
        for (let i = 0; offset < stream.length; i++) {
          const size = cuts[i % cuts.length]!;
          parts.push(stream.subarray(offset, offset + size));
          offset += size;
        }
        expect(outcomes(new GrpcMessageDecoder(limit), parts)).toEqual(outcomes(new StreamDecoder(limit), parts));
      }),
      fuzzParameters(1000),
    );
  });

  it('reserves memory for what has arrived, not for what a prefix announces', () => {
    const before = process.memoryUsage().arrayBuffers;
    const decoders = Array.from({ length: 20 }, () => new GrpcMessageDecoder(-1));
    const announced = Buffer.alloc(MESSAGE_PREFIX_BYTES + 1000);
    announced.writeUInt32BE(100_000_000, 1);
    for (const decoder of decoders) decoder.write(announced);
    // 20 announced 100 MB messages, 1000 bytes of each arrived: each holds a 16 KiB start.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(4 * 1024 * 1024);
  });
});
