import { describe, expect, it } from 'vitest';
import type { RoutingConfig } from '../../../../src/server/config/model-config.js';
import { routingProblems } from '../../../../src/server/routing/routing-problems.js';

const ab = (variants: [number, number][], keyHeader = 'x-user-id'): RoutingConfig => ({
  abTest: { keyHeader, variants: variants.map(([version, percent]) => ({ version, percent })) },
});

describe('routingProblems', () => {
  it.each([
    { name: 'empty', routing: {} },
    { name: 'canary', routing: { canary: { version: 0, percent: 0 } } },
    { name: 'canary 100%', routing: { canary: { version: 3, percent: 100 } } },
    { name: 'A/B/n with fractions', routing: ab([[1, 33.3], [2, 33.3], [3, 33.4]]) },
    { name: 'A/B with one variant', routing: ab([[1, 100]]) },
    { name: 'shadow with infinite tolerance', routing: { shadow: { version: 2, percent: 5, tolerance: Infinity } } },
  ])('accepts $name', ({ routing }) => {
    expect(routingProblems(routing)).toEqual([]);
  });

  it.each([
    {
      name: 'canary percent out of range and a fractional version',
      routing: { canary: { version: 1.5, percent: 101 } },
      want: [
        'routing.canary.version must be an integer >= 0, got 1.5',
        'routing.canary.percent must be a number from 0 to 100, got 101',
      ],
    },
    {
      name: 'canary and A/B together',
      routing: { canary: { version: 3, percent: 10 }, ...ab([[1, 100]]) },
      want: ['routing: set either canary or abTest, not both (a canary is a two-way split without a key)'],
    },
    {
      name: 'A/B percents not adding to 100',
      routing: ab([[1, 50], [2, 40]]),
      want: ['routing.abTest.variants percents must add up to 100, got 90'],
    },
    {
      name: 'A/B duplicate version and negative percent',
      routing: ab([[1, 110], [1, -10]]),
      want: [
        'routing.abTest.variants[0].percent must be a number from 0 to 100, got 110',
        'routing.abTest.variants[1].percent must be a number from 0 to 100, got -10',
        'routing.abTest.variants[1].version 1 is listed twice',
      ],
    },
    { name: 'A/B without variants', routing: ab([]), want: ['routing.abTest.variants must list at least one variant'] },
    {
      name: 'A/B key header with a space',
      routing: ab([[1, 100]], 'x user'),
      want: ['routing.abTest.keyHeader must be an HTTP header name such as x-user-id, got "x user"'],
    },
    {
      name: 'A/B binary metadata key',
      routing: ab([[1, 100]], 'x-user-bin'),
      want: ['routing.abTest.keyHeader must not end in -bin (gRPC binary metadata cannot be a text key), got "x-user-bin"'],
    },
    {
      name: 'shadow with a negative version, NaN percent and negative tolerance',
      routing: { shadow: { version: -1, percent: NaN, tolerance: -0.1 } },
      want: [
        'routing.shadow.version must be an integer >= 0, got -1',
        'routing.shadow.percent must be a number from 0 to 100, got NaN',
        'routing.shadow.tolerance must be a number >= 0, got -0.1',
      ],
    },
  ])('lists every problem: $name', ({ routing, want }) => {
    expect(routingProblems(routing)).toEqual(want);
  });

  it('prefixes field paths as asked', () => {
    expect(routingProblems({ canary: { version: 3, percent: -1 } }, 'model_config_list[0].routing')).toEqual([
      'model_config_list[0].routing.canary.percent must be a number from 0 to 100, got -1',
    ]);
  });
});
