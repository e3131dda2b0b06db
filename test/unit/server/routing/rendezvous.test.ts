import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  keyUniform,
  rendezvousPick,
  utf8Into,
  weightedRandomPick,
  type WeightedChoice,
} from '../../../../src/server/routing/rendezvous.js';
import { seededRandom } from '../../../../src/server/routing/seeded-random.js';
import { binomialBound, expectBinomial } from './binomial-bound.js';

const N = 10_000;
const keys = Array.from({ length: N }, (_, i) => `user-${i}`);
const w = (...pairs: [number, number][]): WeightedChoice[] => pairs.map(([version, weight]) => ({ version, weight }));

function assign(choices: readonly WeightedChoice[]): number[] {
  return keys.map((key) => rendezvousPick(choices, key)!.version);
}

/** Half the L1 distance between two weightings as shares: the fewest keys any scheme must move. */
function minimalMove(before: readonly WeightedChoice[], after: readonly WeightedChoice[]): number {
  const share = (cs: readonly WeightedChoice[], v: number): number =>
    (cs.find((c) => c.version === v)?.weight ?? 0) / cs.reduce((s, c) => s + c.weight, 0);
  const versions = new Set([...before, ...after].map((c) => c.version));
  let sum = 0;
  for (const v of versions) sum += Math.abs(share(before, v) - share(after, v));
  return sum / 2;
}

/** The naive scheme: one uniform per key, cut into consecutive intervals by cumulative weight. */
function cumulativeAssign(choices: readonly WeightedChoice[]): number[] {
  const total = choices.reduce((s, c) => s + c.weight, 0);
  return keys.map((key) => {
    const target = keyUniform(key, -1) * total;
    let cumulative = 0;
    for (const c of choices) {
      cumulative += c.weight;
      if (target < cumulative) return c.version;
    }
    return choices[choices.length - 1]!.version;
  });
}

const moved = (a: readonly number[], b: readonly number[]): number => a.filter((v, i) => v !== b[i]).length;
const count = (a: readonly number[], v: number): number => a.filter((x) => x === v).length;

describe('keyUniform', () => {
  it('is frozen: these keys draw these numbers in every replica, release and restart', () => {
    // Changing the hash, its input layout or the bit selection reassigns users mid-experiment;
    // this table makes that a deliberate act.
    expect(keyUniform('alice', 1)).toBe(0.5748315800362185);
    expect(keyUniform('user-42', 1)).toBe(0.3818866067462508);
    expect(keyUniform('', 1)).toBe(0.12796701879861988);
    expect(keyUniform('😀', 1)).toBe(0.7586444464042599);
  });

  it('agrees with a separate process', () => {
    const script =
      "import { keyUniform } from './src/server/routing/rendezvous.ts';" +
      "console.log(JSON.stringify(['alice', 'bob', 'user-7'].map((k) => keyUniform(k, 3))));";
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: process.cwd(),
      encoding: 'utf8',
    });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual(['alice', 'bob', 'user-7'].map((k) => keyUniform(k, 3)));
  });

  it('depends on the version, so variants draw independently', () => {
    expect(keyUniform('alice', 1)).not.toBe(keyUniform('alice', 2));
    expect(keyUniform('alice', 0)).not.toBe(keyUniform('alice', 10));
  });
});

describe('utf8Into', () => {
  it.each(['', 'plain-ascii', 'ünïcödé', '日本語', '😀 pair', 'lone \ud800 high', 'lone \udc00 low', 'end \ud83d'])(
    'encodes %j like Buffer.from',
    (text) => {
      const out = new Uint8Array(text.length * 3);
      const length = utf8Into(text, out, 0);
      expect(Buffer.from(out.subarray(0, length)).equals(Buffer.from(text, 'utf8'))).toBe(true);
    },
  );
});

