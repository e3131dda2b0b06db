import { describe, expect, it } from 'vitest';
import type { RoutingConfig } from '../../../../src/server/config/model-config.js';
import { route, type RouteContext, type RouteDecision } from '../../../../src/server/routing/route.js';
import { seededRandom } from '../../../../src/server/routing/seeded-random.js';
import { ServingError } from '../../../../src/shared/errors.js';
import { expectBinomial } from './binomial-bound.js';

const noRng = (): number => {
  throw new Error('this rule must not draw a random number');
};
const ctx = (over: Partial<RouteContext>): RouteContext => ({
  availableVersions: [1, 2, 3],
  stableVersion: 2,
  requestKey: undefined,
  rng: noRng,
  ...over,
});
const fixed = (r: number) => (): number => r;
const ab = (...variants: [number, number][]): RoutingConfig => ({
  abTest: { keyHeader: 'x-user-id', variants: variants.map(([version, percent]) => ({ version, percent })) },
});

describe('route', () => {
  const cases: { name: string; routing: RoutingConfig; ctx: Partial<RouteContext>; want: RouteDecision }[] = [
    { name: 'no routing -> stable', routing: {}, ctx: {}, want: { version: 2, variant: 'stable', rule: 'default' } },
    {
      name: 'no routing, no stable label -> highest available, in any order',
      routing: {},
      ctx: { availableVersions: [3, 7, 5], stableVersion: undefined },
      want: { version: 7, variant: 'stable', rule: 'default' },
    },
    {
      name: 'only a shadow -> stable',
      routing: { shadow: { version: 3, percent: 100, tolerance: 0 } },
      ctx: {},
      want: { version: 2, variant: 'stable', rule: 'default' },
    },
    {
      name: 'version 0 is the only version',
      routing: {},
      ctx: { availableVersions: [0], stableVersion: 0 },
      want: { version: 0, variant: 'stable', rule: 'default' },
    },
    {
      name: 'stable label not available -> highest, reported',
      routing: {},
      ctx: { stableVersion: 9 },
      want: {
        version: 3,
        variant: 'stable',
        rule: 'default',
        fallback: { wanted: 9, reason: 'stable version 9 is not available; served the highest available version 3' },
      },
    },
    {
      name: 'canary drawn (rng below percent)',
      routing: { canary: { version: 3, percent: 10 } },
      ctx: { rng: fixed(0.0999) },
      want: { version: 3, variant: 'canary', rule: 'canary' },
    },
    {
      name: 'canary not drawn (rng at percent)',
      routing: { canary: { version: 3, percent: 10 } },
      ctx: { rng: fixed(0.1) },
      want: { version: 2, variant: 'stable', rule: 'canary' },
    },
    {
      name: 'canary 0% never, even at rng 0',
      routing: { canary: { version: 3, percent: 0 } },
      ctx: { rng: fixed(0) },
      want: { version: 2, variant: 'stable', rule: 'canary' },
    },
    {
      name: 'canary 100% always, even at the largest rng',
      routing: { canary: { version: 3, percent: 100 } },
      ctx: { rng: fixed(0.9999999999999999) },
      want: { version: 3, variant: 'canary', rule: 'canary' },
    },
    {
      name: 'canary to version 0',
      routing: { canary: { version: 0, percent: 100 } },
      ctx: { availableVersions: [0, 1], stableVersion: 1, rng: fixed(0.5) },
      want: { version: 0, variant: 'canary', rule: 'canary' },
    },
    {
      name: 'canary version not available -> stable, reported',
      routing: { canary: { version: 4, percent: 100 } },
      ctx: { rng: fixed(0) },
      want: {
        version: 2,
        variant: 'stable',
        rule: 'canary',
        fallback: { wanted: 4, reason: 'canary version 4 is not available; served the stable version 2' },
      },
    },
    {
      name: 'canary and stable both unavailable -> highest, reported',
      routing: { canary: { version: 4, percent: 100 } },
      ctx: { stableVersion: 9, rng: fixed(0) },
      want: {
        version: 3,
        variant: 'stable',
        rule: 'canary',
        fallback: {
          wanted: 4,
          reason:
            'canary version 4 is not available; served the highest available version 3 (stable version 9 is not available either)',
        },
      },
    },
    {
      name: 'A/B keyed 100/0 -> the 100 variant, no random draw',
      routing: ab([1, 100], [3, 0]),
      ctx: { requestKey: 'alice' },
      want: { version: 1, variant: 'v1', rule: 'abTest' },
    },
    {
      name: 'A/B unkeyed uses one random draw (cumulative weights)',
      routing: ab([1, 30], [3, 70]),
      ctx: { rng: fixed(0.3) },
      want: { version: 3, variant: 'v3', rule: 'abTest' },
    },
    {
      name: 'A/B with an empty key is unkeyed',
      routing: ab([1, 30], [3, 70]),
      ctx: { requestKey: '', rng: fixed(0.29) },
      want: { version: 1, variant: 'v1', rule: 'abTest' },
    },
    {
      name: 'A/B variant version 0',
      routing: ab([0, 100], [1, 0]),
      ctx: { availableVersions: [0, 1], stableVersion: 1, requestKey: 'bob' },
      want: { version: 0, variant: 'v0', rule: 'abTest' },
    },
    {
      name: 'A/B variant not available -> stable, reported',
      routing: ab([5, 100]),
      ctx: { requestKey: 'bob' },
      want: {
        version: 2,
        variant: 'stable',
        rule: 'abTest',
        fallback: { wanted: 5, reason: 'A/B variant version 5 is not available; served the stable version 2' },
      },
    },
    {
      name: 'A/B with all weights 0 -> stable',
      routing: ab([1, 0], [3, 0]),
      ctx: { requestKey: 'bob' },
      want: { version: 2, variant: 'stable', rule: 'abTest' },
    },
    {
      name: 'A/B and canary both set: A/B decides',
      routing: { ...ab([1, 100]), canary: { version: 3, percent: 100 } },
      ctx: { requestKey: 'bob' },
      want: { version: 1, variant: 'v1', rule: 'abTest' },
    },
  ];

  it.each(cases)('$name', ({ routing, ctx: over, want }) => {
    expect(route(routing, ctx(over))).toEqual(want);
  });

  it('fails with UNAVAILABLE when no version is available', () => {
    const call = (): RouteDecision => route({}, ctx({ availableVersions: [], stableVersion: undefined }));
    expect(call).toThrow(ServingError);
    expect(call).toThrow(/no version of the model is available/);
    try {
      call();
    } catch (error) {
      expect((error as ServingError).code).toBe('UNAVAILABLE');
    }
  });

  it('keeps a key on its variant across calls and brings it back after a fallback', () => {
    const routing = ab([1, 50], [2, 25], [3, 25]);
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    const first = keys.map((k) => route(routing, ctx({ requestKey: k })).version);
    for (let round = 0; round < 5; round++) {
      expect(keys.map((k) => route(routing, ctx({ requestKey: k })).version)).toEqual(first);
    }
    // Version 3 disappears: its keys fall back to stable (2), nobody else moves.
    const during = keys.map((k) => route(routing, ctx({ requestKey: k, availableVersions: [1, 2] })));
    during.forEach((d, i) => {
      expect(d.version).toBe(first[i] === 3 ? 2 : first[i]);
      expect(d.fallback !== undefined).toBe(first[i] === 3);
    });
    // And back: every key is on its old variant again.
    expect(keys.map((k) => route(routing, ctx({ requestKey: k })).version)).toEqual(first);
  });

  describe('is exact in aggregate over 10,000 requests', () => {
    const n = 10_000;
    const tally = (decisions: RouteDecision[]): Map<number, number> => {
      const counts = new Map<number, number>();
      for (const d of decisions) counts.set(d.version, (counts.get(d.version) ?? 0) + 1);
      return counts;
    };

    it.each([0.5, 10, 50, 99])('canary at %d%%', (percent) => {
      const rng = seededRandom(11);
      const decisions = Array.from({ length: n }, () => route({ canary: { version: 3, percent } }, ctx({ rng })));
      const counts = tally(decisions);
      expectBinomial(counts.get(3) ?? 0, n, percent / 100);
      expect((counts.get(3) ?? 0) + (counts.get(2) ?? 0)).toBe(n);
    });

    it.each([
      { weights: [[1, 50], [2, 50]] as [number, number][] },
      { weights: [[1, 80], [3, 20]] as [number, number][] },
      { weights: [[1, 50], [2, 30], [3, 20]] as [number, number][] },
    ])('A/B $weights with 10,000 distinct keys and with no key', ({ weights }) => {
      const routing = ab(...weights);
      const keyed = tally(Array.from({ length: n }, (_, i) => route(routing, ctx({ requestKey: `user-${i}` }))));
      const rng = seededRandom(99);
      const unkeyed = tally(Array.from({ length: n }, () => route(routing, ctx({ rng }))));
      for (const [version, percent] of weights) {
        expectBinomial(keyed.get(version) ?? 0, n, percent / 100);
        expectBinomial(unkeyed.get(version) ?? 0, n, percent / 100);
      }
    });
  });
});
