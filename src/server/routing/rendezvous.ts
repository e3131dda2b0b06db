/**
 * Weighted rendezvous (highest-random-weight) hashing: the sticky choice of an A/B variant for a
 * request key. Each variant draws a per-(key, variant) uniform u from a hash; the key goes to the
 * variant with the smallest -ln(u)/weight. Those values are exponential draws with rate = weight,
 * so the key lands on variant i with probability weight_i / sum(weights), and because u depends
 * only on the key and the variant's identity (its version, not its position in the list):
 * - the same key gets the same variant in every replica, across restarts, while weights stay;
 * - raising one variant's weight only moves keys onto it; lowering one only moves keys off it;
 *   with two variants a weight change moves exactly the keys it has to (|Δshare| of them);
 * - adding or removing a variant moves only the keys it takes or gives back, when the other
 *   weights keep their ratios.
 * See docs/decisions/0200-sticky-ab-routing.md for the alternatives we rejected.
 */
import { murmur3X86128 } from './murmur3-x86-128.js';

export interface WeightedChoice {
  readonly version: number;
  readonly weight: number;
}

const TWO_POW_21 = 2097152;
const TWO_POW_53 = 9007199254740992;

/** Room before the key's bytes for the `${version}\n` prefix (any JS number prints in < 32 chars). */
const PREFIX_ROOM = 32;

/**
 * The uniform in (0, 1) that a key draws for a variant: the top 53 bits of
 * MurmurHash3_x86_128(utf8(`${version}\n${key}`), seed 0), as words h1 (high) and h2, plus half a
 * step so that it is never 0 or 1. Part of the sticky-routing contract: changing it reassigns keys.
 */
export function keyUniform(key: string, version: number): number {
  return uniformFor(encodeKey(key), version);
}

/**
 * The choice for `key` among `choices` (weights need not sum to anything particular); undefined
 * when no choice has a positive weight. Ties (astronomically rare) go to the earlier choice.
 */
export function rendezvousPick<T extends WeightedChoice>(choices: readonly T[], key: string): T | undefined {
  const encoded = encodeKey(key);
  let best: T | undefined;
  let bestScore = Infinity;
  for (const choice of choices) {
    if (!(choice.weight > 0)) continue;
    const score = -Math.log(uniformFor(encoded, choice.version)) / choice.weight;
    if (score < bestScore) {
      bestScore = score;
      best = choice;
    }
  }
  return best;
}

// The key is encoded once per request; each variant only writes its short prefix in front of it.
// Encoding is done here in JS: Buffer's string codecs cross into C++ and cost more than the hash.
function encodeKey(key: string): Uint8Array {
  const bytes = new Uint8Array(PREFIX_ROOM + key.length * 3);
  return bytes.subarray(0, PREFIX_ROOM + utf8Into(key, bytes, PREFIX_ROOM));
}

function uniformFor(encoded: Uint8Array, version: number): number {
  const prefix = `${version}\n`;
  const start = PREFIX_ROOM - prefix.length;
  for (let i = 0; i < prefix.length; i++) encoded[start + i] = prefix.charCodeAt(i);
  const [h1, h2] = murmur3X86128(encoded.subarray(start));
  return (h1 * TWO_POW_21 + (h2 >>> 11) + 0.5) / TWO_POW_53;
}

/**
 * Writes `text` as UTF-8 at `offset` and returns the byte count; a lone surrogate becomes U+FFFD,
 * as in Buffer.from(text, 'utf8'). `out` needs 3 bytes per UTF-16 unit.
 */
export function utf8Into(text: string, out: Uint8Array, offset: number): number {
  let at = offset;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[at++] = c;
      continue;
    }
    if (c < 0x800) {
      out[at++] = 0xc0 | (c >> 6);
      out[at++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        out[at++] = 0xf0 | (cp >> 18);
        out[at++] = 0x80 | ((cp >> 12) & 0x3f);
        out[at++] = 0x80 | ((cp >> 6) & 0x3f);
        out[at++] = 0x80 | (cp & 0x3f);
        continue;
      }
      c = 0xfffd;
    }
    out[at++] = 0xe0 | (c >> 12);
    out[at++] = 0x80 | ((c >> 6) & 0x3f);
    out[at++] = 0x80 | (c & 0x3f);
  }
  return at - offset;
}

/** A weighted random choice drawing one number from `rng`; undefined when no weight is positive. */
export function weightedRandomPick<T extends WeightedChoice>(choices: readonly T[], rng: () => number): T | undefined {
  let total = 0;
  let last: T | undefined;
  for (const choice of choices) {
    if (choice.weight > 0) {
      total += choice.weight;
      last = choice;
    }
  }
  if (last === undefined) return undefined;
  const target = rng() * total;
  let cumulative = 0;
  for (const choice of choices) {
    if (!(choice.weight > 0)) continue;
    cumulative += choice.weight;
    if (target < cumulative) return choice;
  }
  // Only reachable through rounding in the running sum: the last positive choice owns the top.
  return last;
}
