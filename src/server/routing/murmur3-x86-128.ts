/**
 * MurmurHash3_x86_128 (Austin Appleby's public-domain design), in 32-bit integer arithmetic so it
 * runs fast in JavaScript without BigInt. Sticky routing needs a hash that every replica computes
 * identically, forever: this one is well known (reference implementations exist in most
 * languages, so a key's variant can be computed outside the server), mixes well, and costs well
 * under a microsecond for a typical request key, where node:crypto's SHA-256 costs about 3 µs.
 * Not a cryptographic hash: keys are chosen by clients, but a client gains nothing by steering
 * its own key into a variant.
 */

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

// Module-level helpers, not closures: a closure created per call would also be re-wrapped per
// call by loaders that keep function names (tsx), which made the hash ten times slower.
const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

const word = (data: Uint8Array, i: number): number =>
  data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The four 32-bit words h1..h4 of the hash; its canonical byte form is each word little-endian, in order. */
export function murmur3X86128(data: Uint8Array, seed = 0): [number, number, number, number] {
  const length = data.length;
  const blocks = length >>> 4;
  let h1 = seed >>> 0;
  let h2 = h1;
  let h3 = h1;
  let h4 = h1;

  for (let b = 0; b < blocks; b++) {
    const i = b * 16;
    let k1 = word(data, i);
    let k2 = word(data, i + 4);
    let k3 = word(data, i + 8);
    let k4 = word(data, i + 12);

    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = rotl(h1, 19) + h2;
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0;

    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = rotl(h2, 17) + h3;
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;

    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = rotl(h3, 15) + h4;
    h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0;

    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = rotl(h4, 13) + h1;
    h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0;
  }

  // The tail: up to 15 bytes, read into k1..k4 little-endian, each word mixed only if it has bytes.
  const tail = blocks * 16;
  const rest = length & 15;
  let k1 = 0;
  let k2 = 0;
  let k3 = 0;
  let k4 = 0;
  for (let j = rest - 1; j >= 0; j--) {
    const byte = data[tail + j]!;
    const shift = (j & 3) * 8;
    if (j >= 12) k4 ^= byte << shift;
    else if (j >= 8) k3 ^= byte << shift;
    else if (j >= 4) k2 ^= byte << shift;
    else k1 ^= byte << shift;
  }
  if (rest > 12) h4 ^= Math.imul(rotl(Math.imul(k4, C4), 18), C1);
  if (rest > 8) h3 ^= Math.imul(rotl(Math.imul(k3, C3), 17), C4);
  if (rest > 4) h2 ^= Math.imul(rotl(Math.imul(k2, C2), 16), C3);
  if (rest > 0) h1 ^= Math.imul(rotl(Math.imul(k1, C1), 15), C2);

  h1 ^= length;
  h2 ^= length;
  h3 ^= length;
  h4 ^= length;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h3 = fmix32(h3);
  h4 = fmix32(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}
