/**
 * A small seeded PRNG (xoshiro128**, seeded through splitmix32) for tests and benchmarks that need
 * reproducible "random" traffic. Production code gets its rng from main.ts (Math.random); this is
 * here so a failing split test can be replayed exactly.
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  // splitmix32 spreads one 32-bit seed over the 128-bit state (which must not be all zero).
  const next32 = (): number => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
  let a = next32();
  let b = next32();
  let c = next32();
  let d = next32();
  if ((a | b | c | d) === 0) a = 1;

  const xoshiro = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  // 53 random bits, like Math.random's resolution: uniform on [0, 1).
  return () => ((xoshiro() >>> 5) * 67108864 + (xoshiro() >>> 6)) / 9007199254740992;
}

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
