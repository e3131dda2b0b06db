import { describe, expect, it } from 'vitest';
import { ByteAssembler } from '../../../../src/server/transports/byte-assembler.js';

const bytes = (length: number, seed: number): Buffer => Buffer.from(Array.from({ length }, (_, i) => (i * 7 + seed) % 256));

describe('ByteAssembler', () => {
  it('joins chunks in order, into a buffer of its own once it holds maxBytes (above the size Node pools)', () => {
    const parts = [bytes(10, 1), bytes(70_000, 2), bytes(300_000, 3), bytes(5, 4)];
    const total = parts.reduce((n, p) => n + p.length, 0);
    const assembler = new ByteAssembler(total);
    for (const part of parts) assembler.append(part);
    const joined = assembler.bytes();
    expect(joined.equals(Buffer.concat(parts))).toBe(true);
    expect(joined.byteOffset).toBe(0);
    expect(joined.buffer.byteLength).toBe(total);
  });

  it('copies each chunk: changing a chunk afterwards changes nothing', () => {
    const chunk = bytes(1000, 5);
    const assembler = new ByteAssembler(2000);
    assembler.append(chunk);
    chunk.fill(0);
    expect(assembler.bytes().equals(bytes(1000, 5))).toBe(true);
  });

  it('gives a view of what arrived when it holds less than maxBytes, and nothing before the first chunk', () => {
    const assembler = new ByteAssembler(1 << 20);
    expect(assembler.bytes().length).toBe(0);
    assembler.append(bytes(100, 6));
    expect(assembler.bytes().equals(bytes(100, 6))).toBe(true);
  });

  it('grows with what arrived, not with maxBytes: at most four times the bytes so far, at least 16 KiB', () => {
    const assembler = new ByteAssembler(100_000_000);
    expect(assembler.capacity).toBe(0);
    assembler.append(bytes(10, 7));
    expect(assembler.capacity).toBe(16 * 1024);
    assembler.append(bytes(20_000, 8));
    expect(assembler.capacity).toBe(4 * 20_010);
    assembler.reserve(1_000_000);
    expect(assembler.capacity).toBe(4_000_000); // room for what is at hand, grown as usual
    expect(new ByteAssembler(500).capacity).toBe(0);
  });

  it('refuses a chunk past maxBytes and keeps what it had', () => {
    const assembler = new ByteAssembler(100);
    assembler.append(bytes(60, 9));
    expect(() => assembler.append(bytes(41, 10))).toThrow(RangeError);
    expect(assembler.bytes().equals(bytes(60, 9))).toBe(true);
  });
});
