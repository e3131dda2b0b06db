import { describe, expect, it } from 'vitest';
import { TypicalTimes } from '../../../../src/server/core/typical-times.js';

describe('TypicalTimes', () => {
  it('starts at the first time and moves a fifth of the way to each new one', () => {
    const times = new TypicalTimes<string>();
    expect(times.typical('a')).toBeUndefined();
    times.record('a', 50);
    times.record('a', 60);
    expect(times.typical('a')).toBeCloseTo(52);
    times.forget('a');
    expect(times.typical('a')).toBeUndefined();
  });

  it('keeps the most recently recorded keys only', () => {
    const times = new TypicalTimes<number>(2);
    times.record(1, 10);
    times.record(2, 20);
    times.record(1, 10);
    times.record(3, 30);
    expect([times.typical(1), times.typical(2), times.typical(3)]).toEqual([10, undefined, 30]);
  });
});