describe('rendezvousPick', () => {
  it('gives every key the same variant on every call', () => {
    const choices = w([1, 50], [2, 30], [3, 20]);
    expect(assign(choices)).toEqual(assign(choices));
  });

  it('does not depend on the order the variants are listed in', () => {
    expect(assign(w([1, 50], [2, 30], [3, 20]))).toEqual(assign(w([3, 20], [1, 50], [2, 30])));
  });

  it('never picks a zero weight and picks nothing when all are zero', () => {
    expect(count(assign(w([1, 0], [2, 100])), 1)).toBe(0);
    expect(rendezvousPick(w([1, 0], [2, 0]), 'k')).toBeUndefined();
    expect(rendezvousPick([], 'k')).toBeUndefined();
  });

  it.each([
    { name: 'A/B 50/50', choices: w([1, 50], [2, 50]) },
    { name: 'A/B 90/10', choices: w([1, 90], [2, 10]) },
    { name: 'A/B/n 50/30/20', choices: w([1, 50], [2, 30], [3, 20]) },
    { name: 'A/B/n with version 0, 1/3 each', choices: w([0, 1], [5, 1], [9, 1]) },
  ])('splits 10,000 distinct keys by weight: $name', ({ choices }) => {
    const total = choices.reduce((s, c) => s + c.weight, 0);
    const assigned = assign(choices);
    for (const c of choices) expectBinomial(count(assigned, c.version), N, c.weight / total);
  });

  it.each([
    { name: '50/50 -> 60/40', before: w([1, 50], [2, 50]), after: w([1, 60], [2, 40]) },
    { name: '50/50 -> 10/90', before: w([1, 50], [2, 50]), after: w([1, 10], [2, 90]) },
    { name: '40/30/30 -> 20/40/40', before: w([1, 40], [2, 30], [3, 30]), after: w([1, 20], [2, 40], [3, 40]) },
    { name: 'add a 4th variant at 25%', before: w([1, 1], [2, 1], [3, 1]), after: w([1, 1], [2, 1], [3, 1], [4, 1]) },
    { name: 'remove a variant', before: w([1, 25], [2, 25], [3, 50]), after: w([1, 50], [2, 50]) },
  ])('moves only the keys it must when weights change: $name', ({ before, after }) => {
    const a = assign(before);
    const b = assign(after);
    const d = minimalMove(before, after);
    // Each key moves independently with probability d here (the changes keep the ratios among
    // the variants that gain, or among those that lose), so the count is Binomial(N, d).
    expectBinomial(moved(a, b), N, d);
    // And keys move only off variants that lost share, only onto variants that gained it.
    const shareOf = (cs: readonly WeightedChoice[], v: number): number =>
      (cs.find((c) => c.version === v)?.weight ?? 0) / cs.reduce((s, c) => s + c.weight, 0);
    a.forEach((from, i) => {
      const to = b[i]!;
      if (from === to) return;
      expect(shareOf(after, from)).toBeLessThan(shareOf(before, from));
      expect(shareOf(after, to)).toBeGreaterThan(shareOf(before, to));
    });
  });

  it('moves far fewer keys than cumulative intervals or modulo when weights shift in A/B/n', () => {
    // 40/30/30 -> 20/40/40: the minimum is 20% of keys; cumulative intervals move 30%
    // ([20,40) from 1 to 2 and [60,70) from 2 to 3).
    const before = w([1, 40], [2, 30], [3, 30]);
    const after = w([1, 20], [2, 40], [3, 40]);
    const hrw = moved(assign(before), assign(after));
    const naive = moved(cumulativeAssign(before), cumulativeAssign(after));
    expect(hrw).toBeLessThanOrEqual(binomialBound(N, minimalMove(before, after)).high);
    expect(naive).toBeGreaterThanOrEqual(binomialBound(N, 0.3).low);
    // Adding a 4th equal variant: the minimum is 25%; hash-mod-n moves 75% (a key stays only
    // when h mod 3 = h mod 4, i.e. h mod 12 in {0, 1, 2}).
    const modulo = (n: number): number[] => keys.map((key) => Math.floor(keyUniform(key, -1) * 2 ** 32) % n);
    const hrwAdd = moved(assign(w([1, 1], [2, 1], [3, 1])), assign(w([1, 1], [2, 1], [3, 1], [4, 1])));
    expect(hrwAdd).toBeLessThanOrEqual(binomialBound(N, 0.25).high);
    expect(moved(modulo(3), modulo(4))).toBeGreaterThanOrEqual(binomialBound(N, 0.75).low);
  });
});

describe('weightedRandomPick', () => {
  it.each([
    { name: '50/50', choices: w([1, 50], [2, 50]) },
    { name: '99.5/0.5', choices: w([1, 99.5], [2, 0.5]) },
    { name: '50/30/20', choices: w([1, 50], [2, 30], [3, 20]) },
  ])('splits 10,000 draws by weight: $name', ({ choices }) => {
    const rng = seededRandom(2024);
    const total = choices.reduce((s, c) => s + c.weight, 0);
    const picks = Array.from({ length: N }, () => weightedRandomPick(choices, rng)!.version);
    for (const c of choices) expectBinomial(count(picks, c.version), N, c.weight / total);
  });

  it.each([
    { r: 0, want: 1 },
    { r: 0.4999999, want: 1 },
    { r: 0.5, want: 3 },
    { r: 0.9999999999999999, want: 3 },
  ])('maps rng $r onto the cumulative weights (zero weights skipped) -> $want', ({ r, want }) => {
    expect(weightedRandomPick(w([1, 50], [2, 0], [3, 50]), () => r)?.version).toBe(want);
  });

  it('picks nothing when no weight is positive', () => {
    expect(weightedRandomPick(w([1, 0]), () => 0.5)).toBeUndefined();
  });
});
