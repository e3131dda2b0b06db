import { describe, expect, it } from 'vitest';
import { murmur3X86128 } from '../../../../src/server/routing/murmur3-x86-128.js';

// Reference outputs from an independent implementation (the Python mmh3 extension,
// hash_bytes(data, seed, x64arch=False)), covering every tail length class and both block paths.
const VECTORS: [string, number, string][] = [
  ['', 0, '00000000000000000000000000000000'],
  ['', 1, 'ecadc488b901d254b901d254b901d254'],
  ['61', 0, '3c9394a71bb056551bb056551bb05655'],
  ['6162', 0, 'df5184151030be251030be251030be25'],
  ['616263', 0, 'd1c6cd75a506b0a2a506b0a2a506b0a2'],
  ['61626364', 0, 'aaccb6962ec6af452ec6af452ec6af45'],
  ['6162636465', 0, 'fb2e40c5bcc5245d7701725a7701725a'],
  ['000102030405060708', 0, 'd93f2168e4ce935cfede65d1f6ca3737'],
  ['000102030405060708090a0b0c', 0, 'd034cb3f555a56c1b2b93c31bd5158d0'],
  ['48656c6c6f2c20776f726c6421', 0, 'a7dbac26fc8d63f063422b40c3d4fd0a'],
  ['48656c6c6f2c20776f726c6421', 123, '9e12c961d7ac1a5a622116a486c8379e'],
  ['000102030405060708090a0b0c0d0e0f', 0, '25c8256cee809155748053eaef5ba589'],
  ['000102030405060708090a0b0c0d0e0f10', 0, 'db9cc96a0b949c35ad7316ae51ab75a2'],
  ['000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e', 0xffffffff, '92e05e85b08b5a82944b81198e04c1b2'],
  [Buffer.from('The quick brown fox jumps over the lazy dog').toString('hex'), 0, 'c383152f672ceeec6cf67b5d2c1de9e5'],
  [Buffer.from('3\nuser-42').toString('hex'), 0, 'efa90d3173b2015cfb2ea4917ccccdf1'],
  [Buffer.from('ünïcödé').toString('hex'), 7, '79c8686d7d5965090e8f1ca9dc523594'],
];

describe('murmur3X86128', () => {
  it.each(VECTORS)('hashes %s with seed %d to %s', (hex, seed, expected) => {
    const words = murmur3X86128(Buffer.from(hex, 'hex'), seed);
    const bytes = Buffer.alloc(16);
    words.forEach((w, i) => bytes.writeUInt32LE(w, i * 4));
    expect(bytes.toString('hex')).toBe(expected);
  });

  it('reads a view at an offset into a larger buffer like a standalone copy', () => {
    const big = Buffer.from('xxxxHello, world!yy');
    expect(murmur3X86128(big.subarray(4, 17))).toEqual(murmur3X86128(Buffer.from('Hello, world!')));
  });
});
