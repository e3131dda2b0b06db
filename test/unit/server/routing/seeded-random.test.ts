import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../../src/server/routing/seeded-random.js';
import { expectBinomial } from './binomial-bound.js';

describe('seededRandom', () => {
  it('replays the same sequence for the same seed and another for another seed', () => {
    const take = (seed: number): number[] => {
      const rng = seededRandom(seed);
      return Array.from({ length: 5 }, () => rng());
    };
    expect(take(42)).toEqual(take(42));
    expect(take(42)).not.toEqual(take(43));
    expect(take(0)).not.toEqual(take(1));
  });

  it('draws uniformly from [0, 1)', () => {
    const rng = seededRandom(7);
    const n = 10_000;
    const buckets = new Array<number>(10).fill(0);
    let min = 1;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const x = rng();
      min = Math.min(min, x);
      max = Math.max(max, x);
      buckets[Math.floor(x * 10)]!++;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    for (const count of buckets) expectBinomial(count, n, 0.1);
  });
});
