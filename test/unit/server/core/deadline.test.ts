import { describe, expect, it } from 'vitest';
import { deadlineExceeded, isPast, latestDeadline } from '../../../../src/server/core/deadline.js';

describe('deadlines', () => {
  it('a deadline is past from its millisecond on; none never is', () => {
    expect(isPast(Date.now() - 1)).toBe(true);
    expect(isPast(Date.now() + 60_000)).toBe(false);
    expect(isPast(undefined)).toBe(false);
  });

  it('a batch has the latest deadline of its calls, and none when one call has none', () => {
    expect(latestDeadline([5, 9, 7])).toBe(9);
    expect(latestDeadline([5, undefined, 7])).toBeUndefined();
    expect(latestDeadline([])).toBeUndefined();
  });

  it('the error is DEADLINE_EXCEEDED (HTTP 504) and says the call was not run', () => {
    expect(deadlineExceeded('for the inference thread')).toMatchObject({ code: 'DEADLINE_EXCEEDED', message: 'deadline exceeded while the call waited for the inference thread; it was not run' });
  });
});
