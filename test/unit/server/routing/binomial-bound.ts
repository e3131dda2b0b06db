/**
 * Statistical bounds for split tests. A count of n independent trials each hitting with
 * probability p is Binomial(n, p): mean n·p, standard deviation sqrt(n·p·(1-p)) (50 for n = 10,000
 * and p = 0.5). We allow 4.5 standard deviations either side: a correct split then lands outside
 * by chance with probability about 7e-6 per assertion (two-sided normal tail), so a failure means
 * a biased split, not bad luck. At n = 10,000 a split biased by 2.5 percentage points or more
 * fails. Hashed keys and the seeded rng make every run identical, so the tests never flake; the
 * bound says the outcome we froze is one a correct router produces.
 */
export function binomialBound(n: number, p: number, sds = 4.5): { low: number; high: number } {
  const sd = Math.sqrt(n * p * (1 - p));
  return { low: n * p - sds * sd, high: n * p + sds * sd };
}

/** Throws (failing the test) with the numbers when `count` is outside the bound. */
export function expectBinomial(count: number, n: number, p: number): void {
  const { low, high } = binomialBound(n, p);
  if (count < low || count > high) {
    throw new Error(`count ${count} of ${n} is outside [${low.toFixed(1)}, ${high.toFixed(1)}] for share ${p}`);
  }
}
