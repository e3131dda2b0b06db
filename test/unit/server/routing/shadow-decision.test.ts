import { describe, expect, it } from 'vitest';
import type { RoutingConfig } from '../../../../src/server/config/model-config.js';
import { seededRandom } from '../../../../src/server/routing/seeded-random.js';
import { shadowDecision } from '../../../../src/server/routing/shadow-decision.js';
import { expectBinomial } from './binomial-bound.js';

const shadow = (version: number, percent: number): RoutingConfig => ({ shadow: { version, percent, tolerance: 1e-6 } });

describe('shadowDecision', () => {
  it.each([
    { name: 'no shadow configured', routing: {}, primary: 2, r: 0, want: undefined },
    { name: 'drawn', routing: shadow(3, 10), primary: 2, r: 0.0999, want: 3 },
    { name: 'not drawn', routing: shadow(3, 10), primary: 2, r: 0.1, want: undefined },
    { name: '0% never', routing: shadow(3, 0), primary: 2, r: 0, want: undefined },
    { name: '100% always', routing: shadow(3, 100), primary: 2, r: 0.9999999999999999, want: 3 },
    { name: 'never the primary itself', routing: shadow(2, 100), primary: 2, r: 0, want: undefined },
    { name: 'never an unavailable version', routing: shadow(7, 100), primary: 2, r: 0, want: undefined },
    { name: 'version 0', routing: shadow(0, 100), primary: 2, r: 0, want: 0 },
  ])('$name -> $want', ({ routing, primary, r, want }) => {
    expect(shadowDecision(routing, { availableVersions: [0, 1, 2, 3], primaryVersion: primary, rng: () => r })).toBe(
      want,
    );
  });

  it('copies the configured share of 10,000 requests', () => {
    const rng = seededRandom(5);
    let copies = 0;
    for (let i = 0; i < 10_000; i++) {
      if (shadowDecision(shadow(3, 25), { availableVersions: [2, 3], primaryVersion: 2, rng }) === 3) copies++;
    }
    expectBinomial(copies, 10_000, 0.25);
  });
});
