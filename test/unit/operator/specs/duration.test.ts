import { describe, expect, it } from 'vitest';
import { ServingError } from '../../../../src/shared/errors.js';
import { parseDurationMs } from '../../../../src/operator/specs/duration.js';

describe('parseDurationMs', () => {
  it.each([
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['1.5h', 5_400_000],
  ])('%s is %d ms', (text, ms) => expect(parseDurationMs(text)).toBe(ms));

  it.each(['', 'soon', '30', '5d', '1m 30s'])('rejects %j with INVALID_ARGUMENT', (text) => {
    let caught: unknown;
    try {
      parseDurationMs(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ServingError);
    expect(caught).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((caught as ServingError).message).toContain('is not a duration');
  });
});
